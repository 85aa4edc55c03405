import type { NamespaceSummary } from '@conifer/sdk';

/**
 * A namespace's metadata schema: its indexed (filterable) fields, then the fields it stores without
 * indexing them. Without a schema every metadata field is indexed.
 */
export function NamespaceSchema({ schema, indexedFields }: Pick<NamespaceSummary, 'schema' | 'indexedFields'>) {
  if (!schema) return <span className="hint">none: every field indexed</span>;
  const indexed = indexedFields ?? [];
  const stored = Object.keys(schema.fields).filter((f) => !indexed.includes(f));
  return (
    <>
      <span className="hint">indexed: </span>
      {indexed.length === 0 ? <span className="hint">none </span> : null}
      {indexed.map((f) => (
        <span key={f} className="badge green mono">
          {f}
        </span>
      ))}
      {stored.length > 0 ? (
        <>
          <br />
          <span className="hint">not indexed: </span>
          {stored.map((f) => (
            <span key={f} className="badge mono">
              {f}
            </span>
          ))}
        </>
      ) : null}
    </>
  );
}
