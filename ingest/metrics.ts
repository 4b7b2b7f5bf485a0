/**
 * Prometheus metrics of the HTTP ingest route (`POST /ingest/<kind>`): deliveries by kind and the
 * status they were answered with, and records by kind and outcome as their chunks are counted. They
 * belong to no registry of their own: `registerIn` adds them to the gateway's, so `/metrics` shows
 * them beside the gateway's figures.
 */
import { Counter, type Registry } from 'prom-client';
import type { IngestCounts } from '../subgraphs/governance/ingest/events.ts';
import type { ChunkReport } from './types.ts';

/** How a counted record ended: every count of a chunk but `received`. */
export type RecordOutcome = Exclude<keyof IngestCounts, 'received'>;

/** Kind label of a request whose path names no kind the channel accepts (paths are the caller's: unbounded). */
export const UNKNOWN_KIND = 'unknown';

export class IngestMetrics {
  private readonly requests = new Counter({
    name: 'city_brain_ingest_requests_total',
    help: 'Deliveries POSTed to /ingest/<kind>, by kind ("unknown": a path naming no kind) and the HTTP status answered (202 accepted, 200 already completed, 4xx refused)',
    labelNames: ['kind', 'status'] as const,
    registers: [],
  });
  private readonly records = new Counter({
    name: 'city_brain_ingest_records_total',
    help: 'Records of HTTP deliveries counted, by kind and outcome (created, changed, unchanged, alreadyPresent: accepted; rejected)',
    labelNames: ['kind', 'outcome'] as const,
    registers: [],
  });

  registerIn(registry: Registry): void {
    registry.registerMetric(this.requests);
    registry.registerMetric(this.records);
  }

  countRequest(kind: string, status: number): void {
    this.requests.inc({ kind, status: String(status) });
  }

  /** A chunk a re-run found already counted is not counted again: its records were, when it was committed. */
  countChunk(kind: string, { counts, alreadyCounted }: ChunkReport): void {
    if (alreadyCounted) return;
    for (const outcome of ['created', 'changed', 'unchanged', 'alreadyPresent', 'rejected'] as const satisfies readonly RecordOutcome[]) {
      if (counts[outcome] > 0) this.records.inc({ kind, outcome }, counts[outcome]);
    }
  }
}
