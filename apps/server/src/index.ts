export { buildServer, type BuildOptions, type ConiferServer } from './app.ts';
export { loadConfig, ConfigError, LOG_LEVELS, type ServerConfig, type LogLevel } from './config.ts';
export { ADMIN_KEY_FILE, bootstrapAdmin, adminKeyBanner, type BootstrapOutcome } from './bootstrap.ts';
export { createLogger, REDACTED_PATHS } from './logger.ts';
export { openApiDocument } from './openapi.ts';
export { DATA_PLANE_PREFIX, LSN_HEADER } from './pinecone/data-routes.ts';
