export { buildAnn, chooseFactory, DEFAULT_ANN_POLICY, donorFits, exactNeighbours, type AnnDonor, type AnnPolicy, type KnownLists } from './ann-build.ts';
export { DEFAULT_COMPACTION_POLICY, planCompaction, type CompactionPlan, type CompactionPolicy } from './compaction-policy.ts';
export { runCompactionJob, type CompactionJob, type CompactionOutput } from './compaction-job.ts';
export { Compactor, DEFAULT_COMPACTOR_OPTIONS, type CompactorOptions } from './compactor.ts';
export { MERGED_ROW_BYTES, MergedRows, mergeSlabs } from './merge.ts';
export { nextCompaction, type ScheduledCompaction } from './schedule.ts';
export { autogroupNiceness, lowerProcessPriority, threadNiceness, type ProcessPriority } from './thread-priority.ts';
