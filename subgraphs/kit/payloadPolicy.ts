/**
 * Every field of every event payload, classified against the data catalog (DESIGN §2, "one
 * policy, every path"): the single source of truth the event feed applies, so a payload reveals no
 * more than the graph's fields over the same data. `payloadPolicy.unit.spec.ts` walks the schema of
 * every registered event type and fails when one of its fields is missing here.
 *
 * The rules, per event:
 * - The event is delivered only under a grant to SUBSCRIBE its `resource`; `internal` events
 *   (natural-key claims, case-serial registers: bookkeeping whose stream ids embed ID numbers and
 *   credit codes) are never delivered.
 * - Each field is served only under a grant covering its own resource (SUBSCRIBE or READ, as a
 *   field below the graph's subscription root); a field without one is left out of the payload.
 * - A field with a `mask` is masked when every grant covering its resource says `masked`.
 * - A field that is `partOf` a masked resource (the birth date inside the ID number) is served
 *   exactly only under a grant giving that resource in clear; otherwise it is generalised (the birth
 *   year), so a masked value cannot be rebuilt from the fields beside it.
 * - A field not classified here is never served (a payload shape newer than this table fails closed).
 */
import { maskValue, type MaskKind } from './access.ts';

/** How a field that is part of a masked value is shown when that value is not served in clear. */
export type Generalisation = 'YEAR';

export interface FieldPolicy {
  resource: string;
  mask?: MaskKind;
  partOf?: { resource: string; generalise: Generalisation };
}

export interface EventPolicy {
  /** The resource an event of this type is delivered under. */
  resource: string;
  /** Payload paths (dot-separated, arrays transparent) holding ids of persons or legal persons the event is about. */
  subjects: readonly string[];
  /** Every leaf path of the payload and its policy. */
  fields: Readonly<Record<string, FieldPolicy>>;
}

export const INTERNAL = 'internal';
export type EventClassification = EventPolicy | typeof INTERNAL;

/** The classifications of one feed domain's event types, by type. */
export type DomainClassifications = Readonly<Record<string, EventClassification>>;

type FieldSpec = string | FieldPolicy;

/** An event delivered under `resource` whose fields belong to `resource` unless `fields` says otherwise. */
function event(resource: string, subjects: readonly string[], paths: readonly string[], own: Readonly<Record<string, FieldSpec>> = {}): EventPolicy {
  const fields: Record<string, FieldPolicy> = {};
  for (const path of paths) fields[path] = { resource };
  for (const [path, spec] of Object.entries(own)) fields[path] = typeof spec === 'string' ? { resource: spec } : spec;
  return { resource, subjects, fields };
}

const addressPaths = (prefix: string): string[] => [`${prefix}.address`, `${prefix}.divisionCode`];
const centrePaths = (prefix: string): string[] => [`${prefix}.level`, `${prefix}.divisionCode`];

const POPULATION_BASIC = 'population.basic';
const POPULATION_IDENTITY = 'population.identity';
const HOUSEHOLD = 'population.household';
const idNumber: FieldPolicy = { resource: POPULATION_IDENTITY, mask: 'ID_NUMBER' };
/** The birth date is digits 7-14 of the ID number. */
const birthDate: FieldPolicy = { resource: POPULATION_BASIC, partOf: { resource: POPULATION_IDENTITY, generalise: 'YEAR' } };

const population: DomainClassifications = {
  PersonRegistered: event(POPULATION_BASIC, ['personId'], ['personId', 'name', 'gender', ...addressPaths('residence'), 'reason'], { idNumber, birthDate }),
  ResidenceChanged: event(POPULATION_BASIC, ['personId'], ['personId', ...addressPaths('residence'), ...addressPaths('previousResidence'), 'movedOn']),
  GuardianAssigned: event(POPULATION_BASIC, ['personId', 'guardianId'], ['personId', 'guardianId', 'relation']),
  PersonDeceased: event(POPULATION_BASIC, ['personId'], ['personId', 'dateOfDeath', 'place', 'certificateNo']),
  SurvivalConfirmed: event(POPULATION_BASIC, ['personId'], ['personId', 'method', 'source', 'confirmedAt']),
  HouseholdEstablished: event(HOUSEHOLD, ['headId'], ['householdId', 'headId', 'address', 'divisionCode']),
  HouseholdMemberJoined: event(HOUSEHOLD, ['personId'], ['personId', 'relationToHead', 'householdId']),
  HouseholdMemberLeft: event(HOUSEHOLD, ['personId'], ['householdId', 'personId', 'reason']),
  HouseholdHeadChanged: event(
    HOUSEHOLD,
    ['headId', 'previousHeadId', 'relationsToHead.personId'],
    ['householdId', 'headId', 'previousHeadId', 'relationsToHead.personId', 'relationsToHead.relationToHead'],
  ),
  IdNumberClaimed: INTERNAL,
  IdNumberReleased: INTERNAL,
};

