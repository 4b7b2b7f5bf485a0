import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RecordedEvent } from '../../../events/types.ts';
import type { TieredBucketDoc, TieredSummaryDoc } from '../../kit/tieredCounts.ts';
import { MemoryDocuments } from '../../../test/helpers/memoryDocuments.ts';
import { ADULT_AGE, ELDERLY_AGE } from '../models/vulnerable.ts';
import { AGE_BANDS, AGE_COHORTS, ageBandCounts, atLeast, readCohortDocs, youngerThan } from './ageCohorts.ts';
import { registryProjection } from './registry.ts';

const QUANCHENG = '370102003001'; // a community of 历下区 (370102), street 370102003
const SHIZHONG = '370103001001'; // a community of 市中区 (370103)
const CITY = '370100';

/** The register as the projection leaves it after `events`, applied in order. */
async function given(...events: [string, Record<string, unknown>][]): Promise<MemoryDocuments> {
  const store = new MemoryDocuments();
  await when(store, ...events);
  return store;
}

let sequence = 0;
async function when(store: MemoryDocuments, ...events: [string, Record<string, unknown>][]): Promise<void> {
  for (const [type, data] of events) {
    sequence++;
    const event = {
      eventId: `e${sequence}`,
      streamId: `population.test-${sequence}`,
      revision: 0,
      position: `1:${sequence}`,
      sequence,
      type,
      schemaVersion: 1,
      recordedAt: '2026-01-01T00:00:00.000Z',
      data,
      metadata: { provenance: { department: 'public-security', system: 'test', channel: 'test', collectedAt: '2026-01-01T00:00:00.000Z' }, actor: { consumerId: 'test', role: 'admin' }, correlationId: 'c' },
    } as RecordedEvent;
    await registryProjection.apply(event, store);
  }
}

const registered = (personId: string, birthDate: string, divisionCode = QUANCHENG): [string, Record<string, unknown>] => [
  'PersonRegistered',
  { personId, idNumber: `id-${personId}`, name: personId, gender: 'FEMALE', birthDate, residence: { address: '泉城路 1 号', divisionCode }, reason: 'HOUSEHOLD_REGISTRATION' },
];
const household = (householdId: string, headId: string): [string, Record<string, unknown>] => ['HouseholdEstablished', { householdId, headId, address: '泉城路 1 号', divisionCode: QUANCHENG }];
const joined = (householdId: string, personId: string, relationToHead = 'SELF'): [string, Record<string, unknown>] => ['HouseholdMemberJoined', { householdId, personId, relationToHead }];
const died = (personId: string, dateOfDeath = '2026-01-01'): [string, Record<string, unknown>] => ['PersonDeceased', { personId, dateOfDeath }];
const moved = (personId: string, divisionCode: string): [string, Record<string, unknown>] => [
  'ResidenceChanged',
  { personId, residence: { address: '经七路 1 号', divisionCode }, previousResidence: { address: '泉城路 1 号', divisionCode: QUANCHENG }, movedOn: '2026-01-01' },
];
const guardian = (personId: string, guardianId: string): [string, Record<string, unknown>] => ['GuardianAssigned', { personId, guardianId, relation: 'MOTHER' }];

async function docsOf(store: MemoryDocuments, code: string, today: string, ages: readonly number[]) {
  const summaries = store.collection<TieredSummaryDoc>(AGE_COHORTS.summaries);
  const years = store.collection<TieredBucketDoc>(AGE_COHORTS.buckets);
  return readCohortDocs({ summary: async (c) => (await summaries.get(c))?.doc, year: async (key) => (await years.get(key))?.doc }, code, today, ages);
}

/** The division's non-empty age bands on `today`. */
async function bands(store: MemoryDocuments, code: string, today: string): Promise<Record<string, number>> {
  const counts = ageBandCounts(await docsOf(store, code, today, AGE_BANDS.map((b) => b.from)), today);
  return Object.fromEntries(counts.filter((b) => b.count !== 0).map((b) => [b.band, b.count]));
}

