/**
 * Retention rules for personal data (PIPL art. 47(1)(2): the retention period ended), from
 * `PERSONAL_DATA_RETENTION` (pure, no I/O). One rule per catalog resource, comma-separated:
 *
 *     <resource>=<count><unit> after death      unit: y (years), m (months), d (days)
 *
 * e.g. `healthcare.records=30y after death, healthcare.claims=10y after death`. The resource is a
 * scope personal data is sealed under (`scopesOf` of the personal field rules), so a rule erases that
 * resource's key of the subject and nothing else.
 */
import { ValidationError } from '../errors.ts';

export const RETENTION_UNITS = { y: 'years', m: 'months', d: 'days' } as const;
export type RetentionUnit = keyof typeof RETENTION_UNITS;

export interface RetentionRule {
  /** The catalog resource whose personal data the rule erases. */
  resource: string;
  /** How long after the subject's death the data is kept. */
  count: number;
  unit: RetentionUnit;
  /** The rule as configured, normalised (`healthcare.records=30y after death`): the erasure's approver. */
  text: string;
}

const GRAMMAR = '<resource>=<count><y|m|d> after death, e.g. healthcare.records=30y after death';
const RULE = /^([A-Za-z][\w-]*(?:\.[A-Za-z][\w-]*)+)\s*=\s*(\d+)\s*([ymd])\s+after\s+death$/;

/** The rules of `text`, and one line per mistake (a malformed rule, a zero period, a resource named twice). */
export function parseRetentionRules(text: string): { rules: RetentionRule[]; problems: string[] } {
  const rules: RetentionRule[] = [];
  const problems: string[] = [];
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const match = RULE.exec(part);
    if (!match) {
      problems.push(`"${part}" is not a retention rule: write ${GRAMMAR}`);
      continue;
    }
    const resource = match[1]!;
    const count = Number(match[2]);
    const unit = match[3] as RetentionUnit;
    if (!Number.isSafeInteger(count) || count < 1) problems.push(`"${part}": the period must be at least 1 ${RETENTION_UNITS[unit].slice(0, -1)}`);
    else if (rules.some((r) => r.resource === resource)) problems.push(`"${part}": ${resource} has a rule already (one rule per resource)`);
    else rules.push({ resource, count, unit, text: `${resource}=${count}${unit} after death` });
  }
  return { rules, problems };
}

/** Refuses a rule naming a resource no personal data is sealed under, naming those that are. */
export function assertRetentionResources(rules: readonly RetentionRule[], scopes: readonly string[]): void {
  const unknown = rules.filter((r) => !scopes.includes(r.resource));
  if (unknown.length === 0) return;
  const lines = unknown.map((r) => `  PERSONAL_DATA_RETENTION: unknown resource "${r.resource}" in "${r.text}": a rule names a catalog resource holding personal data, one of ${scopes.join(', ')}`);
  throw new ValidationError(`invalid configuration:\n${lines.join('\n')}`);
}

/**
 * When a subject's data under `rule` has been kept long enough: the start of the day (China time,
 * where dates of death are recorded) `count` units after the date of death. Years and months keep
 * the day of the month, or take the month's last day when it has no such day (31 August + 6 months
 * is 28 February; 29 February + 1 year is 28 February), as calendar arithmetic usually does.
 */
export function retentionEndsAt(rule: Pick<RetentionRule, 'count' | 'unit'>, dateOfDeath: string): string {
  const [year, month, day] = dateOfDeath.split('-').map(Number) as [number, number, number];
  let end: Date;
  if (rule.unit === 'd') {
    end = new Date(Date.UTC(year, month - 1, day + rule.count));
  } else {
    const months = (month - 1) + (rule.unit === 'y' ? 12 * rule.count : rule.count);
    const lastDay = new Date(Date.UTC(year, months + 1, 0)).getUTCDate();
    end = new Date(Date.UTC(year, months, Math.min(day, lastDay)));
  }
  return new Date(`${end.toISOString().slice(0, 10)}T00:00:00+08:00`).toISOString();
}
