/**
 * `PERSONAL_DATA_RETENTION`: the grammar, every mistake named at once, and when a period ends.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig, storageConfigSchema } from '../config.ts';
import { ValidationError } from '../errors.ts';
import { assertRetentionResources, parseRetentionRules, retentionEndsAt } from './retentionRules.ts';

describe('retention rules', () => {
  it('reads one rule per resource, normalised', () => {
    assert.deepEqual(parseRetentionRules(' healthcare.records = 30y after death,healthcare.claims=6 m after death ,'), {
      rules: [
        { resource: 'healthcare.records', count: 30, unit: 'y', text: 'healthcare.records=30y after death' },
        { resource: 'healthcare.claims', count: 6, unit: 'm', text: 'healthcare.claims=6m after death' },
      ],
      problems: [],
    });
    assert.deepEqual(parseRetentionRules(''), { rules: [], problems: [] });
  });

  it('refuses a malformed rule, a zero period and a resource named twice, naming each, and stops the configuration', () => {
    const text = 'healthcare.records=30 years, healthcare=1y after death, urban.reporters=0d after death, tax.declarations=1y after death, tax.declarations=2y after death';
    assert.deepEqual(parseRetentionRules(text).problems, [
      '"healthcare.records=30 years" is not a retention rule: write <resource>=<count><y|m|d> after death, e.g. healthcare.records=30y after death',
      '"healthcare=1y after death" is not a retention rule: write <resource>=<count><y|m|d> after death, e.g. healthcare.records=30y after death',
      '"urban.reporters=0d after death": the period must be at least 1 day',
      '"tax.declarations=2y after death": tax.declarations has a rule already (one rule per resource)',
    ]);
    assert.throws(() => parseConfig(storageConfigSchema, { PERSONAL_DATA_RETENTION: text }), (error: unknown) => {
      assert.ok(error instanceof ValidationError);
      assert.match(error.message, /^invalid configuration:\n {2}PERSONAL_DATA_RETENTION: "healthcare.records=30 years" is not a retention rule/);
      assert.equal(error.message.split('\n').length, 5);
      return true;
    });
  });

  it('refuses a resource no personal data is sealed under, naming those that are', () => {
    const { rules } = parseRetentionRules('healthcare.record=30y after death');
    assert.throws(() => assertRetentionResources(rules, ['healthcare.claims', 'healthcare.records']), /unknown resource "healthcare.record" .* one of healthcare.claims, healthcare.records/);
    assert.doesNotThrow(() => assertRetentionResources(parseRetentionRules('healthcare.records=1d after death').rules, ['healthcare.records']));
  });

  it('ends a period at the start of the day in China, N units after the date of death', () => {
    assert.equal(retentionEndsAt({ count: 30, unit: 'y' }, '2020-03-01'), '2050-02-28T16:00:00.000Z');
    assert.equal(retentionEndsAt({ count: 6, unit: 'm' }, '2020-08-31'), '2021-02-27T16:00:00.000Z');
    assert.equal(retentionEndsAt({ count: 10, unit: 'd' }, '2020-12-25'), '2021-01-03T16:00:00.000Z');
    // A day the month lacks is its last day.
    assert.equal(retentionEndsAt({ count: 1, unit: 'y' }, '2020-02-29'), '2021-02-27T16:00:00.000Z');
  });
});