const LEGAL_PERSON = 'legal-person.basic';
const legalPerson: DomainClassifications = {
  LegalPersonRegistered: event(
    LEGAL_PERSON,
    ['legalPersonId', 'legalRepresentativeId'],
    ['legalPersonId', 'name', 'type', 'legalRepresentativeId', ...addressPaths('registeredAddress'), 'registeredCapitalFen', 'industry.section', 'industry.name', 'establishedOn'],
    { creditCode: 'legal-person.identity' },
  ),
  LegalRepresentativeChanged: event(
    LEGAL_PERSON,
    ['legalPersonId', 'legalRepresentativeId', 'previousLegalRepresentativeId'],
    ['legalPersonId', 'legalRepresentativeId', 'previousLegalRepresentativeId', 'changedOn'],
  ),
  RegisteredAddressChanged: event(LEGAL_PERSON, ['legalPersonId'], ['legalPersonId', ...addressPaths('registeredAddress'), ...addressPaths('previousRegisteredAddress'), 'changedOn']),
  AnnualReportFiled: event(LEGAL_PERSON, ['legalPersonId'], ['legalPersonId', 'year', 'employees', 'revenueFen']),
  LegalPersonRevoked: event(LEGAL_PERSON, ['legalPersonId'], ['legalPersonId', 'reason', 'revokedOn']),
  LegalPersonDeregistered: event(LEGAL_PERSON, ['legalPersonId'], ['legalPersonId', 'deregisteredOn']),
  CreditCodeClaimed: INTERNAL,
  CreditCodeReleased: INTERNAL,
};

const INCIDENTS = 'urban.incidents';
/** Citizens who report incidents are third parties: their names are personal data of their own resource. */
const REPORTERS = 'urban.reporters';
const urbanOps: DomainClassifications = {
  IncidentReported: event(
    INCIDENTS,
    [],
    ['incidentId', 'channel', 'category', 'subcategory', 'description', 'location.longitude', 'location.latitude', 'location.address', 'divisionCode', 'reporter.kind', 'attachments', 'reportedAt'],
    { 'reporter.id': REPORTERS, 'reporter.name': { resource: REPORTERS, mask: 'NAME' } },
  ),
  IncidentRegistered: event(INCIDENTS, [], ['incidentId', 'caseNumber', 'urgency', 'limitMinutes', 'level', 'divisionCode', 'registeredAt']),
  IncidentRejected: event(INCIDENTS, [], ['incidentId', 'reason', 'duplicateOfId', 'note', ...centrePaths('rejectedBy'), 'rejectedAt']),
  IncidentDispatched: event(INCIDENTS, [], ['incidentId', 'unitId', 'unitName', 'level', 'divisionCode', ...centrePaths('dispatchedBy'), 'deadline', 'dispatchedAt']),
  IncidentReturned: event(INCIDENTS, [], ['incidentId', 'unitId', 'reason', ...centrePaths('returnedTo'), 'returnedAt']),
  IncidentEscalated: event(INCIDENTS, [], [
    'incidentId',
    'trigger',
    'fromLevel',
    'fromDivisionCode',
    'toLevel',
    'toDivisionCode',
    'reason',
    ...centrePaths('escalatedBy'),
    'escalatedBy.unitId',
    'escalatedAt',
  ]),
  IncidentHandlingStarted: event(INCIDENTS, [], ['incidentId', 'unitId', 'startedAt']),
  IncidentHandled: event(INCIDENTS, [], ['incidentId', 'unitId', 'evidence', 'note', 'handledAt']),
  IncidentVerificationPassed: event(INCIDENTS, [], ['incidentId', ...centrePaths('verifiedBy'), 'verifiedBy.unitId', 'note', 'verifiedAt']),
  IncidentVerificationFailed: event(INCIDENTS, [], ['incidentId', ...centrePaths('verifiedBy'), 'verifiedBy.unitId', 'reason', 'verifiedAt']),
  IncidentClosed: event(INCIDENTS, [], ['incidentId', 'closedAt', 'onTime']),
  IncidentEvaluated: event(INCIDENTS, [], ['incidentId', 'satisfaction', 'comment', 'evaluatedAt']),
  IncidentOverdue: event(INCIDENTS, [], ['incidentId', 'deadline', 'detectedAt']),
  IncidentSupervised: event(INCIDENTS, [], ['incidentId', 'level', 'divisionCode', 'note', 'supervisedAt', 'deadline']),
  CaseSerialAllocated: INTERNAL,
};

