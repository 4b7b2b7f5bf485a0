import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fold } from '../../../events/decider.ts';
import {
  ConflictError,
  NotYourCaseError,
  InvalidTransitionError,
  NotFoundError,
  ValidationError,
} from '../../../events/errors.ts';
import { EventRegistry } from '../../../events/registry.ts';
import { assertAcceptedAsEmitted, given } from '../../../test/helpers/decider.ts';
import { testMetadata } from '../../../test/helpers/events.ts';
import {
  INCIDENT_COMMAND_TYPES, type DispatchIncident, type EscalateIncident, type EvaluateIncident, type IncidentCommand, type IncidentCommandType,
  type MarkOverdue, type RegisterIncident, type RejectIncident, type ReportHandled, type ReportIncident, type ReturnIncident, type StartHandling,
  type UnitRef, type VerifyIncident,
} from './commands.ts';
import { allowedCommands, incidentDecider, type IncidentState } from './decider.ts';
import { incidentEventDefinitions, type CentreRef, type IncidentEvent } from './events.ts';
import {
  INCIDENT_ID,
  asUnit,
  at,
  cityBureau,
  cityCentre,
  closed,
  closedCase,
  command,
  communityCentre,
  communityTeam,
  dispatched,
  dispatchedToStreet,
  evaluated,
  handled,
  lixiaCentre,
  lixiaMunicipal,
  otherStreetCentre,
  otherStreetOffice,
  registered,
  reportData,
  reported,
  shizhongCentre,
  shizhongMunicipal,
  started,
  streetCentre,
  streetOffice,
  verificationFailed,
  verificationPassed,
} from './fixtures.ts';

const incidentId = INCIDENT_ID;

const report = (data: Partial<ReportIncident['data']> = {}, minutes = 1): ReportIncident =>
  command('reportIncident', { ...reportData, ...data }, minutes);
const register = (actor: CentreRef = lixiaCentre, serial = 7, minutes = 5): RegisterIncident =>
  command('registerIncident', { incidentId, serial, actor }, minutes);
const reject = (data: Partial<RejectIncident['data']> = {}, minutes = 5): RejectIncident =>
  command('rejectIncident', { incidentId, reason: 'DUPLICATE', duplicateOfId: 'inc-0', note: '与已立案案件重复', actor: lixiaCentre, ...data }, minutes);
const dispatch = (unit: UnitRef, actor: CentreRef = lixiaCentre, minutes = 10): DispatchIncident =>
  command('dispatchIncident', { incidentId, unit, actor }, minutes);
const returnIt = (unit: UnitRef = streetOffice, minutes = 15): ReturnIncident =>
  command('returnIncident', { incidentId, reason: '不属于本街道辖区', actor: asUnit(unit) }, minutes);
const escalate = (actor: ReturnType<typeof asUnit> | CentreRef = asUnit(streetOffice), minutes = 15): EscalateIncident =>
  command('escalateIncident', { incidentId, reason: '需要区级协调燃气公司', actor }, minutes);
const start = (unit: UnitRef = streetOffice, minutes = 20): StartHandling =>
  command('startHandling', { incidentId, actor: asUnit(unit) }, minutes);
const reportDone = (data: Partial<ReportHandled['data']> = {}, minutes = 60): ReportHandled =>
  command('reportHandled', { incidentId, evidence: ['photo://after/1'], note: '已补装井盖', actor: asUnit(streetOffice), ...data }, minutes);
const verify = (data: Partial<VerifyIncident['data']> = {}, minutes = 90): VerifyIncident =>
  command('verifyIncident', { incidentId, passed: true, actor: lixiaCentre, ...data }, minutes);
const evaluate = (satisfaction: number, comment?: string, minutes = 200): EvaluateIncident =>
  command('evaluateIncident', comment === undefined ? { incidentId, satisfaction } : { incidentId, satisfaction, comment }, minutes);
const markOverdue = (minutes = 131): MarkOverdue => command('markOverdue', { incidentId }, minutes);

const registeredCase = [reported(), registered()];
const dispatchedCase = [...registeredCase, dispatchedToStreet];
const handlingCase = [...dispatchedCase, started()];
const handledCase = [...handlingCase, handled()];

const stateAfter = (events: IncidentEvent[]): IncidentState => fold(incidentDecider, events);

