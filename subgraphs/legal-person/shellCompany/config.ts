/**
 * Configuration of the shell-company assessment (空壳公司判断, §(五)): for each signal a weight (the
 * points it adds to the score when it fires) and a threshold (what "many" or "long" means for it).
 * Validated with zod at start, so a mistyped weight fails loudly instead of silently scoring zero.
 */
import { z } from 'zod';
import { ValidationError } from '../../../events/errors.ts';

export const SIGNAL_KINDS = [
  'NO_TAX_ACTIVITY',
  'NO_EMPLOYEES',
  'SHARED_ADDRESS',
  'REPRESENTATIVE_OF_MANY',
  'ANNUAL_REPORTS_MISSED',
  'REPRESENTATIVE_DECEASED',
] as const;
export type SignalKind = (typeof SIGNAL_KINDS)[number];

const signal = (threshold: z.ZodInt) => z.object({ weight: z.int().min(0).max(100), threshold }).strict();

export const shellCompanyConfigSchema = z
  .object({
    /** Threshold: consecutive finished months with no declaration or only zero taxable amounts. */
    NO_TAX_ACTIVITY: signal(z.int().min(1).max(120)),
    /** Threshold: the latest annual reports, this many in a row, all with no employees. */
    NO_EMPLOYEES: signal(z.int().min(1).max(20)),
    /** Threshold: legal persons (this one included) registered at the same address. */
    SHARED_ADDRESS: signal(z.int().min(2).max(10_000)),
    /** Threshold: legal persons (this one included) with the same legal representative. */
    REPRESENTATIVE_OF_MANY: signal(z.int().min(2).max(10_000)),
    /** Threshold: annual reports missed (a year's report is due by 30 June of the next year). */
    ANNUAL_REPORTS_MISSED: signal(z.int().min(1).max(50)),
    /** Threshold: days since the representative's registered death without a new representative. */
    REPRESENTATIVE_DECEASED: signal(z.int().min(0).max(3650)),
    /** A legal person scoring at least this is listed as suspected. */
    suspectScore: z.int().min(0).max(100),
  })
  .strict();

export type ShellCompanyConfig = z.infer<typeof shellCompanyConfigSchema>;

export const DEFAULT_SHELL_COMPANY_CONFIG: ShellCompanyConfig = {
  NO_TAX_ACTIVITY: { weight: 25, threshold: 3 },
  NO_EMPLOYEES: { weight: 15, threshold: 1 },
  SHARED_ADDRESS: { weight: 20, threshold: 5 },
  REPRESENTATIVE_OF_MANY: { weight: 20, threshold: 5 },
  ANNUAL_REPORTS_MISSED: { weight: 10, threshold: 1 },
  REPRESENTATIVE_DECEASED: { weight: 10, threshold: 90 },
  suspectScore: 50,
};

/** The configuration from (partial) input over the defaults; a ValidationError listing every mistake. */
export function parseShellCompanyConfig(input: unknown): ShellCompanyConfig {
  const base = typeof input === 'object' && input !== null ? input : {};
  const merged = Object.fromEntries(
    Object.entries({ ...DEFAULT_SHELL_COMPANY_CONFIG, ...base }).map(([key, value]) => {
      const fallback = DEFAULT_SHELL_COMPANY_CONFIG[key as keyof ShellCompanyConfig];
      return [key, typeof fallback === 'object' && typeof value === 'object' && value !== null ? { ...fallback, ...value } : value];
    }),
  );
  const parsed = shellCompanyConfigSchema.safeParse(merged);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ValidationError(`invalid shell-company configuration: ${problems}`, { fields: parsed.error.issues.map((i) => i.path.join('.')) });
  }
  return parsed.data;
}
