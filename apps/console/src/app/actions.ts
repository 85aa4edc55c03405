'use server';

import { revalidatePath } from 'next/cache';
import { redirect } from 'next/navigation';
import {
  parseConfigureForm,
  parseCreateBackupForm,
  parseCreateIndexForm,
  parseDeleteForm,
  parseQueryForm,
  parseRestoreForm,
  parseStartImportForm,
  parseUpsertForm,
  type FieldErrors,
  type IndexShape,
} from '../lib/forms.ts';
import { attempt } from '../lib/outcome.ts';
import { clearSession, clientFor, sessionClient, setSession } from '../lib/session.ts';

/**
 * Server actions: every change the console makes goes through here, through the SDK, with the
 * key from the session cookie. Each returns plain state for `useActionState`: field errors from
 * the shared schemas, or the server's own error message.
 */
export interface ActionState {
  ok?: string;
  error?: string;
  kind?: string;
  errors?: FieldErrors;
}

function text(form: FormData, name: string): string {
  const value = form.get(name);
  return typeof value === 'string' ? value : '';
}

/** The index's shape the record and query forms carry in hidden fields. */
function shapeOf(form: FormData): IndexShape {
  return {
    dimension: Number(text(form, 'dimension')),
    vectorType: text(form, 'vectorType') === 'sparse' ? 'sparse' : 'dense',
    metric: text(form, 'metric'),
  };
}

export async function signIn(_prev: ActionState, form: FormData): Promise<ActionState> {
  const apiKey = text(form, 'apiKey').trim();
  if (!apiKey) return { errors: { apiKey: 'enter an API key' } };
  try {
    await clientFor(apiKey).whoami();
  } catch (error) {
    const e = error as Error;
    return { error: e.message, kind: e.name };
  }
  await setSession(apiKey);
  redirect('/indexes');
}

export async function signOut(): Promise<void> {
  await clearSession();
  redirect('/login');
}

export async function createIndex(_prev: ActionState, form: FormData): Promise<ActionState> {
  const parsed = parseCreateIndexForm({
    name: text(form, 'name'),
    vectorType: text(form, 'vectorType'),
    dimension: text(form, 'dimension'),
    metric: text(form, 'metric'),
    deletionProtection: text(form, 'deletionProtection'),
    tags: text(form, 'tags'),
  });
  if (!parsed.ok) return { errors: parsed.errors };
  const client = await sessionClient();
  const result = await attempt(() => client.createIndex(parsed.value));
  if (!result.ok) return { error: result.error, kind: result.kind };
  revalidatePath('/indexes');
  redirect(`/indexes/${encodeURIComponent(parsed.value.name)}`);
}

export async function configureIndex(_prev: ActionState, form: FormData): Promise<ActionState> {
  const name = text(form, 'index');
  const parsed = parseConfigureForm(name, { deletionProtection: text(form, 'deletionProtection'), tags: text(form, 'tags') });
  if (!parsed.ok) return { errors: parsed.errors };
  const client = await sessionClient();
  const result = await attempt(() => client.configureIndex(name, parsed.value));
  if (!result.ok) return { error: result.error, kind: result.kind };
  revalidatePath(`/indexes/${encodeURIComponent(name)}`);
  return { ok: `Saved: deletion protection ${result.data.deletionProtection}.` };
}

export async function deleteIndex(_prev: ActionState, form: FormData): Promise<ActionState> {
  const name = text(form, 'index');
  if (text(form, 'confirm') !== name) return { errors: { confirm: `type "${name}" to confirm` } };
  const client = await sessionClient();
  const result = await attempt(() => client.deleteIndex(name));
  if (!result.ok) return { error: result.error, kind: result.kind };
  revalidatePath('/indexes');
  redirect('/indexes');
}

export async function upsertRecord(_prev: ActionState, form: FormData): Promise<ActionState> {
  const index = text(form, 'index');
  const namespace = text(form, 'namespace');
  const parsed = parseUpsertForm(
    {
      id: text(form, 'id'),
      values: text(form, 'values'),
      metadata: text(form, 'metadata'),
      sparseIndices: text(form, 'sparseIndices'),
      sparseValues: text(form, 'sparseValues'),
    },
    shapeOf(form),
  );
  if (!parsed.ok) return { errors: parsed.errors };
  const client = await sessionClient();
  const result = await attempt(() => client.index(index).namespace(namespace).upsert([parsed.value]));
  if (!result.ok) return { error: result.error, kind: result.kind };
  revalidatePath(`/indexes/${encodeURIComponent(index)}`, 'layout');
  return { ok: `Upserted "${parsed.value.id}" (${result.data.upsertedCount} record).` };
}

export async function deleteRecords(_prev: ActionState, form: FormData): Promise<ActionState> {
  const index = text(form, 'index');
  const namespace = text(form, 'namespace');
  const parsed = parseDeleteForm({ mode: text(form, 'mode'), ids: text(form, 'ids'), filter: text(form, 'filter') });
  if (!parsed.ok) return { errors: parsed.errors };
  const client = await sessionClient();
  const ns = client.index(index).namespace(namespace);
  const result = await attempt(() => ns.deleteMany('ids' in parsed.value ? parsed.value.ids : { filter: parsed.value.filter }));
  if (!result.ok) return { error: result.error, kind: result.kind };
  revalidatePath(`/indexes/${encodeURIComponent(index)}`, 'layout');
  return { ok: 'ids' in parsed.value ? `Deleted ${parsed.value.ids.length} id(s).` : 'Deleted the records matching the filter.' };
}

/** The start-import form's state: also the error mode submitted, which the form keeps. */
export interface StartImportState extends ActionState {
  errorMode?: string;
}

