/**
 * The one place that knows label (GCP) and tag (AWS) names. `status`, `destroy`, `gc` and the
 * request builders all read these; nothing else spells them.
 */
export const managedLabel = 'agentium-managed';
export const sessionLabel = 'agentium-session';
export const repoLabel = 'agentium-repo';
export const issueLabel = 'agentium-issue';
export const deadlineLabel = 'agentium-deadline';

export interface SessionLabelSource {
  id: string;
  repo: string;
  issue: number;
  /** Unix seconds. */
  deadline: number;
}

/** Canonical key/value pairs for an instance; each cloud adapts the values to its own rules. */
export function instanceLabels(session: SessionLabelSource): Record<string, string> {
  return {
    [managedLabel]: 'true',
    [sessionLabel]: session.id,
    [repoLabel]: session.repo,
    [issueLabel]: String(session.issue),
    [deadlineLabel]: String(session.deadline),
  };
}

/** GCP label values: lowercase letters, digits, `_` and `-`, at most 63 characters. */
export function gcpLabelValue(value: string): string {
  return value.toLowerCase().replace(/[^a-z0-9_-]/g, '_').slice(0, 63);
}

export function gcpLabels(session: SessionLabelSource): Record<string, string> {
  return Object.fromEntries(Object.entries(instanceLabels(session)).map(([key, value]) => [key, gcpLabelValue(value)]));
}

/** AWS tags keep the exact values (tags allow `/` and mixed case). */
export function awsTags(session: SessionLabelSource): Array<{ Key: string; Value: string }> {
  return Object.entries(instanceLabels(session)).map(([Key, Value]) => ({ Key, Value }));
}

/**
 * The controller's reported phase. AWS: tags on the instance itself (CreateTags; the instance
 * policy allows exactly these keys). GCP reports through guest attributes instead
 * (src/providers/gcp/guest-attributes.ts), which need no IAM role.
 */
export const phaseTag = 'agentium-phase';
/** Short, non-secret detail for the phase (JSON, cut to the tag value limit). */
export const phaseDetailTag = 'agentium-phase-detail';
