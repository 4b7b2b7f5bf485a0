/**
 * The operator's admin endpoint of a running service: `status`, `verify` and `seals` ask the
 * process that owns the embedded store instead of opening its files (a second opener is refused,
 * events/sql/dataDirLock.ts). Every route needs `Authorization: Bearer <ADMIN_TOKEN>`; without a
 * configured token none exists (404), so nothing is open by default.
 *
 *   GET  /admin/status                → { backend, head, lag, projections } (lag: the table `status` prints)
 *   POST /admin/verify                ← { expectHead?, publicKeyPem?, seals? } → { ok, lines }
 *   GET  /admin/seals?limit=n         → { publicKeyPem, seals }
 *   GET  /admin/seals/export          → the export `seals --export` writes
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CityBrainError, ValidationError } from '../events/errors.ts';
import { exportSeals, listSeals, type Seal, type SealExport } from '../events/sql/hashChain.ts';
import { sqlLogOf, type Platform } from '../bin/platform.ts';
import { isOperator } from '../gateway/operator.ts';
import { formatLag } from './replay.ts';
import type { ProjectionLag } from '../projections/readModels.ts';
import { parseConfig, storageConfigSchema } from '../events/config.ts';
import { describeOwner, readDataDirOwner } from '../events/sql/dataDirLock.ts';
import { gatewayAddressSchema } from '../gateway/config.ts';
import { parsePublicKey, parseSealExport, verifyLog } from './verify.ts';

export const ADMIN_PATHS = ['/admin/status', '/admin/verify', '/admin/seals', '/admin/seals/export'] as const;
export type AdminRoute = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export interface AdminStatus {
  backend: string;
  head: string;
  /** `projections` as the table `status` and `replay` print. */
  lag: string;
  projections: ProjectionLag[];
}

/** The store head and every projection's lag and checkpoint, as `status` reports them. */
export async function statusOf(platform: Platform): Promise<AdminStatus> {
  const head = await platform.store.headPosition();
  const projections = await platform.runner.lag();
  return { backend: platform.store.backend, head, lag: formatLag(projections), projections };
}

/** No running service answers at the admin URL (nothing listens, or no admin routes there): the store is opened instead. */
export class NoServiceError extends ValidationError {}

/**
 * Where a running service's admin endpoint would be: with the embedded store, where its owner said
 * (events/sql/dataDirLock.ts); with PostgreSQL, `ADMIN_URL` or else the gateway's own address.
 */
export function serviceAdminUrl(env: Record<string, string | undefined>): { url: string; owner: string } | undefined {
  const config = parseConfig(storageConfigSchema, env);
  if (!config.DATABASE_URL) {
    const owner = readDataDirOwner(config.DATA_DIR);
    return owner?.adminUrl ? { url: owner.adminUrl, owner: describeOwner(owner) } : undefined;
  }
  if (env.ADMIN_URL) return { url: env.ADMIN_URL, owner: env.ADMIN_URL };
  const { GATEWAY_HOST, GATEWAY_PORT } = parseConfig(gatewayAddressSchema, env);
  const url = `http://${GATEWAY_HOST.includes(':') ? `[${GATEWAY_HOST}]` : GATEWAY_HOST}:${GATEWAY_PORT}/`;
  return { url, owner: url };
}

export interface VerifyRequest {
  expectHead?: string;
  publicKeyPem?: string;
  seals?: unknown;
}

const MAX_BODY_BYTES = 64 * 1024 * 1024;
const noProgress = () => ({ increment: () => undefined, stop: () => undefined });

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)), 'cache-control': 'no-store' });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new ValidationError(`the request body is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  if (size === 0) return {};
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new ValidationError('the request body is not JSON');
  }
}

/** The admin routes over `platform`, by path; empty without a token. */
export function createAdminRoutes(platform: Platform, token: string | undefined): Record<string, AdminRoute> {
  if (!token) return {};
  const guarded =
    (method: string, body: (req: IncomingMessage, url: URL) => Promise<unknown>): AdminRoute =>
    async (req, res) => {
      if (!isOperator(req.headers.authorization, token)) {
        send(res, 401, { error: 'the admin endpoint needs Authorization: Bearer <ADMIN_TOKEN>' });
        return;
      }
      if (req.method !== method) {
        send(res, 405, { error: `use ${method}` });
        return;
      }
      try {
        send(res, 200, await body(req, new URL(req.url ?? '/', 'http://admin')));
      } catch (error) {
        if (!(error instanceof CityBrainError)) throw error;
        send(res, 400, { error: error.message });
      }
    };
  return {
    '/admin/status': guarded('GET', () => statusOf(platform)),
    '/admin/verify': guarded('POST', async (req) => {
      const request = (await readJson(req)) as VerifyRequest;
      const published = request.seals === undefined ? undefined : parseSealExport(request.seals, 'seals');
      return verifyLog(sqlLogOf(platform, 'verify'), noProgress, {
        ...(typeof request.expectHead === 'string' && { expectedHead: request.expectHead }),
        ...(platform.signer && { signer: platform.signer }),
        ...(typeof request.publicKeyPem === 'string' && { sealKey: parsePublicKey(request.publicKeyPem, 'publicKeyPem') }),
        ...(published && { published }),
      });
    }),
    '/admin/seals': guarded('GET', async (_req, url): Promise<{ publicKeyPem: string | null; seals: Seal[] }> => ({
      publicKeyPem: platform.signer?.publicKeyPem ?? null,
      seals: await listSeals(sqlLogOf(platform, 'seals'), Number(url.searchParams.get('limit') ?? 20)),
    })),
    '/admin/seals/export': guarded('GET', async (): Promise<SealExport> => exportSeals(sqlLogOf(platform, 'seals'), { signer: platform.signer })),
  };
}

/** Asks a running service's admin endpoint; throws a ValidationError a person can act on. */
export async function askService<T>(adminUrl: string, token: string | undefined, path: string, body?: unknown): Promise<T> {
  if (!token) throw new ValidationError(`the service at ${adminUrl} owns the data directory; set ADMIN_TOKEN to ask it`);
  let response: Response;
  try {
    response = await fetch(new URL(path, adminUrl), {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
  } catch (error) {
    throw new NoServiceError(`could not reach the service's admin endpoint ${adminUrl} (${error instanceof Error ? error.message : String(error)})`);
  }
  const answer = (await response.json().catch(() => ({}))) as T & { error?: string };
  if (response.status === 404) throw new NoServiceError(`${adminUrl} has no admin endpoint (no ADMIN_TOKEN configured there, or not a City Brain service)`);
  if (!response.ok) throw new ValidationError(`the service's admin endpoint answered HTTP ${response.status}: ${answer.error ?? 'no reason given'}`);
  return answer;
}