describe('incident: reportIncident', () => {
  it('records the report with trimmed text and the report time in UTC', () => {
    given(incidentDecider)
      .when(report({ description: `  ${reportData.description} `, reportedAt: '2026-03-01T09:00:00+08:00' }))
      .then([reported()]);
  });

  it('accepts an anonymous hotline caller and drops blank reporter fields', () => {
    given(incidentDecider)
      .when(report({ channel: 'HOTLINE_12345', reporter: { kind: 'CITIZEN', id: ' ', name: '' }, attachments: [] }))
      .then([reported({ channel: 'HOTLINE_12345', reporter: { kind: 'CITIZEN' }, attachments: [] })]);
  });

  it('refuses a subcategory outside the category, listing the valid ones', () => {
    given(incidentDecider)
      .when(report({ subcategory: 'ROAD_DAMAGE' }))
      .thenThrows(ValidationError, /subcategory "ROAD_DAMAGE" is not in category MUNICIPAL_FACILITY .*use one of MISSING_MANHOLE_COVER, STREET_LIGHT_OUT/);
  });

  it('refuses an unknown channel or category', () => {
    given(incidentDecider)
      .when(report({ channel: 'EMAIL' as 'APP' }))
      .thenThrows(ValidationError, /channel EMAIL is not a discovery channel; use one of IOT_SENSOR/);
    given(incidentDecider).when(report({ category: 'WEATHER' })).thenThrows(ValidationError, /category "WEATHER" is not in the incident catalog/);
  });

  it('refuses a location given as a street or district instead of a community', () => {
    given(incidentDecider)
      .when(report({ divisionCode: '370102003' }))
      .thenThrows(ValidationError, /divisionCode 370102003 is a STREET; an incident is located in a community/);
    given(incidentDecider).when(report({ divisionCode: '3701' })).thenThrows(ValidationError, /divisionCode "3701" is malformed/);
  });

  it('refuses coordinates off the globe and an empty address', () => {
    given(incidentDecider)
      .when(report({ location: { ...reportData.location, longitude: 200 } }))
      .thenThrows(ValidationError, /location.longitude must be between -180 and 180, got 200/);
    given(incidentDecider)
      .when(report({ location: { ...reportData.location, address: ' ' } }))
      .thenThrows(ValidationError, /location.address must not be empty/);
  });

  it('refuses a reporter that does not fit the channel, and a sensor or grid worker without an id', () => {
    given(incidentDecider)
      .when(report({ channel: 'IOT_SENSOR' }))
      .thenThrows(ValidationError, /reports through IOT_SENSOR come from a DEVICE, but reporter.kind is GRID_WORKER/);
    given(incidentDecider)
      .when(report({ channel: 'IOT_SENSOR', reporter: { kind: 'DEVICE' } }))
      .thenThrows(ValidationError, /reporter.id must not be empty/);
    given(incidentDecider)
      .when(report({ reporter: { kind: 'GRID_WORKER', name: '王强' } }))
      .thenThrows(ValidationError, /reporter.id must not be empty/);
  });

  it('refuses a citizen photo report without a photo', () => {
    given(incidentDecider)
      .when(report({ channel: 'CITIZEN_PHOTO', reporter: { kind: 'CITIZEN' }, attachments: [] }))
      .thenThrows(ValidationError, /a CITIZEN_PHOTO report needs at least one photo/);
  });

  it('refuses a report time in the future or without a time zone', () => {
    given(incidentDecider)
      .when(report({ reportedAt: at(2) }, 1))
      .thenThrows(ValidationError, /reportedAt 2026-03-01T01:02:00.000Z is in the future/);
    given(incidentDecider)
      .when(report({ reportedAt: '2026-03-01 09:00' }))
      .thenThrows(ValidationError, /reportedAt must be an ISO 8601 instant with a time zone/);
  });

  it('refuses a second report under the same id', () => {
    given(incidentDecider, [reported()])
      .when(report())
      .thenThrows(ConflictError, /incident inc-1 has already been reported \(status REPORTED\); report a new incident under a new id/);
  });

  it('refuses every other command on an incident that was never reported', () => {
    for (const type of INCIDENT_COMMAND_TYPES.filter((t) => t !== 'reportIncident')) {
      given(incidentDecider)
        .when(sampleCommand(type))
        .thenThrows(NotFoundError, /incident inc-1 has not been reported; report it with reportIncident first/);
    }
  });
});

describe('incident: registerIncident (立案)', () => {
  it('registers a case numbered by centre, China date, category and serial, with the category limit', () => {
    given(incidentDecider, [reported()]).when(register()).then([registered()]);
  });

  it('dates the case number by the China calendar day', () => {
    const [event] = incidentDecider.decide(
      { ...register(lixiaCentre, 12), metadata: { now: '2026-03-01T16:30:00.000Z' } },
      stateAfter([reported()]),
    );
    assert.equal(event?.type === 'IncidentRegistered' && event.data.caseNumber, '370102-20260302-MF-0012');
  });

  it('leaves the deadline unset until the first dispatch starts the clock', () => {
    const state = stateAfter(registeredCase);
    assert.equal(state.status === 'REGISTERED' && state.caseFile.deadline, null);
    assert.deepEqual(state.status === 'REGISTERED' && state.caseFile.owner, lixiaCentre);
  });

  it('lets a centre at any level containing the community register it', () => {
    for (const centre of [cityCentre, streetCentre, communityCentre]) {
      given(incidentDecider, [reported()]).when(register(centre)).then([registered(centre)]);
    }
  });

  it('refuses a centre whose division does not contain the incident', () => {
    given(incidentDecider, [reported()])
      .when(register(shizhongCentre))
      .thenThrows(NotYourCaseError, /the DISTRICT \(区县\) centre 370103 may not register this incident: 370102003001 is outside its division/);
    given(incidentDecider, [reported()]).when(register(otherStreetCentre)).thenThrows(NotYourCaseError, /370102004/);
  });

  it('refuses an actor whose level contradicts its division code', () => {
    given(incidentDecider, [reported()])
      .when(register({ level: 'CITY', divisionCode: '370102' }))
      .thenThrows(ValidationError, /actor.level CITY does not match actor.divisionCode 370102, which is a DISTRICT code/);
  });

  it('refuses a serial that is not a positive whole number', () => {
    given(incidentDecider, [reported()]).when(register(lixiaCentre, 0)).thenThrows(ValidationError, /serial must be a whole number from 1, got 0/);
    given(incidentDecider, [reported()]).when(register(lixiaCentre, 1.5)).thenThrows(ValidationError, /got 1.5/);
  });
});

