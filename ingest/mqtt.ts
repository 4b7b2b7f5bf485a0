/**
 * The sensors' bridge (自动感知): subscribes to `<prefix>/<department>/<kind>` on the MQTT broker
 * with QoS 1 on a persistent session (fixed client id, clean: false), so what is published while the
 * bridge is down is delivered when it is back. Messages are gathered per department and kind into a
 * flush (at most `MQTT_CHUNK_SIZE` records or `MQTT_FLUSH_MS`), and each flush is one batch through
 * `runIngestBatch` (channel `mqtt`). A message is acknowledged (PUBACK) only after its flush is
 * committed: a crash before that makes the broker deliver it again, and the records' idempotency keys
 * (department, kind, `sourceRecordId`) make the redelivery append nothing.
 *
 * mqtt.js sends a PUBACK, and reads the next packet, only when `handleMessage` calls back; deferring
 * that would take one message per commit. So the bridge calls back at once with a "deferred" error
 * (no PUBACK, the next packet read) and sends each PUBACK itself once committed. This leans on
 * mqtt.js internals (`_sendPacket`), which is why mqtt is pinned exactly (docs/dependencies.md).
 */
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { z } from 'zod';
import { CityBrainError, ConcurrencyError } from '../events/errors.ts';
import { readConsumerState } from '../subgraphs/governance/access.ts';
import { authorizeDelivery, DEFAULT_CHUNK_SIZE, findKind, runIngestBatch } from './runner.ts';
import type { BatchReport, IngestDeps, PlanCarry, RawRecord } from './types.ts';

/** The kinds sensors report: station and emission readings, IoT incident reports. */
export const MQTT_KINDS = ['station-readings', 'emission-readings', 'incidents'] as const;

export const ingestConfigSchema = z
  .object({
    /** The largest NDJSON body `POST /ingest/<kind>` reads. */
    INGEST_MAX_BODY_BYTES: z.coerce.number().int().positive().default(1024 ** 3),
    MQTT_URL: z.url({ protocol: /^mqtts?$/, error: 'MQTT_URL must be an mqtt:// or mqtts:// URL, e.g. mqtt://127.0.0.1:1883' }).optional(),
    MQTT_CONSUMER_ID: z.string().min(1).optional(),
    MQTT_CLIENT_ID: z.string().min(1).max(64).default('city-brain-ingest'),
    MQTT_TOPIC_PREFIX: z.string().regex(/^[^#+]+[^/#+]$/, 'MQTT_TOPIC_PREFIX is a topic without wildcards or a trailing /').default('citybrain/ingest'),
    MQTT_CHUNK_SIZE: z.coerce.number().int().min(1).max(10_000).default(DEFAULT_CHUNK_SIZE),
    MQTT_FLUSH_MS: z.coerce.number().int().min(1).max(60_000).default(200),
  })
  .refine((c) => !c.MQTT_URL || c.MQTT_CONSUMER_ID, { path: ['MQTT_CONSUMER_ID'], message: 'MQTT_CONSUMER_ID is required with MQTT_URL: the consumer the bridge delivers as (it needs a grant with WRITE)' });

export type IngestConfig = z.infer<typeof ingestConfigSchema>;
export type MqttBridgeConfig = Pick<IngestConfig, 'MQTT_CLIENT_ID' | 'MQTT_TOPIC_PREFIX' | 'MQTT_CHUNK_SIZE' | 'MQTT_FLUSH_MS'> & { MQTT_URL?: string | undefined; MQTT_CONSUMER_ID?: string | undefined };

export interface MqttBridge {
  /** Batches committed so far by this run. */
  readonly reports: readonly BatchReport[];
  /** Commits what is gathered, acknowledges it, and disconnects (the session stays on the broker). */
  close(): Promise<void>;
}

interface Message {
  messageId: number | undefined;
  payload: Buffer;
}

/** Sent to mqtt.js's `handleMessage` callback: read the next packet, send no PUBACK now. */
const DEFERRED = new Error('acknowledged once committed');
const RETRY_MS = 1000;
const CONNECT_TIMEOUT_MS = 10_000;

/** A message's records: one JSON object, or an array of them; anything else one malformed record. */
export function recordsOfMessage(payload: Buffer, firstLine: number): RawRecord[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload.toString('utf8'));
  } catch (error) {
    return [{ line: firstLine, malformed: `message ${firstLine} is not JSON: ${(error as Error).message}`, bytes: payload.length }];
  }
  const items = Array.isArray(parsed) ? parsed : [parsed];
  return items.map((item, i): RawRecord => {
    const line = firstLine + i;
    if (item === null || typeof item !== 'object' || Array.isArray(item)) return { line, malformed: `record ${line} is not a JSON object`, bytes: payload.length };
    return { line, fields: item as Record<string, unknown>, ...(items.length === 1 && { bytes: payload.length }) };
  });
}

