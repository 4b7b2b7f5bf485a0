/**
 * One row per build of a projection: its read-model table, its checkpoint, and whether queries read
 * it (`active`), it is catching up to replace the active one (`building`), or it was replaced.
 */
import type { Position } from '../../events/types.ts';

export const PROJECTION_SCHEMA = /* sql */ `
CREATE TABLE IF NOT EXISTS proj_builds (
  name         text NOT NULL,
  build_id     text NOT NULL,
  version      integer NOT NULL,
  table_name   text NOT NULL,
  checkpoint   text NOT NULL,
  status       text NOT NULL CHECK (status IN ('active', 'building', 'retired')),
  created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
  updated_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
  activated_at timestamptz,
  dropped_at   timestamptz,
  PRIMARY KEY (name, build_id)
);
CREATE UNIQUE INDEX IF NOT EXISTS proj_builds_one_active ON proj_builds (name) WHERE status = 'active';
-- Where the build's documents last changed: the checkpoint of its last batch that applied events.
-- The checkpoint also moves past events the projection does not handle (every request's access
-- record among them); query results kept for a read model stay valid until this moves.
-- (Only where it is missing: an ALTER takes the table's exclusive lock even when it changes nothing,
-- and every batch and every cached read touches proj_builds.)
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'proj_builds' AND column_name = 'changed_through') THEN
    ALTER TABLE proj_builds ADD COLUMN changed_through text;
  END IF;
END $$;

-- Read-model tables made before documents kept a default field source gain its column (once: the
-- ALTER runs only where the column is missing, so a busy table is not locked on every start).
DO $$
DECLARE t text;
BEGIN
  FOR t IN
    SELECT b.table_name FROM proj_builds b
    WHERE b.dropped_at IS NULL AND to_regclass(b.table_name) IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM information_schema.columns c WHERE c.table_name = b.table_name AND c.column_name = 'source')
  LOOP
    EXECUTE format('ALTER TABLE %I ADD COLUMN IF NOT EXISTS source jsonb', t);
  END LOOP;
END $$;
`;

export interface BuildRow {
  name: string;
  build_id: string;
  version: number;
  table_name: string;
  checkpoint: Position;
  status: 'active' | 'building' | 'retired';
}
