/**
 * The environment subgraph's operating rules, from the environment (validated at start, every
 * mistake reported at once): when an hourly AQI is pushed as an alert, and how long a discharge unit's
 * alarm may wait for acknowledgement before it is escalated. Both are local rules, not figures of a
 * national standard.
 */
import { z } from 'zod';
import { parseConfig } from '../../events/config.ts';
import { ALARM_ACKNOWLEDGEMENT_MINUTES } from './emission/decider.ts';

export interface EnvironmentConfig {
  /** `airQualityAlert` pushes an hourly AQI strictly above this (201+ is 重度污染). @default 200 */
  alertAqiAbove: number;
  /** An alarm not acknowledged this many minutes after it was raised is escalated. @default 60 */
  acknowledgeWithinMinutes: number;
}

export const DEFAULT_ENVIRONMENT_CONFIG: EnvironmentConfig = {
  alertAqiAbove: 200,
  acknowledgeWithinMinutes: ALARM_ACKNOWLEDGEMENT_MINUTES,
};

const schema = z.object({
  ENVIRONMENT_ALERT_AQI_ABOVE: z.coerce
    .number()
    .int('must be a whole AQI')
    .min(0, 'must be 0 or more')
    .max(500, 'must be at most 500, the top of the AQI scale')
    .default(DEFAULT_ENVIRONMENT_CONFIG.alertAqiAbove),
  ENVIRONMENT_ALARM_ACKNOWLEDGE_MINUTES: z.coerce
    .number()
    .int('must be a whole number of minutes')
    .min(1, 'must be at least 1 minute')
    .default(DEFAULT_ENVIRONMENT_CONFIG.acknowledgeWithinMinutes),
});

export function environmentConfig(env: Record<string, string | undefined> = process.env): EnvironmentConfig {
  const parsed = parseConfig(schema, env);
  return {
    alertAqiAbove: parsed.ENVIRONMENT_ALERT_AQI_ABOVE,
    acknowledgeWithinMinutes: parsed.ENVIRONMENT_ALARM_ACKNOWLEDGE_MINUTES,
  };
}
