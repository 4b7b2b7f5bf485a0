import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../../events/errors.ts';
import type { IncidentEvent } from './incident/events.ts';
import {
  at, closed, dispatched, evaluated, handled, lixiaCentre, lixiaMunicipal, otherStreetOffice, registered, reported, started, streetOffice,
  verificationFailed, verificationPassed,
} from './incident/fixtures.ts';
import { closeMinutesBin, computeMetrics, type DivisionMetrics, type IncidentMetrics } from './metrics.ts';

const inLixia = '370102003001';

/** A case dispatched to the street office at +10 (deadline +130) and closed at `closeAt`. */
function closedCase(id: string, closeAt: number, divisionCode = inLixia): IncidentEvent[] {
  return [
    reported({ incidentId: id, divisionCode }),
    registered(lixiaCentre, 5, id),
    dispatched(streetOffice, lixiaCentre, 10, at(130), id),
    started(streetOffice, 11, id),
    handled(streetOffice, closeAt - 1, id),
    verificationPassed(closeAt, lixiaCentre, id),
    closed(closeAt, closeAt <= 130, id),
  ];
}

/**
 * Eight incidents, as of +300 min:
 * A closed on time at +90 (80 min from dispatch), satisfaction 5
 * B failed verification once, closed late at +200 (190 min), satisfaction 3
 * C with the other street office since +100, deadline +220: overdue
 * D with a district department since +250, deadline +370: open, not yet due
 * E registered, never dispatched: no deadline
 * F rejected as a duplicate of A
 * G reported in 市中区, awaiting registration
 * H closed exactly at its deadline +130 (120 min): on time
 */
const events: IncidentEvent[] = [
  ...closedCase('A', 90),
  evaluated(5, 200, 'A'),
  reported({ incidentId: 'B', divisionCode: inLixia }),
  registered(lixiaCentre, 5, 'B'),
  dispatched(streetOffice, lixiaCentre, 10, at(130), 'B'),
  started(streetOffice, 20, 'B'),
  handled(streetOffice, 60, 'B'),
  verificationFailed(90, lixiaCentre, 'B'),
  dispatched(streetOffice, lixiaCentre, 95, at(130), 'B'),
  started(streetOffice, 96, 'B'),
  handled(streetOffice, 100, 'B'),
  verificationPassed(200, lixiaCentre, 'B'),
  closed(200, false, 'B'),
  evaluated(3, 250, 'B'),
  reported({ incidentId: 'C', divisionCode: '370102004001' }),
  registered(lixiaCentre, 95, 'C'),
  dispatched(otherStreetOffice, lixiaCentre, 100, at(220), 'C'),
  started(otherStreetOffice, 110, 'C'),
  reported({ incidentId: 'D', divisionCode: '370102004001' }),
  registered(lixiaCentre, 245, 'D'),
  dispatched(lixiaMunicipal, lixiaCentre, 250, at(370), 'D'),
  reported({ incidentId: 'E', divisionCode: '370102003002' }),
  registered(lixiaCentre, 260, 'E'),
  reported({ incidentId: 'F', divisionCode: inLixia }),
  {
    type: 'IncidentRejected',
    data: { incidentId: 'F', reason: 'DUPLICATE', duplicateOfId: 'A', note: '重复上报', rejectedBy: lixiaCentre, rejectedAt: at(12) },
  },
  reported({ incidentId: 'G', divisionCode: '370103001001' }),
  ...closedCase('H', 130),
];

const empty: IncidentMetrics = {
  reported: 0,
  rejected: 0,
  pendingRegistration: 0,
  registered: 0,
  open: 0,
  dueForClosure: 0,
  closed: 0,
  closedOnTime: 0,
  closureRate: null,
  onTimeClosureRate: null,
  reworked: 0,
  reworkRate: null,
  meanTimeToCloseMinutes: null,
  p90TimeToCloseMinutes: null,
  overdueNow: 0,
  evaluated: 0,
  meanSatisfaction: null,
};

/** A, B, H closed; C due and overdue; D, E open and not due; F rejected. */
const lixiaWhole: IncidentMetrics = {
  reported: 7,
  rejected: 1,
  pendingRegistration: 0,
  registered: 6,
  open: 3,
  dueForClosure: 4,
  closed: 3,
  closedOnTime: 2,
  closureRate: 3 / 4,
  onTimeClosureRate: 2 / 4,
  reworked: 1,
  reworkRate: 1 / 3,
  meanTimeToCloseMinutes: (80 + 190 + 120) / 3,
  p90TimeToCloseMinutes: 190,
  overdueNow: 1,
  evaluated: 2,
  meanSatisfaction: 4,
};

