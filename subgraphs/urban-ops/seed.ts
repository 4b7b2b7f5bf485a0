/**
 * Demo incidents for the demo city: spread over Jinan's communities, channels and categories, and
 * over every outcome of the closed loop — awaiting registration, rejected, waiting for dispatch,
 * dispatched, in handling, awaiting verification, closed on time or late, reworked, returned,
 * escalated, overdue and supervised, evaluated. Everything goes through the command path with the
 * decider, each step at its own instant in the last 30 days before `runtime.now()`.
 * Ids, choices and idempotency keys come from a seeded generator, so a re-run appends nothing.
 */
import { seededRandom, type Random } from '../kit/random.ts';
import { demoUnitOf } from '../kit/demoCity.ts';
import type { EventMetadata } from '../../events/types.ts';
import { divisionCatalog, getDivision, type Division } from '../kit/divisions/catalog.ts';
import type { SubgraphRuntime } from '../kit/module.ts';
import { listCategories } from './categories.ts';
import type { Actor, IncidentCommand, UnitRef } from './incident/commands.ts';
import type { Channel, Reporter } from './incident/events.ts';
import { CHANNELS } from './incident/events.ts';
import { registerIncident, runIncidentCommand, type IncidentResult } from './incidentCommands.ts';
import { levelOfCode } from './levels.ts';

export interface SeedOptions {
  /** @default 3000 */
  incidents?: number;
  /** @default 20220513 */
  seed?: number;
  /** Incidents seeded at once. @default 8 */
  concurrency?: number;
}

const MINUTE = 60_000;
/** The demo city's incidents: a few thousand, about 24,000 events through the commands. */
export const DEMO_INCIDENTS = 3000;

type Outcome =
  | 'pending'
  | 'rejected'
  | 'registered'
  | 'dispatched'
  | 'handling'
  | 'handled'
  | 'closed'
  | 'closedLate'
  | 'reworked'
  | 'returned'
  | 'escalated'
  | 'communityLevel';

/** Closed outcomes dominate, as in a working city; each other state appears a few dozen times. */
const OUTCOMES: readonly [Outcome, number][] = [
  ['pending', 3],
  ['rejected', 5],
  ['registered', 3],
  ['dispatched', 6],
  ['handling', 6],
  ['handled', 3],
  ['closed', 42],
  ['closedLate', 8],
  ['reworked', 8],
  ['returned', 5],
  ['escalated', 5],
  ['communityLevel', 6],
];

const OPEN_OUTCOMES: readonly Outcome[] = ['pending', 'registered', 'dispatched', 'handling', 'handled'];

function weighted(random: Random): Outcome {
  const total = OUTCOMES.reduce((sum, [, w]) => sum + w, 0);
  let r = random.next() * total;
  for (const [outcome, weight] of OUTCOMES) {
    r -= weight;
    if (r < 0) return outcome;
  }
  return 'closed';
}