const AIR = 'environment.air';
const EMISSIONS = 'environment.emissions';
const pollutants = ['pm2_5', 'pm10', 'so2', 'no2', 'co', 'o3'];
const environment: DomainClassifications = {
  MonitoringStationRegistered: event(AIR, [], ['stationId', 'code', 'name', 'kind', 'location.longitude', 'location.latitude', 'divisionCode']),
  AirQualityObserved: event(AIR, [], ['stationId', 'hour', ...pollutants]),
  AirQualityObservationCorrected: event(AIR, [], ['stationId', 'hour', ...pollutants, 'reason']),
  EmissionPermitIssued: event(EMISSIONS, ['legalPersonId'], [
    'permitId',
    'legalPersonId',
    'permitNo',
    'outlets.outletId',
    'outlets.name',
    'outlets.pollutants.pollutant',
    'outlets.pollutants.limit',
    'outlets.pollutants.unit',
    'validFrom',
    'validUntil',
  ]),
  EmissionObserved: event(EMISSIONS, [], ['permitId', 'outletId', 'pollutant', 'value', 'unit', 'observedAt']),
  EmissionAlarmRaised: event(EMISSIONS, ['legalPersonId'], [
    'alarmId',
    'permitId',
    'legalPersonId',
    'outletId',
    'pollutant',
    'value',
    'limit',
    'unit',
    'observedAt',
    'raisedAt',
    'acknowledgeBy',
  ]),
  EmissionAlarmAcknowledged: event(EMISSIONS, [], ['alarmId', 'by', 'at']),
  EmissionAlarmResolved: event(EMISSIONS, [], ['alarmId', 'evidence', 'note', 'at']),
  EmissionAlarmEscalated: event(EMISSIONS, [], ['alarmId', 'reason', 'at']),
};

const RECORDS = 'healthcare.records';
const CLAIMS = 'healthcare.claims';
const healthcare: DomainClassifications = {
  MedicalVisitRecorded: event(RECORDS, ['personId'], ['visitId', 'personId', 'hospitalCode', 'department', 'diagnoses', 'visitedAt', 'visitDate']),
  ExamResultRecorded: event(RECORDS, ['personId'], ['examId', 'personId', 'examType', 'hospitalCode', 'result', 'abnormal', 'performedAt', 'recognitionDays', 'recognizedUntil']),
  VaccinationRecorded: event(RECORDS, ['personId'], ['vaccinationId', 'personId', 'vaccine', 'dose', 'hospitalCode', 'administeredAt']),
  HealthRecordClosed: event(RECORDS, ['personId'], ['personId', 'reason', 'dateOfDeath', 'deathEventId', 'closedAt']),
  // The patient of a claim is a data subject of the claims resource (RESTRICTED), like the graph's `Claim.person`.
  ClaimSubmitted: event(CLAIMS, ['personId'], ['claimId', 'personId', 'hospitalCode', 'serviceDate', 'items.code', 'items.name', 'items.quantity', 'items.unitPriceFen', 'totalFen', 'submittedAt']),
  ClaimScreened: event(CLAIMS, [], [
    'claimId',
    'outcome',
    'flags.ruleId',
    'flags.explanation',
    'flags.evidence.type',
    'flags.evidence.eventId',
    'flags.evidence.streamId',
    'flags.evidence.position',
    'trigger',
    'limits.maxItemQuantity',
    'limits.maxClaimTotalFen',
    'screenedAt',
  ]),
  ClaimReviewed: event(CLAIMS, [], ['claimId', 'finding', 'reviewer', 'note', 'reviewedAt']),
  ClaimSettled: event(CLAIMS, [], ['claimId', 'amountFen', 'settledAt']),
  ClaimRejected: event(CLAIMS, [], ['claimId', 'reason', 'rejectedAt']),
};

