import { describe } from 'node:test';
import { eventStoreContract } from './eventStore.contract.ts';
import { pgliteBackend, postgresBackend } from '../test/helpers/databases.ts';

describe('event store on PGlite', () => eventStoreContract(pgliteBackend));
describe('event store on PostgreSQL', () => eventStoreContract(postgresBackend));
