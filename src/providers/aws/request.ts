/**
 * The input of `RunInstancesCommand`, built by one pure function. `run --dry-run` prints it as
 * `request`; the AWS provider sends exactly this. SECURITY-CHECKLIST 29–31.
 */
import { createHash } from 'node:crypto';
import type { _InstanceType } from '@aws-sdk/client-ec2';
import type { AgentiumConfig } from '../../config/schema.js';
import { awsTags } from '../../labels.js';
import { deadlineSeconds, type SessionSpec } from '../../session/spec.js';

export type AwsConfig = NonNullable<AgentiumConfig['aws']>;

export interface AwsRunOptions {
  /** Subnet to launch in; undefined means the default VPC. */
  subnetId: string | undefined;
  spot: boolean;
  userData: string;
  /** Idempotency key (≤ 64 ASCII characters). */
  clientToken: string;
}

export function buildRunInstancesInput(spec: SessionSpec, aws: AwsConfig, options: AwsRunOptions) {
  const tags = awsTags({ id: spec.id, repo: spec.repo.fullName, issue: spec.issue, deadline: deadlineSeconds(spec) });
  const tagsWithName = [{ Key: 'Name', Value: spec.id }, ...tags];
  const groups = aws.securityGroupIds.length > 0 ? aws.securityGroupIds : undefined;
  return {
    ImageId: aws.ami,
    // Any configured type; EC2 validates it (the SDK's union lists only the types it knew of).
    InstanceType: aws.instanceType as _InstanceType,
    MinCount: 1,
    MaxCount: 1,
    ClientToken: options.clientToken,
    // RunInstances takes user-data base64-encoded; the SDK does not encode it.
    UserData: Buffer.from(options.userData, 'utf8').toString('base64'),
    IamInstanceProfile: { Name: aws.instanceProfile },
    InstanceInitiatedShutdownBehavior: 'terminate' as const,
    MetadataOptions: {
      HttpTokens: 'required' as const,
      HttpPutResponseHopLimit: 1,
      HttpEndpoint: 'enabled' as const,
      InstanceMetadataTags: 'disabled' as const,
    },
    BlockDeviceMappings: [
      {
        DeviceName: '/dev/xvda',
        Ebs: { VolumeSize: aws.volumeSizeGb, VolumeType: 'gp3' as const, Encrypted: true, DeleteOnTermination: true },
      },
    ],
    ...(options.spot
      ? {
          InstanceMarketOptions: {
            MarketType: 'spot' as const,
            SpotOptions: { SpotInstanceType: 'one-time' as const, InstanceInterruptionBehavior: 'terminate' as const },
          },
        }
      : {}),
    // With a subnet we say so explicitly: no public IP (egress through the subnet's NAT).
    ...(options.subnetId
      ? {
          NetworkInterfaces: [
            { DeviceIndex: 0, SubnetId: options.subnetId, AssociatePublicIpAddress: false, ...(groups ? { Groups: groups } : {}) },
          ],
        }
      : groups
        ? { SecurityGroupIds: groups }
        : {}),
    TagSpecifications: [
      { ResourceType: 'instance' as const, Tags: tagsWithName },
      { ResourceType: 'volume' as const, Tags: tagsWithName },
    ],
  };
}

export type RunInstancesInput = ReturnType<typeof buildRunInstancesInput>;

/**
 * Idempotency key for one launch attempt (session × subnet × purchase option): retrying the same
 * attempt returns the same instance, and a different attempt never collides with it
 * (EC2 answers IdempotentParameterMismatch when one token is reused with other parameters).
 */
export function clientTokenFor(sessionId: string, subnetId: string | undefined, spot: boolean): string {
  return createHash('sha256')
    .update(`${sessionId}\0${subnetId ?? 'default-vpc'}\0${spot ? 'spot' : 'on-demand'}`)
    .digest('hex')
    .slice(0, 64);
}

