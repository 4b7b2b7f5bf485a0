/**
 * The aggregation channel's figures: a persons file imported through the channel (`importFile`:
 * parse, check, plan with the register's deciders, commit chunk by chunk with the batch's count)
 * beside raw `appendMany` of the same events in the same run; station readings through the channel,
 * beside raw `appendMany` of theirs;
 * and, on PostgreSQL, readings published to the MQTT broker and committed by the bridge, restarted in
 * the middle of the run, with zero lost and zero duplicated checked at the end.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { MODULES } from '../bin/modules.ts';
import { registryOf } from '../bin/platform.ts';
import { importFile } from '../cli/import.ts';
import { SqlEventStore } from '../events/sql/sqlEventStore.ts';
import type { EventMetadata, NewEvent, StreamAppend } from '../events/types.ts';
import { startMqttBridge } from '../ingest/mqtt.ts';
import { ingestKindsOf, runIngestBatch } from '../ingest/runner.ts';
import type { IngestDeps, RawRecord } from '../ingest/types.ts';
import { registerMonitoringStation } from '../subgraphs/environment/station/handlers.ts';
import { canonicalInstant, HOUR_MS } from '../subgraphs/kit/calendar.ts';
import { makeIdNumber } from '../subgraphs/population/identity/idNumber.ts';
import { testGrants } from '../test/helpers/grants.ts';
import { dropSession } from '../test/helpers/mqtt.ts';
import { openBenchDatabase } from './lib/databases.ts';
import type { Target } from './lib/figures.ts';
import { backendReporter, FIGURE_PREFIX, type BenchContext, type BenchOption } from './lib/section.ts';
import { perSecond, stopwatch } from './lib/stats.ts';

export const name = 'ingest';
export const description = 'persons file import through the aggregation channel (beside raw appendMany of the same events), station readings through the channel (beside raw appendMany of theirs), MQTT readings through the broker across a bridge restart';

export const options: readonly BenchOption[] = [
  { name: 'ingestPersons', description: 'persons in the imported file', default: 100_000, quick: 5_000 },
  { name: 'ingestReadings', description: 'station readings through the channel', default: 200_000, quick: 10_000 },
  { name: 'mqttReadings', description: 'station readings published to the MQTT broker (PostgreSQL only)', default: 50_000, quick: 3_000 },
];

const POSTGRES_TARGETS: Record<string, readonly Target[]> = {
  'ingest.persons.records_per_s': [
    { on: 'value', op: '>=', threshold: 20_000 },
    { on: 'ratio', op: '>=', threshold: 0.6 },
  ],
  'ingest.stationReadings.records_per_s': [{ on: 'value', op: '>=', threshold: 30_000 }],
  'ingest.mqtt.readings_per_s': [{ on: 'value', op: '>=', threshold: 5_000 }],
};
const CONSUMER = 'bench-feeds';
const STATIONS = 200;
const BROKER = process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883';
const COMMUNITY = '370102001001';

const metadata: EventMetadata = {
  provenance: { department: 'ecology-environment', system: 'bench', channel: 'bench', collectedAt: new Date().toISOString() },
  actor: { consumerId: 'bench', role: 'system' },
  correlationId: 'bench:ingest',
};

/** Person `i`: 999 per birth date (the ID number's sequence has 3 digits; odd is male). */
function personLine(i: number): string {
  const sequence = (i % 999) + 1;
  const birthDate = new Date(Date.UTC(1950, 0, 1) + Math.floor(i / 999) * 86_400_000).toISOString().slice(0, 10);
  return JSON.stringify({
    sourceRecordId: `P${i}`,
    idNumber: makeIdNumber('370102', birthDate, sequence),
    name: `居民${i}`,
    gender: sequence % 2 === 1 ? 'MALE' : 'FEMALE',
    birthDate,
    residence: { address: `历下区${i}号`, divisionCode: COMMUNITY },
  });
}

/** Reading `i`: station `i % STATIONS`, hour `i / STATIONS` after 2026-03-01 00:00 Jinan time. */
function reading(i: number): Record<string, unknown> {
  return {
    sourceRecordId: `R${i}`,
    stationId: `bs${i % STATIONS}`,
    observedAt: canonicalInstant(Date.parse('2026-03-01T00:00:00+08:00') + (1 + Math.floor(i / STATIONS)) * HOUR_MS),
    concentrations: { pm25: 30 + (i % 40), pm10: 60 + (i % 50), no2: 20 + (i % 30) },
  };
}

