/**
 * SECURITY-CHECKLIST 32 as far as one machine can test it: IAM itself cannot be evaluated here, so
 * the instance-profile policy document is checked: it parses, grants no wildcard action, scopes
 * every statement to named resources and (for EC2) to the calling instance and the managed tag,
 * and allows exactly the tag keys the controller writes. The docs show the same document.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { managedLabel } from '../../../src/labels.js';
import { phaseDetailTag, phaseTag } from '../../../src/labels.js';

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
  NotAction?: unknown;
  NotResource?: unknown;
}

const policyText = readFileSync(new URL('../../../docs/providers/aws-instance-policy.json', import.meta.url), 'utf8');
const policy = JSON.parse(policyText) as { Version: string; Statement: Statement[] };
const list = (value: string | string[]) => (Array.isArray(value) ? value : [value]);

describe('instance-profile policy (docs/providers/aws-instance-policy.json)', () => {
  it('is a valid policy document with only Allow statements and no Not* escapes', () => {
    expect(policy.Version).toBe('2012-10-17');
    expect(policy.Statement.length).toBeGreaterThan(0);
    for (const statement of policy.Statement) {
      expect(statement.Effect).toBe('Allow');
      expect(statement.NotAction).toBeUndefined();
      expect(statement.NotResource).toBeUndefined();
    }
  });

  it('grants no wildcard action and exactly what the controller calls', () => {
    const actions = policy.Statement.flatMap((statement) => list(statement.Action));
    for (const action of actions) expect(action).not.toContain('*');
    expect(actions.sort()).toEqual(
      ['ec2:CreateTags', 'ec2:TerminateInstances', 'logs:CreateLogStream', 'logs:PutLogEvents', 'secretsmanager:GetSecretValue'].sort(),
    );
  });

  it('scopes every statement to named resources, never "*"', () => {
    for (const statement of policy.Statement) {
      for (const resource of list(statement.Resource)) {
        expect(resource).not.toBe('*');
        expect(resource).toMatch(/^arn:aws:[a-z0-9-]+:REGION:ACCOUNT_ID:/);
      }
    }
    const secrets = policy.Statement.filter((statement) => list(statement.Action).some((action) => action.startsWith('secretsmanager:')));
    for (const resource of secrets.flatMap((statement) => list(statement.Resource))) {
      // A named secret plus Secrets Manager's six-character suffix: no other secret matches.
      expect(resource).toMatch(/:secret:agentium\/[a-z-]+-\?{6}$/);
    }
  });

  it('lets EC2 actions touch only the calling instance, and only when it carries the managed tag', () => {
    const ec2 = policy.Statement.filter((statement) => list(statement.Action).some((action) => action.startsWith('ec2:')));
    expect(ec2.length).toBe(2);
    for (const statement of ec2) {
      expect(list(statement.Resource)).toEqual(['arn:aws:ec2:REGION:ACCOUNT_ID:instance/*']);
      expect(statement.Condition?.StringEquals).toMatchObject({
        'aws:ARN': '${ec2:SourceInstanceARN}',
        [`aws:ResourceTag/${managedLabel}`]: 'true',
      });
    }
  });

  it('allows tagging with exactly the phase tag keys the controller writes (so it cannot rewrite the managed tag)', () => {
    const createTags = policy.Statement.find((statement) => list(statement.Action).includes('ec2:CreateTags'));
    expect(createTags?.Condition?.['ForAllValues:StringEquals']?.['aws:TagKeys']).toEqual([phaseTag, phaseDetailTag]);
    expect(createTags?.Condition?.Null).toEqual({ 'aws:TagKeys': 'false' });
  });

  it('is the document docs/providers/aws.md shows', () => {
    const doc = readFileSync(new URL('../../../docs/providers/aws.md', import.meta.url), 'utf8');
    const block = /<!-- instance-policy -->\s*```json\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(block, 'docs/providers/aws.md needs the policy in a ```json block after <!-- instance-policy -->').toBeDefined();
    expect(JSON.parse(block ?? '{}')).toEqual(policy);
  });
});
