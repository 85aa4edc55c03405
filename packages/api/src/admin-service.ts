import { z } from 'zod';
import { FailedPreconditionError, indexNameSchema, NotFoundError, PermissionDeniedError, STORABLE_TEXT_MESSAGE, isStorableText } from '@conifer/core';
import { ROLES, type ApiKeyInfo, type ControlPlane, type Project, type UsageRecord } from '@conifer/control';
import { assertAdmin, type AuthContext } from './auth.ts';
import { RATE_LIMIT_NAMES, rateLimitOverridesSchema, type RateLimiter, type RateLimitOverrides, type RateLimits } from './rate-limits.ts';

/** Project and key names: trimmed, 1–128 characters, storable as PostgreSQL text. */
const nameSchema = z
  .string({ error: 'must be a string' })
  .trim()
  .min(1, { error: 'must be 1–128 characters' })
  .max(128, { error: 'must be at most 128 characters' })
  .refine(isStorableText, { error: STORABLE_TEXT_MESSAGE });

export const createProjectSchema = z.object({ name: nameSchema });

export const createApiKeySchema = z.object({
  name: nameSchema,
  role: z.enum(ROLES, { error: `must be one of ${ROLES.join(', ')}` }).default('read-write'),
});

export const apiKeyRefSchema = z.object({
  // Looked up in the control database: a NUL there was a 500.
  id: z
    .string({ error: 'must be a string' })
    .min(1, { error: 'must not be empty' })
    .max(64, { error: 'must be at most 64 characters' })
    .refine(isStorableText, { error: STORABLE_TEXT_MESSAGE }),
});

const daySchema = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, { error: 'must be a date YYYY-MM-DD' });
export const usageQuerySchema = z.object({
  from: daySchema.optional(),
  to: daySchema.optional(),
  // An index name (a NUL, looked up in the control database, was a 500).
  index: indexNameSchema.optional(),
});

/** Whose rate limits: a project (default: the caller's), or one index of it. */
export const rateLimitScopeSchema = z.object({
  projectId: z
    .string({ error: 'must be a string' })
    .min(1, { error: 'must not be empty' })
    .max(64, { error: 'must be at most 64 characters' })
    // Looked up in the control database: a NUL there was a 500.
    .refine(isStorableText, { error: STORABLE_TEXT_MESSAGE })
    .optional(),
  index: indexNameSchema.optional(),
});

/** New overrides for a scope; they replace the old ones (`{}` removes them). */
export const setRateLimitsSchema = rateLimitScopeSchema.extend({ limits: rateLimitOverridesSchema });

/** The rate limits of a project or an index: each layer, and what applies. */
export interface RateLimitsView {
  projectId: string;
  /** The index, when the view is of one. */
  index?: string;
  /** The node's own limits (`0` = off). */
  node: RateLimits;
  /** The project's overrides. */
  projectOverrides: RateLimitOverrides;
  /** The index's overrides (only in a view of an index). */
  indexOverrides?: RateLimitOverrides;
  /** What applies: to this index, or to the project's indexes that set none of their own. */
  effective: RateLimits;
}

/** Who is calling: the key's project and role. */
export interface CallerDescription {
  project: Project;
  keyId: string;
  role: AuthContext['role'];
  /** True for admin keys of the operator project, which may create projects. */
  operator: boolean;
}

export interface UsageReport {
  from: string;
  to: string;
  /** One row per index per UTC day that had metered traffic, by day then index name. */
  days: UsageRecord[];
  /** Sums over `days`. */
  total: { readUnits: number; writeUnits: number; requests: number };
}

export interface AdminService {
  /** The caller's project and key. Any role. */
  whoami(auth: AuthContext): Promise<CallerDescription>;
  /** Every project for an operator key; the caller's own project for other admin keys. */
  listProjects(auth: AuthContext): Promise<{ projects: Project[] }>;
  /** Operator admin keys only: a new project and its first admin key (shown once). */
  createProject(auth: AuthContext, input: z.output<typeof createProjectSchema>): Promise<{ project: Project; apiKey: string; key: ApiKeyInfo }>;
  /** Keys of the caller's project, revoked ones included; never the secrets. Admin only. */
  listApiKeys(auth: AuthContext): Promise<{ keys: ApiKeyInfo[] }>;
  /** A new key of the caller's project; its secret is in `apiKey`, returned only here. Admin only. */
  createApiKey(auth: AuthContext, input: z.output<typeof createApiKeySchema>): Promise<{ apiKey: string; key: ApiKeyInfo }>;
  /** Revokes a key of the caller's project, at once. Refuses the project's last active admin key. Admin only. */
  revokeApiKey(auth: AuthContext, input: z.output<typeof apiKeyRefSchema>): Promise<ApiKeyInfo>;
  /** Read and write units per index per day of the caller's project. Admin only. */
  usage(auth: AuthContext, input: z.output<typeof usageQuerySchema>): Promise<UsageReport>;
  /** The rate limits of a project or one of its indexes. Admin keys of that project, or operator admin keys. */
  rateLimits(auth: AuthContext, scope: z.output<typeof rateLimitScopeSchema>): Promise<RateLimitsView>;
  /** Replaces the overrides of a project or one of its indexes. Operator admin keys only: tenants do not set their own limits. */
  setRateLimits(auth: AuthContext, input: z.output<typeof setRateLimitsSchema>): Promise<RateLimitsView>;
}