export async function run(ctx: BenchContext): Promise<void> {
  const persons = ctx.size('ingestPersons');
  const readings = ctx.size('ingestReadings');
  const mqttReadings = ctx.size('mqttReadings');
  const dir = mkdtempSync(join(tmpdir(), 'cb-bench-ingest-'));
  ctx.defer(async () => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'persons.ndjson');
  writeFileSync(file, Array.from({ length: persons }, (_, i) => `${personLine(i + 1)}\n`).join(''));
  const kinds = ingestKindsOf(MODULES);

  for (const backend of ctx.backends) {
    ctx.signal.throwIfAborted();
    const prefix = FIGURE_PREFIX[backend];
    const report = backendReporter(ctx, backend, POSTGRES_TARGETS);
    const opened = await openBenchDatabase(ctx, backend, 8);
    const store = await SqlEventStore.open(opened.db, registryOf(MODULES));
    const closeStore = ctx.defer(() => store.close());
    const grants = testGrants(store);
    await grants.register(CONSUMER, 'DEPARTMENT', 'big-data-bureau');
    await grants.grant(CONSUMER, ['population.write', 'environment.write'], { actions: ['WRITE'], validUntil: new Date(Date.now() + 86_400_000) });
    const deps: IngestDeps = { store, kinds, now: () => new Date() };
    const actor = { consumerId: CONSUMER, role: 'department' };

    // Persons: the file through the channel, then every event it appended (registrations, ID-number
    // claims, the batch's own) appended raw again under other stream ids, a stream per append as planned.
    const from = await store.headPosition();
    const imported = stopwatch();
    const { report: batch } = await importFile(deps, { file, kind: 'persons', department: 'public-security', actor });
    const channelRate = perSecond(batch.created, imported.elapsedMs());
    if (batch.created !== persons) throw new Error(`the bench's persons were not all created: ${JSON.stringify({ ...batch, rejects: batch.rejects.slice(0, 3) })}`);
    const events = await store.readAll({ fromPosition: from, limit: persons * 10 });
    const byStream = new Map<string, NewEvent[]>();
    for (const e of events) byStream.set(e.streamId, [...(byStream.get(e.streamId) ?? []), { type: e.type, data: e.data, metadata: e.metadata }]);
    const appends: StreamAppend[] = [...byStream].map(([streamId, list]) => ({ streamId: `raw-${streamId}`, events: list, options: { expectedRevision: 'no_stream' } }));
    const raw = stopwatch();
    // As the channel commits: a chunk's worth of records (here, of streams) per appendMany.
    for (let i = 0; i < appends.length; i += 1000) await store.appendMany(appends.slice(i, i + 1000));
    const rawRate = perSecond(persons, raw.elapsedMs());
    report('ingest.persons.records_per_s', channelRate, { key: 'baseline.persons.appendMany.records_per_s', value: rawRate });
    ctx.log(`${prefix}: persons ${channelRate.toFixed(0)}/s through the channel, ${rawRate.toFixed(0)}/s raw appendMany of the same ${events.length} events in ${appends.length} streams`);

    // Station readings through the channel.
    for (let s = 0; s < STATIONS; s++) {
      await registerMonitoringStation({ store, metadata, now: new Date().toISOString() }, { stationId: `bs${s}`, code: `BS${s}`, name: `bench ${s}`, kind: 'MICRO', divisionCode: '370102', location: { longitude: 117, latitude: 36.6 } });
    }
    async function* records(): AsyncIterable<RawRecord> {
      for (let i = 0; i < readings; i++) yield { line: i + 1, fields: reading(i) };
    }
    const readingsFrom = await store.headPosition();
    const timed = stopwatch();
    const readingsBatch = await runIngestBatch(deps, { kind: 'station-readings', department: 'ecology-environment', channel: 'import', actor }, records());
    if (readingsBatch.created !== readings) throw new Error(`the bench's readings were not all created: ${JSON.stringify({ ...readingsBatch, rejects: readingsBatch.rejects.slice(0, 3) })}`);
    const readingsRate = perSecond(readings, timed.elapsedMs());
    // Raw: every event the readings appended (the readings, the batch's own) appended again under other
    // stream ids as the channel plans them, an append per event expected at its revision, 1,000 per call.
    const readingEvents = await store.readAll({ fromPosition: readingsFrom, limit: readings * 2 });
    const rawReadings: StreamAppend[] = readingEvents.map((e) => ({
      streamId: `raw-${e.streamId}`,
      events: [{ type: e.type, data: e.data, metadata: e.metadata }],
      options: { expectedRevision: e.revision === 0 ? 'no_stream' : e.revision - 1 },
    }));
    const rawTimed = stopwatch();
    for (let i = 0; i < rawReadings.length; i += 1000) await store.appendMany(rawReadings.slice(i, i + 1000));
    const rawReadingsRate = perSecond(readings, rawTimed.elapsedMs());
    report('ingest.stationReadings.records_per_s', readingsRate, { key: 'baseline.stationReadings.appendMany.records_per_s', value: rawReadingsRate });
    ctx.log(`${prefix}: station readings ${readingsRate.toFixed(0)}/s through the channel, ${rawReadingsRate.toFixed(0)}/s raw appendMany of the same ${readingEvents.length} events`);

    if (backend === 'postgres') await benchMqtt(ctx, store, deps, readings, mqttReadings, report);
    await closeStore();
    await opened.dispose();
  }
}

