/**
 * What market regulation delivers through the aggregation channel (kit/ingest.ts): the register of
 * legal persons (full snapshot, then increments) and their annual reports. Each record is decided by
 * the legal-person decider and the mutations' rules (`registerLegalPerson` with its representative
 * check and credit-code claim, `changeRegisteredAddress`, `changeLegalRepresentative`,
 * `fileAnnualReport`), planned a chunk at a time on one read (kit/batchPlan.ts).
 *
 * A legal person is named by the delivering department and the record's source id (`entityIdOf`):
 * delivering the register again compares each record with the register: the same → `unchanged`; a
 * new registered address or representative → `changed` (their change events, dated `changedOn`, or
 * the day the source collected the record); any other difference is refused naming the field.
 */
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { ValidationError } from '../../events/errors.ts';
import { factRecord, plannedKind, type Chunk, type RecordPlanner } from '../kit/batchPlan.ts';
import { chinaDate } from '../kit/calendar.ts';
import type { IngestKind } from '../kit/ingest.ts';
import { entityIdOf, erased, exactlyOne, integer, recordSchema, yuan } from '../kit/ingestSchema.ts';
import { personEvolver, personFactsOf } from '../population/facts.ts';
import { personStreamId } from '../population/person/events.ts';
import { assertRepresentative, creditCodes, SUPERVISION_SOURCE } from './handlers.ts';
import { validateCreditCode } from './identity/creditCode.ts';
import type { RegisterLegalPerson } from './legalPerson/commands.ts';
import { legalPersonDecider } from './legalPerson/decider.ts';
import { legalPersonStreamId, LEGAL_PERSON_TYPES, type LegalPersonRegistered } from './legalPerson/events.ts';
import { INDUSTRY_SECTION_LETTERS } from './legalPerson/industry.ts';
import { parseYuan } from './views.ts';

const RESOURCE = 'legal-person.write';
const DEPARTMENT = 'market-regulation';

/**
 * A legal person of the register, as `registerLegalPerson` takes it. CSV: `registeredAddress.address`,
 * `registeredAddress.divisionCode`, `industry.section`, `industry.name` columns. `changedOn`
 * (`YYYY-MM-DD`) dates a changed address or representative.
 */
const legalPersonSchema = recordSchema({
  creditCode: z.string(),
  name: z.string(),
  type: z.enum(LEGAL_PERSON_TYPES),
  legalRepresentativeId: z.string(),
  registeredAddress: z.object({ address: z.string(), divisionCode: z.string() }),
  registeredCapital: yuan(),
  industry: z.object({ section: z.enum(INDUSTRY_SECTION_LETTERS), name: z.string() }),
  establishedOn: z.string(),
  changedOn: z.string().optional(),
});
export type LegalPersonRecordData = z.output<typeof legalPersonSchema>;

/** What the register holds that no change command covers: a record that disagrees is refused, naming the field. */
const UNCHANGEABLE = ['creditCode', 'name', 'type', 'registeredCapitalFen', 'industry', 'establishedOn'] as const;
const INPUT_FIELD: Record<(typeof UNCHANGEABLE)[number], string> = {
  creditCode: 'creditCode',
  name: 'name',
  type: 'type',
  registeredCapitalFen: 'registeredCapital',
  industry: 'industry',
  establishedOn: 'establishedOn',
};