describe('incident: rejectIncident', () => {
  const rejectedDuplicate: IncidentEvent = {
    type: 'IncidentRejected',
    data: { incidentId, reason: 'DUPLICATE', duplicateOfId: 'inc-0', note: '与已立案案件重复', rejectedBy: lixiaCentre, rejectedAt: at(5) },
  };

  it('rejects a duplicate report, linking the open case it repeats', () => {
    given(incidentDecider, [reported()]).when(reject()).then([rejectedDuplicate]);
  });

  it('rejects out-of-scope and insufficient reports without a link', () => {
    given(incidentDecider, [reported()])
      .when(reject({ reason: 'OUT_OF_SCOPE', duplicateOfId: undefined, note: '属于物业管理范围' }))
      .then([
        {
          type: 'IncidentRejected',
          data: { incidentId, reason: 'OUT_OF_SCOPE', note: '属于物业管理范围', rejectedBy: lixiaCentre, rejectedAt: at(5) },
        },
      ]);
  });

  it('refuses a duplicate without the case it repeats, or naming itself', () => {
    given(incidentDecider, [reported()])
      .when(reject({ duplicateOfId: undefined }))
      .thenThrows(ValidationError, /duplicateOfId must not be empty/);
    given(incidentDecider, [reported()])
      .when(reject({ duplicateOfId: incidentId }))
      .thenThrows(ValidationError, /duplicateOfId names this incident itself/);
  });

  it('refuses a duplicate link on another reason, an unknown reason and an empty note', () => {
    given(incidentDecider, [reported()])
      .when(reject({ reason: 'INSUFFICIENT' }))
      .thenThrows(ValidationError, /duplicateOfId goes with reason DUPLICATE only, but the reason is INSUFFICIENT/);
    given(incidentDecider, [reported()])
      .when(reject({ reason: 'SPAM' as 'DUPLICATE' }))
      .thenThrows(ValidationError, /reason SPAM is not a rejection reason/);
    given(incidentDecider, [reported()]).when(reject({ note: '' })).thenThrows(ValidationError, /note must not be empty/);
  });

  it('refuses a centre outside the incident division', () => {
    given(incidentDecider, [reported()]).when(reject({ actor: shizhongCentre })).thenThrows(NotYourCaseError, /may not reject this incident/);
  });

  it('ends the workflow: a rejected incident accepts nothing more', () => {
    given(incidentDecider, [reported(), rejectedDuplicate])
      .when(register())
      .thenThrows(InvalidTransitionError, /cannot registerIncident while the status is REJECTED; allowed next steps: none/);
  });
});

describe('incident: dispatchIncident (派遣)', () => {
  it('lets a district send its case to one of its streets, starting the clock: deadline = dispatch + limit', () => {
    given(incidentDecider, registeredCase).when(dispatch(streetOffice)).then([dispatchedToStreet]);
  });

  it('lets a district send a case to its own department', () => {
    given(incidentDecider, registeredCase)
      .when(dispatch(lixiaMunicipal))
      .then([dispatched(lixiaMunicipal, lixiaCentre, 10, at(130))]);
  });

  it('lets the city take over a district case and send it to a district department, becoming its owner', () => {
    const takenOver = stateAfter([...registeredCase, dispatched(lixiaMunicipal, cityCentre, 10, at(130))]);
    assert.deepEqual(takenOver.status === 'DISPATCHED' && takenOver.caseFile.owner, cityCentre);
    given(incidentDecider, registeredCase)
      .when(dispatch(lixiaMunicipal, cityCentre))
      .then([dispatched(lixiaMunicipal, cityCentre, 10, at(130))]);
    given(incidentDecider, registeredCase)
      .when(dispatch(shizhongMunicipal, cityCentre))
      .then([dispatched(shizhongMunicipal, cityCentre, 10, at(130))]);
  });

  it('lets a street send its case to one of its communities', () => {
    given(incidentDecider, [reported(), registered(streetCentre)])
      .when(dispatch(communityTeam, streetCentre))
      .then([dispatched(communityTeam, streetCentre, 10, at(130))]);
  });

  it('lets a community centre dispatch only to its own units', () => {
    const events = [reported(), registered(communityCentre)];
    given(incidentDecider, events)
      .when(dispatch(communityTeam, communityCentre))
      .then([dispatched(communityTeam, communityCentre, 10, at(130))]);
    given(incidentDecider, events)
      .when(dispatch(streetOffice, communityCentre))
      .thenThrows(
        NotYourCaseError,
        /the COMMUNITY \(村社区\) centre 370102003001 dispatches only to its own units; unit u-street belongs to 370102003. Dispatch to a unit of 370102003001$/,
      );
  });

  it('refuses a unit outside the dispatcher’s own division and direct children', () => {
    given(incidentDecider, registeredCase)
      .when(dispatch(shizhongMunicipal))
      .thenThrows(
        NotYourCaseError,
        /the DISTRICT \(区县\) centre 370102 dispatches only to its own departments or its streets; unit u-shizhong belongs to 370103/,
      );
    given(incidentDecider, registeredCase)
      .when(dispatch(communityTeam))
      .thenThrows(NotYourCaseError, /unit u-community belongs to 370102003001. Dispatch to a unit of 370102 or of a STREET directly under it/);
    given(incidentDecider, registeredCase).when(dispatch(cityBureau)).thenThrows(NotYourCaseError, /dispatches only to its own departments/);
  });

  it('refuses a centre below the owner, or beside it', () => {
    given(incidentDecider, registeredCase)
      .when(dispatch(communityTeam, streetCentre))
      .thenThrows(
        NotYourCaseError,
        /the STREET \(镇街\) centre 370102003 may not dispatch case 370102-20260301-MF-0007: it is owned by the DISTRICT \(区县\) centre 370102/,
      );
    given(incidentDecider, registeredCase).when(dispatch(shizhongMunicipal, shizhongCentre)).thenThrows(NotYourCaseError, /owned by/);
  });

  it('refuses a dispatch while the case is already with a unit, closed or rejected', () => {
    given(incidentDecider, dispatchedCase)
      .when(dispatch(otherStreetOffice))
      .thenThrows(
        InvalidTransitionError,
        /cannot dispatchIncident while the status is DISPATCHED; allowed next steps: returnIncident, escalateIncident, startHandling, markOverdue/,
      );
    given(incidentDecider, closedCase)
      .when(dispatch(streetOffice))
      .thenThrows(InvalidTransitionError, /cannot dispatchIncident while the status is CLOSED; allowed next steps: evaluateIncident/);
  });

  it('keeps the first deadline when a returned case is dispatched again', () => {
    given(incidentDecider, [...dispatchedCase, returned(15)])
      .when(dispatch(otherStreetOffice, lixiaCentre, 40))
      .then([dispatched(otherStreetOffice, lixiaCentre, 40, at(130))]);
  });

  it('refuses sending a case back to a unit that returned it', () => {
    given(incidentDecider, [...dispatchedCase, returned(15)])
      .when(dispatch(streetOffice, lixiaCentre, 40))
      .thenThrows(ValidationError, /unit u-street returned this case at 2026-03-01T01:15:00.000Z \("不属于本街道辖区"\); dispatch it to another unit, or escalate it/);
  });
});

