import { once } from 'node:events';
import { createServer as createHttp1Server, get } from 'node:http';
import { connect as connectHttp2, createServer as createHttp2Server, type ClientHttp2Session } from 'node:http2';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { sniffProtocol } from './sniff.ts';

/** A port whose connections go through sniffProtocol to a real HTTP/1.1 or HTTP/2 server. */
async function sniffingServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const http1 = createHttp1Server((_req, res) => res.end('http1'));
  const http2 = createHttp2Server((_req, res) => res.end('http2'));
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    sniffProtocol(socket, { http1: (s) => http1.emit('connection', s), http2: (s) => http2.emit('connection', s) });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
/** An empty SETTINGS frame: length 0, type 4, no flags, stream 0. */
const EMPTY_SETTINGS = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);

describe('sniffProtocol', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it('hands HTTP/1.1 and HTTP/2 connections on one port to their own servers', async () => {
    const server = await sniffingServer();
    close = server.close;
    const http1Body = await new Promise<string>((resolve, reject) => {
      get(`http://127.0.0.1:${server.port}/`, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve(text));
      }).on('error', reject);
    });
    expect(http1Body).toBe('http1');

    const session: ClientHttp2Session = connectHttp2(`http://127.0.0.1:${server.port}`);
    try {
      // Several requests on one session: the socket stays with the HTTP/2 session after the preface.
      for (let i = 0; i < 3; i++) {
        const stream = session.request({ ':path': '/' });
        let text = '';
        stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
        await once(stream, 'end');
        expect(text).toBe('http2');
      }
    } finally {
      session.close();
    }
  });

  it('gives the HTTP/2 session the bytes read while deciding, however the preface was split', async () => {
    const server = await sniffingServer();
    close = server.close;
    for (const split of [1, 10, PREFACE.length, PREFACE.length + 4]) {
      const first = Buffer.concat([PREFACE, EMPTY_SETTINGS]);
      const socket = connect(server.port, '127.0.0.1');
      await once(socket, 'connect');
      const received: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => received.push(chunk));
      socket.write(first.subarray(0, split));
      await new Promise((resolve) => setTimeout(resolve, 20));
      socket.write(first.subarray(split));
      // The server's connection preface is a SETTINGS frame; once it has read our SETTINGS it also
      // acknowledges them (a SETTINGS frame with the ACK flag) — which it can only do if the bytes
      // read while sniffing, and those after, all reached the session.
      await expect.poll(() => settingsFrames(Buffer.concat(received)), { timeout: 2000 }).toEqual({ settings: true, ack: true });
      socket.destroy();
    }
  });
});

/** Whether `bytes` (frames a server sent) hold a SETTINGS frame and a SETTINGS acknowledgement. */
function settingsFrames(bytes: Buffer): { settings: boolean; ack: boolean } {
  const seen = { settings: false, ack: false };
  for (let at = 0; at + 9 <= bytes.length;) {
    const length = bytes.readUIntBE(at, 3);
    const type = bytes[at + 3];
    const flags = bytes[at + 4]!;
    if (type === 4) {
      if (flags & 1) seen.ack = true;
      else seen.settings = true;
    }
    at += 9 + length;
  }
  return seen;
}
