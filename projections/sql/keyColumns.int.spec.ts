/**
 * Key columns of the SQL read models, on real PGlite and PostgreSQL: a declared index field is kept
 * in a generated column, which filters, sorts and cursors read instead of the document; answers are
 * the same as reading the document, and a table built before key columns is upgraded in place
 * (columns filled for the rows it holds, expression indexes replaced) when its projection starts.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { SqlDatabase, SqlExecutor } from '../../events/sql/database.ts';
import { BACKENDS, type TestBackend } from '../../test/helpers/databases.ts';
import type { Doc, FindOptions, IndexDeclaration } from '../types.ts';
import { ensureProjectionSchema } from '../runner.ts';
import { SqlReadModels } from './readModels.ts';
import { indexSql, keyColumnsSql, keyedColumnsOf, keyedFields, readModelTableSql, SqlDocumentStore, unkeyed, upgradeReadModelTable } from './documentStore.ts';

const TABLE = 'rm_key_columns_test';
const INDEXES: readonly IndexDeclaration[] = [
  { collection: 'cases', fields: ['reportedAt'] },
  { collection: 'cases', fields: ['overdueAfter'] },
  { collection: 'cases', fields: ['district', 'reportedAt'] },
  { collection: 'cases', fields: ['tags'] },
];
const source = { position: '1:1', eventId: '00000000-0000-4000-8000-000000000001' };

interface Case extends Doc {
  reportedAt?: string;
  overdueAfter: string;
  district: string;
  tags: string[];
  timeline: string[];
}

/** Cases whose documents are large enough to be stored out of line, as incidents with timelines are. */
function caseOf(n: number): Case {
  return {
    ...(n % 7 !== 0 && { reportedAt: `2026-11-${String(1 + (n % 28)).padStart(2, '0')}T0${n % 10}:00:00Z` }),
    overdueAfter: n % 3 === 0 ? '2026-11-15T00:00:00Z' : '9999-12-31T00:00:00Z',
    district: `3701${String(2 + (n % 4)).padStart(2, '0')}`,
    tags: n % 2 ? ['noise'] : ['road', 'night'],
    timeline: Array.from({ length: 40 }, (_, i) => `step ${i} of case ${n}: ${'详情'.repeat(20)}`),
  };
}

const QUERIES: readonly FindOptions[] = [
  { where: { overdueAfter: { lt: '2026-12-01T00:00:00Z' } }, sortBy: 'reportedAt', direction: 'desc', first: 7 },
  { where: { district: '370103' }, sortBy: 'reportedAt', first: 5 },
  { where: { district: { in: ['370102', '370105'] }, reportedAt: { gte: '2026-11-10T00:00:00Z', lt: '2026-11-20T00:00:00Z' } }, first: 50 },
  { where: { tags: { contains: 'night' } }, sortBy: 'reportedAt', direction: 'desc', first: 4 },
  { where: { reportedAt: null }, first: 50 },
];