function returned(minutes: number, unit: UnitRef = streetOffice, to: CentreRef = lixiaCentre): IncidentEvent {
  return {
    type: 'IncidentReturned',
    data: { incidentId, unitId: unit.unitId, reason: '不属于本街道辖区', returnedTo: to, returnedAt: at(minutes) },
  };
}

describe('incident: returnIncident (退回)', () => {
  it('sends the case back to the owning centre and records the return in the dispatch history', () => {
    given(incidentDecider, dispatchedCase).when(returnIt()).then([returned(15)]);
    const state = stateAfter([...dispatchedCase, returned(15)]);
    assert.equal(state.status, 'REGISTERED');
    assert.ok(state.status === 'REGISTERED');
    assert.equal(state.caseFile.level, 'DISTRICT');
    assert.deepEqual(state.caseFile.dispatches.map((d) => [d.unitId, d.returned?.reason]), [['u-street', '不属于本街道辖区']]);
    assert.deepEqual(allowedCommands(state), ['dispatchIncident', 'escalateIncident', 'markOverdue']);
  });

  it('refuses a return by any other unit, or by a centre', () => {
    given(incidentDecider, dispatchedCase)
      .when(returnIt(otherStreetOffice))
      .thenThrows(
        NotYourCaseError,
        /unit u-street-2 of 370102004 may not return this case: the case is dispatched to unit u-street \(泉城路街道城管办\) of 370102003, and only that unit may do so/,
      );
    given(incidentDecider, dispatchedCase)
      .when(command('returnIncident', { incidentId, reason: '不归我管', actor: lixiaCentre }, 15))
      .thenThrows(NotYourCaseError, /the DISTRICT \(区县\) centre 370102 \(no unit\) may not return this case/);
  });

  it('refuses a return once handling has started, and without a reason', () => {
    given(incidentDecider, handlingCase)
      .when(returnIt())
      .thenThrows(InvalidTransitionError, /cannot returnIncident while the status is HANDLING; allowed next steps: escalateIncident, reportHandled, markOverdue/);
    given(incidentDecider, dispatchedCase)
      .when(command('returnIncident', { incidentId, reason: ' ', actor: asUnit(streetOffice) }, 15))
      .thenThrows(ValidationError, /reason must not be empty/);
  });
});

describe('incident: escalateIncident (上报)', () => {
  const escalatedEvent = (
    from: CentreRef,
    to: CentreRef,
    by: ReturnType<typeof asUnit> | CentreRef,
    minutes = 15,
  ): IncidentEvent => ({
    type: 'IncidentEscalated',
    data: {
      incidentId,
      trigger: 'REQUESTED',
      fromLevel: from.level,
      fromDivisionCode: from.divisionCode,
      toLevel: to.level,
      toDivisionCode: to.divisionCode,
      reason: '需要区级协调燃气公司',
      escalatedBy: by,
      escalatedAt: at(minutes),
    },
  });

  it('sends a street unit’s case one level up, to await dispatch there', () => {
    given(incidentDecider, dispatchedCase)
      .when(escalate())
      .then([escalatedEvent(streetCentre, lixiaCentre, asUnit(streetOffice))]);
    const state = stateAfter([...dispatchedCase, escalatedEvent(streetCentre, lixiaCentre, asUnit(streetOffice))]);
    assert.ok(state.status === 'REGISTERED');
    assert.deepEqual([state.caseFile.level, state.caseFile.owner], ['DISTRICT', lixiaCentre]);
  });

  it('sends a district department’s case to the city, which then owns it', () => {
    const events = [...registeredCase, dispatched(lixiaMunicipal, lixiaCentre, 10, at(130)), started(lixiaMunicipal)];
    given(incidentDecider, events)
      .when(escalate(asUnit(lixiaMunicipal), 30))
      .then([escalatedEvent(lixiaCentre, cityCentre, asUnit(lixiaMunicipal), 30)]);
    const state = stateAfter([...events, escalatedEvent(lixiaCentre, cityCentre, asUnit(lixiaMunicipal), 30)]);
    assert.ok(state.status === 'REGISTERED');
    assert.deepEqual([state.caseFile.level, state.caseFile.owner], ['CITY', cityCentre]);
    assert.deepEqual(allowedCommands(state), ['dispatchIncident', 'markOverdue']);
  });

  it('lets the owning centre escalate a case awaiting dispatch', () => {
    given(incidentDecider, [reported(), registered(streetCentre)])
      .when(escalate(streetCentre))
      .then([escalatedEvent(streetCentre, lixiaCentre, streetCentre)]);
  });

  it('goes to the owner when it already sits higher than the level above the unit', () => {
    const events = [...dispatchedCase, ...overdueEvents(lixiaCentre, cityCentre)];
    given(incidentDecider, events)
      .when(escalate(asUnit(streetOffice), 140))
      .then([escalatedEvent(streetCentre, cityCentre, asUnit(streetOffice), 140)]);
  });

  it('refuses escalation by anyone but the unit holding the case or the owning centre', () => {
    given(incidentDecider, dispatchedCase)
      .when(escalate(asUnit(otherStreetOffice)))
      .thenThrows(NotYourCaseError, /only that unit may do so/);
    given(incidentDecider, registeredCase)
      .when(escalate(cityCentre))
      .thenThrows(NotYourCaseError, /the CITY \(市\) centre 370100 may not escalate case .*: it awaits dispatch by the DISTRICT \(区县\) centre 370102/);
  });

  it('refuses escalation from the city level, naming the reason', () => {
    given(incidentDecider, [reported(), registered(cityCentre)])
      .when(escalate(cityCentre))
      .thenThrows(
        InvalidTransitionError,
        /cannot escalateIncident while the status is REGISTERED at the CITY level, which has no level above; allowed next steps: dispatchIncident/,
      );
    given(incidentDecider, [reported(), registered(cityCentre), dispatched(cityBureau, cityCentre, 10, at(130))])
      .when(escalate(asUnit(cityBureau)))
      .thenThrows(InvalidTransitionError, /DISPATCHED at the CITY level/);
  });

  it('refuses escalation once the work is reported done', () => {
    given(incidentDecider, handledCase)
      .when(escalate())
      .thenThrows(InvalidTransitionError, /cannot escalateIncident while the status is HANDLED; allowed next steps: verifyIncident, markOverdue/);
  });
});

