/**
 * The payload classification covers every field of every registered event type (so a new field
 * cannot ship unclassified), names only catalog resources, and serves a payload as the graph
 * serves the same data: fields without a covering grant left out, masked under a masked grant, the
 * birth date generalised unless the ID number it is part of is served in clear.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { z } from 'zod';
import { MODULES } from '../../bin/modules.ts';
import { registryOf } from '../../bin/platform.ts';
import { MASK_KINDS } from './access.ts';
import { catalogResource } from '../governance/catalog.ts';
import { reportData } from '../urban-ops/incident/fixtures.ts';
import { EVENT_CLASSIFICATIONS, FeedClassifications, INTERNAL, servePayload, subjectsOf, type EventPolicy } from './payloadPolicy.ts';

interface ZodDef {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  element?: z.ZodType;
  options?: readonly z.ZodType[];
  in?: z.ZodType;
}
const defOf = (schema: z.ZodType): ZodDef => (schema as unknown as { _zod: { def: ZodDef } })._zod.def;

/** The leaf paths of a payload schema (dot-separated, arrays transparent), as the policy names them. */
function leafPaths(schema: z.ZodType, path = '', out = new Set<string>()): Set<string> {
  const def = defOf(schema);
  switch (def.type) {
    case 'object':
      for (const [key, inner] of Object.entries(def.shape!)) leafPaths(inner, path ? `${path}.${key}` : key, out);
      break;
    case 'optional':
    case 'nullable':
    case 'default':
    case 'readonly':
    case 'nonoptional':
      leafPaths(def.innerType!, path, out);
      break;
    case 'array':
      leafPaths(def.element!, path, out);
      break;
    case 'union':
      for (const option of def.options!) leafPaths(option, path, out);
      break;
    case 'pipe':
      leafPaths(def.in!, path, out);
      break;
    case 'record':
    case 'map':
    case 'tuple':
    case 'intersection':
    case 'lazy':
    case 'any':
    case 'unknown':
      // Keys not known in advance cannot be classified one by one.
      throw new Error(`${path || '(root)'} is a ${def.type}: payload fields must be named in the schema to be classified`);
    default:
      out.add(path);
  }
  return out;
}

const registry = registryOf(MODULES);
const classifications = new FeedClassifications();

describe('event payload classification', () => {
  it('classifies every field of every registered event type, and nothing else', () => {
    const problems: string[] = [];
    for (const type of registry.types()) {
      const classification = classifications.of(type);
      if (classification === undefined) {
        problems.push(`${type}: not classified (add it to payloadPolicy.ts, as an event policy or INTERNAL)`);
        continue;
      }
      if (classification === INTERNAL) continue;
      const paths = leafPaths(registry.schemaOf(type)!);
      for (const path of paths) if (!classification.fields[path]) problems.push(`${type}.${path}: field not classified`);
      for (const path of Object.keys(classification.fields)) if (!paths.has(path)) problems.push(`${type}.${path}: classified but not a field of the payload`);
      for (const path of classification.subjects) if (!paths.has(path)) problems.push(`${type}: subject path ${path} is not a field of the payload`);
    }
    assert.deepEqual(problems, []);
  });

  it('names only catalog resources and known mask kinds, and lists no type twice', () => {
    const problems: string[] = [];
    const seen = new Set<string>();
    for (const domain of Object.values(EVENT_CLASSIFICATIONS)) {
      for (const [type, classification] of Object.entries(domain)) {
        if (seen.has(type)) problems.push(`${type}: classified twice`);
        seen.add(type);
        if (classification === INTERNAL) continue;
        const resources = [classification.resource, ...Object.values(classification.fields).flatMap((f) => [f.resource, ...(f.partOf ? [f.partOf.resource] : [])])];
        for (const r of resources) if (!catalogResource(r)) problems.push(`${type}: "${r}" is not in the catalog`);
        for (const [path, field] of Object.entries(classification.fields)) {
          if (field.mask && !MASK_KINDS.includes(field.mask)) problems.push(`${type}.${path}: unknown mask ${field.mask}`);
        }
      }
    }
    assert.deepEqual(problems, []);
  });

  it('keeps natural-key claims and case-serial registers internal: their stream ids embed the keys', () => {
    for (const type of ['IdNumberClaimed', 'IdNumberReleased', 'CreditCodeClaimed', 'CreditCodeReleased', 'TaxpayerSubjectClaimed', 'TaxpayerSubjectReleased', 'CaseSerialAllocated']) {
      assert.equal(classifications.of(type), INTERNAL, type);
    }
  });
});

describe('servePayload', () => {
  const registered = classifications.of('PersonRegistered') as EventPolicy;
  const person = {
    personId: 'p-1',
    idNumber: '370102199703021234',
    name: '王芳',
    gender: 'FEMALE',
    birthDate: '1997-03-02',
    residence: { address: '历下区1号', divisionCode: '370102001001' },
    reason: 'BIRTH',
  };
  const grants = (entries: Record<string, { masked: boolean }>) => (resource: string) => entries[resource] ?? null;

  it('serves every field in clear under clear grants of every resource', () => {
    const served = servePayload(person, registered, grants({ 'population.basic': { masked: false }, 'population.identity': { masked: false } }));
    assert.deepEqual(served.payload, person);
    assert.deepEqual([...served.served.keys()].sort(), ['population.basic', 'population.identity']);
  });

  it('masks the ID number and generalises the birth date to its year under a masked identity grant', () => {
    const served = servePayload(person, registered, grants({ 'population.basic': { masked: true }, 'population.identity': { masked: true } }));
    assert.deepEqual(served.payload, { ...person, idNumber: '3701**********1234', birthDate: '1997' });
  });

  it('leaves out the ID number and generalises the birth date without an identity grant', () => {
    const { payload } = servePayload(person, registered, grants({ 'population.basic': { masked: false } }));
    const { idNumber, ...rest } = person;
    assert.ok(idNumber);
    assert.deepEqual(payload, { ...rest, birthDate: '1997' });
  });

  it('leaves out a nested field of another resource, keeping its siblings, and masks third parties’ names', () => {
    const reported = classifications.of('IncidentReported') as EventPolicy;
    const data = { ...reportData, reporter: { kind: 'CITIZEN', id: 'c-9', name: '李女士' } };
    assert.deepEqual(servePayload(data, reported, grants({ 'urban.incidents': { masked: false } })).payload, { ...data, reporter: { kind: 'CITIZEN' } });
    assert.deepEqual(servePayload(data, reported, grants({ 'urban.incidents': { masked: false }, 'urban.reporters': { masked: true } })).payload, {
      ...data,
      reporter: { kind: 'CITIZEN', id: 'c-9', name: '李*' },
    });
  });

  it('never serves a field the table does not classify', () => {
    const { payload } = servePayload({ ...person, secret: 'x' }, registered, grants({ 'population.basic': { masked: false }, 'population.identity': { masked: false } }));
    assert.deepEqual(payload, person);
  });

  it('names the subjects at every subject path, arrays included', () => {
    const headChanged = classifications.of('HouseholdHeadChanged') as EventPolicy;
    const data = { householdId: 'h', headId: 'p2', previousHeadId: 'p1', relationsToHead: [{ personId: 'p1', relationToHead: 'SPOUSE' }, { personId: 'p3', relationToHead: 'CHILD' }] };
    assert.deepEqual(subjectsOf(data, headChanged).sort(), ['p1', 'p2', 'p3']);
  });
});
