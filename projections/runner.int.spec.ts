import { describe } from 'node:test';
import { runnerContract } from './runner.contract.ts';
import { pgliteBackend, postgresBackend } from '../test/helpers/databases.ts';

describe('projection runner on PGlite', () => runnerContract(pgliteBackend));
describe('projection runner on PostgreSQL', () => runnerContract(postgresBackend));
