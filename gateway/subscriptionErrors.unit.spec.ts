/**
 * A subscription's events each carry their own errors, although the executor keeps one array per
 * subscription that it keeps pushing to (subscriptionErrors.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GraphQLError } from 'graphql';
import { eventErrors } from './subscriptionErrors.ts';

const refusal = (resource: string) => new GraphQLError(`not granted: ${resource}`, { extensions: { code: 'FORBIDDEN', resource } });
const resources = (errors: readonly GraphQLError[] | undefined) => errors?.map((e) => e.extensions.resource);

describe('eventErrors', () => {
  it('gives each event the errors added to a shared array since the event before, as a copy', () => {
    const ownErrors = eventErrors();
    const shared: GraphQLError[] = [refusal('tax.declarations')];
    const first = ownErrors(shared);
    shared.push(refusal('healthcare.records'), refusal('tax.declarations'));
    const second = ownErrors(shared);
    assert.deepEqual(resources(first), ['tax.declarations']);
    assert.deepEqual(resources(second), ['healthcare.records', 'tax.declarations']);
    shared.push(refusal('population.identity'));
    assert.deepEqual(resources(first), ['tax.declarations'], 'an event already handed on does not grow');
    assert.equal(ownErrors(shared.slice(0, 0)), undefined);
  });

  it('leaves an event with an array of its own as it is, and one with no new error without errors', () => {
    const ownErrors = eventErrors();
    assert.deepEqual(resources(ownErrors([refusal('tax.declarations')])), ['tax.declarations']);
    assert.deepEqual(resources(ownErrors([refusal('tax.declarations')])), ['tax.declarations']);
    const shared = [refusal('tax.declarations')];
    ownErrors(shared);
    assert.equal(ownErrors(shared), undefined);
    assert.equal(ownErrors(undefined), undefined);
  });
});
