/**
 * GitHub App authentication: a short-lived JWT signed with the App's private key (RS256).
 * Signed with node:crypto rather than an Octokit package so that loading the GitHub layer costs
 * next to nothing (DESIGN §6). SECURITY-CHECKLIST 8: iat = now - 60 s (GitHub's recommended
 * allowance for clock drift), exp = iat + 600 s at most (GitHub's maximum), iss = App id.
 */
import { createPrivateKey, sign } from 'node:crypto';
import { ConfigError } from '../errors.js';

/** GitHub refuses App JWTs that live longer than ten minutes. */
export const APP_JWT_MAX_LIFETIME_SECONDS = 600;
/** Backdating `iat` absorbs clock drift between this machine and GitHub. */
export const APP_JWT_BACKDATE_SECONDS = 60;

export interface AppJwtClaims {
  iat: number;
  exp: number;
  iss: string;
}

/** The claims for a JWT issued at `nowMs`; pure, so the checklist's numbers are testable directly. */
export function appJwtClaims(appId: string | number, nowMs: number): AppJwtClaims {
  const iat = Math.floor(nowMs / 1000) - APP_JWT_BACKDATE_SECONDS;
  return { iat, exp: iat + APP_JWT_MAX_LIFETIME_SECONDS, iss: String(appId) };
}

const base64url = (value: string | Buffer): string => Buffer.from(value).toString('base64url');

/** Sign an App JWT. `privateKey` is the PEM file GitHub hands out (PKCS#1 or PKCS#8). */
export function createAppJwt(appId: string | number, privateKey: string, nowMs: number = Date.now()): string {
  if (!/^[1-9][0-9]*$|^Iv[0-9A-Za-z.]+$/.test(String(appId))) {
    throw new ConfigError(`github.appId must be the App's numeric id or client id, got "${String(appId)}"`);
  }
  let key;
  try {
    key = createPrivateKey(privateKey);
  } catch (error) {
    throw new ConfigError('the GitHub App private key is not a valid PEM private key', {
      hint: 'use the .pem file downloaded from the App settings page ("Generate a private key")',
      cause: error,
    });
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw new ConfigError(`the GitHub App private key must be an RSA key, got ${key.asymmetricKeyType ?? 'unknown'}`);
  }
  const header = base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }));
  const payload = base64url(JSON.stringify(appJwtClaims(appId, nowMs)));
  const signature = sign('sha256', Buffer.from(`${header}.${payload}`), key).toString('base64url');
  return `${header}.${payload}.${signature}`;
}
