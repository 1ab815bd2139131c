/**
 * SECURITY-CHECKLIST 28 as far as one machine can test it: IAM itself cannot be evaluated here, so
 * the exact IAM document (docs/providers/gcp-iam.json) is checked: no wildcard permission, no
 * primitive role, secret access bound per named secret (never on the project), the delete
 * conditioned on the `agentium-` name prefix every session VM has, only the permissions the
 * controller's own calls need, and the same dedicated service account the instance request
 * attaches. The gcloud commands in docs/providers/gcp.md must grant the same.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGcpControllerCloud } from '../../../controller/cloud/gcp.js';
import { gcpLabels } from '../../../src/labels.js';
import { buildGcpInsertRequest, gcpServiceAccount } from '../../../src/providers/gcp/request.js';
import { buildSessionSpec } from '../../../src/session/spec.js';
import { startFakeCompute, type FakeCompute } from '../../fakes/gcp/compute.js';
import type { RecordedRequest } from '../../fakes/http.js';
import { startFakeMetadata, type FakeMetadata } from '../../fakes/gcp/metadata.js';
import { startFakeSecretManager, type FakeSecretManager } from '../../fakes/gcp/secret-manager.js';
import { parsedConfig } from '../../support/config.js';

interface Binding {
  resource: string;
  role: string;
  members: string[];
  condition?: { title: string; description?: string; expression: string };
}
interface IamDocument {
  serviceAccount: { accountId: string; email: string; displayName: string };
  customRoles: Array<{ roleId: string; name: string; title: string; stage: string; includedPermissions: string[] }>;
  predefinedRoles: Record<string, string[]>;
  bindings: Binding[];
}

const iam = JSON.parse(readFileSync(new URL('../../../docs/providers/gcp-iam.json', import.meta.url), 'utf8')) as IamDocument;
const gcpDoc = readFileSync(new URL('../../../docs/providers/gcp.md', import.meta.url), 'utf8');
const project = 'PROJECT_ID';
/** A project id the config accepts, for the pieces built from config; PROJECT_ID in the document stands for it. */
const realProject = 'acme-agents';
const inProject = (text: string) => text.replaceAll(project, realProject);
const member = `serviceAccount:${iam.serviceAccount.email}`;
const secretBindings = iam.bindings.filter((binding) => binding.role === 'roles/secretmanager.secretAccessor');
const deleteRole = iam.customRoles.find((role) => role.includedPermissions.includes('compute.instances.delete'));
const deleteBinding = iam.bindings.find((binding) => binding.role === deleteRole?.name);

/** The documented defaults (gcp.serviceAccount unset) and the secret names the document uses. */
const config = parsedConfig({
  provider: 'gcp',
  repo: 'acme/widgets',
  github: { appId: 12345, privateKeySecret: 'agentium-github-app-key' },
  agent: { llmKeySecret: 'agentium-llm-key' },
  gcp: { project: realProject },
});
if (!config.gcp) throw new Error('the config has no gcp section');
const gcp = config.gcp;
const insertFor = (issue: number) =>
  buildGcpInsertRequest(buildSessionSpec(config, { provider: 'gcp', issue, now: new Date(), nonce: 'n0nce' }), gcp, {
    zone: 'us-central1-a',
    spot: true,
    userData: '',
    requestId: 'r',
  });

/** The permissions a binding really grants on its resource: a secret-level grant acts on that secret only. */
function permissionsOf(binding: Binding): string[] {
  const listed = iam.customRoles.find((role) => role.name === binding.role)?.includedPermissions ?? iam.predefinedRoles[binding.role];
  if (listed === undefined) throw new Error(`role ${binding.role} is neither a custom role nor a listed predefined role`);
  return binding.resource.includes('/secrets/') ? listed.filter((permission) => permission.startsWith('secretmanager.')) : listed;
}
const logWriterPermissions = ['logging.logEntries.create', 'logging.logEntries.route'];

/** The IAM permission Google documents for each REST call the controller makes; metadata server calls need none. */
function permissionFor(request: RecordedRequest, api: 'compute' | 'secretmanager'): string {
  const path = request.path.split('?')[0] ?? '';
  if (api === 'secretmanager' && request.method === 'GET' && /^\/v1\/projects\/[^/]+\/secrets\/[^/]+\/versions\/[^/]+:access$/.test(path)) {
    return 'secretmanager.versions.access';
  }
  if (api === 'compute' && request.method === 'DELETE' && /^\/compute\/v1\/projects\/[^/]+\/zones\/[^/]+\/instances\/[^/]+$/.test(path)) {
    return 'compute.instances.delete';
  }
  throw new Error(`the controller made a call this test cannot map to an IAM permission: ${request.method} ${path}`);
}

