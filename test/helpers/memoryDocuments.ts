/**
 * Read-model documents in a Map, for unit specs of a projection's `apply`: gets and writes as the
 * runner's batch store serves them (the same objects in and out, no copies), no queries (`find`/`count` throw: a
 * projection that queries inside `apply` belongs in an integration spec on the real stores).
 */
import type { Collection, Doc, DocumentStore, StoredDoc } from '../../projections/types.ts';

export class MemoryDocuments implements DocumentStore {
  readonly collections = new Map<string, Map<string, Doc>>();

  /** The documents of one collection (as stored: do not change them). */
  docs<T extends Doc>(name: string): Map<string, T> {
    let docs = this.collections.get(name);
    if (!docs) this.collections.set(name, (docs = new Map()));
    return docs as Map<string, T>;
  }

  collection<T extends Doc = Doc>(name: string): Collection<T> {
    const docs = this.docs<T>(name);
    const stored = (id: string): StoredDoc<T> | undefined => {
      const doc = docs.get(id);
      return doc && { id, doc, fieldSources: {} };
    };
    const noQueries = () => Promise.reject(new Error(`MemoryDocuments: ${name} is not queried in unit specs`));
    return {
      get: async (id) => stored(id),
      getMany: async (ids) => ids.map(stored),
      find: noQueries,
      count: noQueries,
      async upsert(id, doc) {
        docs.set(id, doc);
      },
      async patch(id, fields) {
        docs.set(id, { ...docs.get(id), ...fields } as T);
      },
      async delete(id) {
        docs.delete(id);
      },
    };
  }
}
