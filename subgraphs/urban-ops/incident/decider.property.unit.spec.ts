/**
 * Random command sequences against the incident decider: whatever the order of commands and
 * whoever issues them, the accepted ones keep the closed loop's invariants. Seeded, so a failure
 * names a sequence that can be replayed.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CityBrainError, ConflictError, InvalidTransitionError, NotFoundError } from '../../../events/errors.ts';
import { EventRegistry } from '../../../events/registry.ts';
import { testMetadata } from '../../../test/helpers/events.ts';
import { LEVELS, isWithin, parentCode } from '../levels.ts';
import { computeMetrics } from '../metrics.ts';
import { INCIDENT_COMMAND_TYPES, type Actor, type IncidentCommand, type IncidentCommandType, type UnitRef } from './commands.ts';
import { allowedCommands, incidentDecider, type IncidentState } from './decider.ts';
import { incidentEventDefinitions, type IncidentEvent } from './events.ts';
import {
  asUnit,
  at,
  cityBureau,
  cityCentre,
  communityCentre,
  communityTeam,
  lixiaCentre,
  lixiaMunicipal,
  otherStreetCentre,
  otherStreetOffice,
  reportData,
  shizhongCentre,
  shizhongMunicipal,
  streetCentre,
  streetOffice,
} from './fixtures.ts';

/** mulberry32: a tiny seeded PRNG, uniform in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEQUENCES = 300;
const MAX_STEPS = 40;

const centres: Actor[] = [cityCentre, lixiaCentre, shizhongCentre, streetCentre, otherStreetCentre, communityCentre];
const units: UnitRef[] = [
  cityBureau,
  lixiaMunicipal,
  shizhongMunicipal,
  streetOffice,
  otherStreetOffice,
  communityTeam,
  { unitId: 'u-community-2', unitName: '大明湖社区网格站', divisionCode: '370102004001' },
];
const communities = ['370102003001', '370102003002', '370102004001', '370103001001'];

function generator(seed: number) {
  const random = mulberry32(seed);
  const pick = <T>(items: readonly T[]): T => {
    const item = items[Math.floor(random() * items.length)];
    if (item === undefined) throw new RangeError('pick from an empty list');
    return item;
  };
  const chance = (p: number): boolean => random() < p;

  /** Mostly the plausible actor for the state, sometimes anyone, so refusals are exercised too. */
  function centreFor(state: IncidentState): Actor {
    if (chance(0.75) && 'caseFile' in state) return state.caseFile.owner;
    return pick(centres);
  }
  function unitFor(state: IncidentState): Actor {
    if (chance(0.8) && 'unit' in state) return { level: state.unit.level, divisionCode: state.unit.divisionCode, unitId: state.unit.unitId };
    return asUnit(pick(units));
  }

  function nextCommand(incidentId: string, state: IncidentState, minutes: number): IncidentCommand {
    const allowed = allowedCommands(state);
    const type: IncidentCommandType = chance(0.8) && allowed.length > 0 ? pick(allowed) : pick(INCIDENT_COMMAND_TYPES);
    const metadata = { now: at(minutes) };
    switch (type) {
      case 'reportIncident':
        return { type, data: { ...reportData, incidentId, divisionCode: pick(communities), reportedAt: at(minutes) }, metadata };
      case 'registerIncident':
        return { type, data: { incidentId, serial: 1 + Math.floor(random() * 50), actor: centreFor(state) }, metadata };
      case 'rejectIncident':
        return chance(0.5)
          ? { type, data: { incidentId, reason: 'DUPLICATE', duplicateOfId: 'inc-original', note: '重复', actor: centreFor(state) }, metadata }
          : { type, data: { incidentId, reason: pick(['OUT_OF_SCOPE', 'INSUFFICIENT'] as const), note: '不予立案', actor: centreFor(state) }, metadata };
      case 'dispatchIncident':
        return { type, data: { incidentId, unit: pick(units), actor: centreFor(state) }, metadata };
      case 'returnIncident':
        return { type, data: { incidentId, reason: '不属于本单位', actor: unitFor(state) }, metadata };
      case 'escalateIncident':
        return {
          type,
          data: { incidentId, reason: '需要上级协调', actor: state.status === 'REGISTERED' ? centreFor(state) : unitFor(state) },
          metadata,
        };
      case 'startHandling':
        return { type, data: { incidentId, actor: unitFor(state) }, metadata };
      case 'reportHandled':
        return { type, data: { incidentId, evidence: ['photo://after'], note: '已处置', actor: unitFor(state) }, metadata };
      case 'verifyIncident':
        return chance(0.6)
          ? { type, data: { incidentId, passed: true, actor: centreFor(state) }, metadata }
          : { type, data: { incidentId, passed: false, reason: '未处置到位', actor: centreFor(state) }, metadata };
      case 'evaluateIncident':
        return { type, data: { incidentId, satisfaction: Math.floor(random() * 7) }, metadata };
      case 'markOverdue':
        return { type, data: { incidentId }, metadata };
    }
  }

  return { random, nextCommand, chance };
}

