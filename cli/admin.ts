/**
 * The operator's admin endpoint of a running service: `status`, `verify` and `seals` ask the
 * process that owns the embedded store instead of opening its files (a second opener is refused,
 * events/sql/dataDirLock.ts). Every route needs `Authorization: Bearer <ADMIN_TOKEN>`; without a
 * configured token none exists (404), so nothing is open by default.
 *
 *   GET  /admin/status                → { backend, head, lag }
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
import { parsePublicKey, parseSealExport, verifyLog } from './verify.ts';

export const ADMIN_PATHS = ['/admin/status', '/admin/verify', '/admin/seals', '/admin/seals/export'] as const;
export type AdminRoute = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export interface AdminStatus {
  backend: string;
  head: string;
  lag: string;
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
    '/admin/status': guarded('GET', async (): Promise<AdminStatus> => ({
      backend: platform.store.backend,
      head: await platform.store.headPosition(),
      lag: formatLag(await platform.runner.lag()),
    })),
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
    throw new ValidationError(`could not reach the service's admin endpoint ${adminUrl} (${error instanceof Error ? error.message : String(error)})`);
  }
  const answer = (await response.json().catch(() => ({}))) as T & { error?: string };
  if (!response.ok) throw new ValidationError(`the service's admin endpoint answered HTTP ${response.status}: ${answer.error ?? 'no reason given'}`);
  return answer;
}
