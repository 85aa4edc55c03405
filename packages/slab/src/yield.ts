/** Lets queued I/O and requests run: long loops on the event loop call this every few thousand rows. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
