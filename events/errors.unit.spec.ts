/** Errors that share a base by code keep their own names, codes and classes. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CityBrainError, ConcurrencyError, ConflictError, ForbiddenError, NotFoundError, ValidationError } from './errors.ts';

describe('CityBrainError subclasses', () => {
  it('carry their own name, code and details', () => {
    const error = new ValidationError('idNumber: bad check digit', { field: 'idNumber' });
    assert.deepEqual([error.name, error.code, error.details, error.message], ['ValidationError', 'BAD_USER_INPUT', { field: 'idNumber' }, 'idNumber: bad check digit']);
    assert.deepEqual([new NotFoundError('x').code, new ForbiddenError('x').code], ['NOT_FOUND', 'FORBIDDEN']);
  });

  it('are told apart by class even where they share a code', () => {
    const concurrency = new ConcurrencyError('population.person-1', '3', 4);
    assert.ok(concurrency instanceof CityBrainError);
    assert.equal(concurrency.code, new ConflictError('x').code);
    assert.equal(concurrency instanceof ConflictError, false);
    assert.equal(new ConflictError('x') instanceof ConcurrencyError, false);
    assert.equal(new ValidationError('x') instanceof ForbiddenError, false);
    assert.deepEqual(concurrency.details, { streamId: 'population.person-1', expectedRevision: '3', actualRevision: 4 });
  });
});
