'use client';

/** Last resort for an unexpected failure while rendering: never a blank page. */
export default function ConsoleError({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <div className="panel">
      <h2>Something went wrong</h2>
      <div className="alert error" role="alert">
        {error.message || 'The page failed to render.'}
        {error.digest ? <span className="hint"> (digest {error.digest})</span> : null}
      </div>
      <button type="button" onClick={reset}>
        Try again
      </button>
    </div>
  );
}
