/**
 * Demo health records and claims for the demo city's persons (read from the population events in
 * the store): visits at hospitals of the person's district, exam results, vaccinations, and claims
 * for most visits, most of them settled. Then the claims screening must catch: duplicates of settled
 * claims, quantities and totals over the limits, services at a hospital not visited that day, and
 * services dated after a registered death (when the population data holds deaths).
 *
 * Everything goes through the command seam with the pure deciders. The seed screens with facts it
 * gathered itself (what it read and wrote), since read models may not have caught up during seeding.
 * Ids and choices come from a seeded generator and idempotency keys from the ids, so a re-run over
 * the same persons appends nothing.
 */
import { seededRandom, type Random } from '../kit/random.ts';
import { isEventOf } from '../../events/typedReads.ts';
import type { EventMetadata, Recorded } from '../../events/types.ts';
import type { PersonDeceased, PersonRegistered } from '../population/person/events.ts';
import { addDays, chinaDate, DAY_MS } from '../kit/calendar.ts';
import type { SubgraphRuntime } from '../kit/module.ts';
import { HOSPITALS, type Hospital } from './catalog.ts';
import type { SubmitClaim } from './claim/commands.ts';
import { eventRefOf, type PersonFacts } from './facts.ts';
import type { HealthRecordCommand } from './healthRecord/commands.ts';
import { handleClaim, handleHealthRecord } from './healthcareCommands.ts';
import { claimFingerprint, DEFAULT_SCREENING_LIMITS, type ClaimItem, type ScreeningLimits, type SettledClaimFact, type VisitFact } from './screening/rules.ts';

export interface SeedOptions {
  /** Persons given records and claims. @default 300 */
  persons?: number;
  /** @default 20221231 */
  seed?: number;
  limits?: ScreeningLimits;
}


/** Common outpatient items (codes in the national medical-insurance format) with prices in fen. */
const ITEMS: readonly ClaimItem[] = [
  { code: '001102000010000', name: '普通门诊诊查费', quantity: 1, unitPriceFen: 1000 },
  { code: '001102000020000', name: '副主任医师门诊诊查费', quantity: 1, unitPriceFen: 2500 },
  { code: '250101015000000', name: '血常规检查', quantity: 1, unitPriceFen: 2000 },
  { code: '250305012000000', name: '肝功能检测', quantity: 1, unitPriceFen: 4500 },
  { code: '210103002000000', name: '胸部CT平扫', quantity: 1, unitPriceFen: 18000 },
  { code: 'XJ01CAA040A001010100442', name: '阿莫西林胶囊', quantity: 2, unitPriceFen: 1250 },
  { code: 'XC09AAA044A001010101563', name: '卡托普利片', quantity: 3, unitPriceFen: 860 },
  { code: 'XA10BAA069A001010100208', name: '二甲双胍片', quantity: 4, unitPriceFen: 1530 },
  { code: 'ZA01AAA0014010102573', name: '连花清瘟胶囊', quantity: 2, unitPriceFen: 2580 },
];

const DIAGNOSES: readonly { department: string; codes: readonly string[] }[] = [
  { department: '呼吸内科', codes: ['J18.9', 'J06.9', 'J20.9'] },
  { department: '心血管内科', codes: ['I10', 'I25.1', 'I48.9'] },
  { department: '内分泌科', codes: ['E11.9', 'E78.5'] },
  { department: '消化内科', codes: ['K29.7', 'K21.9'] },
  { department: '骨科', codes: ['M54.5', 'M17.9'] },
  { department: '儿科', codes: ['J02.9', 'A09.9'] },
];

const EXAMS: readonly { examType: string; normal: string; abnormal: string }[] = [
  { examType: 'CBC', normal: '血常规各项指标在参考范围内', abnormal: '白细胞计数升高 12.3×10^9/L' },
  { examType: 'CHEST_CT', normal: '双肺未见明显异常', abnormal: '右肺下叶斑片状高密度影，考虑炎症' },
  { examType: 'LIVER_FUNCTION', normal: '肝功能正常', abnormal: '谷丙转氨酶 68 U/L，轻度升高' },
  { examType: 'ECG', normal: '窦性心律，正常心电图', abnormal: '窦性心律，ST-T 改变' },
  { examType: 'HBA1C', normal: '糖化血红蛋白 5.4%', abnormal: '糖化血红蛋白 7.8%' },
];