/**
 * Projects, API keys and usage. Keys and usage are scoped to the caller's project; creating
 * projects is reserved to admin keys of the operator project (the one the server bootstrapped).
 */
export function createAdminService(deps: { control: ControlPlane; limiter: RateLimiter; operatorProjectId?: string | undefined }): AdminService {
  const { control, limiter } = deps;
  const isOperator = (auth: AuthContext) => auth.role === 'admin' && deps.operatorProjectId !== undefined && auth.projectId === deps.operatorProjectId;

  /** The project a rate-limit call is about; another project's only for an operator (else it is not found). */
  async function rateLimitProject(auth: AuthContext, projectId: string | undefined): Promise<string> {
    assertAdmin(auth, 'Reading rate limits');
    const id = projectId ?? auth.projectId;
    // Another project answers as an unknown one would: its existence is not the caller's business.
    if (id !== auth.projectId && !isOperator(auth)) throw new NotFoundError(`Project ${id} not found.`);
    return id;
  }

  async function rateLimitsView(projectId: string, index: string | undefined): Promise<RateLimitsView> {
    const projectOverrides = await control.rateLimits.get(projectId);
    const indexOverrides = index === undefined ? undefined : await control.rateLimits.get(projectId, index);
    const overrides = { ...projectOverrides, ...indexOverrides };
    const effective = Object.fromEntries(RATE_LIMIT_NAMES.map((name) => [name, limiter.rateOf(name, { overrides })])) as unknown as RateLimits;
    return {
      projectId,
      ...(index === undefined ? {} : { index }),
      node: { ...limiter.limits },
      projectOverrides,
      ...(indexOverrides === undefined ? {} : { indexOverrides }),
      effective,
    };
  }

  return {
    async whoami(auth) {
      return { project: await control.projects.get(auth.projectId), keyId: auth.keyId, role: auth.role, operator: isOperator(auth) };
    },

    async listProjects(auth) {
      assertAdmin(auth, 'Listing projects');
      if (isOperator(auth)) return { projects: await control.projects.list() };
      return { projects: [await control.projects.get(auth.projectId)] };
    },

    async createProject(auth, { name }) {
      if (!isOperator(auth)) throw new PermissionDeniedError('Creating a project needs an admin key of the operator project.');
      const { project, key, keyInfo } = await control.projects.createWithAdminKey(name, auth.keyId);
      return { project, apiKey: key, key: keyInfo };
    },

    async listApiKeys(auth) {
      assertAdmin(auth, 'Listing API keys');
      return { keys: await control.keys.list(auth.projectId) };
    },

    async createApiKey(auth, input) {
      assertAdmin(auth, 'Creating an API key');
      const { key, info } = await control.keys.create(auth.projectId, input, auth.keyId);
      return { apiKey: key, key: info };
    },

    async revokeApiKey(auth, { id }) {
      assertAdmin(auth, 'Revoking an API key');
      const keys = await control.keys.list(auth.projectId);
      const target = keys.find((k) => k.id === id);
      if (target !== undefined && target.role === 'admin' && target.revokedAt === null) {
        const activeAdmins = keys.filter((k) => k.role === 'admin' && k.revokedAt === null).length;
        if (activeAdmins <= 1) {
          throw new FailedPreconditionError('This is the last active admin key of the project; create another admin key before revoking it.');
        }
      }
      return control.keys.revoke(auth.projectId, id, auth.keyId);
    },

    async usage(auth, input) {
      assertAdmin(auth, 'Reading usage');
      const { from, to, days } = await control.usage.report(auth.projectId, input);
      const total = days.reduce(
        (sum, d) => ({ readUnits: sum.readUnits + d.readUnits, writeUnits: sum.writeUnits + d.writeUnits, requests: sum.requests + d.requests }),
        { readUnits: 0, writeUnits: 0, requests: 0 },
      );
      return { from, to, days, total };
    },

    async rateLimits(auth, { projectId, index }) {
      return rateLimitsView(await rateLimitProject(auth, projectId), index);
    },

    async setRateLimits(auth, { projectId, index, limits }) {
      if (!isOperator(auth)) throw new PermissionDeniedError('Setting rate limits needs an admin key of the operator project.');
      const id = projectId ?? auth.projectId;
      await control.rateLimits.set(id, index, limits, auth.keyId);
      return rateLimitsView(id, index);
    },
  };
}
