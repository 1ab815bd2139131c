/**
 * Git smart HTTP for the fake: each request runs `git http-backend` (CGI) against the bare
 * repositories. Authentication and GitHub's push rules are decided by the caller (server.ts) and
 * passed in as CGI environment for the pre-receive hook (see state.ts).
 */
import { spawn } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface BackendOptions {
  gitRoot: string;
  /** Path below the root, e.g. /acme/widgets.git/info/refs */
  pathInfo: string;
  query: string;
  remoteUser: string;
  hookEnv: Record<string, string>;
}

/** Run `git http-backend` for one request and relay its CGI response. Resolves with the HTTP status. */
export function serveGitHttp(req: IncomingMessage, res: ServerResponse, options: BackendOptions): Promise<number> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    GIT_PROJECT_ROOT: options.gitRoot,
    GIT_HTTP_EXPORT_ALL: '1',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    PATH_INFO: options.pathInfo,
    QUERY_STRING: options.query,
    REQUEST_METHOD: req.method ?? 'GET',
    CONTENT_TYPE: req.headers['content-type'] ?? '',
    REMOTE_USER: options.remoteUser,
    REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
    GATEWAY_INTERFACE: 'CGI/1.1',
    ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: String(req.headers['content-encoding']) } : {}),
    ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
    ...options.hookEnv,
  };
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    req.pipe(child.stdin);
    child.on('close', () => {
      const output = Buffer.concat(out);
      let split = output.indexOf('\r\n\r\n');
      let gap = 4;
      if (split < 0) {
        split = output.indexOf('\n\n');
        gap = 2;
      }
      if (split < 0) {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`git http-backend failed: ${Buffer.concat(err).toString()}`);
        return resolve(500);
      }
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of output.subarray(0, split).toString('latin1').split(/\r?\n/)) {
        const colon = line.indexOf(':');
        if (colon < 0) continue;
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 200;
        else headers[name] = value;
      }
      res.writeHead(status, headers).end(output.subarray(split + gap));
      resolve(status);
    });
  });
}
