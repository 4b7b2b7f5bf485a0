/** A progress bar for long fills and scans: rate and ETA on a terminal, a line every 10 s in a log. */
import cliProgress from 'cli-progress';

export interface Progress {
  increment(by: number): void;
  stop(): void;
}

const rateFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export function createProgress(label: string, total: number): Progress {
  const bar = new cliProgress.SingleBar(
    {
      format: `  ${label} [{bar}] {percentage}% · {value}/{total} · {rate}/s · ETA {eta_formatted}`,
      hideCursor: true,
      noTTYOutput: true,
      notTTYSchedule: 10_000,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
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
