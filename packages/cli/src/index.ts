export { createProgram, run, StoppedError, type ProgramIo } from './program.ts';
export { configPath, readConfig, resolveConnection, writeConfig, UsageError, type ConfigFile, type Profile } from './profiles.ts';
export { formatOf, openRecords, recordFrom, type RecordsFormat, type RecordsSource, type SourceItem } from './records-reader.ts';
export { runUpsert, type BadLine, type OnError, type UpsertRunOptions, type UpsertSummary } from './upsert-runner.ts';