const elderlyAlone = async (store: MemoryDocuments, code: string, today: string) => atLeast(await docsOf(store, code, today, [ELDERLY_AGE]), 'alone', today, ELDERLY_AGE);
const childrenInDistress = async (store: MemoryDocuments, code: string, today: string) => youngerThan(await docsOf(store, code, today, [ADULT_AGE]), 'unguarded', today, ADULT_AGE);

describe('living residents per division by birth date (population.registry)', () => {
  it('moves a resident from one age band to the next on their birthday, with no event, in every enclosing division', async () => {
    const store = await given(registered('p1', '2008-06-15'), registered('p2', '1960-02-29'));
    for (const code of [QUANCHENG, '370102003', '370102', CITY]) {
      assert.deepEqual(await bands(store, code, '2026-06-14'), { '0-17': 1, '65-79': 1 }, code);
      assert.deepEqual(await bands(store, code, '2026-06-15'), { '18-34': 1, '65-79': 1 }, code);
    }
    // Born on 29 February: 65 on 1 March in a common year, as ageOn counts.
    assert.deepEqual(await bands(store, CITY, '2025-02-28'), { '0-17': 1, '60-64': 1 });
    assert.deepEqual(await bands(store, CITY, '2025-03-01'), { '0-17': 1, '65-79': 1 });
    assert.deepEqual(await bands(store, SHIZHONG, '2026-06-15'), {});
  });

  it('takes a resident who moves off the old divisions and onto the new ones, the city keeping them', async () => {
    const store = await given(registered('p1', '1990-05-01'));
    await when(store, moved('p1', SHIZHONG));
    assert.deepEqual(await bands(store, '370102', '2026-06-01'), {});
    assert.deepEqual(await bands(store, QUANCHENG, '2026-06-01'), {});
    assert.deepEqual(await bands(store, '370103', '2026-06-01'), { '35-59': 1 });
    assert.deepEqual(await bands(store, SHIZHONG, '2026-06-01'), { '35-59': 1 });
    assert.deepEqual(await bands(store, CITY, '2026-06-01'), { '35-59': 1 });
  });

  it('counts a resident no more once their death is registered', async () => {
    const store = await given(registered('p1', '1950-01-01'), registered('p2', '1951-01-01'));
    await when(store, died('p1'));
    assert.deepEqual(await bands(store, CITY, '2026-06-01'), { '65-79': 1 });
  });

  it('counts the elderly living alone: alone in the household, 65 by birthday, and no longer once someone joins or they die', async () => {
    const store = await given(registered('old', '1961-07-01'), household('h1', 'old'), joined('h1', 'old'));
    assert.equal(await elderlyAlone(store, '370102', '2026-06-30'), 0, '64 the day before the birthday');
    assert.equal(await elderlyAlone(store, '370102', '2026-07-01'), 1);
    await when(store, registered('son', '1990-01-01'), joined('h1', 'son', 'SON'));
    assert.equal(await elderlyAlone(store, '370102', '2026-07-01'), 0, 'two living members');
    await when(store, died('son'));
    assert.equal(await elderlyAlone(store, '370102', '2026-07-01'), 1, 'alone again once the son’s death is registered');
    await when(store, died('old'));
    assert.equal(await elderlyAlone(store, CITY, '2026-07-01'), 0);
  });

  it('counts children in distress until their 18th birthday: none of their guardians alive', async () => {
    const store = await given(registered('mother', '1980-01-01'), registered('child', '2010-09-01'), guardian('child', 'mother'));
    assert.equal(await childrenInDistress(store, QUANCHENG, '2026-06-01'), 0);
    await when(store, died('mother'));
    assert.equal(await childrenInDistress(store, QUANCHENG, '2026-06-01'), 1);
    assert.equal(await childrenInDistress(store, CITY, '2028-08-31'), 1);
    assert.equal(await childrenInDistress(store, CITY, '2028-09-01'), 0, 'an adult on the 18th birthday');
  });
});
