import { after, before } from 'node:test';
import type { SqlDatabase } from '../../events/sql/database.ts';
import type { TestBackend } from './databases.ts';

/**
 * Registers the hooks that give a suite one backend, opened before its tests and disposed after them;
 * `fresh()` empties it for a test; `connectAgain()` opens a second pool to it, undefined where the
 * backend is one session (PGlite).
 */
export function backendForSuite(open: () => Promise<TestBackend>): { fresh(): Promise<SqlDatabase>; connectAgain(): SqlDatabase | undefined } {
  let backend: TestBackend | undefined;
  before(async () => {
    backend = await open();
  });
  after(async () => {
    await backend?.dispose();
  });
  const opened = (): TestBackend => {
    if (!backend) throw new Error('the suite backend is opened in its before hook; ask for a database in a test or beforeEach');
    return backend;
  };
  return {
    fresh: () => opened().fresh(),
    connectAgain: () => opened().connectAgain?.(),
  };
}
