import { describe } from 'node:test';
import { eventStoreContract, sqlEventStoreHarness } from './eventStore.contract.ts';
import { pgliteBackend, postgresBackend } from '../test/helpers/databases.ts';

describe('event store on PGlite', () => eventStoreContract(sqlEventStoreHarness(pgliteBackend)));
describe('event store on PostgreSQL', () => eventStoreContract(sqlEventStoreHarness(postgresBackend)));