function uuid(random: Random): string {
  const hex = Array.from({ length: 32 }, () => random.int(0, 15).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${'89ab'[random.int(0, 3)]}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

// The units governance registers as consumers (kit/demoCity.ts), so a token of each can act.
const unitOf = (division: Division): UnitRef => demoUnitOf(division)!;
const districtDepartment = unitOf;
const streetOffice = unitOf;
const communityTeam = unitOf;
const centreOf = (division: Division): Actor => ({ level: levelOfCode(division.code), divisionCode: division.code });
const asUnit = (unit: UnitRef): Actor => ({ level: levelOfCode(unit.divisionCode), divisionCode: unit.divisionCode, unitId: unit.unitId });

function reporterFor(channel: Channel, random: Random): Reporter {
  switch (channel) {
    case 'IOT_SENSOR':
      return { kind: 'DEVICE', id: `sensor-${random.int(1000, 9999)}` };
    case 'GRID_WORKER':
      return { kind: 'GRID_WORKER', id: `gw-${random.int(100, 999)}`, name: random.pick(['王强', '李娜', '张伟', '刘洋', '陈静', '赵磊']) };
    default:
      return random.next() < 0.5 ? { kind: 'CITIZEN' } : { kind: 'CITIZEN', name: random.pick(['市民', '张先生', '李女士']) };
  }
}

export async function seedIncidents(runtime: SubgraphRuntime, options: SeedOptions = {}): Promise<void> {
  const random = seededRandom(options.seed ?? 20220513);
  const count = options.incidents ?? DEMO_INCIDENTS;
  const nowMs = runtime.now().getTime();
  const communities = divisionCatalog.filter((d) => d.level === 'COMMUNITY');
  const categories = listCategories();

  // All choices are drawn up front, in order, so the data do not depend on how the work interleaves.
  const plans = Array.from({ length: count }, (_, index) => {
    const community = random.pick(communities);
    const street = getDivision(community.parentCode!)!;
    const district = getDivision(street.parentCode!)!;
    const outcome = weighted(random);
    const open = OPEN_OUTCOMES.includes(outcome);
    // Open cases are recent (some past their deadline, some not); closed ones spread over 30 days.
    const age = open ? random.int(30, 5 * 24 * 60) * MINUTE : random.int(3 * 24 * 60, 30 * 24 * 60) * MINUTE;
    const channel = random.pick(CHANNELS);
    return {
      index,
      id: uuid(random),
      community,
      street,
      district,
      outcome,
      channel,
      category: random.pick(categories),
      reporter: reporterFor(channel, random),
      reportedAt: nowMs - age,
      longitude: 116.8 + random.next() * 0.6,
      latitude: 36.4 + random.next() * 0.4,
      gaps: Array.from({ length: 16 }, () => random.int(5, 40)),
      satisfaction: random.next() < 0.7 ? random.int(2, 5) : null,
      markOverdue: random.next() < 0.5,
      rejectReason: random.pick(['OUT_OF_SCOPE', 'INSUFFICIENT', 'DUPLICATE'] as const),
    };
  });

  async function seedOne(plan: (typeof plans)[number]): Promise<void> {
    const { id, community, street, district, category } = plan;
    let t = plan.reportedAt;
    let step = 0;
    /** Advances the clock by the plan's next gap (minutes), never past now. */
    const later = (minutes?: number): string => {
      t = Math.min(t + (minutes ?? plan.gaps[step % plan.gaps.length]!) * MINUTE, nowMs - MINUTE);
      return new Date(t).toISOString();
    };
    const metadata = (now: string): EventMetadata => ({
      provenance: { department: '济南市城市运行管理服务中心', system: 'urban-ops.seed', channel: plan.channel, collectedAt: now },
      actor: { consumerId: 'urban-ops.seed', role: 'system' },
      correlationId: `urban-ops.seed:${id}`,
    });
    const run = async (build: (now: string) => Exclude<IncidentCommand, { type: 'registerIncident' }>, now = later()) =>
      runIncidentCommand(runtime.store, build(now), metadata(now), { idempotencyKey: `urban-ops.seed:${id}:${step++}` });
    const register = async (by: Division) => {
      const now = later();
      return registerIncident(runtime.store, { incidentId: id, actor: centreOf(by) }, now, metadata(now), {
        idempotencyKey: `urban-ops.seed:${id}:${step++}`,
      });
    };
    const dispatch = (unit: UnitRef, by: Division) =>
      run((now) => ({ type: 'dispatchIncident', data: { incidentId: id, unit, actor: centreOf(by) }, metadata: { now } }));
    const start = (unit: UnitRef) => run((now) => ({ type: 'startHandling', data: { incidentId: id, actor: asUnit(unit) }, metadata: { now } }));
    const handled = (unit: UnitRef, minutes?: number) =>
      run(
        (now) => ({
          type: 'reportHandled',
          data: { incidentId: id, evidence: [`photo://${unit.unitId}/${id}/${step}`], note: '已处置完毕', actor: asUnit(unit) },
          metadata: { now },
        }),
        later(minutes),
      );
    const verify = (by: Division, passed: boolean) =>
      run((now) => ({
        type: 'verifyIncident',
        data: { incidentId: id, passed, ...(!passed && { reason: '现场核查未处置到位' }), actor: centreOf(by) },
        metadata: { now },
      }));
    const work = async (unit: UnitRef, by: Division, minutes?: number): Promise<IncidentResult> => {
      await dispatch(unit, by);
      await start(unit);
      return handled(unit, minutes);
    };

    await run(
      (now) => ({
        type: 'reportIncident',
        data: {
          incidentId: id,
          channel: plan.channel,
          category: category.category,
          subcategory: category.subcategory,
          description: `${community.name}${category.name}`,
          location: { longitude: plan.longitude, latitude: plan.latitude, address: `${district.name}${street.name}${community.name}` },
          divisionCode: community.code,
          reporter: plan.reporter,
          attachments: plan.channel === 'CITIZEN_PHOTO' || plan.channel === 'GRID_WORKER' ? [`photo://report/${id}`] : [],
          reportedAt: now,
        },
        metadata: { now },
      }),
      new Date(t).toISOString(),
    );
    if (plan.outcome === 'pending') return;
    if (plan.outcome === 'rejected') {
      // A duplicate names an earlier incident (any earlier report will do for the demo).
      const earlier = plans[Math.max(0, plan.index - 1)]!;
      const duplicate = plan.rejectReason === 'DUPLICATE' && earlier.id !== id;
      await run((now) => ({
        type: 'rejectIncident',
        data: {
          incidentId: id,
          reason: duplicate ? 'DUPLICATE' : plan.rejectReason === 'DUPLICATE' ? 'INSUFFICIENT' : plan.rejectReason,
          ...(duplicate && { duplicateOfId: earlier.id }),
          note: duplicate ? '与已立案事件重复' : '不属于城市管理范围或信息不足',
          actor: centreOf(district),
        },
        metadata: { now },
      }));
      return;
    }

    const limit = category.limitMinutes;
    const office = streetOffice(street);
    let last: IncidentResult;
    switch (plan.outcome) {
      case 'communityLevel': {
        await register(street);
        const team = communityTeam(community);
        last = await work(team, street, Math.floor(limit / 3));
        await verify(street, true);
        break;
      }
      case 'escalated': {
        await register(street);
        const team = communityTeam(community);
        await dispatch(team, street);
        await run((now) => ({ type: 'escalateIncident', data: { incidentId: id, reason: '超出社区处置能力', actor: asUnit(team) }, metadata: { now } }));
        await run((now) => ({ type: 'escalateIncident', data: { incidentId: id, reason: '需区级部门处置', actor: centreOf(street) }, metadata: { now } }));
        last = await work(districtDepartment(district), district, Math.floor(limit / 3));
        await verify(district, true);
        break;
      }
      default: {
        await register(district);
        if (plan.outcome === 'registered') return;
        if (plan.outcome === 'returned') {
          await dispatch(office, district);
          await run((now) => ({ type: 'returnIncident', data: { incidentId: id, reason: '不属于本街道职责', actor: asUnit(office) }, metadata: { now } }));
          last = await work(districtDepartment(district), district, Math.floor(limit / 3));
          await verify(district, true);
          break;
        }
        if (plan.outcome === 'dispatched') {
          last = await dispatch(office, district);
        } else if (plan.outcome === 'handling') {
          await dispatch(office, district);
          last = await start(office);
        } else {
          // closedLate overruns the limit; the others finish well within it.
          last = await work(office, district, plan.outcome === 'closedLate' ? limit + 30 : Math.floor(limit / 3));
          if (plan.outcome === 'handled') break;
          if (plan.outcome === 'reworked') {
            await verify(district, false);
            last = await work(office, district, 10);
          }
          await verify(district, true);
        }
      }
    }
    if (OPEN_OUTCOMES.includes(plan.outcome)) {
      // Some overdue cases were already caught by the deadline process; the rest it will catch on its first tick.
      const deadline = 'caseFile' in last.state ? last.state.caseFile.deadline : null;
      if (deadline !== null && Date.parse(deadline) < nowMs - MINUTE && plan.markOverdue) {
        const now = new Date(nowMs - MINUTE).toISOString();
        await runIncidentCommand(
          runtime.store,
          { type: 'markOverdue', data: { incidentId: id }, metadata: { now } },
          { ...metadata(now), provenance: { ...metadata(now).provenance, system: 'urban-ops.deadlines', channel: 'process-manager' } },
          { idempotencyKey: `urban-ops.deadlines:${id}:${deadline}` },
        );
      }
      return;
    }
    if (plan.satisfaction !== null) {
      await run(
        (now) => ({ type: 'evaluateIncident', data: { incidentId: id, satisfaction: plan.satisfaction!, comment: '处理及时' }, metadata: { now } }),
        later(60),
      );
    }
  }

  const queue = [...plans];
  const workers = Array.from({ length: options.concurrency ?? 8 }, async () => {
    for (let plan = queue.shift(); plan; plan = queue.shift()) await seedOne(plan);
  });
  await Promise.all(workers);
}