/** Refuses (with the reason) unless the consumer is registered and holds a grant valid now with WRITE on a sensor kind's resource. */
async function assertBridgeGrant(ingest: IngestDeps, consumerId: string, kinds: readonly string[]): Promise<string> {
  const state = await readConsumerState(ingest.store, consumerId);
  if (state.status !== 'REGISTERED') throw new Error(`the MQTT bridge cannot start: MQTT_CONSUMER_ID ${consumerId} is not a registered consumer`);
  const refusals: string[] = [];
  for (const name of kinds) {
    const kind = ingest.kinds.find((k) => k.name === name);
    if (!kind) continue;
    try {
      await authorizeDelivery(ingest, { kind: name, department: kind.department, channel: 'mqtt', actor: { consumerId, role: 'department' } }, kind, ingest.now());
      return state.consumer.department;
    } catch (error) {
      if (!(error instanceof CityBrainError)) throw error;
      refusals.push(error.message);
    }
  }
  throw new Error(`the MQTT bridge cannot start: consumer ${consumerId} may deliver none of ${kinds.join(', ')}:\n  ${refusals.join('\n  ')}`);
}

export interface MqttBridgeOptions {
  logger?: Logger;
  /** The kinds taken from the broker. @default MQTT_KINDS */
  kinds?: readonly string[];
}

