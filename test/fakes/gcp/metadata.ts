/**
 * A fake GCE metadata server: token, instance name/zone/id, project, attributes and guest
 * attributes. Like the real one it answers only requests carrying `Metadata-Flavor: Google`, and
 * it ends text values with a newline so a reader that forgets to trim is caught.
 * Guest-attribute writes land on the fake Compute instance when one is linked, so `list` sees them.
 */
import { startFakeServer, type RecordedRequest } from '../http.js';
import type { FakeCompute } from './compute.js';

export interface FakeMetadataOptions {
  project?: string;
  numericProjectId?: string;
  zone?: string;
  instanceName?: string;
  instanceId?: string;
  attributes?: Record<string, string>;
  token?: string;
  /** Append "\n" to text values (default true). */
  trailingNewline?: boolean;
  compute?: FakeCompute;
}

export interface FakeMetadata {
  readonly url: string;
  readonly token: string;
  readonly requests: RecordedRequest[];
  /** Guest attributes written, by `namespace/key`. */
  readonly guestAttributes: Map<string, string>;
  close(): Promise<void>;
}

export async function startFakeMetadata(options: FakeMetadataOptions = {}): Promise<FakeMetadata> {
  const project = options.project ?? 'agentium-test';
  const zone = options.zone ?? 'us-central1-a';
  const name = options.instanceName ?? 'agentium-1-abc123';
  const token = options.token ?? 'ya29.fake-metadata-token';
  const newline = options.trailingNewline === false ? '' : '\n';
  const attributes = options.attributes ?? {};
  const guestAttributes = new Map<string, string>();
  const flavor = { 'metadata-flavor': 'Google' };
  const text = (value: string) => ({ status: 200, body: value + newline, headers: flavor });

  const values: Record<string, string> = {
    'instance/name': name,
    'instance/hostname': `${name}.${zone}.c.${project}.internal`,
    'instance/id': options.instanceId ?? '4567890123456789012',
    'instance/zone': `projects/${options.numericProjectId ?? '123456789012'}/zones/${zone}`,
    'project/project-id': project,
    'project/numeric-project-id': options.numericProjectId ?? '123456789012',
  };

  const server = await startFakeServer((request) => {
    if (request.headers['metadata-flavor'] !== 'Google' || request.headers['x-forwarded-for'] !== undefined) {
      return { status: 403, body: 'Missing required header "Metadata-Flavor": "Google"', headers: flavor };
    }
    const path = request.path.replace(/^\/computeMetadata\/v1\//, '');
    if (path === request.path) return { status: 404, body: 'not found', headers: flavor };
    if (path === 'instance/service-accounts/default/token' && request.method === 'GET') {
      return { status: 200, body: { access_token: token, expires_in: 3599, token_type: 'Bearer' }, headers: flavor };
    }
    const guest = /^instance\/guest-attributes\/([^/]+)\/([^/]+)$/.exec(path);
    if (guest) {
      const attribute = `${guest[1]}/${guest[2]}`;
      if (request.method === 'PUT') {
        guestAttributes.set(attribute, request.body);
        options.compute?.instance(zone, name)?.guestAttributes.set(attribute, request.body);
        return { status: 200, body: '', headers: flavor };
      }
      const value = guestAttributes.get(attribute);
      return value === undefined ? { status: 404, body: 'not found', headers: flavor } : text(value);
    }
    const attribute = /^instance\/attributes\/([^/]+)$/.exec(path);
    if (attribute && request.method === 'GET') {
      const value = attributes[attribute[1] ?? ''];
      return value === undefined ? { status: 404, body: 'not found', headers: flavor } : text(value);
    }
    const value = values[path];
    if (value !== undefined && request.method === 'GET') return text(value);
    return { status: 404, body: 'not found', headers: flavor };
  });

  return { url: server.url, token, requests: server.requests, guestAttributes, close: () => server.close() };
}
