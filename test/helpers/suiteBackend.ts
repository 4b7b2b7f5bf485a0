import { after, before } from 'node:test';
import type { SqlDatabase } from '../../events/sql/database.ts';
import type { TestBackend } from './databases.ts';

/** Registers the hooks that give a suite one backend, opened before its tests and disposed after them; `fresh()` empties it for a test. */
export function backendForSuite(open: () => Promise<TestBackend>): { fresh(): Promise<SqlDatabase> } {
  let backend: TestBackend | undefined;
  before(async () => {
    backend = await open();
  });
  after(async () => {
    await backend?.dispose();
  });
  return {
    fresh() {
      if (!backend) throw new Error('the suite backend is opened in its before hook; ask for a fresh database in a test or beforeEach');
      return backend.fresh();
    },
  };
}