const DECLARATIONS = 'tax.declarations';
const RISKS = 'tax.risks';
const tax: DomainClassifications = {
  // A natural person's taxpayer number is their ID number and their name is personal data: masked as the graph's `Taxpayer` masks them.
  TaxpayerRegistered: event(DECLARATIONS, ['subject.id'], ['taxpayerId', 'subject.kind', 'subject.id', 'divisionCode', 'registeredAt'], {
    taxpayerNumber: { resource: DECLARATIONS, mask: 'ID_NUMBER' },
    name: { resource: DECLARATIONS, mask: 'NAME' },
  }),
  TaxDeclared: event(DECLARATIONS, [], ['taxpayerId', 'declarationId', 'taxType', 'period', 'propertyTransactionId', 'taxableAmountFen', 'taxFen', 'declaredAt']),
  TaxDeclarationAmended: event(DECLARATIONS, [], [
    'taxpayerId',
    'declarationId',
    'taxableAmountFen',
    'taxFen',
    'previousTaxableAmountFen',
    'previousTaxFen',
    'reason',
    'amendedAt',
  ]),
  TaxPaid: event(DECLARATIONS, [], ['taxpayerId', 'declarationId', 'paymentId', 'amountFen', 'paidAt']),
  PropertyTransactionRecorded: event(DECLARATIONS, ['seller.id', 'buyer.id'], [
    'transactionId',
    'property.unitNumber',
    'property.address',
    'property.divisionCode',
    'seller.kind',
    'seller.id',
    'buyer.kind',
    'buyer.id',
    'priceFen',
    'contractDate',
  ]),
  TaxRiskFlagged: event(RISKS, ['buyer.id'], ['riskId', 'riskType', 'transactionId', 'buyer.kind', 'buyer.id', 'dueOn', 'deadlineDays', 'flaggedAt']),
  DeedTaxDeclarationMatched: event(DECLARATIONS, [], ['transactionId', 'taxpayerId', 'declarationId', 'declaredAt']),
  TaxExemptionRecorded: event(DECLARATIONS, [], ['transactionId', 'basis', 'documentNo', 'reason', 'recordedAt']),
  TaxRiskResolved: event(RISKS, [], ['riskId', 'transactionId', 'resolution', 'taxpayerId', 'declarationId', 'documentNo', 'resolvedAt']),
  TaxpayerSubjectClaimed: INTERNAL,
  TaxpayerSubjectReleased: INTERNAL,
};

const AUDIT = 'audit.log';
const COUNT_PATHS = ['received', 'created', 'changed', 'unchanged', 'alreadyPresent', 'rejected'];
const REJECT_PATHS = ['rejects.line', 'rejects.sourceRecordId', 'rejects.code', 'rejects.field', 'rejects.message'];
const ADMIN = 'governance.admin';
const governance: DomainClassifications = {
  ConsumerRegistered: event(ADMIN, [], ['consumerId', 'name', 'kind', 'department']),
  AccessGranted: event(ADMIN, [], ['grantId', 'consumerId', 'resources', 'actions', 'purpose', 'validFrom', 'validUntil', 'masked', 'approver']),
  AccessRevoked: event(ADMIN, [], ['grantId', 'reason', 'revokedBy']),
  JurisdictionAssigned: event(ADMIN, [], ['consumerId', 'divisionCode', 'unitId', 'unitName', 'assignedBy']),
  UnitRegistered: event(ADMIN, [], ['unitId', 'unitName', 'divisionCode', 'registeredBy']),
  DataAccessed: event(AUDIT, [], [
    'consumerId',
    'grantIds',
    'operationName',
    'operationHash',
    'resources',
    'subjectIds',
    'eventIds',
    'purpose',
    'requestId',
    // Feed deliveries of one event to a grant group's further subscriptions (audit.ts).
    'otherRequestIds',
    'subgraph',
    'at',
  ]),
  // An erasure names its subject by id only, like an access record.
  PersonalDataErased: event(ADMIN, ['subjectId'], ['subjectId', 'legalBasis', 'approver', 'erasedBy', 'erasedAt']),
  PersonalDataExpired: event(ADMIN, ['subjectId'], ['subjectId', 'scope', 'rule', 'dueAt', 'legalBasis', 'approver', 'erasedBy', 'erasedAt']),
  DataIssueReported: event(AUDIT, [], ['issueId', 'entityType', 'entityId', 'field', 'description', 'resource', 'department', 'reportedBy', 'reportedAt']),
  DataIssueResolved: event(AUDIT, [], ['issueId', 'correction', 'resolvedBy', 'resolvedAt']),
  // Batches of the aggregation channel: counts and rejects (line, source record id, field, rule), never delivered values.
  IngestBatchStarted: event(AUDIT, [], ['batchId', 'kind', 'resource', 'department', 'system', 'channel', 'fingerprint', 'chunkSize', 'consumerId', 'grantId', 'startedAt']),
  IngestBatchProgressed: event(AUDIT, [], ['batchId', 'chunk', ...COUNT_PATHS.map((c) => `counts.${c}`), ...REJECT_PATHS, 'rejectedByCode.code', 'rejectedByCode.count', 'at']),
  IngestBatchRejectsRecorded: event(AUDIT, [], ['batchId', 'chunk', ...REJECT_PATHS]),
  IngestBatchCompleted: event(AUDIT, [], ['batchId', 'chunks', ...COUNT_PATHS.map((c) => `totals.${c}`), 'completedAt']),
};

