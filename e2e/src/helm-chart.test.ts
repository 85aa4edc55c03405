import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './server-process.ts';

/**
 * The Helm chart (deploy/helm/conifer): `helm lint --strict` and `helm template` with each cloud's
 * values (deploy/helm/conifer/ci), every rendered object checked against Kubernetes' schemas by
 * kubernetes-validate --strict (offline), and the shape operators rely on checked here. `npm test`
 * installs helm and kubernetes-validate first (tools/helm/ensure.sh); without them these fail.
 */
const run = promisify(execFile);
const CHART = join(REPO_ROOT, 'deploy', 'helm', 'conifer');
const HELM = process.env['CONIFER_HELM'];
const VALIDATE = process.env['CONIFER_KUBERNETES_VALIDATE'];

async function helm(args: string[]): Promise<string> {
  return (await run(HELM!, args, { maxBuffer: 64 * 1024 * 1024 })).stdout;
}

/** The rendered objects: kind, name and the YAML text of each. */
function objects(rendered: string): { kind: string; name: string; text: string }[] {
  return rendered
    .split(/^---$/m)
    .map((text) => ({ text, kind: /^kind: (\S+)$/m.exec(text)?.[1] ?? '', name: /^ {2}name: (\S+)$/m.exec(text)?.[1] ?? '' }))
    .filter((o) => o.kind !== '');
}

describe('the Helm chart', () => {
  it('has helm and kubernetes-validate to check it with', () => {
    expect(HELM && VALIDATE, 'CONIFER_HELM and CONIFER_KUBERNETES_VALIDATE unset: run tools/helm/ensure.sh (npm test does)').toBeTruthy();
  });

  for (const cloud of ['s3', 'gcs', 'azure']) {
    it.skipIf(!HELM || !VALIDATE)(`lints and renders valid Kubernetes objects with the ${cloud} values`, async () => {
      const values = join(CHART, 'ci', `${cloud}-values.yaml`);
      await helm(['lint', '--strict', CHART, '-f', values]);
      const rendered = await helm(['template', 'conifer', CHART, '-f', values, '--namespace', 'vectors']);
      const validate = promisify(execFile);
      const child = validate(VALIDATE!, ['--strict', '--kubernetes-version', '1.31', '-'], { maxBuffer: 16 * 1024 * 1024 });
      child.child.stdin!.end(rendered);
      await child; // rejects on any schema error (non-zero exit)

      const all = objects(rendered);
      const kinds = (kind: string) => all.filter((o) => o.kind === kind).map((o) => o.name);
      expect(kinds('Deployment').sort()).toEqual(['conifer-gateway', 'conifer-indexer', 'conifer-writer']);
      expect(kinds('StatefulSet')).toEqual(['conifer-query']);
      expect(kinds('PodDisruptionBudget')).toHaveLength(4);
      expect(kinds('Service').sort()).toEqual(['conifer', 'conifer-query']);
      expect(kinds('HorizontalPodAutoscaler')).toHaveLength(cloud === 'gcs' ? 0 : 1);
      for (const workload of all.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet')) {
        // One image for every role; the role, the cluster settings and the probes on each.
        expect(workload.text).toContain('image: "conifer:local"');
        expect(workload.text).toMatch(/name: CONIFER_ROLES\n\s+value: "(gateway|writer|query|indexer)"/);
        for (const name of ['CONIFER_ADVERTISE_URL', 'CONIFER_CLUSTER_SECRET', 'CONIFER_DATABASE_URL', 'CONIFER_STORAGE'])
          expect(workload.text).toContain(`name: ${name}`);
        expect(workload.text).toContain('readinessProbe:');
        expect(workload.text).toContain('runAsNonRoot: true');
      }
      const query = all.find((o) => o.kind === 'StatefulSet')!.text;
      expect(query).toContain('volumeClaimTemplates:');
      const storageEnv = { s3: 'AWS_SECRET_ACCESS_KEY', gcs: 'GOOGLE_APPLICATION_CREDENTIALS', azure: 'AZURE_STORAGE_ACCOUNT' }[cloud]!;
      expect(all.find((o) => o.kind === 'Deployment' && o.name === 'conifer-writer')!.text).toContain(`name: ${storageEnv}`);
    });
  }

  it.skipIf(!HELM)('keeps credentials given as values in Secrets of its own, which the pods read', async () => {
    const cases = [
      { url: 's3://b/p/', set: ['storage.s3.accessKeyId=AKIA0', 'storage.s3.secretAccessKey=s3cr3t'], secret: 'conifer-aws', env: 'AWS_SECRET_ACCESS_KEY' },
      { url: 'gs://b/p/', set: ['storage.gcs.credentialsJson={}'], secret: 'conifer-gcs', env: 'GOOGLE_APPLICATION_CREDENTIALS' },
      { url: 'az://c/p/', set: ['storage.azure.connectionString=UseDevelopmentStorage=true'], secret: 'conifer-azure', env: 'AZURE_STORAGE_CONNECTION_STRING' },
    ];
    for (const c of cases) {
      const args = [
        'template',
        'conifer',
        CHART,
        '--set',
        'database.url=postgres://x@y/z',
        '--set',
        `storage.url=${c.url}`,
        ...c.set.flatMap((s) => ['--set', s]),
      ];
      const all = objects(await helm(args));
      expect(all.filter((o) => o.kind === 'Secret').map((o) => o.name)).toContain(c.secret);
      const writer = all.find((o) => o.kind === 'Deployment' && o.name === 'conifer-writer')!.text;
      expect(writer).toContain(`name: ${c.env}`);
      expect(writer).toContain(c.secret);
      // The value itself never lands in a pod spec.
      expect(writer).not.toContain('s3cr3t');
    }
  });

  it.skipIf(!HELM)('refuses to render without a shared object store or a database', async () => {
    const failure = async (args: string[]) => {
      try {
        await helm(['template', 'conifer', CHART, ...args]);
      } catch (error) {
        return (error as { stderr: string }).stderr;
      }
      throw new Error('helm template rendered');
    };
    expect(await failure(['--set', 'database.url=postgres://x@y/z'])).toContain('storage.url is required');
    expect(await failure(['--set', 'database.url=postgres://x@y/z', '--set', 'storage.url=/srv/objects'])).toContain('must start with s3://, gs:// or az://');
    expect(await failure(['--set', 'storage.url=s3://b/p/'])).toContain('database.url');
  });
});
