import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';

/** The first bytes of every HTTP/2 connection (RFC 9113 §3.4); no HTTP/1.x request starts so. */
const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

/** Longest wait for a new connection's first bytes before it is closed. */
export const FIRST_BYTES_TIMEOUT_MS = 30_000;

/**
 * Hands a new connection to `http2` when it opens with the HTTP/2 preface (gRPC over cleartext,
 * "prior knowledge") and to `http1` otherwise, with the bytes read to decide put back first, so
 * one port serves both the REST API and gRPC. Decides as soon as the bytes differ from the preface
 * or the whole preface has arrived.
 */
export function sniffProtocol(socket: Socket, handlers: { http1(socket: Socket): void; http2(connection: Duplex): void }): void {
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
      handlers.http2(withBytesFirst(socket, seen));
    }
  };
  // Before it is handed on, a connection's errors (a reset) only end it.
  const onError = () => socket.destroy();
  socket.on('data', onData);
  socket.on('error', onError);
  socket.setTimeout(FIRST_BYTES_TIMEOUT_MS, () => socket.destroy());
}

/**
 * `socket` as a stream that first yields `first` (bytes already read from it). Node's HTTP/2
 * session reads a net.Socket's handle directly and would never see bytes put back with
 * `unshift`, so it gets this stream instead.
 */
function withBytesFirst(socket: Socket, first: Buffer): Duplex {
  const connection = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      socket.write(chunk, callback);
    },
    final(callback) {
      socket.end(callback);
    },
    destroy(error, callback) {
      socket.destroy(error ?? undefined);
      callback(error);
    },
  });
  // What the HTTP/2 server and grpc-js read off a connection (peer address for logs).
  Object.assign(connection, {
    remoteAddress: socket.remoteAddress,
    remotePort: socket.remotePort,
    localAddress: socket.localAddress,
    localPort: socket.localPort,
  });
  connection.push(first);
  socket.on('data', (chunk: Buffer) => {
    if (!connection.push(chunk)) socket.pause();
  });
  socket.on('end', () => connection.push(null));
  socket.on('error', (error) => connection.destroy(error));
  socket.on('close', () => connection.destroy());
  socket.setNoDelay(true);
  return connection;
}
