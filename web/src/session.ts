/**
 * The screen signs in like any client of the graph: with a bearer token. In development `npm start`
 * prints a link carrying the demo token in the fragment (`/#token=…`): the fragment never reaches a
 * server log, and the page moves it into this tab's session storage and out of the address bar.
 */
const STORAGE_KEY = 'city-brain.token';

export interface Session {
  token: string;
  /** What the token says about itself (its `sub`, `role`, `exp`): for display only; the gateway decides. */
  consumerId: string | null;
  role: string | null;
  expiresAt: Date | null;
}

/** Moves a `#token=…` from the address into session storage; returns whether there was one. */
export function takeTokenFromAddress(): boolean {
  const token = new URLSearchParams(location.hash.slice(1)).get('token');
  if (!token) return false;
  sessionStorage.setItem(STORAGE_KEY, token.trim());
  history.replaceState(null, '', location.pathname + location.search);
  return true;
}

export function signIn(token: string): void {
  sessionStorage.setItem(STORAGE_KEY, token.trim().replace(/^Bearer\s+/i, ''));
}

export function signOut(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}

export function currentSession(): Session | null {
  const token = sessionStorage.getItem(STORAGE_KEY);
  if (!token) return null;
  const claims = decodeClaims(token);
  const exp = typeof claims?.exp === 'number' ? new Date(claims.exp * 1000) : null;
  return {
    token,
    consumerId: typeof claims?.sub === 'string' ? claims.sub : null,
    role: typeof claims?.role === 'string' ? claims.role : null,
    expiresAt: exp,
  };
}

function decodeClaims(token: string): Record<string, unknown> | null {
  const payload = token.split('.')[1];
  if (!payload) return null;
  try {
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const bytes = Uint8Array.from(json, (c) => c.charCodeAt(0));
    const claims: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return claims !== null && typeof claims === 'object' ? (claims as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