/** `gcloud …` commands of the block after <!-- gcp-iam-commands --> in docs/providers/gcp.md, as argv lists. */
function docCommands(): string[][] {
  const block = /<!-- gcp-iam-commands -->\s*```sh\n([\s\S]*?)```/.exec(gcpDoc)?.[1];
  if (block === undefined) throw new Error('docs/providers/gcp.md needs the gcloud commands in a ```sh block after <!-- gcp-iam-commands -->');
  return block
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => [...line.matchAll(/(?:[^\s'"]+|'[^']*'|"[^"]*")+/g)].map(([word]) => word.replace(/'([^']*)'|"([^"]*)"/g, '$1$2')));
}
function flag(argv: string[], name: string): string | undefined {
  const index = argv.findIndex((word) => word === name || word.startsWith(`${name}=`));
  if (index < 0) return undefined;
  const word = argv[index] ?? '';
  return word.includes('=') ? word.slice(name.length + 1) : argv[index + 1];
}

describe('GCP IAM document (docs/providers/gcp-iam.json)', () => {
  it('grants no wildcard permission and no primitive role (owner/editor/viewer)', () => {
    const roles = iam.bindings.map((binding) => binding.role);
    for (const role of roles) expect(role).not.toMatch(/^roles\/(owner|editor|viewer)$/);
    for (const role of roles) expect(role).not.toContain('*');
    const permissions = [...iam.customRoles.flatMap((role) => role.includedPermissions), ...Object.values(iam.predefinedRoles).flat()];
    for (const permission of permissions) expect(permission).not.toContain('*');
    for (const binding of iam.bindings) {
      expect(binding.members).toEqual([member]);
      expect(binding.resource).not.toContain('*');
    }
  });

  it('binds secret access on each named secret only, never on the project', () => {
    const named = [config.github?.privateKeySecret, config.agent.llmKeySecret];
    expect(secretBindings.map((binding) => binding.resource)).toEqual(named.map((secret) => `projects/${project}/secrets/${secret}`));
    // No other binding grants any Secret Manager permission, on any resource.
    for (const binding of iam.bindings.filter((b) => !secretBindings.includes(b))) {
      expect(permissionsOf(binding).filter((permission) => permission.startsWith('secretmanager.'))).toEqual([]);
      expect(binding.resource).not.toContain('/secrets/');
    }
    // Every secret-level grant names one secret, and carries no condition that could widen it.
    for (const binding of secretBindings) {
      expect(binding.resource).toMatch(/^projects\/PROJECT_ID\/secrets\/[A-Za-z0-9_-]+$/);
      expect(binding.condition).toBeUndefined();
    }
  });

  it('lets the VM delete instances only under a condition on the agentium- name prefix that every session VM has', () => {
    expect(deleteRole?.includedPermissions).toEqual(['compute.instances.delete']);
    const expression = deleteBinding?.condition?.expression ?? '';
    expect(expression).not.toContain('||');
    const clauses = expression.split('&&').map((clause) => clause.trim());
    expect(clauses).toContain('resource.type == "compute.googleapis.com/Instance"');
    const prefix = clauses.map((clause) => /^resource\.name\.extract\("\/instances\/\{name\}"\)\.startsWith\("([^"]+)"\)$/.exec(clause)?.[1]).find(Boolean);
    expect(prefix).toBe('agentium-');
    // The instance the CLI creates is named after the session id, which always has that prefix.
    for (const issue of [1, 42, 999_999]) expect(insertFor(issue).instanceResource.name.startsWith(prefix ?? '\0')).toBe(true);
    // Only the delete binding is conditional, and nothing else grants a compute permission.
    const computeBindings = iam.bindings.filter((binding) => permissionsOf(binding).some((permission) => permission.startsWith('compute.')));
    expect(computeBindings).toEqual([deleteBinding]);
  });

  describe('grants exactly what the controller calls', () => {
    let compute: FakeCompute;
    let metadata: FakeMetadata;
    let secrets: FakeSecretManager;
    const name = 'agentium-42-iam1';
    const zone = 'us-central1-b';

    beforeAll(async () => {
      compute = await startFakeCompute();
      metadata = await startFakeMetadata({ zone, instanceName: name, compute });
      secrets = await startFakeSecretManager({
        token: metadata.token,
        secrets: { 'agentium-github-app-key': '-----BEGIN PRIVATE KEY-----\nfake\n-----END PRIVATE KEY-----\n', 'agentium-llm-key': 'sk-fake-llm-key' },
        readable: ['agentium-github-app-key', 'agentium-llm-key'],
      });
      compute.seedInstance({ zone, name, labels: gcpLabels({ id: name, repo: 'acme/widgets', issue: 42, deadline: 2_000_000_000 }) });
    });
    afterAll(async () => {
      await Promise.all([compute.close(), metadata.close(), secrets.close()]);
    });

    it('the permissions its calls need are the document\'s, apart from the write-only log writer', async () => {
      const cloud = createGcpControllerCloud({ metadataUrl: metadata.url, computeUrl: compute.url, secretManagerUrl: secrets.url, retry: { baseDelayMs: 1, maxDelayMs: 2 } });
      // Every method of the controller's cloud interface, each secret the config names.
      expect(Object.keys(cloud).sort()).toEqual(['name', 'readSecret', 'reportStatus', 'terminateSelf']);
      await cloud.readSecret('agentium-github-app-key');
      await cloud.readSecret('agentium-llm-key');
      await cloud.reportStatus('agent-running', { step: 'push' });
      await cloud.terminateSelf();

      const used = new Set([
        ...secrets.requests.map((request) => permissionFor(request, 'secretmanager')),
        ...compute.requests.map((request) => permissionFor(request, 'compute')),
      ]);
      expect([...used].sort()).toEqual(['compute.instances.delete', 'secretmanager.versions.access']);
      // Each secret read hits one of the bound secrets; the delete hits an agentium- instance.
      const bound = new Set(secretBindings.map((binding) => binding.resource.split('/').at(-1)));
      for (const request of secrets.requests) expect(bound.has(request.path.split('/')[5])).toBe(true);
      for (const request of compute.requests) expect(request.path.split('?')[0]?.split('/').at(-1)).toMatch(/^agentium-/);

      const granted = new Set(iam.bindings.flatMap(permissionsOf));
      const beyondCalls = [...granted].filter((permission) => !used.has(permission)).sort();
      // Guest attributes go to the metadata server (no IAM). The only grant no call needs is the
      // log writer SECURITY-CHECKLIST 28 names: write-only, on the project, no condition.
      expect(beyondCalls).toEqual(logWriterPermissions);
      expect(iam.predefinedRoles['roles/logging.logWriter']).toEqual(logWriterPermissions);
      expect(iam.bindings.filter((binding) => binding.role === 'roles/logging.logWriter')).toEqual([
        { resource: `projects/${project}`, role: 'roles/logging.logWriter', members: [member] },
      ]);
    });
  });

  it('names the dedicated service account the instance request attaches, never the default compute SA', () => {
    expect(iam.serviceAccount.email).toBe(`${iam.serviceAccount.accountId}@${project}.iam.gserviceaccount.com`);
    expect(gcpServiceAccount(gcp)).toBe(inProject(iam.serviceAccount.email));
    expect(insertFor(7).instanceResource.serviceAccounts.map((account) => account.email)).toEqual([inProject(iam.serviceAccount.email)]);
    const everyAccount = [iam.serviceAccount.email, ...iam.bindings.flatMap((binding) => binding.members)];
    for (const account of everyAccount) {
      expect(account).not.toMatch(/-compute@developer\.gserviceaccount\.com$/);
      expect(account).not.toMatch(/@appspot\.gserviceaccount\.com$/);
    }
  });

  it('is what the gcloud commands in docs/providers/gcp.md grant', () => {
    const commands = docCommands();
    const granted = commands
      .filter((argv) => argv[0] === 'gcloud' && argv.includes('add-iam-policy-binding'))
      .map((argv): Binding => {
        const target = argv[3] ?? '';
        const condition = flag(argv, '--condition');
        const fields = condition === undefined ? undefined : /^title=([^,]+),expression=(.*)$/.exec(condition);
        return {
          resource: argv[1] === 'secrets' ? `projects/${flag(argv, '--project')}/secrets/${target}` : `projects/${target}`,
          role: flag(argv, '--role') ?? '',
          members: [flag(argv, '--member') ?? ''],
          ...(fields ? { condition: { title: fields[1] ?? '', expression: fields[2] ?? '' } } : {}),
        };
      });
    expect(granted).toEqual(iam.bindings.map(({ condition, ...binding }) => ({ ...binding, ...(condition ? { condition: { title: condition.title, expression: condition.expression } } : {}) })));
    const created = commands.filter((argv) => argv.slice(0, 4).join(' ') === 'gcloud iam roles create');
    expect(
      created.map((argv) => ({
        name: `projects/${flag(argv, '--project')}/roles/${argv[4]}`,
        title: flag(argv, '--title'),
        stage: flag(argv, '--stage'),
        includedPermissions: (flag(argv, '--permissions') ?? '').split(','),
      })),
    ).toEqual(iam.customRoles.map(({ name, title, stage, includedPermissions }) => ({ name, title, stage, includedPermissions })));
    // Nothing else in the block: every command is one of the above.
    expect(commands.length).toBe(granted.length + created.length);
  });
});
