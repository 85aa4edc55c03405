import type { Migration } from 'kysely/migration';
import { migration0001Initial } from './0001_initial.ts';
import { migration0002UsageAndIndexSpec } from './0002_usage_and_index_spec.ts';
import { migration0003RateLimits } from './0003_rate_limits.ts';
import { migration0004ClusterNodes } from './0004_cluster_nodes.ts';
import { migration0005IndexJobs } from './0005_index_jobs.ts';
import { migration0006IndexHostPorts } from './0006_index_host_ports.ts';
import { migration0007NamespaceSchemas } from './0007_namespace_schemas.ts';
import { migration0008BulkImports } from './0008_bulk_imports.ts';
import { migration0009SparseIndexes } from './0009_sparse_indexes.ts';
import { migration0010Backups } from './0010_backups.ts';
import { migration0011NodeMemory } from './0011_node_memory.ts';

/**
 * Every migration, in order. Names sort lexically (Kysely's rule); never rename or edit a
 * migration that has shipped — add a new one.
 */
export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  '0001_initial': migration0001Initial,
  '0002_usage_and_index_spec': migration0002UsageAndIndexSpec,
  '0003_rate_limits': migration0003RateLimits,
  '0004_cluster_nodes': migration0004ClusterNodes,
  '0005_index_jobs': migration0005IndexJobs,
  '0006_index_host_ports': migration0006IndexHostPorts,
  '0007_namespace_schemas': migration0007NamespaceSchemas,
  '0008_bulk_imports': migration0008BulkImports,
  '0009_sparse_indexes': migration0009SparseIndexes,
  '0010_backups': migration0010Backups,
  '0011_node_memory': migration0011NodeMemory,
};
