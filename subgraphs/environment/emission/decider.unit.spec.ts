import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConflictError, InvalidTransitionError, NotFoundError, ValidationError } from '../../../events/errors.ts';
import { EventRegistry } from '../../../events/registry.ts';
import { assertAcceptedAsEmitted, given } from '../../../test/helpers/decider.ts';
import { testMetadata } from '../../../test/helpers/events.ts';
import type {
  EmissionAlarmCommand,
  Exceedance,
  IssueEmissionPermit,
  RaiseEmissionAlarm,
  RecordEmissionObservation,
} from './commands.ts';
import { emissionAlarmDecider, emissionPermitDecider, exceedance, type EmissionPermit } from './decider.ts';
import {
  emissionEventDefinitions,
  type EmissionAlarmEvent,
  type EmissionAlarmRaised,
  type EmissionObserved,
  type EmissionPermitIssued,
} from './events.ts';

const now = '2026-03-01T02:00:00.000Z'; // 10:00 in Jinan

const permit: EmissionPermit = {
  permitId: 'pm-1',
  legalPersonId: 'lp-1',
  permitNo: '91370100MA3C1234X5001P',
  outlets: [
    {
      outletId: 'DA001',
      name: '1号锅炉排气筒',
      pollutants: [
        { pollutant: 'SO2', limit: 35, unit: 'mg/m3' },
        { pollutant: 'NOX', limit: 50, unit: 'mg/m3' },
      ],
    },
    { outletId: 'DW001', name: '废水总排口', pollutants: [{ pollutant: 'COD', limit: 50, unit: 'mg/L' }] },
  ],
  validFrom: '2024-01-01',
  validUntil: '2028-12-31',
};
const issued: EmissionPermitIssued = { type: 'EmissionPermitIssued', data: permit };
const issue = (data: Partial<IssueEmissionPermit['data']> = {}): IssueEmissionPermit => ({
  type: 'issueEmissionPermit',
  data: { ...permit, ...data },
  metadata: { now },
});

const reading: EmissionObserved['data'] = {
  permitId: 'pm-1',
  outletId: 'DA001',
  pollutant: 'SO2',
  value: 41.2,
  unit: 'mg/m3',
  observedAt: '2026-03-01T01:00:00.000Z',
};
const observe = (data: Partial<RecordEmissionObservation['data']> = {}, at = now): RecordEmissionObservation => ({
  type: 'recordEmissionObservation',
  data: { ...reading, ...data },
  metadata: { now: at },
});

const over: Exceedance = {
  permitId: 'pm-1',
  legalPersonId: 'lp-1',
  outletId: 'DA001',
  pollutant: 'SO2',
  value: 41.2,
  limit: 35,
  unit: 'mg/m3',
  observedAt: '2026-03-01T01:00:00.000Z',
};
const raise = (data: Partial<RaiseEmissionAlarm['data']> = {}): RaiseEmissionAlarm => ({
  type: 'raiseEmissionAlarm',
  data: { alarmId: 'al-1', ...over, ...data },
  metadata: { now },
});
const raised: EmissionAlarmRaised = {
  type: 'EmissionAlarmRaised',
  data: { alarmId: 'al-1', ...over, raisedAt: now, acknowledgeBy: '2026-03-01T03:00:00.000Z' },
};
const acknowledged: EmissionAlarmEvent = {
  type: 'EmissionAlarmAcknowledged',
  data: { alarmId: 'al-1', by: 'u-7', at: '2026-03-01T02:30:00.000Z' },
};
const escalated: EmissionAlarmEvent = {
  type: 'EmissionAlarmEscalated',
  data: { alarmId: 'al-1', reason: 'NOT_ACKNOWLEDGED_IN_TIME', at: '2026-03-01T03:01:00.000Z' },
};
const resolved: EmissionAlarmEvent = {
  type: 'EmissionAlarmResolved',
  data: { alarmId: 'al-1', evidence: ['doc-1'], note: '脱硫塔喷淋泵已修复', at: '2026-03-01T05:00:00.000Z' },
};

