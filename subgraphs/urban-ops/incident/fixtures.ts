/**
 * Divisions, centres, units and events of one incident's life, shared by the incident and metrics
 * tests. Times are minutes after T0 = 2026-03-01 09:00 in Jinan (01:00 UTC).
 */
import { levelOfCode } from '../levels.ts';
import type { Actor, IncidentCommand, UnitRef } from './commands.ts';
import type { CentreRef, IncidentDispatched, IncidentEvent, IncidentReported } from './events.ts';

const T0 = Date.parse('2026-03-01T01:00:00.000Z');
export const at = (minutes: number): string => new Date(T0 + minutes * 60_000).toISOString();

export const command = <C extends IncidentCommand>(type: C['type'], data: C['data'], minutes: number): C =>
  ({ type, data, metadata: { now: at(minutes) } }) as C;

export const cityCentre: CentreRef = { level: 'CITY', divisionCode: '370100' };
export const lixiaCentre: CentreRef = { level: 'DISTRICT', divisionCode: '370102' };
export const shizhongCentre: CentreRef = { level: 'DISTRICT', divisionCode: '370103' };
export const streetCentre: CentreRef = { level: 'STREET', divisionCode: '370102003' };
export const otherStreetCentre: CentreRef = { level: 'STREET', divisionCode: '370102004' };
export const communityCentre: CentreRef = { level: 'COMMUNITY', divisionCode: '370102003001' };

export const cityBureau: UnitRef = { unitId: 'u-city', unitName: '济南市城市管理局', divisionCode: '370100' };
export const lixiaMunicipal: UnitRef = { unitId: 'u-lixia', unitName: '历下区市政工程处', divisionCode: '370102' };
export const shizhongMunicipal: UnitRef = { unitId: 'u-shizhong', unitName: '市中区市政工程处', divisionCode: '370103' };
export const streetOffice: UnitRef = { unitId: 'u-street', unitName: '泉城路街道城管办', divisionCode: '370102003' };
export const otherStreetOffice: UnitRef = { unitId: 'u-street-2', unitName: '大明湖街道城管办', divisionCode: '370102004' };
export const communityTeam: UnitRef = { unitId: 'u-community', unitName: '院前社区网格站', divisionCode: '370102003001' };

/** The unit acting as itself. */
export const asUnit = (unit: UnitRef): Actor => ({
  level: levelOfCode(unit.divisionCode),
  divisionCode: unit.divisionCode,
  unitId: unit.unitId,
});

export const INCIDENT_ID = 'inc-1';

/** A grid worker's report as the `reportIncident` mutation takes it: the id and time are the server's. */
export const reportInput: Omit<IncidentReported['data'], 'incidentId' | 'reportedAt'> = {
  channel: 'GRID_WORKER',
  category: 'MUNICIPAL_FACILITY',
  subcategory: 'MISSING_MANHOLE_COVER',
  description: '泉城路 100 号门前雨水井盖缺失',
  location: { longitude: 117.0211, latitude: 36.6651, address: '济南市历下区泉城路 100 号' },
  divisionCode: '370102003001',
  reporter: { kind: 'GRID_WORKER', id: 'gw-17', name: '王强' },
  attachments: ['photo://gw-17/1'],
};

export const reportData: IncidentReported['data'] = { incidentId: INCIDENT_ID, ...reportInput, reportedAt: at(0) };

export const reported = (data: Partial<IncidentReported['data']> = {}): IncidentEvent => ({
  type: 'IncidentReported',
  data: { ...reportData, ...data },
});

/** Registered by the Lixia district centre at +5 min: a manhole, 120 minutes, urgent. */
export const registered = (
  centre: CentreRef = lixiaCentre,
  minutes = 5,
  incidentId = INCIDENT_ID,
  caseNumber = `${centre.divisionCode}-20260301-MF-0007`,
): IncidentEvent => ({
  type: 'IncidentRegistered',
  data: {
    incidentId,
    caseNumber,
    urgency: 'URGENT',
    limitMinutes: 120,
    level: centre.level,
    divisionCode: centre.divisionCode,
    registeredAt: at(minutes),
  },
});

export const dispatched = (
  unit: UnitRef,
  by: CentreRef,
  minutes: number,
  deadline: string,
  incidentId = INCIDENT_ID,
): IncidentDispatched => ({
  type: 'IncidentDispatched',
  data: {
    incidentId,
    unitId: unit.unitId,
    unitName: unit.unitName,
    level: levelOfCode(unit.divisionCode),
    divisionCode: unit.divisionCode,
    dispatchedBy: by,
    deadline,
    dispatchedAt: at(minutes),
  },
});

/** The district sends the case to the street office at +10 min; deadline +130. */
export const dispatchedToStreet = dispatched(streetOffice, lixiaCentre, 10, at(130));

export const started = (unit: UnitRef = streetOffice, minutes = 20, incidentId = INCIDENT_ID): IncidentEvent => ({
  type: 'IncidentHandlingStarted',
  data: { incidentId, unitId: unit.unitId, startedAt: at(minutes) },
});

export const handled = (unit: UnitRef = streetOffice, minutes = 60, incidentId = INCIDENT_ID): IncidentEvent => ({
  type: 'IncidentHandled',
  data: { incidentId, unitId: unit.unitId, evidence: ['photo://after/1'], note: '已补装井盖', handledAt: at(minutes) },
});

export const verificationPassed = (minutes = 90, by: CentreRef = lixiaCentre, incidentId = INCIDENT_ID): IncidentEvent => ({
  type: 'IncidentVerificationPassed',
  data: { incidentId, verifiedBy: by, verifiedAt: at(minutes) },
});

export const verificationFailed = (minutes = 90, by: CentreRef = lixiaCentre, incidentId = INCIDENT_ID): IncidentEvent => ({
  type: 'IncidentVerificationFailed',
  data: { incidentId, verifiedBy: by, reason: '井盖型号不符，仍有缝隙', verifiedAt: at(minutes) },
});

export const closed = (minutes = 90, onTime = true, incidentId = INCIDENT_ID): IncidentEvent => ({
  type: 'IncidentClosed',
  data: { incidentId, closedAt: at(minutes), onTime },
});

export const evaluated = (satisfaction: number, minutes = 200, incidentId = INCIDENT_ID): IncidentEvent => ({
  type: 'IncidentEvaluated',
  data: { incidentId, satisfaction, evaluatedAt: at(minutes) },
});

/** One case from report to closure through the street office, closed on time at +90. */
export const closedCase: IncidentEvent[] = [
  reported(),
  registered(),
  dispatchedToStreet,
  started(),
  handled(),
  verificationPassed(),
  closed(),
];