describe('incident: startHandling and reportHandled (处置, 处置反馈)', () => {
  it('lets the dispatched unit start and then report the work with evidence', () => {
    given(incidentDecider, dispatchedCase).when(start()).then([started()]);
    given(incidentDecider, handlingCase).when(reportDone()).then([handled()]);
  });

  it('refuses another unit with a message naming the unit the case is dispatched to', () => {
    given(incidentDecider, dispatchedCase)
      .when(start(otherStreetOffice))
      .thenThrows(NotYourCaseError, /unit u-street-2 of 370102004 may not start handling this case: the case is dispatched to unit u-street/);
    given(incidentDecider, handlingCase)
      .when(reportDone({ actor: asUnit(communityTeam) }))
      .thenThrows(NotYourCaseError, /may not report this case handled/);
  });

  it('refuses a unit id claimed from another division', () => {
    given(incidentDecider, dispatchedCase)
      .when(command('startHandling', { incidentId, actor: { ...asUnit(otherStreetOffice), unitId: streetOffice.unitId } }, 20))
      .thenThrows(NotYourCaseError, /only that unit may do so/);
  });

  it('refuses a report without evidence or note', () => {
    given(incidentDecider, handlingCase)
      .when(reportDone({ evidence: [] }))
      .thenThrows(ValidationError, /evidence must name at least one photo or record/);
    given(incidentDecider, handlingCase).when(reportDone({ evidence: [''] })).thenThrows(ValidationError, /evidence\[0\] must not be empty/);
    given(incidentDecider, handlingCase).when(reportDone({ note: '' })).thenThrows(ValidationError, /note must not be empty/);
  });

  it('refuses starting twice and reporting before starting', () => {
    given(incidentDecider, handlingCase).when(start()).thenThrows(InvalidTransitionError, /cannot startHandling while the status is HANDLING/);
    given(incidentDecider, dispatchedCase)
      .when(reportDone())
      .thenThrows(InvalidTransitionError, /cannot reportHandled while the status is DISPATCHED; allowed next steps: returnIncident/);
  });
});

