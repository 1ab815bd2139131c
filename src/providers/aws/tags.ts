/**
 * AWS-only tag names, next to the shared ones in src/labels.ts. The controller reports the session
 * phase as tags on its own instance (CreateTags); `status` reads them back with DescribeInstances.
 * The instance policy (docs/providers/aws-instance-policy.json) allows exactly these keys.
 */
export const phaseTag = 'agentium-phase';
/** Short, non-secret detail for the phase (JSON, cut to the 256-character tag value limit). */
export const phaseDetailTag = 'agentium-phase-detail';

/** EC2 tag values hold at most 256 characters. */
export const tagValueLimit = 256;