for (const openBackend of BACKENDS) {
  describe(`read-model key columns on ${openBackend.name.replace('Backend', '')}`, () => {
    let backend: TestBackend;
    let db: SqlDatabase;

    /** Every page of `options`, following cursors, as ids. */
    async function allPages(store: SqlDocumentStore, options: FindOptions): Promise<string[]> {
      const ids: string[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await store.collection<Case>('cases').find({ ...options, ...(after && { after }) });
        ids.push(...page.items.map((i) => i.node.id));
        if (!page.hasNextPage) return ids;
        after = page.endCursor!;
      }
    }

    async function fill(): Promise<void> {
      const cases = new SqlDocumentStore(db, async () => unkeyed(TABLE)).collection<Case>('cases');
      for (let n = 0; n < 60; n++) await cases.upsert(`c${String(n).padStart(2, '0')}`, caseOf(n), source);
    }

    before(async () => {
      backend = await openBackend();
    });
    after(async () => backend.dispose());
    beforeEach(async () => {
      db = await backend.fresh();
      await ensureProjectionSchema(db);
    });

    it('keeps one plain index where two collections declare the same fields, and a unique index per collection', async () => {
      await db.query(readModelTableSql(TABLE));
      const declared: IndexDeclaration[] = [
        { collection: 'cases', fields: ['district'] },
        { collection: 'archive', fields: ['district'] },
        { collection: 'cases', fields: ['reportedAt'], unique: true },
        { collection: 'archive', fields: ['reportedAt'], unique: true },
      ];
      for (const sql of keyColumnsSql(TABLE, keyedFields(declared))) await db.query(sql);
      for (const index of declared) await db.query(indexSql(TABLE, index));
      const { rows } = await db.query<{ indexdef: string }>(`SELECT indexdef FROM pg_indexes WHERE tablename = $1 AND indexname LIKE '%\\_k\\_%'`, [TABLE]);
      assert.deepEqual(
        rows.map((r) => r.indexdef.replace(/^.* USING btree /, '')).sort(),
        ['("k_reportedAt") WHERE (collection = \'archive\'::text)', '("k_reportedAt") WHERE (collection = \'cases\'::text)', '(collection, k_district)'],
      );
    });

    it('answers every filter, sort and cursor as the documents do, reading the key columns', async () => {
      await db.query(readModelTableSql(TABLE));
      for (const sql of keyColumnsSql(TABLE, keyedFields(INDEXES))) await db.query(sql);
      for (const index of INDEXES) await db.query(indexSql(TABLE, index));
      await fill();
      const keyed = new SqlDocumentStore(db, async () => ({ name: TABLE, keyed: keyedFields(INDEXES) }));
      const documents = new SqlDocumentStore(db, async () => unkeyed(TABLE));
      for (const query of QUERIES) {
        const expected = await allPages(documents, query);
        assert.ok(expected.length > 0, `${JSON.stringify(query)} matches some cases`);
        assert.deepEqual(await allPages(keyed, query), expected, JSON.stringify(query));
        assert.equal(await keyed.collection('cases').count(query.where), expected.length);
      }
    });

    it('upgrades a table built before key columns: columns filled, expression indexes replaced, readers switch', async () => {
      await db.query(readModelTableSql(TABLE));
      await db.query(`CREATE INDEX ${TABLE}_ix_legacy ON ${TABLE} (collection, (doc->'overdueAfter'))`);
      await fill();
      await db.query(`INSERT INTO proj_builds (name, build_id, version, table_name, checkpoint, status) VALUES ('test.cases', 'b1', 1, $1, '0:0', 'active')`, [TABLE]);
      const query = QUERIES[0]!;
      const before = await allPages(new SqlDocumentStore(db, async () => unkeyed(TABLE)), query);

      await upgradeReadModelTable(db, TABLE, INDEXES);
      await upgradeReadModelTable(db, TABLE, INDEXES);
      assert.deepEqual([...(await keyedColumnsOf(db, TABLE))].sort(), ['district', 'overdueAfter', 'reportedAt', 'tags']);
      const { rows: indexes } = await db.query<{ indexdef: string }>(`SELECT indexdef FROM pg_indexes WHERE tablename = $1 AND indexname <> $2`, [TABLE, `${TABLE}_pkey`]);
      assert.equal(indexes.length, INDEXES.length);
      assert.ok(indexes.every((i) => /\bk_/.test(i.indexdef) && !i.indexdef.includes('doc ->')), JSON.stringify(indexes));
      const { rows: filled } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${TABLE} WHERE "k_overdueAfter" = doc->'overdueAfter'`);
      assert.equal(filled[0]!.n, 60);

      const readModels = new SqlReadModels(db, 0);
      assert.deepEqual(await allPages(readModels.of('test.cases') as SqlDocumentStore, query), before);
      // The store's sorted page reads the key columns: no document is opened to filter or order it.
      const statements: string[] = [];
      const keyed = await keyedColumnsOf(db, TABLE);
      const spy: SqlExecutor = {
        query: <Row,>(sql: string, params?: readonly unknown[]) => {
          statements.push(sql);
          return db.query<Row>(sql, params);
        },
      };
      await new SqlDocumentStore(spy, async () => ({ name: TABLE, keyed })).collection('cases').find(query);
      assert.match(statements[0]!, /"k_overdueAfter" </);
      assert.match(statements[0]!, /ORDER BY COALESCE\("k_reportedAt"/);
      assert.doesNotMatch(statements[0]!, /doc->/);
    });
  });
}
