/** The operator's bearer token (`ADMIN_TOKEN`), checked in constant time; no token configured, no operator. */
import { timingSafeEqual } from 'node:crypto';

export function isOperator(authorization: string | undefined, adminToken: string | undefined): boolean {
  if (!adminToken || !authorization?.startsWith('Bearer ')) return false;
  const given = Buffer.from(authorization.slice('Bearer '.length));
  const expected = Buffer.from(adminToken);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
