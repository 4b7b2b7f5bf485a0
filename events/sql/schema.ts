/**
 * The event store's tables (DESIGN §6), created idempotently at start on PGlite and PostgreSQL alike.
 * Rows are never updated or deleted: a trigger refuses it, so only a deliberate superuser action
 * (disabling the trigger) can rewrite history, which the hash chain then exposes.
 */
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

-- Several appends in one statement, so one transaction: all are written or none. Each row says which
-- append (0-based) it belongs to; a failed expected revision names its stream in the error.
CREATE OR REPLACE FUNCTION es_append_many(p_batch jsonb)
RETURNS TABLE (batch_index integer, global_position text, transaction_id text, stream_revision integer, event_id uuid,
               recorded_at timestamptz, replayed boolean)
LANGUAGE plpgsql AS $$
DECLARE
  v_append jsonb;
  v_index integer;
BEGIN
  FOR v_append, v_index IN SELECT x.v, (x.ord - 1)::integer FROM jsonb_array_elements(p_batch) WITH ORDINALITY AS x(v, ord) LOOP
    RETURN QUERY SELECT v_index, a.* FROM es_append(v_append->>'streamId', v_append->>'expected', v_append->'events') a;
  END LOOP;
END $$;
`;