function uuid(random: Random): string {
  const hex = Array.from({ length: 32 }, () => random.int(0, 15).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${'89ab'[random.int(0, 3)]}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

interface SeedPerson {
  facts: PersonFacts;
  districtCode: string;
}

/** The demo city's persons and registered deaths, read from the population events in the store. */
async function readPersons(runtime: SubgraphRuntime, limit: number): Promise<SeedPerson[]> {
  const persons = new Map<string, SeedPerson>();
  const deaths: Recorded<PersonDeceased>[] = [];
  let fromPosition: string | undefined;
  for (;;) {
    const page = await runtime.store.readAll({ ...(fromPosition && { fromPosition }), limit: 1000, filter: { types: ['PersonRegistered', 'PersonDeceased'] } });
    for (const event of page) {
      if (isEventOf<PersonDeceased>(['PersonDeceased'], event)) deaths.push(event);
      else if (persons.size < limit && isEventOf<PersonRegistered>(['PersonRegistered'], event)) {
        const d = event.data;
        persons.set(d.personId, { facts: { personId: d.personId, birthDate: d.birthDate, death: null }, districtCode: d.residence.divisionCode.slice(0, 6) });
      }
    }
    if (page.length < 1000) break;
    fromPosition = page.at(-1)!.position;
  }
  for (const event of deaths) {
    const d = event.data;
    const person = persons.get(d.personId);
    if (person) person.facts.death = { dateOfDeath: d.dateOfDeath, evidence: eventRefOf(event) };
  }
  return [...persons.values()];
}

interface SeededClaim {
  claimId: string;
  personId: string;
  hospitalCode: string;
  serviceDate: string;
  items: ClaimItem[];
}

export async function seedHealthcare(runtime: SubgraphRuntime, options: SeedOptions = {}): Promise<void> {
  const random = seededRandom(options.seed ?? 20221231);
  const limits = options.limits ?? DEFAULT_SCREENING_LIMITS;
  const now = runtime.now();
  const nowIso = now.toISOString();
  const today = chinaDate(nowIso);
  const persons = await readPersons(runtime, options.persons ?? 300);
  const metadata: EventMetadata = {
    provenance: { department: 'jinan-health-commission', system: 'healthcare.seed', channel: 'seed', collectedAt: nowIso, batchId: 'demo-city' },
    actor: { consumerId: 'seed', role: 'admin' },
    correlationId: `healthcare-seed-${options.seed ?? 20221231}`,
  };
  /** Visits per `<personId>:<date>`, settled claims per fingerprint: the facts screening needs. */
  const visits = new Map<string, VisitFact[]>();
  const settled = new Map<string, SettledClaimFact[]>();
  const settledClaims: SeededClaim[] = [];

  const record = (person: SeedPerson, key: string, build: (p: PersonFacts) => HealthRecordCommand) =>
    handleHealthRecord(runtime.store, build(person.facts), metadata, { idempotencyKey: `healthcare.seed:${key}` });

  async function claim(person: PersonFacts, c: SeededClaim, settle: boolean): Promise<void> {
    const fingerprint = claimFingerprint(c);
    const command: SubmitClaim = {
      type: 'submitClaim',
      data: {
        ...c,
        person,
        facts: { death: person.death, visits: visits.get(`${c.personId}:${c.serviceDate}`) ?? [], settledClaims: settled.get(fingerprint) ?? [], limits },
      },
      metadata: { now: nowIso },
    };
    const submitted = await handleClaim(runtime.store, command, metadata, { idempotencyKey: `healthcare.seed:${c.claimId}` });
    if (!settle || submitted.state.status !== 'PASSED') return;
    const result = await handleClaim(
      runtime.store,
      { type: 'settleClaim', data: { claimId: c.claimId, recheck: { death: person.death, settledClaims: settled.get(fingerprint) ?? [] } }, metadata: { now: nowIso } },
      metadata,
      { idempotencyKey: `healthcare.seed:${c.claimId}:settle` },
    );
    const [submission] = submitted.events;
    const [settlement] = result.events;
    if (result.state.status === 'SETTLED' && submission && settlement) {
      settled.set(fingerprint, [...(settled.get(fingerprint) ?? []), { claimId: c.claimId, fingerprint, evidence: [eventRefOf(submission), eventRefOf(settlement)] }]);
      settledClaims.push(c);
    }
  }

  const pickItems = (): ClaimItem[] => {
    const first = random.pick(ITEMS);
    const second = random.pick(ITEMS);
    return first.code === second.code || random.next() < 0.4 ? [{ ...first }] : [{ ...first }, { ...second }];
  };

  const seeded: { person: SeedPerson; visitDates: { date: string; hospital: Hospital }[] }[] = [];
  for (const person of persons) {
    const { personId, birthDate, death } = person.facts;
    const local = HOSPITALS.filter((h) => h.districtCode === person.districtCode);
    const hospitalPool = local.length ? local : HOSPITALS;
    // Entries fall in the last 180 days of the person's life so far, never before birth.
    const lastDay = death && death.dateOfDeath < today ? Date.parse(`${death.dateOfDeath}T12:00:00+08:00`) : now.getTime() - DAY_MS;
    const firstDay = Math.max(lastDay - 180 * DAY_MS, Date.parse(`${birthDate}T12:00:00+08:00`));
    if (firstDay > lastDay) continue;
    const instant = () => new Date(firstDay + Math.floor(random.next() * (lastDay - firstDay))).toISOString();
    const visitDates: { date: string; hospital: Hospital }[] = [];

    for (let v = random.int(0, 4); v > 0; v--) {
      const hospital = random.pick(hospitalPool);
      const diagnosis = random.pick(DIAGNOSES);
      const visitId = uuid(random);
      const visitedAt = instant();
      const result = await record(person, visitId, (p) => ({
        type: 'recordMedicalVisit',
        data: { personId, person: p, visitId, hospitalCode: hospital.code, department: diagnosis.department, diagnoses: [random.pick(diagnosis.codes)], visitedAt },
        metadata: { now: nowIso },
      }));
      const event = result.events[0];
      const date = chinaDate(visitedAt);
      if (event) {
        const key = `${personId}:${date}`;
        visits.set(key, [...(visits.get(key) ?? []), { visitId, hospitalCode: hospital.code, visitDate: date, evidence: eventRefOf(event) }]);
      }
      visitDates.push({ date, hospital });
      if (random.next() < 0.4) {
        const exam = random.pick(EXAMS);
        const abnormal = random.next() < 0.3;
        const examId = uuid(random);
        await record(person, examId, (p) => ({
          type: 'recordExamResult',
          data: { personId, person: p, examId, examType: exam.examType, hospitalCode: hospital.code, result: abnormal ? exam.abnormal : exam.normal, abnormal, performedAt: visitedAt },
          metadata: { now: nowIso },
        }));
      }
    }
    if (random.next() < 0.5) {
      const vaccinationId = uuid(random);
      await record(person, vaccinationId, (p) => ({
        type: 'recordVaccination',
        data: { personId, person: p, vaccinationId, vaccine: 'INFLUENZA', dose: 1, hospitalCode: random.pick(hospitalPool).code, administeredAt: instant() },
        metadata: { now: nowIso },
      }));
    }
    seeded.push({ person, visitDates });
    for (const { date, hospital } of visitDates) {
      if (random.next() < 0.7) {
        await claim(person.facts, { claimId: uuid(random), personId, hospitalCode: hospital.code, serviceDate: date, items: pickItems() }, random.next() < 0.8);
      }
    }
  }

  // Claims screening must catch; each is held with its flags.
  for (const original of settledClaims.slice(0, 3)) {
    const person = persons.find((p) => p.facts.personId === original.personId)!;
    await claim(person.facts, { ...original, claimId: uuid(random) }, false);
  }
  const withVisits = seeded.filter((s) => s.visitDates.length > 0).slice(0, 6);
  for (const { person, visitDates } of withVisits.slice(0, 3)) {
    const { date, hospital } = visitDates[0]!;
    const items = [{ ...ITEMS[7]!, quantity: limits.maxItemQuantity + 50 }];
    await claim(person.facts, { claimId: uuid(random), personId: person.facts.personId, hospitalCode: hospital.code, serviceDate: date, items }, false);
  }
  for (const { person, visitDates } of withVisits.slice(3)) {
    const { date, hospital } = visitDates[0]!;
    const elsewhere = HOSPITALS.find((h) => h.code !== hospital.code && !visits.get(`${person.facts.personId}:${date}`)?.some((v) => v.hospitalCode === h.code))!;
    await claim(person.facts, { claimId: uuid(random), personId: person.facts.personId, hospitalCode: elsewhere.code, serviceDate: date, items: pickItems() }, false);
  }
  const deceased = persons.filter((p) => p.facts.death && addDays(p.facts.death.dateOfDeath, 3) <= today).slice(0, 3);
  for (const person of deceased) {
    const serviceDate = addDays(person.facts.death!.dateOfDeath, 3);
    await claim(person.facts, { claimId: uuid(random), personId: person.facts.personId, hospitalCode: random.pick(HOSPITALS).code, serviceDate, items: pickItems() }, false);
  }
  runtime.logger.info(
    { persons: seeded.length, settledClaims: settledClaims.length, deceasedClaims: deceased.length },
    deceased.length ? 'healthcare demo data seeded' : 'healthcare demo data seeded; the population data holds no deaths, so no deceased-patient claim was seeded',
  );
}
