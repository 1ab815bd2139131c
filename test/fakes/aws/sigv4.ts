/** What the AWS fakes read from a request's SigV4 signature: who signed it, for which region. */
import type { IncomingHttpHeaders } from 'node:http';

export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** `Credential=<key id>/<date>/<region>/<service>/aws4_request` from the Authorization header. */
export function credentialScope(headers: IncomingHttpHeaders, service: string): { accessKeyId: string; region: string } | undefined {
  const match = new RegExp(`Credential=([^/]+)/\\d{8}/([^/]+)/${service}/aws4_request`).exec(headerValue(headers, 'authorization') ?? '');
  return match ? { accessKeyId: match[1] ?? '', region: match[2] ?? '' } : undefined;
}