describe('metrics: per division', () => {
  const report = computeMetrics(events, at(300));
  /** Asserts a division's figures: its code and level, then `base` with `changes` over it. */
  const assertDivision = (divisionCode: string, level: DivisionMetrics['level'], base: IncidentMetrics, changes: Partial<IncidentMetrics> = {}) => {
    const found = report.divisions.find((d) => d.divisionCode === divisionCode);
    assert.ok(found, `division ${divisionCode} is reported`);
    assert.deepEqual(found, { divisionCode, level, ...base, ...changes });
  };

  it('lists every division with an incident, community up to city, ordered by code', () => {
    assert.deepEqual(
      report.divisions.map((d) => [d.divisionCode, d.level]),
      [
        ['370100', 'CITY'],
        ['370102', 'DISTRICT'],
        ['370102003', 'STREET'],
        ['370102003001', 'COMMUNITY'],
        ['370102003002', 'COMMUNITY'],
        ['370102004', 'STREET'],
        ['370102004001', 'COMMUNITY'],
        ['370103', 'DISTRICT'],
        ['370103001', 'STREET'],
        ['370103001001', 'COMMUNITY'],
      ],
    );
    assert.equal(report.asOf, at(300));
  });

  it('counts the whole city: G adds one report awaiting registration', () => {
    assertDivision('370100', 'CITY', lixiaWhole, { reported: 8, pendingRegistration: 1 });
  });

  it('counts a district: closure and on-time rates over the cases due, rework over the closed', () => {
    assertDivision('370102', 'DISTRICT', lixiaWhole);
  });

  it('counts a street whose only open case has no deadline yet', () => {
    assertDivision('370102003', 'STREET', lixiaWhole, { reported: 5, registered: 4, open: 1, dueForClosure: 3, closureRate: 1, onTimeClosureRate: 2 / 3, overdueNow: 0 });
  });

  it('gives a closure rate of 0 and no rework rate where nothing due was closed', () => {
    assertDivision('370102004', 'STREET', empty, { reported: 2, registered: 2, open: 2, dueForClosure: 1, closureRate: 0, onTimeClosureRate: 0, overdueNow: 1 });
  });

  it('gives null rates and means where nothing is due, closed or evaluated', () => {
    assertDivision('370102003002', 'COMMUNITY', empty, { reported: 1, registered: 1, open: 1 });
    assertDivision('370103', 'DISTRICT', empty, { reported: 1, pendingRegistration: 1 });
  });
});

describe('metrics: per level', () => {
  const report = computeMetrics(events, at(300));

  it('counts each case where it sits: handled at the street, waiting or rejected at the district', () => {
    assert.deepEqual(report.levels.STREET, {
      ...lixiaWhole,
      reported: 4,
      rejected: 0,
      registered: 4,
      open: 1,
      dueForClosure: 4,
    });
    assert.deepEqual(report.levels.DISTRICT, { ...empty, reported: 3, rejected: 1, registered: 2, open: 2 });
    assert.deepEqual(report.levels.CITY, empty);
    assert.deepEqual(report.levels.COMMUNITY, empty);
  });
});

describe('metrics: time', () => {
  it('makes a case due when its deadline arrives and overdue only after it', () => {
    const before = computeMetrics(events, at(219)).divisions.find((d) => d.divisionCode === '370102004');
    const onDeadline = computeMetrics(events, at(220)).divisions.find((d) => d.divisionCode === '370102004');
    assert.deepEqual([before?.dueForClosure, before?.overdueNow], [0, 0]);
    assert.deepEqual([onDeadline?.dueForClosure, onDeadline?.overdueNow], [1, 0]);
  });

  it('starts the clock at the first dispatch, not at report or registration', () => {
    const report = computeMetrics(closedCase('X', 70), at(300));
    assert.equal(report.levels.STREET.meanTimeToCloseMinutes, 60);
  });

  it('takes the nearest-rank 90th percentile', () => {
    const ten = Array.from({ length: 10 }, (_, i) => closedCase(`T${i}`, 10 + 10 * (i + 1))).flat();
    const city = computeMetrics(ten, at(300)).divisions[0];
    assert.deepEqual([city?.p90TimeToCloseMinutes, city?.meanTimeToCloseMinutes], [90, 55]);
  });

  it('bins times to close to the whole minute below 100 minutes and to two significant figures above', () => {
    assert.deepEqual([0.4, 59.6, 99.4, 99.6, 194, 195, 1234, 9960, 123_456].map(closeMinutesBin), [0, 60, 99, 100, 190, 200, 1200, 10_000, 120_000]);
  });

  it('takes the p90 of the binned times, so a bounded histogram gives the same figure', () => {
    const times = [1234, 1180, 50, 60, 70, 80, 90, 100, 110, 120];
    const cases = times.flatMap((minutes, i) => closedCase(`B${i}`, 10 + minutes));
    assert.equal(computeMetrics(cases, at(3000)).divisions[0]?.p90TimeToCloseMinutes, 1200);
  });

  it('counts rework only on closed cases', () => {
    const reopened = [...closedCase('R', 90).slice(0, 5), verificationFailed(90, lixiaCentre, 'R')];
    const city = computeMetrics(reopened, at(100)).divisions[0];
    assert.deepEqual([city?.reworked, city?.reworkRate, city?.open], [0, null, 1]);
  });

  it('refuses a malformed now', () => {
    assert.throws(() => computeMetrics(events, 'yesterday'), ValidationError);
  });

  it('returns no divisions and empty levels for no events', () => {
    const report = computeMetrics([], at(0));
    assert.deepEqual(report.divisions, []);
    assert.deepEqual(report.levels.CITY, empty);
  });
});
