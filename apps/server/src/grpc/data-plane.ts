import { fileURLToPath } from 'node:url';
import { Server, ServerCredentials, loadPackageDefinition, type ServiceDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import type { Duplex } from 'node:stream';
import { LIMITS } from '@conifer/core';
import { vectorServiceHandlers, type GrpcOptions } from './vector-service.ts';
import { genericStructDecoder, readUpsertRequest } from './upsert-wire.ts';
import type { UpsertMessage } from './upsert.ts';

/** Pinecone's `db_data` protobuf as Conifer serves it. */
export const DB_DATA_PROTO = fileURLToPath(new URL('./db_data.proto', import.meta.url));

/**
 * How requests decode: camelCase fields (as the REST bodies), absent fields left out rather than
 * filled with proto3 defaults (so "not given" stays visible to the schemas), `Struct` values
 * tagged with the kind they hold.
 */
export const PROTO_OPTIONS = { keepCase: false, longs: Number, enums: String, defaults: false, arrays: false, objects: false, oneofs: true } as const;

let vectorService: ServiceDefinition | undefined;

/**
 * The `VectorService` definition, loaded once. Upsert requests are read by the wire reader first
 * (their float32 values copied as bytes), and by the generic decoder when it declines.
 */
export function vectorServiceDefinition(): ServiceDefinition {
  if (vectorService === undefined) {
    const loaded = loadPackageDefinition(loadSync(DB_DATA_PROTO, PROTO_OPTIONS)) as unknown as { VectorService: { service: ServiceDefinition } };
    const generic = loaded.VectorService.service;
    const upsert = generic['Upsert']!;
    const decode = (bytes: Buffer) => upsert.requestDeserialize(bytes) as UpsertMessage;
    const decodeStruct = genericStructDecoder(decode);
    vectorService = {
      ...generic,
      Upsert: { ...upsert, requestDeserialize: (bytes: Buffer) => readUpsertRequest(bytes, decodeStruct) ?? decode(bytes) },
    };
  }
  return vectorService;
}

/** Accepts HTTP/2 connections already accepted by a listener and serves gRPC on them. */
export interface GrpcEndpoint {
  inject(connection: Duplex): void;
  /** Lets calls in flight finish (up to `graceMs`), then closes every connection. */
  drain(graceMs: number): void;
  destroy(): void;
}

/**
 * The gRPC data plane of one address: a grpc-js server that owns no socket and serves the
 * connections it is handed (a listener that also serves HTTP/1.1 tells them apart by their first
 * bytes). `resolveIndex` says which index the address serves.
 */
export function grpcEndpoint(options: GrpcOptions): GrpcEndpoint {
  const server = new Server({
    // The same request size as the REST API's body limit, plus protobuf framing.
    'grpc.max_receive_message_length': LIMITS.maxRequestBytes + 64 * 1024,
    'grpc.max_send_message_length': -1,
  });
  server.addService(vectorServiceDefinition(), vectorServiceHandlers(options));
  const injector = server.createConnectionInjector(ServerCredentials.createInsecure());
  return {
    inject: (connection) => injector.injectConnection(connection),
    drain: (graceMs) => injector.drain(graceMs),
    destroy: () => {
      injector.destroy();
      server.forceShutdown();
    },
  };
}
