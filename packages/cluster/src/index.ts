export { rank, score, namespaceRoutingKey } from './rendezvous.ts';
export {
  DATA_OPS,
  INTERNAL_DATA_PATH,
  decodeError,
  encodeError,
  parseDataCall,
  serveDataCall,
  toJson,
  type DataCall,
  type DataOp,
  type LocalDataPlane,
  type WireError,
} from './internal-protocol.ts';
export { NodeClient, NodeUnreachableError } from './node-client.ts';
export { NodeDirectory, type NodeDirectoryOptions } from './node-directory.ts';
export { RoutedDataPlane, type NamespaceCopy, type NamespacePlacement, type PlacedNode } from './routed-data-plane.ts';
export { JobQueueCompactions } from './job-queue-compactions.ts';
export { Indexer, type IndexerOptions } from './indexer.ts';
