/**
 * The one place AWS SDK errors become Agentium errors (CLI provider and controller alike). EC2
 * models no error shapes: the SDK raises a ServiceException whose `name` is the wire error code
 * (`InvalidInstanceID.NotFound`, `InsufficientInstanceCapacity`, …). Codes are listed in the EC2
 * API reference, "Error codes for the Amazon EC2 API".
 */
import { AgentiumError, AuthError, CapacityError, NotFoundError } from '../../errors.js';

/** No capacity in this availability zone / subnet: the next subnet may have some. */
const zoneCapacityCodes = new Set([
  'InsufficientInstanceCapacity',
  'InsufficientCapacity',
  'UnfulfillableCapacity',
  'InsufficientFreeAddressesInSubnet',
]);

/**
 * Quota or price for this purchase option across the region: other subnets won't help, the
 * on-demand fallback may (spot and on-demand have separate vCPU quotas).
 */
const marketQuotaCodes = new Set(['MaxSpotInstanceCountExceeded', 'SpotMaxPriceTooLow', 'InstanceLimitExceeded', 'VcpuLimitExceeded']);

const authCodes = new Set([
  'AuthFailure',
  'UnauthorizedOperation',
  'AccessDenied',
  'AccessDeniedException',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'ExpiredTokenException',
  'RequestExpired',
  'OptInRequired',
  'Blocked',
  'CredentialsProviderError',
]);

const throttlingCodes = new Set(['RequestLimitExceeded', 'Throttling', 'ThrottlingException']);

/**
 * The wire error code of an SDK error, or undefined when the service never answered. The SDK puts
 * `$metadata` on every error it retried, a refused connection too (name "Error"); only an answer
 * from the service carries an HTTP status or a `$fault`, and only then is `name` its error code.
 */
export function awsErrorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const candidate = error as { name?: unknown; Code?: unknown; $fault?: unknown; $metadata?: { httpStatusCode?: unknown } };
  if (typeof candidate.Code === 'string') return candidate.Code;
  const answered = typeof candidate.$fault === 'string' || typeof candidate.$metadata?.httpStatusCode === 'number';
  if (answered && typeof candidate.name === 'string') return candidate.name;
  if (candidate.name === 'CredentialsProviderError') return candidate.name;
  return undefined;
}

/** How a RunInstances refusal moves the launch on: next subnet, next purchase option, or not at all. */
export function launchRefusal(error: unknown): 'next-subnet' | 'next-market' | undefined {
  const code = awsErrorCode(error);
  if (code === undefined) return undefined;
  if (zoneCapacityCodes.has(code)) return 'next-subnet';
  if (marketQuotaCodes.has(code)) return 'next-market';
  return undefined;
}

export function isInstanceNotFound(error: unknown): boolean {
  return awsErrorCode(error) === 'InvalidInstanceID.NotFound';
}

/** Instance ids named in an `InvalidInstanceID.NotFound` message ("The instance IDs 'i-1, i-2' do not exist"). */
export function missingInstanceIds(error: unknown): string[] {
  const message = error instanceof Error ? error.message : '';
  return message.match(/i-[0-9a-f]+/g) ?? [];
}

/**
 * True when the service clearly refused the request (a 4xx answer): nothing was created. Network
 * errors, timeouts and 5xx leave it open, so a launch sweeps for what it may have left behind.
 */
export function isClearRefusal(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
  return status !== undefined && status >= 400 && status < 500;
}

/**
 * `action` names the call for the message, e.g. "EC2 RunInstances in us-east-1"; `context` adds
 * machine-readable details (never secret values).
 */
export function normaliseAwsError(error: unknown, action: string, context: Record<string, unknown> = {}): AgentiumError {
  if (error instanceof AgentiumError) return error;
  const code = awsErrorCode(error);
  const detail = error instanceof Error ? error.message : String(error);
  const details = code === undefined && Object.keys(context).length === 0 ? undefined : { ...(code === undefined ? {} : { code }), ...context };
  if (code === undefined) {
    const network = (error as { code?: unknown } | null)?.code;
    if (typeof network === 'string' && /^(ECONNREFUSED|ENOTFOUND|ETIMEDOUT|ECONNRESET|EAI_AGAIN)$/.test(network)) {
      return new AgentiumError('failure', `${action} failed: cannot reach the endpoint (${network})`, {
        hint: 'check the network and aws.endpoint',
        details,
        cause: error,
      });
    }
    return new AgentiumError('failure', `${action} failed: ${detail}`, { details, cause: error });
  }
  if (authCodes.has(code)) {
    return new AuthError(`${action} was refused: ${code}: ${detail}`, {
      hint: 'check the AWS credentials (environment, profile, or OIDC role) and their IAM policy (docs/providers/aws.md)',
      details,
      cause: error,
    });
  }
  if (zoneCapacityCodes.has(code) || marketQuotaCodes.has(code)) {
    return new CapacityError(`${action}: ${code}: ${detail}`, {
      hint: 'add subnets in other availability zones (aws.subnetIds), allow session.onDemandFallback, or raise the quota',
      details,
      cause: error,
    });
  }
  if (code.endsWith('.NotFound') || code === 'ResourceNotFoundException' || code.endsWith('.Malformed')) {
    // InvalidGroup.NotFound / InvalidGroupId.Malformed: a configured security group id is wrong.
    const groupError = code.startsWith('InvalidGroup');
    return new NotFoundError(`${action}: ${code}: ${detail}`, {
      hint: groupError
        ? 'check aws.securityGroupIds: each must be a security group id (sg-…) in this region'
        : 'check aws.subnetIds, aws.securityGroupIds, aws.ami and aws.instanceProfile',
      details,
      cause: error,
    });
  }
  if (throttlingCodes.has(code)) {
    return new AgentiumError('failure', `${action} was throttled after retries: ${detail}`, {
      hint: 'try again in a minute; lower --concurrency for destroy',
      details,
      cause: error,
    });
  }
  return new AgentiumError('failure', `${action} failed: ${code}: ${detail}`, { details, cause: error });
}
