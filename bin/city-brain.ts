#!/usr/bin/env node
/**
 * The City Brain command line (`npm start`, `npm run cli -- <command>`). Configuration comes from
 * the environment (README, "Configuration"); every mistake in it is reported at start.
 */
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { CityBrainError } from '../events/errors.ts';
import { createIngestProgress, createProgress } from '../cli/progress.ts';
import { importFile } from '../cli/import.ts';
import { ingestKindsOf } from '../ingest/runner.ts';
import { formatLag, ProgressRouter, replayProjections } from '../cli/replay.ts';
import { formatPersonalDataReport, personalDataReport } from '../cli/personalData.ts';
import { readPublicKey, readSealExport, verifyLog } from '../cli/verify.ts';
import { exportSeals, listSeals, type Seal, type SealExport } from '../events/sql/hashChain.ts';
import { DataDirLockedError, describeOwner, lockDataDir } from '../events/sql/dataDirLock.ts';
import { askService, NoServiceError, serviceAdminUrl, statusOf, type AdminStatus, type VerifyRequest } from '../cli/admin.ts';
import { MODULES } from './modules.ts';
import { platformConfigSchema } from './backends.ts';
import { openPlatform, sqlLogOf, type Platform } from './platform.ts';
import { withDevelopmentSecrets } from '../cli/devSecrets.ts';
import { parseConfig, storageConfigSchema } from '../events/config.ts';
import { ValidationError } from '../events/errors.ts';
import { issueToken } from '../gateway/tokens.ts';
import { ROLES, type Role } from '../platform/auth.ts';
import { DEMO_CONSUMER_ROLES } from '../subgraphs/governance/index.ts';

const program = new Command()
  .name('city-brain')
  .description('One GraphQL graph over a city\'s public data, projected from an append-only event store.')
  .showHelpAfterError();

/** Runs `body` on an open platform and closes it, whatever happens. */
async function withPlatform<T>(body: (platform: Platform) => Promise<T>, router?: ProgressRouter): Promise<T> {
  const platform = await openPlatform({ modules: MODULES, ...(router && { runner: { onProgress: router.onProgress } }) });
  try {
    return await body(platform);
  } finally {
    await platform.close();
  }
}

/**
 * Runs `local` on an open platform; when a running service owns the embedded store (and has said
 * where its admin endpoint is), asks it with `remote` instead of opening the files.
 */
async function withPlatformOrService<T>(local: (platform: Platform) => Promise<T>, remote: (adminUrl: string, token: string | undefined, owner: string) => Promise<T>): Promise<T> {
  try {
    return await withPlatform(local);
  } catch (error) {
    if (!(error instanceof DataDirLockedError) || !error.owner?.adminUrl) throw error;
    const config = parseConfig(storageConfigSchema, process.env);
    return remote(error.owner.adminUrl, withDevelopmentSecrets(process.env, config.DATA_DIR).ADMIN_TOKEN, describeOwner(error.owner));
  }
}

/**
 * Asks the running service's admin endpoint (cli/admin.ts `serviceAdminUrl`), or returns undefined
 * when none answers there, or no admin token is known, so the caller opens the store instead.
 */
async function askRunningService<T>(path: string): Promise<T | undefined> {
  const service = serviceAdminUrl(process.env);
  if (!service) return undefined;
  const config = parseConfig(storageConfigSchema, process.env);
  const token = withDevelopmentSecrets(process.env, config.DATA_DIR, { persist: false }).ADMIN_TOKEN;
  if (!token) return undefined;
  try {
    const answer = await askService<T>(service.url, token, path);
    console.log(`# asked the running service (${service.owner})`);
    return answer;
  } catch (error) {
    if (error instanceof NoServiceError) return undefined;
    throw error;
  }
}

/**
 * `start --fresh`: removes the PGlite data directory. Never a PostgreSQL database, and never a
 * directory that is not a PostgreSQL data directory (a mistyped DATA_DIR must not wipe anything else).
 */
