/** Calendar arithmetic on `YYYY-MM-DD` dates (the registers' China dates; no time zone involved). */
const DAY_MS = 86_400_000;

/** The date `days` calendar days after `date` (before it when negative). */
export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}
