/** The AQI part every air-quality read model stores, from an HJ 633 report (all null when the AQI is NA). */
import type { AqiReport, Pollutant } from '../aqi/hj633.ts';

export interface AqiFields {
  aqi: number | null;
  /** 1 (优) … 6 (严重污染). */
  level: number | null;
  levelName: AqiReport['levelName'] | null;
  levelNameEn: AqiReport['levelNameEn'] | null;
  colour: AqiReport['colour'] | null;
  primaryPollutants: Pollutant[];
  exceedingPollutants: Pollutant[];
  iaqi: Partial<Record<Pollutant, number>>;
}

export function aqiFields(report: AqiReport | undefined): AqiFields {
  if (!report) {
    return {
      aqi: null,
      level: null,
      levelName: null,
      levelNameEn: null,
      colour: null,
      primaryPollutants: [],
      exceedingPollutants: [],
      iaqi: {},
    };
  }
  return { ...aqiHeadline(report), exceedingPollutants: report.exceedingPollutants, iaqi: report.iaqi };
}

/** What an hour's AQI is at a glance: the read models store it, alerts carry it. */
export type AqiHeadline = Pick<AqiReport, 'aqi' | 'level' | 'levelName' | 'levelNameEn' | 'colour' | 'primaryPollutants'>;

export function aqiHeadline(report: AqiReport): AqiHeadline {
  return {
    aqi: report.aqi,
    level: report.level,
    levelName: report.levelName,
    levelNameEn: report.levelNameEn,
    colour: report.colour,
    primaryPollutants: report.primaryPollutants,
  };
}
