/**
 * The event store's tables (DESIGN §6), created idempotently at start on PGlite and PostgreSQL alike.
 * Rows are never updated or deleted: a trigger refuses it, so only a deliberate superuser action
 * (disabling the trigger) can rewrite history, which the hash chain then exposes.
 */
/**
 * An `es_events` row's identity columns as both the store and the hash chain select them (the bigint
 * and xid8 cast to text); each reader adds `data`, `metadata` and `recorded_at` in the form it selects.
 */
export interface EventRowIdentity {
  global_position: string;
  transaction_id: string;
  stream_id: string;
  stream_revision: number;
  event_id: string;
  type: string;
  schema_version: number;
}

export const EVENT_STORE_SCHEMA = /* sql */ `
CREATE TABLE IF NOT EXISTS es_streams (
  stream_id text PRIMARY KEY,
  revision  integer NOT NULL
);

CREATE TABLE IF NOT EXISTS es_events (
  global_position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  transaction_id  xid8 NOT NULL DEFAULT pg_current_xact_id(),
  stream_id       text NOT NULL,
  stream_revision integer NOT NULL,
  event_id        uuid NOT NULL UNIQUE,
  type            text NOT NULL,
  schema_version  integer NOT NULL,
  data            jsonb NOT NULL,
  metadata        jsonb NOT NULL,
  recorded_at     timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
  UNIQUE (stream_id, stream_revision)
);
CREATE INDEX IF NOT EXISTS es_events_tx_position ON es_events (transaction_id, global_position);

CREATE OR REPLACE FUNCTION es_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'es_events is append-only: % refused', TG_OP;
END $$;
DROP TRIGGER IF EXISTS es_events_append_only ON es_events;
CREATE TRIGGER es_events_append_only BEFORE UPDATE OR DELETE ON es_events
  FOR EACH ROW EXECUTE FUNCTION es_refuse_change();

-- One round trip per append: idempotency check, expected-revision check, insert, wake-up.
-- Returns the stored rows; replayed = true when the first event id was already stored.
CREATE OR REPLACE FUNCTION es_append(p_stream text, p_expected text, p_events jsonb)
RETURNS TABLE (global_position text, transaction_id text, stream_revision integer, event_id uuid,
               recorded_at timestamptz, replayed boolean)
LANGUAGE plpgsql AS $$
DECLARE
  v_current integer;
  v_count integer := jsonb_array_length(p_events);
  -- One instant per append, in milliseconds (what the envelope carries), so toTime/asOf are exact.
  v_now timestamptz := date_trunc('milliseconds', clock_timestamp());
BEGIN
  IF EXISTS (SELECT 1 FROM es_events e WHERE e.event_id = (p_events->0->>'eventId')::uuid) THEN
    RETURN QUERY
      SELECT e.global_position::text, e.transaction_id::text, e.stream_revision, e.event_id, e.recorded_at, true
      FROM es_events e
      WHERE e.event_id IN (SELECT (x->>'eventId')::uuid FROM jsonb_array_elements(p_events) x)
      ORDER BY e.global_position;
    RETURN;
  END IF;

  INSERT INTO es_streams AS s (stream_id, revision) VALUES (p_stream, -1) ON CONFLICT (stream_id) DO NOTHING;
  SELECT s.revision INTO v_current FROM es_streams s WHERE s.stream_id = p_stream FOR UPDATE;

  IF (p_expected = 'no_stream' AND v_current <> -1)
     OR (p_expected = 'stream_exists' AND v_current = -1)
     OR (p_expected ~ '^-?[0-9]+$' AND v_current <> p_expected::integer) THEN
    RAISE EXCEPTION 'ES_CONCURRENCY:%:%', v_current, p_stream USING ERRCODE = 'P0001';
  END IF;

  UPDATE es_streams s SET revision = v_current + v_count WHERE s.stream_id = p_stream;

  RETURN QUERY
    INSERT INTO es_events AS e (stream_id, stream_revision, event_id, type, schema_version, data, metadata, recorded_at)
    SELECT p_stream, v_current + x.ord::integer, (x.v->>'eventId')::uuid, x.v->>'type',
           (x.v->>'schemaVersion')::integer, x.v->'data', x.v->'metadata', v_now
    FROM jsonb_array_elements(p_events) WITH ORDINALITY AS x(v, ord)
    ORDER BY x.ord
    RETURNING e.global_position::text, e.transaction_id::text, e.stream_revision, e.event_id, e.recorded_at, false;

  PERFORM pg_notify('es_events', '');
END $$;

-- The gap-safe read (DESIGN §6) of readAll / subscribe / projections: up to p_limit events after
-- (p_tx, p_pos) of transactions older than every one in flight, filtered by type and stream prefix
-- (NULL: no filter), plus the head in the same snapshot. The ordered index scan is the only plan
-- that costs what it returns: left to itself, the planner (without fresh statistics, as PGlite
-- never has them unless told) takes a bitmap scan of the whole tail and sorts it, for every page.
CREATE OR REPLACE FUNCTION es_read_after(p_tx xid8, p_pos bigint, p_limit integer, p_types text[], p_prefixes text[])
RETURNS TABLE (global_position text, transaction_id text, stream_id text, stream_revision integer, event_id text, type text,
               schema_version integer, data jsonb, metadata jsonb, recorded_at timestamptz, is_head boolean)
LANGUAGE sql STABLE
SET enable_bitmapscan = off
SET enable_seqscan = off
SET enable_sort = off
SET max_parallel_workers_per_gather = 0
AS $$
  WITH snap AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin),
  batch AS (
    SELECT e.global_position::text, e.transaction_id::text, e.stream_id, e.stream_revision, e.event_id::text, e.type,
           e.schema_version, e.data, e.metadata, e.recorded_at, false
    FROM es_events e
    WHERE (e.transaction_id, e.global_position) > (p_tx, p_pos) AND e.transaction_id < (SELECT xmin FROM snap)
      AND (p_types IS NULL OR e.type = ANY(p_types))
      AND (p_prefixes IS NULL OR e.stream_id LIKE ANY(p_prefixes))
    ORDER BY e.transaction_id, e.global_position LIMIT p_limit),
  head AS (
    SELECT e.global_position::text, e.transaction_id::text, e.stream_id, e.stream_revision, e.event_id::text, e.type,
           e.schema_version, e.data, e.metadata, e.recorded_at, true
    FROM es_events e
    WHERE e.transaction_id < (SELECT xmin FROM snap)
    ORDER BY e.transaction_id DESC, e.global_position DESC LIMIT 1)
  SELECT * FROM batch UNION ALL SELECT * FROM head
$$;

-- Batches are written by the store itself, two statements per batch (sqlEventStore.ts writeBatch).
DROP FUNCTION IF EXISTS es_append_many(jsonb);
`;
