/**
 * Step 8b: revoke the installation token (`DELETE /installation/token`, SECURITY-CHECKLIST 10) on
 * every path. Runs after the outcome comment (which needs the token) and before the VM goes.
 */
import type { SessionToken } from './token.js';

export async function revokeSessionToken(token: SessionToken | undefined): Promise<'revoked' | 'not-applicable' | 'nothing-held'> {
  if (!token) return 'nothing-held';
  return token.revoke();
}