describe('incident: verifyIncident (核查) and closure (结案)', () => {
  it('closes a case whose verification passed, on time when before the deadline', () => {
    given(incidentDecider, handledCase).when(verify()).then([verificationPassed(), closed()]);
  });

  it('closes late after the deadline, with the note kept', () => {
    given(incidentDecider, handledCase)
      .when(verify({ note: '复核合格' }, 131))
      .then([
        { type: 'IncidentVerificationPassed', data: { incidentId, verifiedBy: lixiaCentre, note: '复核合格', verifiedAt: at(131) } },
        closed(131, false),
      ]);
  });

  it('counts the deadline minute itself as on time', () => {
    given(incidentDecider, handledCase).when(verify({}, 130)).then([verificationPassed(130), closed(130, true)]);
  });

  it('reopens a case that failed verification for re-dispatch, counting rework', () => {
    given(incidentDecider, handledCase)
      .when(verify({ passed: false, reason: '井盖型号不符，仍有缝隙' }))
      .then([verificationFailed()]);
    const state = stateAfter([...handledCase, verificationFailed()]);
    assert.ok(state.status === 'REGISTERED');
    assert.equal(state.caseFile.reworkCount, 1);
    assert.equal(state.caseFile.level, 'DISTRICT');
    given(incidentDecider, [...handledCase, verificationFailed()])
      .when(dispatch(streetOffice, lixiaCentre, 95))
      .then([dispatched(streetOffice, lixiaCentre, 95, at(130))]);
  });

  it('counts every failed verification', () => {
    const twice = [...handledCase, verificationFailed(), dispatched(streetOffice, lixiaCentre, 95, at(130)), started(streetOffice, 96), handled(streetOffice, 100), verificationFailed(105)];
    const state = stateAfter(twice);
    assert.equal(state.status === 'REGISTERED' && state.caseFile.reworkCount, 2);
  });

  it('refuses a failed verification without a reason, and a reason on a passed one', () => {
    given(incidentDecider, handledCase).when(verify({ passed: false })).thenThrows(ValidationError, /reason must not be empty/);
    given(incidentDecider, handledCase).when(verify({ reason: '好' })).thenThrows(ValidationError, /for a passed one, use note/);
  });

  it('refuses verification by the unit that did the work, by any other unit, or by a centre below the owner', () => {
    given(incidentDecider, handledCase)
      .when(verify({ actor: asUnit(streetOffice) }))
      .thenThrows(NotYourCaseError, /unit u-street handled this case and may not verify its own work/);
    given(incidentDecider, handledCase)
      .when(verify({ actor: { ...lixiaCentre, unitId: 'u-lixia-other' } }))
      .thenThrows(NotYourCaseError, /unit u-lixia-other of 370102 may not verify case .*: a handling unit only works on what is dispatched to it/);
    given(incidentDecider, handledCase)
      .when(verify({ actor: { ...lixiaCentre, unitId: streetOffice.unitId } }))
      .thenThrows(NotYourCaseError, /unit u-street handled this case and may not verify its own work/);
    given(incidentDecider, handledCase)
      .when(verify({ actor: streetCentre }))
      .thenThrows(NotYourCaseError, /the STREET \(镇街\) centre 370102003 may not verify case 370102-20260301-MF-0007: the owning centre 370102 or the centre that dispatched it \(370102\) verifies it/);
  });

  it('refuses a centre above that neither owns nor dispatched the case: the owning or dispatching centre verifies', () => {
    given(incidentDecider, handledCase).when(verify({ actor: cityCentre })).thenThrows(NotYourCaseError, /the CITY \(市\) centre 370100 may not verify case/);
  });

  it('closes only through a passed verification: verifying before the work is reported is refused', () => {
    given(incidentDecider, handlingCase)
      .when(verify())
      .thenThrows(InvalidTransitionError, /cannot verifyIncident while the status is HANDLING/);
    given(incidentDecider, closedCase)
      .when(verify())
      .thenThrows(InvalidTransitionError, /cannot verifyIncident while the status is CLOSED; allowed next steps: evaluateIncident/);
  });
});

describe('incident: evaluateIncident (评价)', () => {
  it('records the satisfaction and trimmed comment of a closed case', () => {
    given(incidentDecider, closedCase)
      .when(evaluate(4, ' 处理及时 '))
      .then([{ type: 'IncidentEvaluated', data: { incidentId, satisfaction: 4, comment: '处理及时', evaluatedAt: at(200) } }]);
    given(incidentDecider, closedCase).when(evaluate(5)).then([evaluated(5)]);
  });

  it('refuses a satisfaction outside the whole numbers 1 to 5', () => {
    for (const satisfaction of [0, 6, 3.5, Number.NaN]) {
      given(incidentDecider, closedCase)
        .when(evaluate(satisfaction))
        .thenThrows(ValidationError, /satisfaction must be a whole number from 1 to 5/);
    }
  });

  it('refuses a second evaluation and an evaluation before closure', () => {
    given(incidentDecider, [...closedCase, evaluated(5)])
      .when(evaluate(1))
      .thenThrows(InvalidTransitionError, /cannot evaluateIncident while the status is CLOSED and already evaluated; allowed next steps: none/);
    given(incidentDecider, handledCase).when(evaluate(3)).thenThrows(InvalidTransitionError, /while the status is HANDLED/);
  });
});

/** What markOverdue appends at `minutes` once `deadline` has passed; an escalation sets the supervisor a deadline of the category's limit (120 min). */
function overdueEvents(from: CentreRef, to: CentreRef | null, minutes = 131, deadline = at(130)): IncidentEvent[] {
  const supervisor = to ?? from;
  const events: IncidentEvent[] = [{ type: 'IncidentOverdue', data: { incidentId, deadline, detectedAt: at(minutes) } }];
  if (to) {
    events.push({
      type: 'IncidentEscalated',
      data: {
        incidentId,
        trigger: 'OVERDUE',
        fromLevel: from.level,
        fromDivisionCode: from.divisionCode,
        toLevel: to.level,
        toDivisionCode: to.divisionCode,
        reason: `not closed by its deadline ${deadline}`,
        escalatedAt: at(minutes),
      },
    });
  }
  const name = { CITY: '市', DISTRICT: '区县', STREET: '镇街', COMMUNITY: '村社区' }[supervisor.level];
  events.push({
    type: 'IncidentSupervised',
    data: {
      incidentId,
      ...supervisor,
      note: `overdue since ${deadline}; supervised by the ${supervisor.level} (${name}) centre ${supervisor.divisionCode}`,
      supervisedAt: at(minutes),
      ...(to && { deadline: at(minutes + 120) }),
    },
  });
  return events;
}