async function deleteEmbeddedDataDir(env: Record<string, string | undefined>): Promise<void> {
  const config = parseConfig(platformConfigSchema, env);
  if (config.DATABASE_URL) throw new ValidationError('--fresh only deletes the embedded PGlite data directory; DATABASE_URL is set, so it refuses (drop the PostgreSQL database yourself)');
  // Events or read models on a server would outlive the directory: stale read models, or no new seed.
  if (config.EVENT_STORE !== 'sql' || config.READ_MODELS !== 'sql') {
    throw new ValidationError(`--fresh only deletes the embedded PGlite data directory; EVENT_STORE=${config.EVENT_STORE} READ_MODELS=${config.READ_MODELS} keep data on a server, so it refuses (empty it yourself)`);
  }
  const dir = resolve(config.DATA_DIR);
  if (!existsSync(dir) || readdirSync(dir).length === 0) return;
  if (!existsSync(join(dir, 'PG_VERSION'))) throw new ValidationError(`--fresh: ${dir} is not a PGlite data directory (no PG_VERSION); not deleting it`);
  // Never under a running service's feet.
  const lock = await lockDataDir(dir);
  try {
    rmSync(dir, { recursive: true, force: true });
  } finally {
    await lock.release();
  }
  console.log(`deleted the data directory ${dir}`);
}

/**
 * Events per transaction of each projection while `start` catches up before serving: on a freshly
 * seeded city, 2,000 took 10 % less CPU than the live loop's 500 (bench/README.md, startup).
 */
const START_CATCH_UP_BATCH = 2000;

program
  .command('start')
  .description('start the store, the projector and the graph; seeds the demo city on first start')
  .option('--fresh', 'delete the embedded (PGlite) data directory first, so the demo city is seeded again')
  .action(async (options: { fresh?: boolean }) => {
    // Loaded here: the gateway it starts is most of the CLI's load time, which `status` should not pay.
    const { checkStartConfig, loadServing, logStartPhase, startService } = await import('../cli/start.ts');
    const codeLoaded = performance.now();
    await checkStartConfig(process.env);
    if (options.fresh) await deleteEmbeddedDataDir(process.env);
    // The gateway's modules load while the store opens.
    void loadServing();
    const opening = performance.now();
    const platform = await openPlatform({ modules: MODULES, runner: { catchUpBatchSize: START_CATCH_UP_BATCH } });
    // From the process's start: Node, the launcher and the CLI's modules.
    logStartPhase(platform.logger, 'code loaded', 0, {}, codeLoaded);
    logStartPhase(platform.logger, 'store opened', opening);
    try {
      await startService(platform, process.env);
    } catch (error) {
      await platform.close();
      throw error;
    }
  });

program
  .command('token')
  .description('issue a development token naming a consumer (HS256, with the configured JWT_SECRET)')
  .requiredOption('--consumer <id>', `the consumer, e.g. ${Object.keys(DEMO_CONSUMER_ROLES).join(', ')}`)
  .option('--role <role>', `the consumer's role: ${ROLES.join(', ')} (default: the demo consumer's, else department)`)
  .option('--ttl <span>', "lifetime, e.g. '8h' or '30 days'", '8h')
  .action(async (options: { consumer: string; role?: string; ttl: string }) => {
    const config = parseConfig(storageConfigSchema, process.env);
    const secret = withDevelopmentSecrets(process.env, config.DATA_DIR).JWT_SECRET;
    if (!secret) throw new ValidationError('JWT_SECRET is not set: tokens can only be issued with the HS256 secret the gateway verifies');
    const role = options.role ?? DEMO_CONSUMER_ROLES[options.consumer] ?? 'department';
    if (!(ROLES as readonly string[]).includes(role)) throw new ValidationError(`--role "${role}": expected one of ${ROLES.join(', ')}`);
    console.log(await issueToken({ consumerId: options.consumer, role: role as Role, secret, ttl: options.ttl }));
  });

