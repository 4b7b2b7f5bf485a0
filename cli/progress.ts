/** A progress bar for long fills and scans: rate and ETA on a terminal, a line every 10 s in a log. */
import cliProgress from 'cli-progress';
import type { SeedStatus } from '../bin/platform.ts';

export interface Progress {
  increment(by: number): void;
  stop(): void;
}

const rateFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** cli-progress rounds the seconds after splitting off the minutes ("4m60s"): round first. */
export function formatEta(seconds: number): string {
  const s = Math.round(seconds / 5) * 5;
  const pad = (n: number): string => String(n).padStart(2, '0');
  if (s >= 3600) return `${Math.floor(s / 3600)}h${pad(Math.floor((s % 3600) / 60))}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  return `${s}s`;
}

/** A bar in `format`, drawn every 10 s when the output is not a terminal (a log file, CI). */
const singleBar = (format: string) =>
  new cliProgress.SingleBar(
    { format, hideCursor: true, noTTYOutput: true, notTTYSchedule: 10_000, etaBuffer: 50, formatTime: formatEta },
    cliProgress.Presets.shades_classic,
  );

export function createProgress(label: string, total: number): Progress {
  const bar = singleBar(`  ${label} [{bar}] {percentage}% · {value}/{total} · {rate}/s · ETA {eta_formatted}`);
  const start = performance.now();
  let done = 0;
  bar.start(total, 0, { rate: '0' });
  return {
    increment(by) {
      done += by;
      const seconds = (performance.now() - start) / 1000;
      bar.increment(by, { rate: rateFormat.format(seconds > 0 ? done / seconds : 0) });
    },
    stop() {
      bar.stop();
    },
  };
}

/** The demo seed's bar: modules done of those that seed, with the events written so far and their rate. */
export function createSeedProgress(): { update(status: SeedStatus): void; stop(): void } {
  const bar = new cliProgress.SingleBar(
    {
      format: '  seeding the demo city [{bar}] {value}/{total} modules · {module} · {events} events · {rate} events/s',
      hideCursor: true,
      noTTYOutput: true,
      notTTYSchedule: 10_000,
    },
    cliProgress.Presets.shades_classic,
  );
  const start = performance.now();
  let started = false;
  return {
    update(status) {
      const seconds = (performance.now() - start) / 1000;
      const payload = { module: status.module, events: rateFormat.format(status.events), rate: rateFormat.format(seconds > 0 ? status.events / seconds : 0) };
      if (!started) {
        bar.start(status.modules, status.modulesDone, payload);
        started = true;
      } else bar.update(status.modulesDone, payload);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

/** The import's bar: records done of the file's, their rate, accepted and rejected so far, and ETA. */
export function createIngestProgress(label: string, total: number): { chunk(received: number, rejected: number): void; stop(): void } {
  const bar = singleBar(`  ${label} [{bar}] {percentage}% · {value}/{total} · {rate} records/s · accepted {accepted} · rejected {rejected} · ETA {eta_formatted}`);
  const start = performance.now();
  let done = 0;
  let rejectedSoFar = 0;
  bar.start(total, 0, { rate: '0', accepted: '0', rejected: '0' });
  return {
    chunk(received, rejected) {
      done += received;
      rejectedSoFar += rejected;
      const seconds = (performance.now() - start) / 1000;
      bar.update(done, { rate: rateFormat.format(seconds > 0 ? done / seconds : 0), accepted: rateFormat.format(done - rejectedSoFar), rejected: rateFormat.format(rejectedSoFar) });
    },
    stop() {
      bar.stop();
    },
  };
}
