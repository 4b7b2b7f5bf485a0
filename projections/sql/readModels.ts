/**
 * The query side of the read models in SQL: a DocumentStore per projection that always reads the active
 * build's table. The table name is cached briefly, so a swap after a rebuild reaches readers within
 * `refreshMs` (the runner keeps a retired table for longer than that).
 */
import type { SqlDatabase } from '../../events/sql/database.ts';
import type { Position } from '../../events/types.ts';
import { activeBuildLocator, type ReadModels } from '../readModels.ts';
import type { DocumentStore } from '../types.ts';
import { keyColumnsArraySql, SqlDocumentStore, type ReadModelTable } from './documentStore.ts';

export class SqlReadModels implements ReadModels {
  private readonly activeTable: (name: string) => Promise<ReadModelTable>;

  constructor(
    private readonly db: SqlDatabase,
    refreshMs = 1000,
  ) {
    this.activeTable = activeBuildLocator(refreshMs, async (name) => {
      const { rows } = await db.query<{ table_name: string; keyed: string[] }>(
        `SELECT table_name, ${keyColumnsArraySql('table_name')} AS keyed FROM proj_builds WHERE name = $1 AND status = 'active'`,
        [name],
      );
      return rows[0] && { name: rows[0].table_name, keyed: new Set(rows[0].keyed) };
    });
  }

  async checkpoints(names: readonly string[]): Promise<Map<string, Position>> {
    const { rows } = await this.db.query<{ name: string; checkpoint: Position }>(
      `SELECT name, checkpoint FROM proj_builds WHERE status = 'active' AND name = ANY($1::text[])`,
      [[...names]],
    );
    return new Map(rows.map((r) => [r.name, r.checkpoint]));
  }

  of(name: string): DocumentStore {
    return new SqlDocumentStore(this.db, () => this.activeTable(name));
  }
}