export async function startImport(_prev: StartImportState, form: FormData): Promise<StartImportState> {
  const index = text(form, 'index');
  const errorMode = text(form, 'errorMode');
  const parsed = parseStartImportForm(index, { uri: text(form, 'uri'), errorMode });
  if (!parsed.ok) return { errors: parsed.errors, errorMode };
  const client = await sessionClient();
  const result = await attempt(() => client.index(index).startImport(parsed.value));
  if (!result.ok) return { error: result.error, kind: result.kind, errorMode };
  revalidatePath(`/indexes/${encodeURIComponent(index)}`);
  return { ok: `Started import ${result.data.id}.`, errorMode };
}

export async function cancelImport(_prev: ActionState, form: FormData): Promise<ActionState> {
  const index = text(form, 'index');
  const id = text(form, 'id');
  const client = await sessionClient();
  const result = await attempt(() => client.index(index).cancelImport(id));
  if (!result.ok) return { error: result.error, kind: result.kind };
  revalidatePath(`/indexes/${encodeURIComponent(index)}`);
  return { ok: `Cancelled import ${id}.` };
}

export interface QueryState extends ActionState {
  matches?: {
    id: string;
    score: number;
    values?: number[];
    sparseValues?: { indices: number[]; values: number[] } | undefined;
    metadata?: Record<string, unknown>;
  }[];
  latencyMs?: number;
  readUnits?: number;
}

export async function runQuery(_prev: QueryState, form: FormData): Promise<QueryState> {
  const index = text(form, 'index');
  const namespace = text(form, 'namespace');
  const parsed = parseQueryForm(
    {
      mode: text(form, 'mode'),
      vector: text(form, 'vector'),
      id: text(form, 'id'),
      topK: text(form, 'topK'),
      filter: text(form, 'filter'),
      includeValues: form.get('includeValues') === 'on',
      sparseIndices: text(form, 'sparseIndices'),
      sparseValues: text(form, 'sparseValues'),
    },
    shapeOf(form),
  );
  if (!parsed.ok) return { errors: parsed.errors };
  const client = await sessionClient();
  const started = performance.now();
  const result = await attempt(() => client.index(index).namespace(namespace).query(parsed.value));
  const latencyMs = performance.now() - started;
  if (!result.ok) return { error: result.error, kind: result.kind, latencyMs };
  return { matches: result.data.matches, latencyMs, readUnits: result.data.usage?.readUnits };
}

/** Where backups show: the backups page, and the page of each index (the source and a restored one). */
function revalidateBackups(index?: string): void {
  revalidatePath('/backups');
  revalidatePath('/indexes');
  if (index) revalidatePath(`/indexes/${encodeURIComponent(index)}`);
}

export async function createBackup(_prev: ActionState, form: FormData): Promise<ActionState> {
  const index = text(form, 'index');
  const parsed = parseCreateBackupForm({ name: text(form, 'name'), description: text(form, 'description') });
  if (!parsed.ok) return { errors: parsed.errors };
  const client = await sessionClient();
  // The server answers once the backup is Ready (it pins the index's slabs: nothing is copied).
  const result = await attempt(() => client.createBackup(index, parsed.value));
  if (!result.ok) return { error: result.error, kind: result.kind };
  revalidateBackups(index);
  return { ok: `Backup ${result.data.name ?? result.data.backupId} is ${result.data.status}: ${result.data.recordCount} record(s).` };
}

export async function deleteBackup(_prev: ActionState, form: FormData): Promise<ActionState> {
  const id = text(form, 'id');
  const client = await sessionClient();
  const result = await attempt(() => client.deleteBackup(id));
  if (!result.ok) return { error: result.error, kind: result.kind };
  revalidateBackups(text(form, 'index') || undefined);
  return { ok: `Deleted backup ${id}.` };
}

/** The restore form's state: also the id of the restore job started. */
export interface RestoreState extends ActionState {
  restoreJobId?: string;
}

export async function restoreBackup(_prev: RestoreState, form: FormData): Promise<RestoreState> {
  const id = text(form, 'id');
  const parsed = parseRestoreForm({ name: text(form, 'name') });
  if (!parsed.ok) return { errors: parsed.errors };
  const client = await sessionClient();
  const result = await attempt(() => client.createIndexFromBackup(id, { name: parsed.value.name }));
  if (!result.ok) return { error: result.error, kind: result.kind };
  revalidateBackups(text(form, 'index') || undefined);
  return { ok: `Restoring into ${parsed.value.name}: see Restore jobs.`, restoreJobId: result.data.restoreJobId };
}

export interface KeyState extends ActionState {
  secret?: string;
  keyName?: string;
}

export async function createKey(_prev: KeyState, form: FormData): Promise<KeyState> {
  const name = text(form, 'name').trim();
  const role = text(form, 'role') as 'admin' | 'read-write' | 'read-only';
  if (!name) return { errors: { name: 'give the key a name' } };
  const client = await sessionClient();
  const result = await attempt(() => client.createApiKey({ name, role }));
  if (!result.ok) return { error: result.error, kind: result.kind };
  revalidatePath('/keys');
  return { secret: result.data.apiKey, keyName: result.data.key.name };
}

export async function revokeKey(_prev: ActionState, form: FormData): Promise<ActionState> {
  const id = text(form, 'id');
  const client = await sessionClient();
  const result = await attempt(() => client.revokeApiKey(id));
  if (!result.ok) return { error: result.error, kind: result.kind };
  revalidatePath('/keys');
  return { ok: `Revoked ${result.data.name}.` };
}