describe('incident: markOverdue (超期, 督办)', () => {
  it('marks a late case overdue, moves ownership one level up for supervision and leaves the unit at work', () => {
    given(incidentDecider, handlingCase).when(markOverdue()).then(overdueEvents(lixiaCentre, cityCentre));
    const state = stateAfter([...handlingCase, ...overdueEvents(lixiaCentre, cityCentre)]);
    assert.ok(state.status === 'HANDLING');
    assert.equal(state.unit.unitId, streetOffice.unitId);
    assert.deepEqual(
      [state.caseFile.overdue, state.caseFile.supervised, state.caseFile.owner, state.caseFile.level, state.caseFile.supervisedBy],
      [true, true, cityCentre, 'STREET', cityCentre],
    );
  });

  it('escalates a street-owned case to its district', () => {
    const events = [reported(), registered(streetCentre), dispatched(communityTeam, streetCentre, 10, at(130))];
    given(incidentDecider, events).when(markOverdue()).then(overdueEvents(streetCentre, lixiaCentre));
  });

  it('escalates a case still open at its district supervisor\'s deadline again, to the city, with a new deadline', () => {
    const street = [reported(), registered(streetCentre), dispatched(communityTeam, streetCentre, 10, at(130)), started(communityTeam, 20)];
    const atDistrict = [...street, ...overdueEvents(streetCentre, lixiaCentre)];
    const district = stateAfter(atDistrict);
    assert.ok(district.status === 'HANDLING');
    assert.deepEqual([district.caseFile.owner, district.caseFile.supervisionDeadline, district.caseFile.deadline], [lixiaCentre, at(251), at(130)]);
    assert.ok(allowedCommands(district).includes('markOverdue'));

    given(incidentDecider, atDistrict)
      .when(markOverdue(251))
      .thenThrows(ValidationError, /is not overdue: the deadline 2026-03-01T05:11:00.000Z the DISTRICT \(区县\) centre 370102 set when supervising it has not passed/);
    given(incidentDecider, atDistrict).when(markOverdue(252)).then(overdueEvents(lixiaCentre, cityCentre, 252, at(251)));

    const city = stateAfter([...atDistrict, ...overdueEvents(lixiaCentre, cityCentre, 252, at(251))]);
    assert.ok(city.status === 'HANDLING');
    assert.deepEqual(
      [city.caseFile.owner, city.caseFile.supervisedBy, city.caseFile.supervisionDeadline, city.caseFile.level, city.unit.unitId, city.caseFile.deadline],
      [cityCentre, cityCentre, at(372), 'COMMUNITY', communityTeam.unitId, at(130)],
    );
    assert.deepEqual(allowedCommands(city), ['escalateIncident', 'reportHandled']);
    given(incidentDecider, [...atDistrict, ...overdueEvents(lixiaCentre, cityCentre, 252, at(251))])
      .when(markOverdue(500))
      .thenThrows(
        InvalidTransitionError,
        /cannot markOverdue while the status is HANDLING and already marked overdue, supervised by the CITY \(市\) centre 370100 with no level above; allowed next steps: escalateIncident, reportHandled$/,
      );
  });

  it('keeps the on-time judgement on the case\'s own deadline, not the supervisor\'s', () => {
    // Supervised by the city until +251, but the case's deadline was +130.
    const late = [...handlingCase, ...overdueEvents(lixiaCentre, cityCentre), handled(streetOffice, 140)];
    given(incidentDecider, late).when(verify({ actor: cityCentre }, 150)).then([verificationPassed(150, cityCentre), closed(150, false)]);
  });

  it('only marks and supervises a city-owned case, as there is no level above', () => {
    const events = [reported(), registered(cityCentre), dispatched(cityBureau, cityCentre, 10, at(130))];
    given(incidentDecider, events).when(markOverdue()).then(overdueEvents(cityCentre, null));
  });

  it('moves a returned case awaiting re-dispatch up with its owner', () => {
    const events = [...dispatchedCase, returned(15), ...overdueEvents(lixiaCentre, cityCentre)];
    const state = stateAfter(events);
    assert.ok(state.status === 'REGISTERED');
    assert.deepEqual([state.caseFile.owner, state.caseFile.level], [cityCentre, 'CITY']);
  });

  it('refuses a case whose deadline has not passed', () => {
    given(incidentDecider, dispatchedCase)
      .when(markOverdue(130))
      .thenThrows(ValidationError, /case 370102-20260301-MF-0007 is not overdue: its deadline 2026-03-01T03:10:00.000Z has not passed/);
  });

  it('refuses a case already marked, one never dispatched, and a closed one', () => {
    given(incidentDecider, [...dispatchedCase, ...overdueEvents(lixiaCentre, cityCentre)])
      .when(markOverdue(200))
      .thenThrows(InvalidTransitionError, /cannot markOverdue while the status is DISPATCHED and already marked overdue/);
    given(incidentDecider, registeredCase)
      .when(markOverdue(500))
      .thenThrows(InvalidTransitionError, /cannot markOverdue while the status is REGISTERED and not yet dispatched, so without a deadline/);
    given(incidentDecider, closedCase).when(markOverdue(500)).thenThrows(InvalidTransitionError, /while the status is CLOSED/);
  });
});

/** One command of each type, accepted whenever the status allows it (centre and unit taken from the state). */
function sampleCommand(type: IncidentCommandType, state: IncidentState = incidentDecider.initialState()): IncidentCommand {
  const owner = 'caseFile' in state ? state.caseFile.owner : lixiaCentre;
  const samples: Record<IncidentCommandType, () => IncidentCommand> = {
    reportIncident: () => report(),
    registerIncident: () => register(),
    rejectIncident: () => reject(),
    dispatchIncident: () => dispatch(owner.level === 'CITY' ? cityBureau : otherStreetOffice, owner),
    returnIncident: () => returnIt(),
    escalateIncident: () => escalate(state.status === 'REGISTERED' ? owner : asUnit(streetOffice)),
    startHandling: () => start(),
    reportHandled: () => reportDone(),
    verifyIncident: () => verify(),
    evaluateIncident: () => evaluate(4),
    markOverdue: () => markOverdue(300),
  };
  return samples[type]();
}