const step = <C extends Exclude<EmissionAlarmCommand, RaiseEmissionAlarm>>(type: C['type'], data: Omit<C['data'], 'alarmId'>, at: string): C =>
  ({ type, data: { alarmId: 'al-1', ...data }, metadata: { now: at } }) as C;
const acknowledge = (at = '2026-03-01T02:30:00.000Z', by = 'u-7') => step('acknowledgeEmissionAlarm', { by }, at);
const resolve = (at = '2026-03-01T05:00:00.000Z', evidence = ['doc-1'], note = '脱硫塔喷淋泵已修复') =>
  step('resolveEmissionAlarm', { evidence, note }, at);
const escalate = (at = '2026-03-01T03:01:00.000Z') => step('escalateEmissionAlarm', {}, at);

describe('emission permit: issueEmissionPermit', () => {
  it('issues the permit with its outlets and limits', () => {
    given(emissionPermitDecider)
      .when(issue({ permitNo: ` ${permit.permitNo} ` }))
      .then([issued]);
  });

  it('refuses a validity that ends before it starts, or a date that is not one', () => {
    given(emissionPermitDecider)
      .when(issue({ validUntil: '2023-12-31' }))
      .thenThrows(ValidationError, /validUntil 2023-12-31 is before validFrom 2024-01-01/);
    given(emissionPermitDecider)
      .when(issue({ validFrom: '2024-02-30' }))
      .thenThrows(ValidationError, /validFrom must be a real calendar date/);
  });

  it('refuses a permit without outlets, or an outlet without pollutants', () => {
    given(emissionPermitDecider).when(issue({ outlets: [] })).thenThrows(ValidationError, /at least one outlet/);
    given(emissionPermitDecider)
      .when(issue({ outlets: [{ outletId: 'DA001', name: '排气筒', pollutants: [] }] }))
      .thenThrows(ValidationError, /outlet DA001 has no permitted pollutants/);
  });

  it('refuses an outlet or a pollutant listed twice', () => {
    const [outlet] = permit.outlets;
    assert.ok(outlet);
    given(emissionPermitDecider)
      .when(issue({ outlets: [outlet, outlet] }))
      .thenThrows(ValidationError, /outlet DA001 is listed twice/);
    given(emissionPermitDecider)
      .when(issue({ outlets: [{ ...outlet, pollutants: [...outlet.pollutants, { pollutant: 'SO2', limit: 50, unit: 'mg/m3' }] }] }))
      .thenThrows(ValidationError, /outlet DA001 lists SO2 twice/);
  });

  it("refuses an unknown pollutant, a unit that does not fit the pollutant's medium and a limit of 0", () => {
    const pollutants = (p: object) => [{ outletId: 'DW001', name: '废水总排口', pollutants: [p] }] as EmissionPermit['outlets'];
    given(emissionPermitDecider)
      .when(issue({ outlets: pollutants({ pollutant: 'HG', limit: 1, unit: 'mg/L' }) }))
      .thenThrows(ValidationError, /outlets\[0\].pollutants\[0\].pollutant HG is not monitored here; use one of SO2, NOX, PM, COD, NH3_N, TP, TN/);
    given(emissionPermitDecider)
      .when(issue({ outlets: pollutants({ pollutant: 'COD', limit: 50, unit: 'mg/m3' }) }))
      .thenThrows(ValidationError, /outlets\[0\].pollutants\[0\].unit must be mg\/L for COD, got mg\/m3/);
    given(emissionPermitDecider)
      .when(issue({ outlets: pollutants({ pollutant: 'COD', limit: 0, unit: 'mg/L' }) }))
      .thenThrows(ValidationError, /limit must be a concentration in mg\/L above 0, got 0/);
  });

  it('refuses to issue a permit twice', () => {
    given(emissionPermitDecider, [issued]).when(issue()).thenThrows(ConflictError, /pm-1 has already been issued/);
  });
});

