import { ValidationError } from '../../../events/errors.ts';
import { assertCalendarDate } from '../../kit/calendar.ts';

/**
 * Age in completed years (周岁) on `date`, both `YYYY-MM-DD`. Someone born on 29 February
 * completes a year on 1 March in common years.
 */
export function ageOn(birthDate: string, date: string): number {
  assertCalendarDate(birthDate, 'birthDate');
  assertCalendarDate(date, 'date');
  if (date < birthDate) {
    throw new ValidationError(`date ${date} is before the birth date ${birthDate}; there is no age yet`, {
      field: 'date',
    });
  }
  const years = Number(date.slice(0, 4)) - Number(birthDate.slice(0, 4));
  return date.slice(5) >= birthDate.slice(5) ? years : years - 1;
}

export type AgeBand = '0-17' | '18-34' | '35-59' | '60-64' | '65-79' | '80+';

/** The bands the population statistics report: minors, working ages, the elderly (60+, 65+, 80+). */
export function ageBand(age: number): AgeBand {
  if (!Number.isInteger(age) || age < 0) {
    throw new ValidationError(`age must be a whole number of years, 0 or more, got ${age}`, { field: 'age' });
  }
  if (age < 18) return '0-17';
  if (age < 35) return '18-34';
  if (age < 60) return '35-59';
  if (age < 65) return '60-64';
  if (age < 80) return '65-79';
  return '80+';
}

/**
 * The latest birth date of someone at least `years` old on `today` (both `YYYY-MM-DD`): an age
 * condition as a birth-date range over the index. Consistent with `ageOn`, including 29 February
 * (the bound "2007-02-29" compares as a string between the 28th and 1 March).
 */
export function bornOnOrBefore(today: string, years: number): string {
  return `${String(Number(today.slice(0, 4)) - years).padStart(4, '0')}${today.slice(4)}`;
}