program
  .command('replay')
  .description('rebuild projections from position 0 (all by default), with progress, then report the lag')
  .argument('[projections...]', 'projection names, e.g. population.persons')
  .action(async (names: string[]) => {
    const router = new ProgressRouter();
    await withPlatform(async (platform) => {
      const reports = await replayProjections(platform, names, router, createProgress);
      for (const r of reports) {
        console.log(`${r.projection}: ${r.events} events in ${r.seconds.toFixed(1)} s (${Math.round(r.events / Math.max(r.seconds, 0.001))} events/s)`);
      }
      console.log(formatLag(await platform.runner.lag()));
    }, router);
  });

program
  .command('personal-data')
  .description('upgrade the store to personal data encrypted per subject (creates the key table, rewrites nothing) and report what is encrypted')
  .action(async () => {
    console.log(formatPersonalDataReport(await withPlatform(personalDataReport)));
  });

program
  .command('verify')
  .description('recompute the hash chain over the whole log and name the first event that does not match')
  .option('--expect-head <link>', 'also check the chain head against a link published earlier')
  .option('--public-key <file>', "check every full block's seal with this Ed25519 public key (PEM, as `seals` prints it) instead of the service's own key")
  .option('--seals <file>', 'also check the log against an export written earlier by `seals --export` (finds the newest events removed)')
  .action(async (options: { expectHead?: string; publicKey?: string; seals?: string }) => {
    const sealKey = options.publicKey === undefined ? undefined : readPublicKey(options.publicKey);
    const published = options.seals === undefined ? undefined : readSealExport(options.seals);
    const { ok, lines } = await withPlatformOrService(
      (platform) =>
        verifyLog(sqlLogOf(platform, 'verify'), createProgress, {
          ...(options.expectHead !== undefined && { expectedHead: options.expectHead }),
          ...(platform.signer && { signer: platform.signer }),
          ...(sealKey && { sealKey }),
          ...(published && { published }),
        }),
      async (adminUrl, token, owner) => {
        console.log(`# asked the running service (${owner})`);
        const request: VerifyRequest = { ...(options.expectHead !== undefined && { expectHead: options.expectHead }), ...(sealKey && { publicKeyPem: sealKey.publicKeyPem }), ...(published && { seals: published }) };
        return askService<{ ok: boolean; lines: string[] }>(adminUrl, token, '/admin/verify', request);
      },
    );
    for (const line of lines) console.log(line);
    if (!ok) process.exitCode = 2;
  });

program
  .command('seals')
  .description('print the seal public key and the latest signed block digests, for auditors to keep outside the system')
  .option('--limit <n>', 'how many seals, newest first', '20')
  .option('--export <file>', 'write the public key, every seal and the signed chain head to <file>, for an auditor to keep (and give to `verify --seals`)')
  .action(async (options: { limit: string; export?: string }) => {
    const limit = Number(options.limit);
    if (!Number.isInteger(limit) || limit < 1) throw new ValidationError(`--limit "${options.limit}": expected a whole number of seals, at least 1`);
    if (options.export !== undefined) {
      const file = options.export;
      const exported = await withPlatformOrService(
        (platform) => exportSeals(sqlLogOf(platform, 'seals'), { signer: platform.signer }),
        (adminUrl, token) => askService<SealExport>(adminUrl, token, '/admin/seals/export'),
      );
      writeFileSync(file, `${JSON.stringify(exported, null, 2)}\n`);
      console.log(`wrote ${exported.seals.length} seals and the head (${exported.head.events} events, ${exported.head.link}) to ${file}`);
      return;
    }
    const { publicKeyPem, seals } = await withPlatformOrService(
      async (platform) => ({ publicKeyPem: platform.signer?.publicKeyPem ?? null, seals: await listSeals(sqlLogOf(platform, 'seals'), limit) }),
      (adminUrl, token) => askService<{ publicKeyPem: string | null; seals: Seal[] }>(adminUrl, token, `/admin/seals?limit=${limit}`),
    );
    console.log(publicKeyPem ? publicKeyPem.trim() : '# no seal key configured (SEAL_KEY_FILE): blocks are not signed');
    for (const seal of seals) console.log(JSON.stringify(seal));
  });