export async function startMqttBridge(ingest: IngestDeps, config: MqttBridgeConfig, options: MqttBridgeOptions = {}): Promise<MqttBridge> {
  const logger = (options.logger ?? ingest.logger)?.child({ component: 'ingest-mqtt' });
  if (!config.MQTT_URL || !config.MQTT_CONSUMER_ID) throw new Error('the MQTT bridge needs MQTT_URL and MQTT_CONSUMER_ID');
  const consumerId = config.MQTT_CONSUMER_ID;
  const bridgeKinds = options.kinds ?? MQTT_KINDS;
  await assertBridgeGrant(ingest, consumerId, bridgeKinds);
  const actor = { consumerId, role: 'department' };
  const deps: IngestDeps = { ...ingest, limits: { ...ingest.limits, chunkSize: config.MQTT_CHUNK_SIZE } };
  const prefix = config.MQTT_TOPIC_PREFIX;

  // Connected only once `handleMessage` is set: a persistent session's queued messages arrive right after CONNACK.
  const client: MqttClient = mqtt.connect(config.MQTT_URL, {
    manualConnect: true,
    clientId: config.MQTT_CLIENT_ID,
    clean: false,
    protocolVersion: 5,
    // The session outlives the bridge (a week), and the broker may send many messages not yet acknowledged.
    properties: { sessionExpiryInterval: 7 * 24 * 3600, receiveMaximum: 65_535 },
    reconnectPeriod: 1000,
  });
  const reports: BatchReport[] = [];
  /** Gathered messages per `department/kind`, in arrival order. */
  const gathered = new Map<string, Message[]>();
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> = Promise.resolve();
  let closed = false;
  /** Per `department/kind`: the streams its last flush committed, for the next flush to plan on (`IngestRequest.continues`). */
  const carries = new Map<string, PlanCarry>();

  const puback = (m: Message) => {
    if (m.messageId === undefined) return;
    // mqtt.js's own PUBACK path, private (typed any): see the header.
    const sendPacket = client['_sendPacket'] as (packet: { cmd: 'puback'; messageId: number }) => void;
    sendPacket.call(client, { cmd: 'puback', messageId: m.messageId });
  };

  async function deliver(key: string, messages: Message[]): Promise<void> {
    const [department, kindName] = key.split('/') as [string, string];
    let line = 1;
    const records = messages.flatMap((m) => {
      const out = recordsOfMessage(m.payload, line);
      line += out.length;
      return out;
    });
    async function* all(): AsyncIterable<RawRecord> {
      yield* records;
    }
    try {
      let continues = carries.get(key);
      if (!continues) carries.set(key, (continues = {}));
      reports.push(await runIngestBatch(deps, { kind: kindName, department, channel: 'mqtt', actor, continues }, all()));
    } catch (error) {
      if (!(error instanceof CityBrainError) || error instanceof ConcurrencyError) {
        // The store failed: keep the messages (unacknowledged) and try again.
        logger?.error({ err: error, key, messages: messages.length }, 'mqtt flush failed: retrying');
        // Whatever the failed flush left is not trusted: the retry reads its streams again.
        carries.delete(key);
        gathered.set(key, [...messages, ...(gathered.get(key) ?? [])]);
        schedule(RETRY_MS);
        return;
      }
      // Refused as a whole (unknown department, no grant for it): no batch can hold the records; acknowledged so they do not block the session.
      logger?.warn({ key, messages: messages.length, error: error.message }, 'mqtt messages refused and dropped');
    }
    messages.forEach(puback);
  }

  function flush(): Promise<void> {
    timer = undefined;
    const work = [...gathered];
    gathered.clear();
    flushing = flushing.then(async () => {
      for (const [key, messages] of work) await deliver(key, messages);
    });
    return flushing;
  }

  function schedule(ms: number) {
    timer ??= setTimeout(() => void flush(), ms);
  }

  client.handleMessage = (packet: IPublishPacket, callback: (error?: Error) => void) => {
    const parts = packet.topic.slice(prefix.length + 1).split('/');
    const message: Message = { messageId: packet.qos > 0 ? packet.messageId : undefined, payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload) };
    if (parts.length !== 2 || !bridgeKinds.includes(parts[1]!) || !ingest.kinds.some((k) => k.name === parts[1])) {
      let reason = `the topic is ${prefix}/<department>/<kind>`;
      try {
        if (parts.length === 2) findKind(ingest.kinds.filter((k) => bridgeKinds.includes(k.name)), parts[1]!);
      } catch (error) {
        reason = (error as Error).message;
      }
      logger?.warn({ topic: packet.topic, reason }, 'mqtt message on a topic that names no kind: dropped');
      callback();
      return;
    }
    const key = parts.join('/');
    const list = gathered.get(key) ?? [];
    list.push(message);
    gathered.set(key, list);
    if (list.length >= config.MQTT_CHUNK_SIZE) void flush();
    else schedule(config.MQTT_FLUSH_MS);
    callback(message.messageId === undefined ? undefined : DEFERRED);
  };
  await new Promise<void>((resolve, reject) => {
    const timeout = setTimeout(() => {
      client.end(true);
      reject(new Error(`the MQTT bridge cannot start: no answer from the broker at ${config.MQTT_URL} within ${CONNECT_TIMEOUT_MS / 1000} s`));
    }, CONNECT_TIMEOUT_MS);
    client.once('connect', () => (clearTimeout(timeout), resolve()));
    client.once('error', (error) => (clearTimeout(timeout), client.end(true), reject(error)));
    client.connect();
  });
  client.on('error', (error) => logger?.error({ err: error }, 'mqtt client error'));
  await client.subscribeAsync(`${prefix}/+/+`, { qos: 1 });
  logger?.info({ url: config.MQTT_URL, clientId: config.MQTT_CLIENT_ID, topics: `${prefix}/<department>/<kind>`, consumerId }, 'mqtt bridge subscribed');

  return {
    reports,
    async close() {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      await flush();
      await client.endAsync();
    },
  };
}