const planLegalPerson: RecordPlanner<LegalPersonRecordData> = (record, now) => {
  const { data } = record;
  const legalPersonId = entityIdOf(record, 'legal-persons');
  const streamId = legalPersonStreamId(legalPersonId);
  const creditCode = validateCreditCode(data.creditCode);
  const representativeStream = personStreamId(data.legalRepresentativeId);
  const requireRepresentative = (chunk: Chunk) =>
    assertRepresentative(data.legalRepresentativeId, personFactsOf(data.legalRepresentativeId, chunk.state(personEvolver, representativeStream)));
  return {
    primaryStream: streamId,
    streams: [representativeStream],
    claims: creditCode.ok ? [{ key: creditCodes, value: creditCode.creditCode }] : [],
    decide(chunk) {
      const command: RegisterLegalPerson = {
        type: 'registerLegalPerson',
        data: {
          legalPersonId,
          creditCode: data.creditCode,
          name: data.name,
          type: data.type,
          legalRepresentativeId: data.legalRepresentativeId,
          registeredAddress: { address: data.registeredAddress.address, divisionCode: data.registeredAddress.divisionCode },
          registeredCapitalFen: parseYuan(data.registeredCapital, 'registeredCapital'),
          industry: { section: data.industry.section, name: data.industry.name },
          establishedOn: data.establishedOn,
        },
        metadata: { now },
      };
      const state = chunk.state(legalPersonDecider, streamId);
      if (state.status === 'UNREGISTERED') {
        const [registered] = chunk.decide(legalPersonDecider, streamId, command) as LegalPersonRegistered[];
        if (!registered) throw new Error('registerLegalPerson decided no LegalPersonRegistered event');
        requireRepresentative(chunk);
        chunk.claim(creditCodes, registered.data.creditCode, legalPersonId);
        return 'created';
      }
      // The registration the record would make, normalised and checked by the same rules, against the register.
      const [wanted] = legalPersonDecider.decide(command, legalPersonDecider.initialState()) as LegalPersonRegistered[];
      const held = state.legalPerson;
      for (const key of UNCHANGEABLE) {
        if (!isDeepStrictEqual(wanted!.data[key], held[key])) {
          const field = INPUT_FIELD[key];
          throw new ValidationError(
            `${field} differs from what the register holds for this legal person; a register delivery changes the registered address and the legal representative only; correct the source record`,
            { field },
          );
        }
      }
      const changedOn = data.changedOn ?? chinaDate(record.metadata.provenance.collectedAt, 'collectedAt');
      const { registeredAddress, legalRepresentativeId } = wanted!.data;
      let decided: 'changed' | 'unchanged' = 'unchanged';
      if (registeredAddress.address !== held.registeredAddress.address || registeredAddress.divisionCode !== held.registeredAddress.divisionCode) {
        chunk.decide(legalPersonDecider, streamId, { type: 'changeRegisteredAddress', data: { legalPersonId, registeredAddress, changedOn }, metadata: { now } });
        decided = 'changed';
      }
      if (legalRepresentativeId !== held.legalRepresentativeId) {
        requireRepresentative(chunk);
        chunk.decide(legalPersonDecider, streamId, { type: 'changeLegalRepresentative', data: { legalPersonId, legalRepresentativeId, changedOn }, metadata: { now } });
        decided = 'changed';
      }
      return decided;
    },
  };
};

/**
 * An annual report (`fileAnnualReport`): the legal person by id, or by the source id of this
 * department's `legal-persons` record (`legalPersonSourceRecordId`); `revenue` in yuan.
 */
const annualReportSchema = recordSchema({
  legalPersonId: z.string().optional(),
  legalPersonSourceRecordId: z.string().optional(),
  year: integer(),
  employees: integer(),
  revenue: yuan(),
}).refine(...exactlyOne('legalPersonId', 'legalPersonSourceRecordId'));
export type AnnualReportRecordData = z.output<typeof annualReportSchema>;

const planAnnualReport: RecordPlanner<AnnualReportRecordData> = (record, now) => {
  const { data } = record;
  const legalPersonId = data.legalPersonId ?? entityIdOf(record, 'legal-persons', data.legalPersonSourceRecordId);
  const streamId = legalPersonStreamId(legalPersonId);
  return factRecord(legalPersonDecider, streamId, [], () => ({
    type: 'fileAnnualReport' as const,
    data: { legalPersonId, year: data.year, employees: data.employees, revenueFen: parseYuan(data.revenue, 'revenue') },
    metadata: { now },
  }));
};

export const legalPersonsKind = plannedKind<LegalPersonRecordData>(
  {
    name: 'legal-persons',
    title: '法人登记 legal persons of the register',
    resource: RESOURCE,
    department: DEPARTMENT,
    system: '企业登记注册系统',
    schema: legalPersonSchema,
  },
  planLegalPerson,
);

export const annualReportsKind = plannedKind<AnnualReportRecordData>(
  {
    name: 'annual-reports',
    title: '企业年报 annual reports of legal persons',
    resource: RESOURCE,
    department: DEPARTMENT,
    system: SUPERVISION_SOURCE.system,
    schema: annualReportSchema,
  },
  planAnnualReport,
);

export const legalPersonIngestKinds: readonly IngestKind[] = [erased(legalPersonsKind), erased(annualReportsKind)];