/** Every invariant of one incident, checked against its state and its whole log. */
function checkInvariants(state: IncidentState, log: readonly IncidentEvent[], context: string): void {
  const count = (type: IncidentEvent['type']) => log.filter((e) => e.type === type).length;
  if (!('caseFile' in state)) return;
  const { caseFile, report } = state;

  assert.ok((LEVELS as readonly string[]).includes(caseFile.level), `${context}: level ${caseFile.level}`);
  const expectedLevel = 'unit' in state ? state.unit.level : caseFile.owner.level;
  assert.equal(caseFile.level, expectedLevel, `${context}: level follows the unit, else the owner`);
  assert.ok(isWithin(report.divisionCode, caseFile.owner.divisionCode), `${context}: the owner contains the incident`);
  if ('unit' in state) assert.ok(isWithin(state.unit.divisionCode, caseFile.owner.divisionCode), `${context}: the owner contains the unit`);

  assert.equal(caseFile.reworkCount, count('IncidentVerificationFailed'), `${context}: rework = failed verifications`);

  const verifications = log.filter((e) => e.type === 'IncidentVerificationPassed' || e.type === 'IncidentVerificationFailed');
  if (state.status === 'CLOSED') {
    assert.equal(verifications.at(-1)?.type, 'IncidentVerificationPassed', `${context}: closed after a passed verification`);
    const closedAt = log.findIndex((e) => e.type === 'IncidentClosed');
    assert.equal(log[closedAt - 1]?.type, 'IncidentVerificationPassed', `${context}: closure follows the passed verification`);
    assert.equal(state.onTime, caseFile.deadline !== null && state.closedAt <= caseFile.deadline, `${context}: onTime`);
  }
  assert.ok(count('IncidentClosed') <= 1 && count('IncidentEvaluated') <= 1, `${context}: closed and evaluated at most once`);

  const dispatches = log.filter((e) => e.type === 'IncidentDispatched');
  for (const { data } of dispatches) {
    assert.ok(
      data.divisionCode === data.dispatchedBy.divisionCode || parentCode(data.divisionCode) === data.dispatchedBy.divisionCode,
      `${context}: ${data.dispatchedBy.divisionCode} dispatched to ${data.divisionCode}`,
    );
  }
  const deadlines = new Set(dispatches.map((e) => e.data.deadline));
  assert.ok(deadlines.size <= 1, `${context}: the deadline never moves`);
}

describe('incident: random command sequences', () => {
  it(`keep the closed-loop invariants over ${SEQUENCES} seeded sequences`, () => {
    const registry = new EventRegistry();
    for (const definition of incidentEventDefinitions) registry.register(definition);
    const seen = new Set<string>();
    const refusals = new Map<string, number>();
    const allEvents: IncidentEvent[] = [];
    let lastMinute = 0;

    for (let seed = 1; seed <= SEQUENCES; seed++) {
      const { nextCommand, random, chance } = generator(seed);
      const incidentId = `inc-${seed}`;
      let state = incidentDecider.initialState();
      const log: IncidentEvent[] = [];
      let minutes = Math.floor(random() * 1000);
      for (let step = 0; step < MAX_STEPS; step++) {
        minutes += chance(0.1) ? 200 : Math.floor(random() * 30);
        const cmd = nextCommand(incidentId, state, minutes);
        const context = `seed ${seed} step ${step} ${cmd.type} in ${state.status}`;
        const allowed = allowedCommands(state);
        let events: IncidentEvent[];
        try {
          events = incidentDecider.decide(cmd, state);
        } catch (err) {
          assert.ok(err instanceof CityBrainError, `${context}: untyped error ${String(err)}`);
          if (!allowed.includes(cmd.type)) {
            const expected =
              state.status === 'UNREPORTED' ? NotFoundError : cmd.type === 'reportIncident' ? ConflictError : InvalidTransitionError;
            assert.ok(err instanceof expected, `${context}: expected ${expected.name}, got ${err.name}: ${err.message}`);
          }
          refusals.set(err.name, (refusals.get(err.name) ?? 0) + 1);
          continue;
        }
        assert.ok(allowed.includes(cmd.type), `${context}: accepted a command outside ${allowed.join(', ')}`);
        assert.ok(events.length > 0, `${context}: accepted with no events`);
        for (const event of events) {
          registry.validateForAppend(event.type, event.data, testMetadata);
          seen.add(event.type);
          state = incidentDecider.evolve(state, event);
          log.push(event);
        }
        checkInvariants(state, log, context);
      }
      allEvents.push(...log);
      lastMinute = Math.max(lastMinute, minutes);
    }

    assert.deepEqual([...seen].sort(), incidentEventDefinitions.map((d) => d.type).sort(), 'every event type was produced');
    for (const name of ['InvalidTransitionError', 'NotYourCaseError', 'ValidationError']) {
      assert.ok((refusals.get(name) ?? 0) > 0, `some commands were refused with ${name}`);
    }

    const report = computeMetrics(allEvents, at(lastMinute));
    const city = report.divisions.find((d) => d.divisionCode === '370100');
    assert.ok(city);
    assert.equal(city.reported, SEQUENCES);
    assert.equal(city.registered + city.rejected + city.pendingRegistration, city.reported);
    assert.equal(city.open + city.closed, city.registered);
    assert.ok(city.closed <= city.dueForClosure && city.closedOnTime <= city.closed && city.reworked <= city.closed);
    const levelTotal = (key: 'registered' | 'rejected' | 'closed') => LEVELS.reduce((sum, l) => sum + report.levels[l][key], 0);
    assert.deepEqual(
      [levelTotal('registered'), levelTotal('rejected'), levelTotal('closed')],
      [city.registered, city.rejected, city.closed],
      'every decided case counts at exactly one level',
    );
    for (const division of report.divisions) {
      for (const rate of [division.closureRate, division.onTimeClosureRate, division.reworkRate]) {
        assert.ok(rate === null || (rate >= 0 && rate <= 1), `${division.divisionCode}: rate ${rate}`);
      }
    }
  });
});
