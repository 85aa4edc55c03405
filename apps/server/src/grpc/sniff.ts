import type { Socket } from 'node:net';

/** The first bytes of every HTTP/2 connection (RFC 9113 §3.4); no HTTP/1.x request starts so. */
const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

/** Longest wait for a new connection's first bytes before it is closed. */
export const FIRST_BYTES_TIMEOUT_MS = 30_000;

/**
 * Hands a new connection to `http2` when it opens with the HTTP/2 preface (gRPC over cleartext,
 * "prior knowledge") and to `http1` otherwise, with the bytes read to decide put back first, so
 * one port serves both the REST API and gRPC. Either way the socket itself is handed on: both of
 * Node's parsers read what `unshift` put back before they take the socket over (an HTTP/2
 * session feeds itself a socket's buffered bytes when it is created), so no stream sits between
 * the connection and its parser. Decides as soon as the bytes differ from the preface
 * or the whole preface has arrived.
 */
export function sniffProtocol(socket: Socket, handlers: { http1(socket: Socket): void; http2(socket: Socket): void }): void {
  let seen: Buffer = Buffer.alloc(0);
  const stopSniffing = () => {
    socket.removeListener('data', onData);
    socket.removeListener('error', onError);
    socket.setTimeout(0);
    socket.pause();
  };
  const onData = (chunk: Buffer) => {
    seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
    const compared = Math.min(seen.length, HTTP2_PREFACE.length);
    if (!seen.subarray(0, compared).equals(HTTP2_PREFACE.subarray(0, compared))) {
      stopSniffing();
      // Node's HTTP/1.1 parser reads what was put back before it takes over the socket.
      socket.unshift(seen);
      handlers.http1(socket);
      socket.resume();
    } else if (compared === HTTP2_PREFACE.length) {
      stopSniffing();
      // Node's HTTP/2 session takes over the socket's handle and first feeds itself whatever is
      // already buffered on the socket, so the preface read here is put back the same way.
      socket.unshift(seen);
      socket.setNoDelay(true);
      handlers.http2(socket);
    }
  };
  // Before it is handed on, a connection's errors (a reset) only end it.
  const onError = () => socket.destroy();
  socket.on('data', onData);
  socket.on('error', onError);
  socket.setTimeout(FIRST_BYTES_TIMEOUT_MS, () => socket.destroy());
}