program
  .command('status')
  .description("print the store head and every projection's lag and checkpoint, from the running service when one answers")
  .action(async () => {
    const status = (await askRunningService<AdminStatus>('/admin/status')) ?? (await withPlatform(statusOf));
    console.log(`backend ${status.backend}, head position ${status.head}`);
    console.log(status.lag);
  });

/** `import`'s exit code when the batch completed but some records were rejected (1 is any refusal or failure). */
const EXIT_REJECTS = 3;

program
  .command('import')
  .description('deliver a file of records through the aggregation channel (数据归集): NDJSON or CSV, UTF-8 or GB 18030')
  .argument('<file>', 'the delivery: .ndjson / .jsonl (one JSON object a line) or .csv (header row)')
  .requiredOption('--kind <kind>', `what the records are: ${ingestKindsOf(MODULES).map((k) => k.name).join(', ') || '(no module publishes an ingest kind yet)'}`)
  .requiredOption('--department <code>', 'the delivering department, e.g. public-security')
  .option('--batch <id>', 'the batch id: run again with the same id and file to resume it after a crash (default: a new id)')
  .option('--system <name>', "the department's source system, for provenance (default: the kind's)")
  .option('--consumer <id>', "the consumer delivering, registered for the department (or the big-data bureau) with WRITE on the kind's resource (default: the department code)")
  .option('--format <format>', 'ndjson or csv (default: from the extension)')
  .action(async (file: string, options: { kind: string; department: string; batch?: string; system?: string; consumer?: string; format?: string }) => {
    let bar: ReturnType<typeof createIngestProgress> | undefined;
    try {
      const result = await withPlatform((platform) =>
        importFile(
          { store: platform.store, kinds: ingestKindsOf(platform.modules), now: platform.runtime.now, logger: platform.logger },
          {
            file,
            kind: options.kind,
            department: options.department,
            actor: { consumerId: options.consumer ?? options.department, role: 'department' },
            ...(options.batch !== undefined && { batchId: options.batch }),
            ...(options.system !== undefined && { system: options.system }),
            ...(options.format !== undefined && { format: options.format }),
            onDelivery(delivery) {
              if (delivery.encoding === 'gb18030') console.log(`${file}: not UTF-8; read as GB 18030 and converted`);
              bar = createIngestProgress(`importing ${options.kind}`, delivery.total);
            },
            onChunk: (chunk) => bar?.chunk(chunk.counts.received, chunk.counts.rejected),
          },
        ),
      );
      bar?.stop();
      const { report, rejectsFile } = result;
      console.log(
        `batch ${report.batchId}: ${report.received} records · ${report.created} created · ${report.changed} changed · ${report.unchanged} unchanged · ${report.alreadyPresent} already present · ${report.rejected} rejected${report.resumedChunks ? ` (${report.resumedChunks} of ${report.chunks} chunks were committed by an earlier run)` : ''}`,
      );
      if (rejectsFile) {
        console.log(`the rejected records, each with its _rejection, are in ${rejectsFile}: correct them and deliver that file again`);
        process.exitCode = EXIT_REJECTS;
      }
    } catch (error) {
      bar?.stop();
      if (error instanceof DataDirLockedError) {
        throw new ValidationError(
          `the embedded store is owned by a running service, ${error.owner ? describeOwner(error.owner) : 'another process'}. import opens the store itself: stop the service and import, or use PostgreSQL (DATABASE_URL), where import and the service run side by side`,
        );
      }
      throw error;
    }
  });

program.parseAsync().catch((error: unknown) => {
  // Our own errors are meant for people: print the message, not a stack.
  console.error(error instanceof CityBrainError ? `city-brain: ${error.message}` : error);
  // A refused start may leave a connection attempt pending (an unanswering DATABASE_URL): exit now.
  process.exit(1);
});
