/**
 * The event store contract against a real KurrentDB / EventStoreDB, when `KURRENTDB_URL` names one
 * (e.g. `kurrentdb://127.0.0.1:2113?tls=false`), opened as `EVENT_STORE=kurrentdb` opens it. A server
 * cannot be emptied between tests, so each test gets its own namespace (`KURRENTDB_STREAM_PREFIX`)
 * and sees only its events.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { KurrentDBClient, jsonEvent } from '@kurrent/kurrentdb-client';
import { eventStoreConfigSchema, openConfiguredKurrent } from '../../bin/backends.ts';
import { parseConfig } from '../config.ts';
import { eventStoreContract, type EventStoreHarness } from '../eventStore.contract.ts';
import type { EventStore } from '../types.ts';
import { createTestRegistry, incremented, testMetadata } from '../../test/helpers/events.ts';
import { toStoredMetadata } from './mapping.ts';
import { KurrentEventStore, openKurrentEventStore } from './kurrentEventStore.ts';

const KURRENTDB_URL = process.env.KURRENTDB_URL;

function kurrentHarness(url: string): () => Promise<EventStoreHarness> {
  return async () => {
    const opened: KurrentEventStore[] = [];
    const current = () => {
      const store = opened.at(-1);
      if (!store) throw new Error('open a store with fresh() first');
      return store;
    };
    return {
      async fresh(options) {
        // Through the configuration path `bin/platform.ts` takes, each test in its own namespace.
        const config = parseConfig(eventStoreConfigSchema, {
          EVENT_STORE: 'kurrentdb',
          KURRENTDB_URL: url,
          KURRENTDB_STREAM_PREFIX: `cbtest-${Date.now().toString(36)}${randomBytes(3).toString('hex')}/`,
        });
        const store = await openConfiguredKurrent(config, createTestRegistry(), options);
        opened.push(store);
        return store;
      },
      async countEvents() {
        return (await current().readAll({ limit: 1_000_000 })).length;
      },
      async writeLegacyEvent(streamId, type, schemaVersion, data) {
        const store = current();
        await store.client.appendToStream(
          store.streamName(streamId),
          jsonEvent({ type, data: data as Record<string, unknown>, metadata: toStoredMetadata(testMetadata, schemaVersion) }),
        );
      },
      uniqueEventIdsAcrossStreams: false,
      atomicAppendMany: false,
      async dispose() {
        for (const store of opened) await store.close().catch(() => undefined);
      },
    };
  };
}

if (KURRENTDB_URL) {
  describe('event store on KurrentDB', () => eventStoreContract(kurrentHarness(KURRENTDB_URL)));
} else {
  describe('event store on KurrentDB', () => {
    it('runs the event store contract', { skip: 'KURRENTDB_URL is not set: no KurrentDB server to run the contract against' }, () => undefined);
  });
}

describe('opening the KurrentDB event store', () => {
  it('refuses a connection string of another database before connecting', async () => {
    await assert.rejects(openKurrentEventStore('postgres://127.0.0.1:5432/postgres', createTestRegistry()), /KURRENTDB_URL: must be a KurrentDB connection string/);
  });

  it('reports a server that does not answer in one line, without the password', async () => {
    // Port 1 on the loopback interface: nothing listens there, so the connection is refused at once.
    await assert.rejects(
      openKurrentEventStore('kurrentdb://admin:secret@127.0.0.1:1?tls=false&maxDiscoverAttempts=1&discoveryInterval=10', createTestRegistry()),
      (err: unknown) => err instanceof Error && /^KurrentDB at kurrentdb:\/\/admin:\*\*\*@127\.0\.0\.1:1\?.* did not answer/.test(err.message) && !err.message.includes('secret'),
    );
  });

  it('implements the EventStore port and refuses bad input before any I/O', async () => {
    const store = new KurrentEventStore(
      KurrentDBClient.connectionString('kurrentdb://127.0.0.1:1?tls=false'),
      createTestRegistry(),
      { maxEventBytes: 64 },
    ) satisfies EventStore;
    try {
      assert.equal(store.backend, 'kurrentdb');
      await assert.rejects(store.append('Counter 1', [incremented()]), /stream id "Counter 1" is malformed/);
      await assert.rejects(store.append('test.counter-1', []), /has no events/);
      await assert.rejects(store.append('test.counter-1', [{ type: 'CounterExploded', data: {}, metadata: testMetadata }]), /CounterExploded is not registered/);
      await assert.rejects(store.append('test.note-1', [{ type: 'NoteWritten', data: { text: 'x'.repeat(100) }, metadata: testMetadata }]), /the limit is 64 bytes/);
      await assert.rejects(store.readStream('test.counter-1', { toTime: 'soon' }), /toTime "soon" is not an ISO 8601 instant/);
      await assert.rejects(store.readAll({ fromPosition: 'yesterday' }), /position "yesterday" is malformed/);
      await assert.rejects(store.subscribe({ fromPosition: 'yesterday' })[Symbol.asyncIterator]().next(), /position "yesterday" is malformed/);
    } finally {
      await store.close();
    }
  });
});
