/**
 * The personal field rules cover every field the payload classification masks and name only fields
 * it classifies; the codec stores no personal value in clear, gives the same bytes for the same event
 * (idempotent replays), refuses ciphertext moved to another event, and reads ERASED without the key.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { ENCRYPTED, ERASED, keyIdOf, keyIdsOfSubject, openPersonal, scopesOf, sealedKeyIdOf, sealPersonal, subjectOf } from '../../events/crypto/personalFields.ts';
import { EVENT_CLASSIFICATIONS, INTERNAL } from './payloadPolicy.ts';
import { personalFieldRules } from './personalData.ts';

const rules = personalFieldRules();

describe('personal field rules', () => {
  it('make every masked field of every event type personal, under a subject path the payload has', () => {
    const problems: string[] = [];
    for (const domain of Object.values(EVENT_CLASSIFICATIONS)) {
      for (const [type, policy] of Object.entries(domain)) {
        if (policy === INTERNAL) continue;
        const rule = rules.get(type);
        for (const [path, field] of Object.entries(policy.fields)) {
          if (field.mask && !rule?.fields.includes(path)) problems.push(`${type}.${path} is masked but not encrypted`);
        }
        for (const path of rule?.fields ?? []) if (!policy.fields[path]) problems.push(`${type}.${path} is not a classified field`);
        for (const subject of rule ? [rule.subject].flat() : []) if (!policy.fields[subject]) problems.push(`${type}: subject ${subject} is not a classified field`);
      }
    }
    assert.deepEqual(problems, []);
  });

  it('encrypt names, ID numbers and residence addresses of persons, and leave what statistics use in clear', () => {
    assert.deepEqual(rules.get('PersonRegistered'), { subject: 'personId', fields: ['idNumber', 'name', 'residence.address'], scope: 'population.basic' });
    assert.equal(rules.has('AirQualityObserved'), false);
  });

  it('key a person’s report (name and description) by the reporter’s id, an anonymous one by its incident, a device’s not at all', () => {
    const rule = rules.get('IncidentReported')!;
    const report = (reporter: Record<string, string>) => ({ incidentId: 'i-1', description: '王某某占道堆物，回电 13905310000', reporter });
    assert.deepEqual(rule.fields, ['reporter.name', 'description']);
    assert.equal(subjectOf(rule, report({ kind: 'CITIZEN', name: '周先生' })), 'i-1');
    assert.equal(subjectOf(rule, report({ kind: 'CITIZEN', id: 'p-1', name: '钱女士' })), 'p-1');
    assert.equal(subjectOf(rule, report({ kind: 'GRID_WORKER', id: 'gw-1' })), 'gw-1');
    assert.equal(subjectOf(rule, report({ kind: 'DEVICE', id: 'sensor-1' })), undefined);
  });
});

describe('personal field codec', () => {
  const rule = rules.get('ClaimSubmitted')!;
  const claim = {
    claimId: 'c-1',
    personId: 'p-1',
    items: [{ code: 'A', name: '阿莫西林胶囊', quantity: 1, unitPriceFen: 100 }, { code: 'B', name: '血常规检查', quantity: 2, unitPriceFen: 200 }],
    totalFen: 500,
  };
  const key = randomBytes(32);
  const eventId = '0f2b1c9e-3a4d-4e5f-8a6b-7c8d9e0f1a2b';

  it('stores the personal values encrypted and puts them back with the key', () => {
    const stored = sealPersonal(claim, rule, subjectOf(rule, claim)!, key, eventId) as typeof claim;
    assert.doesNotMatch(JSON.stringify(stored), /阿莫西林|血常规/);
    assert.deepEqual(stored.items.map((i) => [i.code, i.name, i.quantity]), [['A', ENCRYPTED, 1], ['B', ENCRYPTED, 2]]);
    assert.equal(sealedKeyIdOf(stored), 'p-1');
    assert.deepEqual(openPersonal(stored, key, eventId), claim);
  });

  it('encrypts the same event to the same bytes, so a re-sent command is a replay', () => {
    assert.deepEqual(sealPersonal(claim, rule, 'p-1', key, eventId), sealPersonal(claim, rule, 'p-1', key, eventId));
    assert.notDeepEqual(sealPersonal(claim, rule, 'p-1', key, eventId), sealPersonal(claim, rule, 'p-1', key, eventId.replace('0f', '1f')));
  });

  it('reads ERASED in every personal place once the key is gone, the rest intact', () => {
    const stored = sealPersonal(claim, rule, 'p-1', key, eventId);
    assert.deepEqual(openPersonal(stored, null, eventId), { ...claim, items: claim.items.map((i) => ({ ...i, name: ERASED })) });
  });

  it('refuses ciphertext moved to another event (the event id is authenticated)', () => {
    const stored = sealPersonal(claim, rule, 'p-1', key, eventId);
    assert.throws(() => openPersonal(stored, key, eventId.replace('0f', '1f')), /unable to authenticate/);
  });

  it('leaves an event without personal values, or of another kind of taxpayer, untouched', () => {
    const taxpayer = rules.get('TaxpayerRegistered')!;
    const company = { taxpayerId: 't', subject: { kind: 'LEGAL_PERSON', id: 'l' }, taxpayerNumber: '91350100M000100Y43', name: '某公司', divisionCode: '370102', registeredAt: 'x' };
    assert.equal(subjectOf(taxpayer, company), undefined);
    assert.equal(subjectOf(rule, { ...claim, items: [] }), undefined);
  });
});

describe('keys per subject and scope', () => {
  it('seal each event type under the catalog resource of its personal values, or the event\'s when they have several (internal ID-number claims under the subject alone)', () => {
    const scopes = Object.fromEntries([...rules].map(([type, rule]) => [type, rule.scope]));
    assert.deepEqual(
      [scopes.PersonRegistered, scopes.HouseholdEstablished, scopes.IncidentReported, scopes.MedicalVisitRecorded, scopes.ClaimSubmitted, scopes.TaxpayerRegistered, scopes.IdNumberClaimed],
      ['population.basic', 'population.household', 'urban.incidents', 'healthcare.records', 'healthcare.claims', 'tax.declarations', undefined],
    );
    assert.deepEqual(scopesOf(rules), ['healthcare.claims', 'healthcare.records', 'population.basic', 'population.household', 'tax.declarations', 'urban.incidents']);
  });

  it('name a scoped key subject#scope, list every key id of a subject, and refuse a subject id that could name another subject\'s key', () => {
    assert.equal(keyIdOf('p-1', 'healthcare.records'), 'p-1#healthcare.records');
    assert.equal(keyIdOf('p-1', undefined), 'p-1');
    assert.deepEqual(keyIdsOfSubject('p-1', ['healthcare.claims', 'healthcare.records']), ['p-1', 'p-1#healthcare.claims', 'p-1#healthcare.records']);
    assert.throws(() => keyIdOf('p-1#healthcare.records', 'urban.reporters'), /subject id "p-1#healthcare.records" holds "#"/);
  });
});