describe('emission permit: recordEmissionObservation', () => {
  it('records a reading at a permitted outlet, with a canonical instant', () => {
    given(emissionPermitDecider, [issued])
      .when(observe({ observedAt: '2026-03-01T09:00:00+08:00' }))
      .then([{ type: 'EmissionObserved', data: reading }]);
  });

  it('refuses an outlet not in the permit, listing its outlets', () => {
    given(emissionPermitDecider, [issued])
      .when(observe({ outletId: 'DA009' }))
      .thenThrows(ValidationError, /outlet DA009 is not in permit 91370100MA3C1234X5001P; its outlets are DA001, DW001/);
  });

  it('refuses a pollutant not permitted at the outlet, listing those that are', () => {
    given(emissionPermitDecider, [issued])
      .when(observe({ pollutant: 'COD', unit: 'mg/L' }))
      .thenThrows(ValidationError, /pollutant COD is not permitted at outlet DA001 \(1号锅炉排气筒\); it is permitted SO2, NOX/);
  });

  it("refuses a reading in another unit than the permit's limit", () => {
    given(emissionPermitDecider, [issued])
      .when(observe({ unit: 'mg/L' }))
      .thenThrows(ValidationError, /unit must be mg\/m3 for SO2, as the permit's limit is, got mg\/L/);
  });

  it('refuses a negative reading and one from the future', () => {
    given(emissionPermitDecider, [issued]).when(observe({ value: -0.1 })).thenThrows(ValidationError, /value must be a concentration in mg\/m3, 0 or more/);
    given(emissionPermitDecider, [issued])
      .when(observe({ observedAt: '2026-03-01T02:00:01Z' }))
      .thenThrows(ValidationError, /observedAt 2026-03-01T02:00:01Z is in the future/);
  });

  it("accepts readings through the last day of validity in China time, and refuses them after it or before the first", () => {
    const later = '2029-06-01T00:00:00Z';
    given(emissionPermitDecider, [issued])
      .when(observe({ observedAt: '2028-12-31T23:30:00+08:00' }, later))
      .then([{ type: 'EmissionObserved', data: { ...reading, observedAt: '2028-12-31T15:30:00.000Z' } }]);
    given(emissionPermitDecider, [issued])
      .when(observe({ observedAt: '2029-01-01T00:00:00+08:00' }, later))
      .thenThrows(ValidationError, /outside permit 91370100MA3C1234X5001P's validity \(2024-01-01 to 2028-12-31\); record it under the permit valid on 2029-01-01/);
    given(emissionPermitDecider, [issued])
      .when(observe({ observedAt: '2023-12-31T23:00:00+08:00' }))
      .thenThrows(ValidationError, /outside permit .* validity/);
  });

  it('refuses a reading under a permit never issued', () => {
    given(emissionPermitDecider).when(observe()).thenThrows(ValidationError, /permitId pm-1 is not an issued emission permit/);
  });
});

describe('emission: exceedance', () => {
  it('reports a reading above its limit, with the discharge unit', () => {
    assert.deepEqual(exceedance(permit, reading), over);
  });

  it('reports nothing for a reading at or below the limit', () => {
    assert.equal(exceedance(permit, { ...reading, value: 35 }), undefined);
    assert.equal(exceedance(permit, { ...reading, value: 12 }), undefined);
  });

  it("compares each reading with its own outlet's and pollutant's limit", () => {
    assert.equal(exceedance(permit, { ...reading, pollutant: 'NOX', value: 41.2 }), undefined);
    assert.equal(exceedance(permit, { ...reading, outletId: 'DW001', pollutant: 'COD', unit: 'mg/L', value: 50.5 })?.limit, 50);
  });

  it('refuses a reading the permit has no limit for', () => {
    assert.throws(() => exceedance(permit, { ...reading, outletId: 'DA009' }), /outlet DA009 is not in permit/);
  });
});

describe('emission alarm: raiseEmissionAlarm', () => {
  it('raises the alarm with the time it is due for acknowledgement', () => {
    given(emissionAlarmDecider).when(raise()).then([raised]);
  });

  it('refuses a value that does not exceed the limit', () => {
    given(emissionAlarmDecider)
      .when(raise({ value: 35 }))
      .thenThrows(ValidationError, /value 35 mg\/m3 does not exceed the limit 35 mg\/m3; only an exceedance raises an alarm/);
  });

  it('refuses an observation time in the future and a unit that does not fit the pollutant', () => {
    given(emissionAlarmDecider).when(raise({ observedAt: '2026-03-01T03:00:00Z' })).thenThrows(ValidationError, /observedAt .* is in the future/);
    given(emissionAlarmDecider).when(raise({ unit: 'mg/L' })).thenThrows(ValidationError, /unit must be mg\/m3 for SO2/);
  });

  it('refuses to raise the same alarm twice', () => {
    given(emissionAlarmDecider, [raised]).when(raise()).thenThrows(ConflictError, /al-1 has already been raised \(status RAISED\)/);
  });

  it('gives the deployment\'s acknowledgement time when the command names one', () => {
    given(emissionAlarmDecider)
      .when(raise({ acknowledgeWithinMinutes: 15 }))
      .then([{ ...raised, data: { ...raised.data, acknowledgeBy: '2026-03-01T02:15:00.000Z' } }]);
    given(emissionAlarmDecider)
      .when(raise({ acknowledgeWithinMinutes: 0 }))
      .thenThrows(ValidationError, /acknowledgeWithinMinutes must be a whole number of minutes, 1 or more, got 0/);
  });

  it('refuses an alarm id that cannot be part of a stream id', () => {
    given(emissionAlarmDecider).when(raise({ alarmId: 'al 1/x' })).thenThrows(ValidationError, /alarmId "al 1\/x" may hold only letters, digits/);
  });
});

describe('emission alarm: the closed loop', () => {
  it('is acknowledged, then resolved with its evidence', () => {
    given(emissionAlarmDecider, [raised]).when(acknowledge()).then([acknowledged]);
    given(emissionAlarmDecider, [raised, acknowledged]).when(resolve()).then([resolved]);
  });

  it('is escalated once the acknowledgement is overdue, and can then be acknowledged', () => {
    given(emissionAlarmDecider, [raised]).when(escalate()).then([escalated]);
    given(emissionAlarmDecider, [raised, escalated])
      .when(acknowledge('2026-03-01T03:10:00.000Z'))
      .then([{ type: 'EmissionAlarmAcknowledged', data: { alarmId: 'al-1', by: 'u-7', at: '2026-03-01T03:10:00.000Z' } }]);
  });

  it('refuses to escalate before or at the acknowledgement deadline', () => {
    given(emissionAlarmDecider, [raised])
      .when(escalate('2026-03-01T03:00:00.000Z'))
      .thenThrows(ValidationError, /al-1 is not overdue: it may be acknowledged until 2026-03-01T03:00:00.000Z/);
  });

  it('refuses to resolve an alarm nobody acknowledged, naming the status and the allowed steps', () => {
    given(emissionAlarmDecider, [raised])
      .when(resolve())
      .thenThrows(
        InvalidTransitionError,
        /cannot resolveEmissionAlarm while the status is RAISED; allowed next steps: acknowledgeEmissionAlarm, escalateEmissionAlarm/,
      );
    given(emissionAlarmDecider, [raised, escalated])
      .when(resolve())
      .thenThrows(InvalidTransitionError, /while the status is ESCALATED; allowed next steps: acknowledgeEmissionAlarm$/);
  });

  it('refuses to escalate an acknowledged or already escalated alarm, and anything after resolution', () => {
    given(emissionAlarmDecider, [raised, acknowledged])
      .when(escalate('2026-03-01T04:00:00.000Z'))
      .thenThrows(InvalidTransitionError, /cannot escalateEmissionAlarm while the status is ACKNOWLEDGED; allowed next steps: resolveEmissionAlarm/);
    given(emissionAlarmDecider, [raised, escalated]).when(escalate('2026-03-01T04:00:00.000Z')).thenThrows(InvalidTransitionError);
    given(emissionAlarmDecider, [raised, acknowledged, resolved])
      .when(acknowledge('2026-03-01T06:00:00.000Z'))
      .thenThrows(InvalidTransitionError, /while the status is RESOLVED; allowed next steps: none/);
  });

  it('carries the status and allowed steps on the error for clients', () => {
    const { state } = given(emissionAlarmDecider, [raised, acknowledged]);
    assert.throws(
      () => emissionAlarmDecider.decide(acknowledge('2026-03-01T03:00:00.000Z'), state),
      (err: unknown) =>
        err instanceof InvalidTransitionError &&
        err.status === 'ACKNOWLEDGED' &&
        err.command === 'acknowledgeEmissionAlarm' &&
        err.allowed.join() === 'resolveEmissionAlarm',
    );
  });

  it('refuses a resolution without evidence, with a reference twice, or without a note', () => {
    const history = [raised, acknowledged];
    given(emissionAlarmDecider, history).when(resolve(undefined, [])).thenThrows(ValidationError, /at least one evidence reference/);
    given(emissionAlarmDecider, history).when(resolve(undefined, ['doc-1', ' doc-1'])).thenThrows(ValidationError, /same reference twice/);
    given(emissionAlarmDecider, history).when(resolve(undefined, ['doc-1'], ' ')).thenThrows(ValidationError, /note must not be empty/);
  });

  it('refuses an acknowledgement without who, and a step dated before the one it follows', () => {
    given(emissionAlarmDecider, [raised]).when(acknowledge(undefined, ' ')).thenThrows(ValidationError, /by must not be empty/);
    given(emissionAlarmDecider, [raised])
      .when(acknowledge('2026-03-01T01:59:00.000Z'))
      .thenThrows(ValidationError, /before the alarm's last step at 2026-03-01T02:00:00.000Z/);
  });

  it('refuses any step on an alarm never raised', () => {
    given(emissionAlarmDecider).when(acknowledge()).thenThrows(NotFoundError, /emission alarm al-1 has not been raised/);
  });
});

describe('emission: event definitions', () => {
  const registry = new EventRegistry().registerAll(emissionEventDefinitions);

  it('accept every event the deciders emit', () => {
    const events = [
      ...emissionPermitDecider.decide(issue(), given(emissionPermitDecider).state),
      ...emissionPermitDecider.decide(observe(), given(emissionPermitDecider, [issued]).state),
      ...emissionAlarmDecider.decide(raise(), given(emissionAlarmDecider).state),
      ...emissionAlarmDecider.decide(escalate(), given(emissionAlarmDecider, [raised]).state),
      ...emissionAlarmDecider.decide(acknowledge('2026-03-01T03:10:00.000Z'), given(emissionAlarmDecider, [raised, escalated]).state),
      ...emissionAlarmDecider.decide(resolve(), given(emissionAlarmDecider, [raised, acknowledged]).state),
    ];
    assert.equal(events.length, 6);
    assertAcceptedAsEmitted(registry, events);
  });

  it('refuse an alarm for a value within the limit and a permit whose validity ends before it starts', () => {
    assert.throws(() => registry.validateForAppend('EmissionAlarmRaised', { ...raised.data, value: 30 }, testMetadata), /value/);
    assert.throws(
      () => registry.validateForAppend('EmissionPermitIssued', { ...permit, validUntil: '2023-01-01' }, testMetadata),
      /validUntil/,
    );
  });
});
