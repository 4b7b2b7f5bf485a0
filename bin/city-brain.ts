#!/usr/bin/env node
/**
 * The City Brain command line (`npm start`, `npm run cli -- <command>`). Configuration comes from
 * the environment (README, "Configuration"); every mistake in it is reported at start.
 */
import { Command } from 'commander';
import { CityBrainError } from '../events/errors.ts';
import { createProgress } from '../cli/progress.ts';
import { formatLag, ProgressRouter, replayProjections } from '../cli/replay.ts';
import { verifyLog } from '../cli/verify.ts';
import { listSeals } from '../events/sql/hashChain.ts';
import { MODULES } from './modules.ts';
import { openPlatform, seedIfEmpty, type Platform } from './platform.ts';

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

program
  .command('start')
  .description('start the store, the projector and the graph; seeds the demo city on first start')
  .action(async () => {
    const platform = await openPlatform({ modules: MODULES });
    const { logger } = platform;
    if (await seedIfEmpty(platform)) logger.info('the store was empty: demo city seeded');
    await platform.runner.catchUp();
    await platform.runner.start();
    await platform.chainer.start();
    logger.info(
      { backend: platform.store.backend, projections: platform.runner.owned(), dataDir: platform.config.DATABASE_URL ? undefined : platform.config.DATA_DIR },
      'store and projector running',
    );
    await waitForShutdown();
    logger.info('shutting down');
    await platform.close();
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
  .command('verify')
  .description('recompute the hash chain over the whole log and name the first event that does not match')
  .option('--expect-head <link>', 'also check the chain head against a link published earlier')
  .action(async (options: { expectHead?: string }) => {
    await withPlatform(async (platform) => {
      const { ok, lines } = await verifyLog(platform.db, createProgress, {
        ...(options.expectHead !== undefined && { expectedHead: options.expectHead }),
        ...(platform.signer && { signer: platform.signer }),
      });
      for (const line of lines) console.log(line);
      if (!ok) process.exitCode = 2;
    });
  });

program
  .command('seals')
  .description('print the seal public key and the latest signed block digests, for auditors to keep outside the system')
  .option('--limit <n>', 'how many seals, newest first', '20')
  .action(async (options: { limit: string }) => {
    await withPlatform(async (platform) => {
      if (platform.signer) console.log(platform.signer.publicKeyPem.trim());
      else console.log('# no seal key configured (SEAL_KEY_FILE): blocks are not signed');
      for (const seal of await listSeals(platform.db, Number(options.limit))) console.log(JSON.stringify(seal));
    });
  });

program
  .command('status')
  .description('print the store head and every projection\'s lag')
  .action(async () => {
    await withPlatform(async (platform) => {
      console.log(`backend ${platform.store.backend}, head position ${await platform.store.headPosition()}`);
      console.log(formatLag(await platform.runner.lag()));
    });
  });

function waitForShutdown(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

program.parseAsync().catch((error: unknown) => {
  // Our own errors are meant for people: print the message, not a stack.
  console.error(error instanceof CityBrainError ? `city-brain: ${error.message}` : error);
  process.exitCode = 1;
});
