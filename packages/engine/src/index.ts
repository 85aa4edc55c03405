export * from './data-plane.ts';
export { Engine, createEngine, type EngineOptions } from './engine.ts';
export { DEFAULT_ENGINE_CONFIG, resolveEngineConfig, type EngineConfig } from './config.ts';
export { encodeNamespace, decodeNamespace } from './layout.ts';
