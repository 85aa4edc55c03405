'use client';

import { FieldError } from './ui.tsx';

export interface SparseText {
  indices: string;
  values: string;
}

/**
 * A sparse vector as two lists, its indices and their values (a JSON array or comma-separated),
 * controlled by the form that holds it; `error` is the form's `sparse` field error.
 */
export function SparseFields({
  value,
  onChange,
  error,
  optional,
}: {
  value: SparseText;
  onChange: (value: SparseText) => void;
  error: string | undefined;
  optional: boolean;
}) {
  return (
    <fieldset className="sparse">
      <legend>
        Sparse vector{' '}
        <span className="hint">
          {optional ? 'optional: the sparse part of a hybrid (dense + sparse) dotproduct score; ' : ''}non-zero entries as two lists of the same length
        </span>
      </legend>
      <div className="inline">
        <label>
          Sparse indices <span className="hint">integers, e.g. [10, 45, 301]</span>
          <input
            name="sparseIndices"
            value={value.indices}
            onChange={(e) => onChange({ ...value, indices: e.target.value })}
            placeholder="[10, 45, 301]"
            aria-invalid={Boolean(error)}
            spellCheck={false}
          />
        </label>
        <label>
          Sparse values <span className="hint">one per index, e.g. [0.5, 1.2, 0.3]</span>
          <input
            name="sparseValues"
            value={value.values}
            onChange={(e) => onChange({ ...value, values: e.target.value })}
            placeholder="[0.5, 1.2, 0.3]"
            aria-invalid={Boolean(error)}
            spellCheck={false}
          />
        </label>
      </div>
      <FieldError message={error} />
    </fieldset>
  );
}
