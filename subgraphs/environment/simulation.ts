/**
 * Synthetic but plausible hourly air quality for the demo city and the bench: a regional "weather"
 * factor per day shared by every district (so haze is regional, as it is on the North China Plain),
 * a district factor (industrial districts dirtier, rural counties cleaner), diurnal cycles (PM and
 * NO2 peaking with the morning and evening traffic, O3 in the afternoon and lower under haze), noise,
 * and optional pollution episodes. Every value is a pure function of (seed, station, hour), so any
 * hour of any station can be generated on its own, in any order, the same on every run.
 */
import type { Concentrations } from './aqi/hj633.ts';
import { CHINA_OFFSET_MS, DAY_MS, HOUR_MS } from '../kit/calendar.ts';


/** A deterministic number in [0, 1) for a tuple of integers (a mulberry32 step over a mixed key). */
export function hashUnit(...keys: number[]): number {
  let t = 0x9e3779b9;
  for (const key of keys) t = Math.imul(t ^ (key | 0), 0x85ebca6b) ^ (t >>> 13);
  t = (t + 0x6d2b79f5) >>> 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/** A haze episode: the regional factor rises to `peak` times its usual level between `from` and `to` (ms), peaking midway. */
export interface Episode {
  from: number;
  to: number;
  peak: number;
}

export interface SimulatedStation {
  /** Distinguishes the stations' noise. */
  index: number;
  /** 1 for an average district; 1.3 for an industrial one. */
  districtFactor: number;
  /** Micro stations by a road read a little higher and noisier. */
  micro: boolean;
}

/** Mean 1-hour PM2.5 of an ordinary day in an average district, µg/m³ (Jinan's winter level). */
const BASE_PM25 = 48;

export class AirQualitySimulator {
  constructor(
    private readonly seed: number,
    private readonly episodes: readonly Episode[] = [],
  ) {}

  /** The regional factor at an instant: daily levels interpolated hour by hour, times any episode. */
  regionalFactor(ms: number): number {
    const day = Math.floor(ms / DAY_MS);
    const within = (ms - day * DAY_MS) / DAY_MS;
    const level = (d: number) => 0.55 + 0.9 * hashUnit(this.seed, d);
    const factor = level(day) * (1 - within) + level(day + 1) * within;
    const episode = this.episodes.find((e) => ms > e.from && ms < e.to);
    if (!episode) return factor;
    // Haze comes with stagnant air: the day's own level counts at least as an average one.
    const phase = (ms - episode.from) / (episode.to - episode.from);
    return Math.max(factor, 1) * (1 + (episode.peak - 1) * Math.sin(Math.PI * phase));
  }

  /** The 1-hour averages of the hour ending at `hourMs`. */
  hour(station: SimulatedStation, hourMs: number): Concentrations {
    const localHour = new Date(hourMs + CHINA_OFFSET_MS).getUTCHours();
    const h = Math.floor(hourMs / HOUR_MS);
    const noise = (k: number, spread: number) => 1 + spread * (2 * hashUnit(this.seed, station.index, h, k) - 1);
    const regional = this.regionalFactor(hourMs);
    const traffic = 1 + 0.25 * (Math.exp(-((localHour - 8) ** 2) / 4) + Math.exp(-((localHour - 19) ** 2) / 5));
    const night = 1 + 0.15 * Math.cos(((localHour - 2) / 24) * 2 * Math.PI);
    const micro = station.micro ? 1.08 : 1;
    const pm25 = BASE_PM25 * station.districtFactor * regional * traffic * night * micro * noise(1, station.micro ? 0.22 : 0.12);
    const afternoon = Math.max(0, Math.cos(((localHour - 15) / 24) * 2 * Math.PI));
    const o3 = (18 + 95 * afternoon ** 2) * (1.3 - 0.25 * Math.min(regional, 3)) * noise(6, 0.15);
    // A rare fault: one pollutant missing that hour (NA), as analysers drop out for calibration.
    const fault = hashUnit(this.seed, station.index, h, 9) < 0.004 ? Math.floor(hashUnit(this.seed, station.index, h, 10) * 6) : -1;
    const value = (k: number, v: number, digits = 0) => (fault === k ? null : Number(Math.max(0, v).toFixed(digits)));
    return {
      pm2_5: value(0, pm25),
      pm10: value(1, pm25 * (1.55 + 0.35 * hashUnit(this.seed, station.index, h, 2))),
      so2: value(2, (7 + 6 * station.districtFactor) * (0.7 + 0.3 * regional) * noise(3, 0.25)),
      no2: value(3, 30 * station.districtFactor * traffic ** 2 * (0.75 + 0.25 * regional) * micro * noise(4, 0.18)),
      co: value(4, (0.45 + 0.35 * regional) * traffic * noise(5, 0.12), 1),
      o3: value(5, Math.max(2, o3)),
    };
  }
}
