import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../../events/errors.ts';
import { DEFAULT_DEMO_CITY, demoCityConfig } from './demoCity.ts';

describe('the demo city size', () => {
  it('defaults to 20,000 residents and 2,000 legal persons, and takes other sizes from the environment', () => {
    assert.deepEqual(demoCityConfig({}), DEFAULT_DEMO_CITY);
    assert.deepEqual(demoCityConfig({ DEMO_PEOPLE: '2000', DEMO_LEGAL_PERSONS: '300' }), { people: 2000, legalPersons: 300 });
  });

  it('names every wrong value at once', () => {
    assert.throws(
      () => demoCityConfig({ DEMO_PEOPLE: 'many', DEMO_LEGAL_PERSONS: '-1' }),
      (error: unknown) =>
        error instanceof ValidationError &&
        /DEMO_PEOPLE: must be a whole number of residents/.test(error.message) &&
        /DEMO_LEGAL_PERSONS: must be at least 0 legal persons/.test(error.message),
    );
    assert.throws(() => demoCityConfig({ DEMO_PEOPLE: '10' }), /DEMO_PEOPLE: must be at least 50 residents/);
  });
});
