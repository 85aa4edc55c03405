'use client';

import { useActionState, useState } from 'react';
import { runQuery, type QueryState } from '../app/actions.ts';
import { previewVector } from '../lib/format.ts';
import { FilterEditor } from './filter-editor.tsx';
import { Empty, ErrorBox, FieldError } from './ui.tsx';

export function QueryPlayground({ index, namespace, dimension }: { index: string; namespace: string; dimension: number }) {
  const [state, action, pending] = useActionState<QueryState, FormData>(runQuery, {});
  const [mode, setMode] = useState<'vector' | 'id'>('vector');
  // Controlled fields: React resets uncontrolled ones after each action, and a playground keeps its input.
  const [vector, setVector] = useState('');
  const [id, setId] = useState('');
  const [topK, setTopK] = useState('10');
  return (
    <div className="grid2">
      <div className="panel">
        <h2>Query</h2>
        <form action={action} className="stack">
          <input type="hidden" name="index" value={index} />
          <input type="hidden" name="namespace" value={namespace} />
          <input type="hidden" name="dimension" value={dimension} />
          <input type="hidden" name="mode" value={mode} />
          <div className="inline">
            <label className="check">
              <input type="radio" checked={mode === 'vector'} onChange={() => setMode('vector')} /> Vector
            </label>
            <label className="check">
              <input type="radio" checked={mode === 'id'} onChange={() => setMode('id')} /> Similar to id
            </label>
          </div>
          {mode === 'vector' ? (
            <label>
              Vector <span className="hint">{dimension} numbers, JSON array or comma-separated</span>
              <textarea
                name="vector"
                value={vector}
                onChange={(e) => setVector(e.target.value)}
                placeholder={`[${Array.from({ length: Math.min(dimension, 4) }, () => '0.1').join(', ')}${dimension > 4 ? ', …' : ''}]`}
                aria-invalid={Boolean(state.errors?.['vector'])}
              />
              <FieldError message={state.errors?.['vector']} />
            </label>
          ) : (
            <label>
              Record id
              <input name="id" value={id} onChange={(e) => setId(e.target.value)} aria-invalid={Boolean(state.errors?.['id'])} />
              <FieldError message={state.errors?.['id']} />
            </label>
          )}
          <div className="inline">
            <label>
              topK
              <input name="topK" value={topK} onChange={(e) => setTopK(e.target.value)} inputMode="numeric" aria-invalid={Boolean(state.errors?.['topK'])} />
              <FieldError message={state.errors?.['topK']} />
            </label>
            <label className="check">
              <input type="checkbox" name="includeValues" /> include values
            </label>
          </div>
          <FilterEditor serverError={state.errors?.['filter']} />
          <div>
            <button type="submit" disabled={pending}>
              {pending ? 'Querying…' : 'Run query'}
            </button>
          </div>
        </form>
      </div>
      <div className="panel table-wrap">
        <h2>Results</h2>
        {state.latencyMs !== undefined ? (
          <p className="hint" data-testid="latency">
            {state.latencyMs.toFixed(1)} ms round trip{state.readUnits !== undefined ? ` · ${state.readUnits} read unit(s)` : ''}
          </p>
        ) : null}
        {state.error ? <ErrorBox error={state.error} kind={state.kind} /> : null}
        {pending ? (
          <div className="loading">Running…</div>
        ) : !state.matches ? (
          <Empty title="No query run yet">Results appear here with their scores and metadata.</Empty>
        ) : state.matches.length === 0 ? (
          <Empty title="No matches">Nothing in this namespace passes the filter.</Empty>
        ) : (
          <table data-testid="results">
            <thead>
              <tr>
                <th>#</th>
                <th>Id</th>
                <th className="num">Score</th>
                <th>Metadata</th>
              </tr>
            </thead>
            <tbody>
              {state.matches.map((m, i) => (
                <tr key={m.id}>
                  <td>{i + 1}</td>
                  <td className="mono">
                    {m.id}
                    {m.values ? <div className="hint">{previewVector(m.values, 4)}</div> : null}
                  </td>
                  <td className="num mono">{m.score.toFixed(4)}</td>
                  <td className="mono">{m.metadata ? JSON.stringify(m.metadata) : ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </div>
  );
}
