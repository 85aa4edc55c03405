/**
 * Longest time the event loop went without running a 1 ms timer: how long a query (or a flush,
 * a compaction step, a JSON parse…) kept every other request of the process waiting.
 */
export function stallProbe(): { stop: () => number } {
  let last = performance.now();
  let worst = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last - 1);
    last = now;
  }, 1);
  return {
    stop: () => {
      clearInterval(timer);
      // The gap still open counts too: a loop that never let the timer run is one long stall.
      worst = Math.max(worst, performance.now() - last - 1);
      return Math.round(worst * 10) / 10;
    },
  };
}