/** Every event type of every feed domain (the domain names of the feed filter), classified. */
export const EVENT_CLASSIFICATIONS: Readonly<Record<string, DomainClassifications>> = {
  population,
  'legal-person': legalPerson,
  'urban-ops': urbanOps,
  environment,
  healthcare,
  tax,
  governance,
};

/** A classification table looked up by event type and by feed domain. */
export class FeedClassifications {
  private readonly byType: ReadonlyMap<string, EventClassification>;
  private readonly byDomain: ReadonlyMap<string, ReadonlySet<string>>;

  constructor(readonly table: Readonly<Record<string, DomainClassifications>> = EVENT_CLASSIFICATIONS) {
    this.byType = new Map(Object.values(table).flatMap((domain) => Object.entries(domain)));
    this.byDomain = new Map(
      Object.entries(table).map(([domain, types]) => [domain, new Set(Object.values(types).flatMap((c) => (c === INTERNAL ? [] : [c.resource])))]),
    );
  }

  /** The classification of `type`; `undefined` for a type no table lists. */
  of(type: string): EventClassification | undefined {
    return this.byType.get(type);
  }

  /** The resources the events of `domain` are delivered under. */
  resourcesOfDomain(domain: string): ReadonlySet<string> {
    return this.byDomain.get(domain) ?? new Set();
  }
}

const GENERALISERS: Record<Generalisation, (value: unknown) => unknown> = {
  // `YYYY-MM-DD` → `YYYY`.
  YEAR: (value) => (typeof value === 'string' ? value.slice(0, 4) : null),
};

/** What a consumer's grants give on a resource: `null` for nothing, else whether only masked. */
export type ResourceCover<C extends { masked: boolean }> = (resource: string) => C | null;

/** A payload as one consumer may receive it, and the resources (with their coverage) of the fields it holds. */
export interface ServedPayload<C> {
  payload: unknown;
  served: Map<string, C>;
}

/** `data` of an event with `policy`, as the grants `cover` describes allow it to be served (see the module comment). */
export function servePayload<C extends { masked: boolean }>(data: unknown, policy: EventPolicy, cover: ResourceCover<C>): ServedPayload<C> {
  const served = new Map<string, C>();
  const leaf = (path: string, value: unknown): { value: unknown } | undefined => {
    const field = policy.fields[path];
    if (!field) return undefined;
    const coverage = cover(field.resource);
    if (!coverage) return undefined;
    served.set(field.resource, coverage);
    let out = value;
    if (field.mask && coverage.masked && value !== null && value !== undefined) out = maskValue(field.mask, value);
    if (field.partOf) {
      const whole = cover(field.partOf.resource);
      if (!whole || whole.masked) out = GENERALISERS[field.partOf.generalise](value);
    }
    return { value: out };
  };
  const walk = (path: string, value: unknown): { value: unknown } | undefined => {
    if (Array.isArray(value)) {
      // Arrays are transparent in paths: `items.code` is the `code` of every item.
      const items = value.map((item) => walk(path, item));
      return items.every((item) => item === undefined) && value.length ? undefined : { value: items.filter((i) => i !== undefined).map((i) => i!.value) };
    }
    if (typeof value === 'object' && value !== null) {
      const out: Record<string, unknown> = {};
      let kept = 0;
      for (const [key, inner] of Object.entries(value)) {
        const result = walk(path ? `${path}.${key}` : key, inner);
        if (result) {
          out[key] = result.value;
          kept++;
        }
      }
      return kept || Object.keys(value).length === 0 ? { value: out } : undefined;
    }
    return leaf(path, value);
  };
  return { payload: walk('', data)?.value ?? {}, served };
}

/** The ids of the persons and legal persons an event with `policy` is about. */
export function subjectsOf(data: unknown, policy: EventPolicy): string[] {
  const ids = new Set<string>();
  const collect = (value: unknown, segments: readonly string[]): void => {
    if (Array.isArray(value)) {
      for (const item of value) collect(item, segments);
      return;
    }
    if (segments.length === 0) {
      if (typeof value === 'string' && value) ids.add(value);
      return;
    }
    if (typeof value === 'object' && value !== null) collect((value as Record<string, unknown>)[segments[0]!], segments.slice(1));
  };
  for (const path of policy.subjects) collect(data, path.split('.'));
  return [...ids];
}
