export { rank, score, namespaceRoutingKey } from './rendezvous.ts';
export {
  DATA_OPS,
  FORWARDED_CALL_HEADER,
  INTERNAL_DATA_PATH,
  INTERNAL_RECORDS_PATH,
  INTERNAL_UPSERT_PATH,
  decodeError,
  decodeForwardedCall,
  decodeRecordsCall,
  encodeError,
  parseDataCall,
  serveDataCall,
  toJson,
  type DataCall,
  type DataOp,
  type ForwardedUpsertCall,
  type ForwardedUpsertResult,
  type RecordsCall,
  type LocalDataPlane,
  type WireError,
} from './internal-protocol.ts';
export { decodeRecordFrame, encodeRecordFrame } from './record-frame.ts';
export { NodeClient, NodeUnreachableError } from './node-client.ts';
export { NodeDirectory, type NodeDirectoryOptions } from './node-directory.ts';
export { RoutedDataPlane, type NamespaceCopy, type NamespacePlacement, type PlacedNode } from './routed-data-plane.ts';
export { JobQueueCompactions } from './job-queue-compactions.ts';
export { Indexer, type IndexerOptions } from './indexer.ts';
