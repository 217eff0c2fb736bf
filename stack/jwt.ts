import { createHmac } from 'node:crypto';

const base64url = (input: string | Buffer) => Buffer.from(input).toString('base64url');

/** An HS256 JWT like the anon and service_role keys of a Supabase project. */
export function signJwt(payload: Record<string, unknown>, secret: string): string {
  const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = base64url(JSON.stringify(payload));
  const signature = createHmac('sha256', secret).update(`${header}.${body}`).digest('base64url');
  return `${header}.${body}.${signature}`;
}

export interface ProjectKeys {
  anonKey: string;
  serviceRoleKey: string;
  /** sb_secret_...: not a JWT; the gateway stands it for service_role. */
  secretKey: string;
  /** sb_publishable_...: not a JWT; the gateway stands it for anon. */
  publishableKey: string;
}

export function projectKeys(secret: string, ref: string): ProjectKeys {
  const iat = Math.floor(Date.UTC(2025, 0, 1) / 1000);
  const exp = iat + 20 * 365 * 24 * 3600;
  const claims = { iss: 'supabase', ref, iat, exp };
  // Derived, not random: any process that knows the stack's secret names the same keys.
  const opaque = (kind: string) => createHmac('sha256', secret).update(`${kind}:${ref}`).digest('base64url').slice(0, 32);
  return {
    anonKey: signJwt({ ...claims, role: 'anon' }, secret),
    serviceRoleKey: signJwt({ ...claims, role: 'service_role' }, secret),
    secretKey: `sb_secret_${opaque('secret')}`,
    publishableKey: `sb_publishable_${opaque('publishable')}`,
  };
}
