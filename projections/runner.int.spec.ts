import { describe } from 'node:test';
import { runnerContract, sqlRunnerHarness } from './runner.contract.ts';
import { pgliteBackend, postgresBackend } from '../test/helpers/databases.ts';

describe('projection runner on PGlite', () => runnerContract(sqlRunnerHarness(pgliteBackend)));
describe('projection runner on PostgreSQL', () => runnerContract(sqlRunnerHarness(postgresBackend)));
