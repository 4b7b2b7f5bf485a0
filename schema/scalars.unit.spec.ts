import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildASTSchema, Kind, parse, print, type DocumentNode } from 'graphql';
import { withSharedScalars } from './scalars.ts';

const added = (doc: DocumentNode): string[] =>
  withSharedScalars(doc)
    .definitions.slice(doc.definitions.length)
    .map((d) => (d.kind === Kind.DIRECTIVE_DEFINITION ? `@${d.name.value}` : 'name' in d && d.name ? d.name.value : d.kind));

describe('withSharedScalars', () => {
  it('adds only the scalars a schema uses', () => {
    assert.deepEqual(added(parse('type Query { at: DateTime  n: Int }')), ['DateTime']);
    assert.deepEqual(added(parse('type Query { n: Int }')), []);
  });

  it('adds the access directives a schema uses, with the enums they take', () => {
    const doc = parse(`
      type Query { person: Person @resource(name: "population.basic") }
      type Person @subject(kind: "person") { idNumber: String @masked(kind: ID_NUMBER) }
    `);
    assert.deepEqual(added(doc).sort(), ['@masked', '@resource', '@subject', 'AccessAction', 'MaskKind'].sort());
    assert.doesNotThrow(() => buildASTSchema(withSharedScalars(doc)));
  });

  it('adds the AccessAction enum for a schema that uses it as a type, once', () => {
    const doc = parse('type Query { actions: [AccessAction!]! @resource(name: "public") }');
    assert.deepEqual(added(doc).sort(), ['@resource', 'AccessAction']);
  });

  it('leaves a definition the schema declares itself alone', () => {
    const doc = parse('scalar DateTime type Query { at: DateTime }');
    assert.equal(print(withSharedScalars(doc)), print(doc));
  });
});