describe('incident: the transition table', () => {
  const table: [string, IncidentEvent[], IncidentCommandType[]][] = [
    ['REPORTED', [reported()], ['registerIncident', 'rejectIncident']],
    [
      'REJECTED',
      [reported(), { type: 'IncidentRejected', data: { incidentId, reason: 'INSUFFICIENT', note: '照片不清', rejectedBy: lixiaCentre, rejectedAt: at(5) } }],
      [],
    ],
    ['REGISTERED', registeredCase, ['dispatchIncident', 'escalateIncident']],
    ['REGISTERED at the city', [reported(), registered(cityCentre)], ['dispatchIncident']],
    ['REGISTERED after a failed verification', [...handledCase, verificationFailed()], ['dispatchIncident', 'escalateIncident', 'markOverdue']],
    ['DISPATCHED', dispatchedCase, ['returnIncident', 'escalateIncident', 'startHandling', 'markOverdue']],
    ['DISPATCHED and overdue', [...dispatchedCase, ...overdueEvents(lixiaCentre, cityCentre)], ['returnIncident', 'escalateIncident', 'startHandling']],
    ['HANDLING', handlingCase, ['escalateIncident', 'reportHandled', 'markOverdue']],
    ['HANDLED', handledCase, ['verifyIncident', 'markOverdue']],
    ['CLOSED', closedCase, ['evaluateIncident']],
    ['CLOSED and evaluated', [...closedCase, evaluated(3)], []],
  ];

  for (const [name, events, expected] of table) {
    it(`${name}: allows ${expected.join(', ') || 'nothing'}, refuses everything else as an invalid transition`, () => {
      const state = stateAfter(events);
      assert.deepEqual(allowedCommands(state), expected);
      for (const type of INCIDENT_COMMAND_TYPES) {
        const decided = given(incidentDecider, events).when(sampleCommand(type, state));
        if (type === 'reportIncident') decided.thenThrows(ConflictError, /already been reported/);
        else if (!expected.includes(type)) {
          decided.thenThrows(InvalidTransitionError, new RegExp(`^cannot ${type} while the status is ${state.status}.*; allowed next steps: ${expected.join(', ') || 'none'}$`));
        } else {
          assert.ok(incidentDecider.decide(sampleCommand(type, state), state).length > 0, `${type} should be accepted in ${name}`);
        }
      }
    });
  }

  it('a never-reported incident allows only reportIncident', () => {
    assert.deepEqual(allowedCommands(incidentDecider.initialState()), ['reportIncident']);
  });
});

describe('incident: evolve', () => {
  it('folds a full life into a closed, evaluated case with its history', () => {
    const state = stateAfter([...closedCase, evaluated(5)]);
    assert.ok(state.status === 'CLOSED');
    assert.equal(state.onTime, true);
    assert.equal(state.closedAt, at(90));
    assert.equal(state.evaluation?.satisfaction, 5);
    assert.deepEqual(
      {
        level: state.caseFile.level,
        owner: state.caseFile.owner,
        deadline: state.caseFile.deadline,
        firstDispatchedAt: state.caseFile.firstDispatchedAt,
        lastVerification: state.caseFile.lastVerification,
        reworkCount: state.caseFile.reworkCount,
        dispatches: state.caseFile.dispatches.length,
      },
      {
        level: 'STREET',
        owner: lixiaCentre,
        deadline: at(130),
        firstDispatchedAt: at(10),
        lastVerification: 'PASSED',
        reworkCount: 0,
        dispatches: 1,
      },
    );
  });

  it('keeps the first dispatch time across returns', () => {
    const state = stateAfter([...dispatchedCase, returned(15), dispatched(otherStreetOffice, lixiaCentre, 40, at(130))]);
    assert.ok(state.status === 'DISPATCHED');
    assert.equal(state.caseFile.firstDispatchedAt, at(10));
    assert.equal(state.unit.unitId, otherStreetOffice.unitId);
  });

  it('ignores an event that does not fit the status', () => {
    const state = stateAfter(registeredCase);
    assert.deepEqual(incidentDecider.evolve(state, handled()), state);
    assert.deepEqual(incidentDecider.evolve(incidentDecider.initialState(), registered()), { status: 'UNREPORTED' });
  });
});

describe('incident: event definitions', () => {
  const registry = new EventRegistry();
  for (const definition of incidentEventDefinitions) registry.register(definition);

  it('registers one schema per event type, named as the type', () => {
    assert.deepEqual(registry.types().sort(), [
      'IncidentClosed',
      'IncidentDispatched',
      'IncidentEscalated',
      'IncidentEvaluated',
      'IncidentHandled',
      'IncidentHandlingStarted',
      'IncidentOverdue',
      'IncidentRegistered',
      'IncidentRejected',
      'IncidentReported',
      'IncidentReturned',
      'IncidentSupervised',
      'IncidentVerificationFailed',
      'IncidentVerificationPassed',
    ]);
  });

  it('accepts every event the decider produces in these tests', () => {
    const events = [
      ...closedCase,
      evaluated(4),
      returned(15),
      verificationFailed(),
      ...overdueEvents(lixiaCentre, cityCentre),
      ...overdueEvents(cityCentre, null),
    ];
    assertAcceptedAsEmitted(registry, events);
  });

  it('refuses data the decider would never produce', () => {
    assert.throws(
      () => registry.validateForAppend('IncidentReported', { ...reportData, subcategory: 'ROAD_DAMAGE' }, testMetadata),
      /category and subcategory must be a pair of the incident catalog/,
    );
    assert.throws(
      () => registry.validateForAppend('IncidentEvaluated', { incidentId, satisfaction: 6, evaluatedAt: at(1) }, testMetadata),
      /satisfaction/,
    );
    assert.throws(
      () =>
        registry.validateForAppend(
          'IncidentRejected',
          { incidentId, reason: 'DUPLICATE', note: '重复', rejectedBy: lixiaCentre, rejectedAt: at(1) },
          testMetadata,
        ),
      /duplicateOfId goes with DUPLICATE only/,
    );
    assert.throws(
      () =>
        registry.validateForAppend(
          'IncidentDispatched',
          { ...dispatchedToStreet.data, level: 'DISTRICT' },
          testMetadata,
        ),
      /level must match the division code/,
    );
  });
});
