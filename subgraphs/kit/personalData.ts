/**
 * Which fields of which events are personal data, encrypted per data subject at append
 * (crypto-shredding, events/crypto/). Derived from the payload classification (payloadPolicy.ts):
 * every field the catalog masks (ID numbers, names, natural persons' taxpayer numbers) is personal,
 * plus the details listed here that the feed serves in clear under their own restricted resource
 * (names of persons, addresses below community level, diagnoses and results, a death's place and
 * certificate). Fields statistics rest on stay in clear (ids, division codes, dates, gender, amounts,
 * catalog codes), so counts stay right after an erasure. `personalData.unit.spec.ts` fails when a
 * masked field has no data subject here.
 */
import type { PersonalFieldRule } from '../../events/crypto/personalFields.ts';
import { EVENT_CLASSIFICATIONS, INTERNAL, type DomainClassifications, type EventPolicy } from './payloadPolicy.ts';

/** Whose personal data an event type holds: the payload path of the subject's id (and a condition). */
export const PERSONAL_DATA_SUBJECTS: Readonly<Record<string, Omit<PersonalFieldRule, 'fields'>>> = {
  PersonRegistered: { subject: 'personId' },
  ResidenceChanged: { subject: 'personId' },
  PersonDeceased: { subject: 'personId' },
  HouseholdEstablished: { subject: 'headId' },
  // A person's report is theirs: under the key of the citizen or grid worker who gave an id, else
  // under the incident's own (a pseudonymous subject, erased by the incident id). A device's holds nothing personal.
  IncidentReported: { subject: ['reporter.id', 'incidentId'], when: { path: 'reporter.kind', equals: ['CITIZEN', 'GRID_WORKER'] } },
  MedicalVisitRecorded: { subject: 'personId' },
  ExamResultRecorded: { subject: 'personId' },
  ClaimSubmitted: { subject: 'personId' },
  // A legal person's taxpayer number and name are public registration data, not personal.
  TaxpayerRegistered: { subject: 'subject.id', when: { path: 'subject.kind', equals: 'PERSON' } },
};

/** Personal fields the payload policy does not mask (served in clear under a restricted resource). */
export const PERSONAL_DETAILS: Readonly<Record<string, readonly string[]>> = {
  PersonRegistered: ['name', 'residence.address'],
  ResidenceChanged: ['residence.address', 'previousResidence.address'],
  PersonDeceased: ['place', 'certificateNo'],
  HouseholdEstablished: ['address'],
  MedicalVisitRecorded: ['diagnoses'],
  ExamResultRecorded: ['result'],
  ClaimSubmitted: ['items.name'],
  // Free text that often names people (a neighbour, a phone number to call back).
  IncidentReported: ['description'],
};

/** Internal events holding personal data: an ID-number claim names the number (its stream id a pseudonym of it: kit/naturalKey.ts). */
const INTERNAL_PERSONAL: Readonly<Record<string, PersonalFieldRule>> = {
  IdNumberClaimed: { subject: 'ownerId', fields: ['key'] },
  IdNumberReleased: { subject: 'ownerId', fields: ['key'] },
};

/** The personal field rules by event type, from the payload classification and the tables above. */
export function personalFieldRules(classifications: Readonly<Record<string, DomainClassifications>> = EVENT_CLASSIFICATIONS): Map<string, PersonalFieldRule> {
  const rules = new Map<string, PersonalFieldRule>();
  for (const domain of Object.values(classifications)) {
    for (const [type, policy] of Object.entries(domain)) {
      const subject = PERSONAL_DATA_SUBJECTS[type];
      if (policy === INTERNAL && INTERNAL_PERSONAL[type]) rules.set(type, INTERNAL_PERSONAL[type]);
      if (policy === INTERNAL || !subject) continue;
      const masked = Object.entries(policy.fields).flatMap(([path, field]) => (field.mask ? [path] : []));
      const fields = [...new Set([...masked, ...(PERSONAL_DETAILS[type] ?? [])])];
      rules.set(type, { ...subject, fields, scope: scopeOf(policy, fields) });
    }
  }
  return rules;
}

/**
 * The catalog resource an event type's personal values are sealed under (their key's scope, which
 * a retention rule names): theirs when they all belong to one, else the event's. Internal events
 * have none: they stay under the subject's own key, erased only with the whole subject.
 */
function scopeOf(policy: EventPolicy, fields: readonly string[]): string {
  const resources = new Set(fields.map((path) => policy.fields[path]?.resource ?? policy.resource));
  return resources.size === 1 ? [...resources][0]! : policy.resource;
}
