'use client';

import { useState } from 'react';
import { parseFilterText } from '../lib/filter.ts';

/** A JSON metadata filter, checked as you type with core's validateFilter. */
export function FilterEditor({ name = 'filter', serverError }: { name?: string; serverError?: string | undefined }) {
  const [text, setText] = useState('');
  const parsed = parseFilterText(text);
  const error = !parsed.ok ? parsed.error : serverError;
  return (
    <label>
      Filter <span className="hint">metadata filter JSON, e.g. {'{"genre": {"$eq": "drama"}}'} (optional)</span>
      <textarea name={name} value={text} onChange={(e) => setText(e.target.value)} aria-invalid={Boolean(error)} spellCheck={false} />
      {error ? (
        <span className="field-error" data-testid="filter-error">
          {error}
        </span>
      ) : text.trim() ? (
        <span className="hint">✓ valid filter</span>
      ) : null}
    </label>
  );
}
