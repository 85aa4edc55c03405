'use client';

import { useActionState, useState } from 'react';
import { runQuery, type QueryState } from '../app/actions.ts';
import { previewSparse, previewVector } from '../lib/format.ts';
import { takesSparse, type IndexShape } from '../lib/forms.ts';
import { FilterEditor } from './filter-editor.tsx';
import { SparseFields, type SparseText } from './sparse-fields.tsx';
import { Empty, ErrorBox, FieldError } from './ui.tsx';

/**
 * Queries one namespace: by a vector or "similar to id", with topK and a filter. A sparse index
 * is queried by a sparse vector (indices and values); a dense dotproduct index may add a sparse
 * part to its dense vector (a hybrid query).
 */
export function QueryPlayground({ index, namespace, shape }: { index: string; namespace: string; shape: IndexShape }) {
  const [state, action, pending] = useActionState<QueryState, FormData>(runQuery, {});
  const [mode, setMode] = useState<'vector' | 'id'>('vector');
  // Controlled fields: React resets uncontrolled ones after each action, and a playground keeps its input.
  const [vector, setVector] = useState('');
  const [sparse, setSparse] = useState<SparseText>({ indices: '', values: '' });
  const [id, setId] = useState('');
  const [topK, setTopK] = useState('10');
  const { dimension } = shape;
  const sparseMode = takesSparse(shape);
  const showSparseValues = state.matches?.some((m) => m.sparseValues && m.sparseValues.indices.length > 0) ?? false;
  return (
    <div className="grid2">
      <div className="panel">
        <h2>Query</h2>
        <form action={action} className="stack">
          <input type="hidden" name="index" value={index} />
          <input type="hidden" name="namespace" value={namespace} />
          <input type="hidden" name="dimension" value={dimension} />
          <input type="hidden" name="vectorType" value={shape.vectorType} />
          <input type="hidden" name="metric" value={shape.metric} />
          <input type="hidden" name="mode" value={mode} />
          <div className="inline">
            <label className="check">
              <input type="radio" checked={mode === 'vector'} onChange={() => setMode('vector')} /> {sparseMode === 'required' ? 'Sparse vector' : 'Vector'}
            </label>
            <label className="check">
              <input type="radio" checked={mode === 'id'} onChange={() => setMode('id')} /> Similar to id
            </label>
          </div>
          {mode === 'vector' ? (
            <>
              {shape.vectorType === 'dense' ? (
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
              ) : null}
              {sparseMode !== 'no' ? (
                <SparseFields value={sparse} onChange={setSparse} error={state.errors?.['sparse']} optional={sparseMode === 'optional'} />
              ) : null}
            </>
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
                {showSparseValues ? <th>Sparse values</th> : null}
              </tr>
            </thead>
            <tbody>
              {state.matches.map((m, i) => (
                <tr key={m.id} data-match-id={m.id}>
                  <td>{i + 1}</td>
                  <td className="mono">
                    {m.id}
                    {m.values && m.values.length > 0 ? <div className="hint">{previewVector(m.values, 4)}</div> : null}
                  </td>
                  <td className="num mono">{m.score.toFixed(4)}</td>
                  <td className="mono">{m.metadata ? JSON.stringify(m.metadata) : ''}</td>
                  {showSparseValues ? (
                    <td className="mono">{m.sparseValues && m.sparseValues.indices.length > 0 ? previewSparse(m.sparseValues) : ''}</td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </div>
  );
}
