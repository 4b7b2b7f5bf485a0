/**
 * Duplicate detection for new reports: the same category and subcategory, close in place and time
 * to a case that is still open (one manhole reported by a sensor, a grid worker and three citizens
 * is one case). The caller passes the open cases near the report; a match becomes
 * `rejectIncident` with reason DUPLICATE and `duplicateOfId`.
 */
import { ValidationError } from '../../events/errors.ts';

export interface GeoPoint {
  longitude: number;
  latitude: number;
}

export interface DuplicateCandidate {
  incidentId: string;
  category: string;
  subcategory: string;
  location: GeoPoint;
  /** ISO 8601 instant. */
  reportedAt: string;
}

export interface DuplicateOptions {
  radiusMeters: number;
  /** How far apart in time (either way) two reports may be and still be one incident. */
  windowMinutes: number;
}

export interface DuplicateMatch {
  incidentId: string;
  distanceMeters: number;
  minutesApart: number;
}

/** Mean Earth radius (IUGG), in metres. */
const EARTH_RADIUS_M = 6_371_008.8;

const radians = (degrees: number): number => (degrees * Math.PI) / 180;

/** Great-circle distance by the haversine formula, in metres. */
export function haversineMeters(a: GeoPoint, b: GeoPoint): number {
  const dLat = radians(b.latitude - a.latitude);
  const dLon = radians(b.longitude - a.longitude);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(radians(a.latitude)) * Math.cos(radians(b.latitude)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

function positive(value: number, field: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new ValidationError(`${field} must be a positive number, got ${value}`, { field });
  return value;
}

/**
 * The open case this report repeats: the nearest one of the same category and subcategory within
 * `radiusMeters` and `windowMinutes` (bounds included); on equal distance the earlier report, then
 * the smaller id, so the answer does not depend on the order of `openCases`. Null when none.
 */
export function findDuplicate(
  report: Omit<DuplicateCandidate, 'incidentId'> & { incidentId?: string },
  openCases: readonly DuplicateCandidate[],
  options: DuplicateOptions,
): DuplicateMatch | null {
  const radius = positive(options.radiusMeters, 'radiusMeters');
  const window = positive(options.windowMinutes, 'windowMinutes');
  const reportedAt = Date.parse(report.reportedAt);
  if (Number.isNaN(reportedAt)) {
    throw new ValidationError(`reportedAt must be an ISO 8601 instant, got "${report.reportedAt}"`, { field: 'reportedAt' });
  }
  let best: (DuplicateMatch & { at: number }) | null = null;
  for (const candidate of openCases) {
    if (candidate.incidentId === report.incidentId) continue;
    if (candidate.category !== report.category || candidate.subcategory !== report.subcategory) continue;
    const at = Date.parse(candidate.reportedAt);
    const minutesApart = Math.abs(reportedAt - at) / 60_000;
    // Written so that an unparsable candidate date (NaN) never matches.
    if (!(minutesApart <= window)) continue;
    const distanceMeters = haversineMeters(report.location, candidate.location);
    if (distanceMeters > radius) continue;
    const better =
      best === null ||
      distanceMeters < best.distanceMeters ||
      (distanceMeters === best.distanceMeters &&
        (at < best.at || (at === best.at && candidate.incidentId < best.incidentId)));
    if (better) best = { incidentId: candidate.incidentId, distanceMeters, minutesApart, at };
  }
  return best && { incidentId: best.incidentId, distanceMeters: best.distanceMeters, minutesApart: best.minutesApart };
}