/** Readings published through the broker; the bridge is closed and started again half-way (same session). */
async function benchMqtt(ctx: BenchContext, store: SqlEventStore, deps: IngestDeps, offset: number, count: number, report: (key: string, value: number) => void): Promise<void> {
  const id = `${Date.now().toString(36)}`;
  const config = { MQTT_URL: BROKER, MQTT_CONSUMER_ID: CONSUMER, MQTT_CLIENT_ID: `cb-bench-${id}`, MQTT_TOPIC_PREFIX: `cb-bench/${id}`, MQTT_CHUNK_SIZE: 1000, MQTT_FLUSH_MS: 100 };
  const topic = `${config.MQTT_TOPIC_PREFIX}/ecology-environment/station-readings`;
  const publisher = await mqtt.connectAsync(BROKER, { clientId: `cb-bench-pub-${id}` });
  ctx.defer(() => publisher.endAsync());
  let bridge = await startMqttBridge(deps, config);
  let done = 0;
  const counted = () => done + bridge.reports.reduce((n, r) => n + r.received, 0);
  const timed = stopwatch();
  const half = Math.floor(count / 2);
  const publish = async (from: number, to: number) => {
    for (let i = from; i < to; i += 500) {
      await Promise.all(Array.from({ length: Math.min(500, to - i) }, (_, k) => publisher.publishAsync(topic, JSON.stringify(reading(offset + i + k)), { qos: 1 })));
    }
  };
  await publish(0, half);
  // Restarted while readings are still in flight: what it had not committed is delivered again.
  await bridge.close();
  done = bridge.reports.reduce((n, r) => n + r.received, 0);
  const publishing = publish(half, count);
  bridge = await startMqttBridge(deps, config);
  await publishing;
  const deadline = Date.now() + 120_000;
  while (counted() < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const rate = perSecond(count, timed.elapsedMs());
  await bridge.close();
  await dropSession(config.MQTT_CLIENT_ID, BROKER);
  const { rows } = await store.db.query<{ n: string; s: string }>(
    `SELECT count(*)::text AS n, count(DISTINCT metadata->'provenance'->>'sourceRecordId')::text AS s FROM es_events WHERE type = 'AirQualityObserved' AND metadata->'provenance'->>'channel' = 'mqtt'`,
  );
  const { n, s } = rows[0]!;
  if (Number(n) !== count || Number(s) !== count) throw new Error(`mqtt: ${n} readings written for ${count} published (${s} distinct): lost or duplicated`);
  report('ingest.mqtt.readings_per_s', rate);
  ctx.log(`pg: mqtt ${rate.toFixed(0)} readings/s through the broker, bridge restarted half-way, ${count} published, ${n} written once each`);
}
