/**
 * SECURITY-CHECKLIST 35: no secret in user-data, labels/tags or the dry-run output. The config
 * only names secrets; here the environment also holds real-looking credentials, and none of them
 * may surface anywhere in the plan.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Redactor } from '../../src/redactor/index.js';
import { runCli } from '../support/cli.js';

const alnum = (length: number) => randomBytes(length * 2).toString('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, length);

describe('dry-run output holds no secret (checklist 35)', () => {
  const secrets = {
    GITHUB_TOKEN: `ghs_${alnum(36)}`,
    AWS_ACCESS_KEY_ID: `AKIA${alnum(16).toUpperCase()}`,
    AWS_SECRET_ACCESS_KEY: alnum(40),
    ANTHROPIC_API_KEY: `sk-ant-api03-${alnum(90)}`,
    GOOGLE_API_KEY: `AIza${alnum(35)}`,
  };
  const cwd = mkdtempSync(join(tmpdir(), 'agentium-nosecret-'));
  writeFileSync(
    join(cwd, '.agentium.yaml'),
    'repo: acme/widgets\ngithub:\n  appId: 12345\n  privateKeySecret: projects/acme/secrets/app-key\ngcp:\n  project: acme-agents\naws:\n  region: eu-west-1\nagent:\n  llmKeySecret: anthropic-key\n',
  );

  for (const provider of ['gcp', 'aws', 'local']) {
    for (const format of [['--json'], []]) {
      it(`${provider} ${format.length ? 'JSON' : 'human'} plan`, () => {
        const result = runCli(['run', '--issue', '9', '--provider', provider, '--dry-run', ...format], { cwd, env: secrets });
        expect(result.status, result.stderr).toBe(0);
        const output = result.stdout + result.stderr;
        for (const value of Object.values(secrets)) expect(output).not.toContain(value);
        const redactor = new Redactor();
        for (const value of Object.values(secrets)) redactor.registerSecret(value);
        // Neither a known value nor anything shaped like a credential appears in the plan.
        expect(redactor.scan(output)).toEqual([]);
        expect(redactor.scan(`leak: ${secrets.GITHUB_TOKEN}`)).not.toEqual([]); // the scanner does see them
        expect(output).toContain('anthropic-key'); // the reference is there, the value is not
      });
    }
  }
});
