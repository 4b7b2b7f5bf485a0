/**
 * Field-by-field grant enforcement, masking and the facts of the access record, read from the schema
 * directives every subgraph uses (`@resource`, `@masked`, `@subject`; defined in schema/scalars.graphql).
 *
 * The rules:
 * 1. Resource. A field belongs to its own `@resource`, else to its type's. Fields with neither are
 *    structural (connections, edges, payloads) and are not checked; the fields below them are.
 *    `Query._entities` and `Query._service` are exempt: the entities' own fields are checked.
 * 2. Action. An explicit `action` is the only one accepted (VERIFY is always explicit). Otherwise a
 *    root field needs READ (Query), WRITE (Mutation) or SUBSCRIBE (Subscription). Fields below the
 *    root are the data the operation returns: READ under a query; under a mutation WRITE or READ
 *    (what a consumer may write it may read back in the payload); under a subscription SUBSCRIBE or
 *    READ (data it may read may also be pushed to it).
 * 3. Grants. `public` is open to every authenticated consumer. Any other resource needs a grant
 *    valid now naming the resource and an accepted action. Grants come from `AccessControl.principalFor`
 *    at most once per request (once per subscription event) and are never cached across requests,
 *    so a revoked or expired grant stops access on the very next request. The one exception is a
 *    resolver that supplies them itself (`RequestAccess.useGrants`): the governance event feed keeps
 *    each consumer's grants for many events and drops them the moment the log shows them changed.
 * 4. Refusal. A field without a grant resolves to null with a FORBIDDEN error naming the resource,
 *    the action and the field; the rest of the response is served. A non-null field passes its null
 *    to the nearest nullable parent, so fields under restricted resources should be nullable.
 *    Refusals are logged (once per resource and action per request), not recorded: the access
 *    record lists data that was served.
 * 5. Masking. A `@masked` field is masked when every grant covering it says `masked`; one covering
 *    grant without `masked` serves it in clear. ID numbers keep their first and last 4 characters
 *    (`3701**********123X`), phone numbers their first 3 and last 4 (`138****5678`), names their first
 *    character (`李*`).
 * 5a. Masking is per resource as a whole. A `@partOf(resource:)` field reveals part of a masked
 *    value (the birth date inside the ID number): it is served only when a grant gives that resource
 *    in clear, null otherwise (a generalised sibling such as the birth year is served instead). A
 *    `@requiresClear` field is covered only by a grant giving its resource in clear: a lookup by a
 *    natural key would otherwise confirm which filling of a masked value is right, and a `history`
 *    holds the value unmasked. The refusal comes before the resolver runs, so it says nothing about
 *    whether a looked-up key exists.
 * 6. Recording. Every served field adds its resource, the grants that covered it and their
 *    purposes; every served field of a `@subject` type adds the entity's `id`. After execution the
 *    server turns this into one `DataAccessed` record (`audit.ts`).
 * 7. A schema with an unmapped root or leaf field, or `@masked` on a non-string field, is refused
 *    when the server is built (`accessMappingProblems`), so a gap can never be served open.
 */
import { getDirective, MapperKind, mapSchema } from '@graphql-tools/utils';
import {
  defaultFieldResolver,
  getNamedType,
  isEnumType,
  isIntrospectionType,
  isObjectType,
  isScalarType,
  OperationTypeNode,
  type GraphQLFieldConfig,
  type GraphQLFieldResolver,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';
import type { Logger } from 'pino';
import { ForbiddenError } from '../../events/errors.ts';
import { ERASED } from '../../events/crypto/personalFields.ts';
import type { AccessRecorder } from './audit.ts';
import type { SubgraphContext } from './context.ts';
import { onePer } from './onePer.ts';

export const ACCESS_ACTIONS = ['READ', 'VERIFY', 'SUBSCRIBE', 'WRITE'] as const;
export type AccessAction = (typeof ACCESS_ACTIONS)[number];

export const MASK_KINDS = ['ID_NUMBER', 'PHONE', 'NAME'] as const;
export type MaskKind = (typeof MASK_KINDS)[number];

/** The catalog resource open to every authenticated consumer. */
export const PUBLIC_RESOURCE = 'public';

/** A grant as the kit enforces it: only grants valid now are ever handed to the kit. */
export interface AccessGrant {
  grantId: string;
  resources: readonly string[];
  actions: readonly AccessAction[];
  /** `@masked` fields of these resources are served masked. */
  masked: boolean;
  purpose: string;
}

/**
 * What a consumer acts for (registered by governance, `JurisdictionAssigned`): the command centre of
 * a division (city, district, street or community), or, with `unitId`, a handling unit of that
 * division. Commands take the acting division and unit from here, never from their input.
 */
export interface Jurisdiction {
  /** A division of the catalog (subgraphs/kit/divisions). */
  divisionCode: string;
  /** The handling unit the consumer is; absent for a centre. */
  unitId?: string;
  unitName?: string;
}

/** The authenticated consumer as governance registered it: its grants valid now and its jurisdiction. */
export interface Principal {
  grants: readonly AccessGrant[];
  /** Null for a consumer registered without one (or not registered). */
  jurisdiction: Jurisdiction | null;
}

/** What the composition root gives every subgraph server (see `createGovernanceAccess`). */
export interface AccessControl {
  /**
   * The consumer's grants valid now and its jurisdiction, from one read of its registration. Called
   * at most once per request (per subscription event).
   */
  principalFor(consumerId: string, ctx?: SubgraphContext): Promise<Principal>;
  /** The handling unit governance registered under `unitId` (its register, never a read model); null for none. */
  unit(unitId: string): Promise<Required<Jurisdiction> | null>;
  /** Writes the access records; `null` switches auditing off (the bench's comparison run only). */
  recorder: AccessRecorder | null;
}

// ---------------------------------------------------------------------------------------------
// Masking

function maskMiddle(value: string, keepStart: number, keepEnd: number): string {
  const chars = Array.from(value);
  if (chars.length <= keepStart + keepEnd) return '*'.repeat(chars.length);
  return chars.slice(0, keepStart).join('') + '*'.repeat(chars.length - keepStart - keepEnd) + chars.slice(chars.length - keepEnd).join('');
}

export function maskIdNumber(value: string): string {
  return maskMiddle(value, 4, 4);
}

export function maskPhone(value: string): string {
  return maskMiddle(value, 3, 4);
}

export function maskName(value: string): string {
  const first = Array.from(value.trim())[0];
  return first === undefined ? '' : `${first}*`;
}

const MASKERS: Record<MaskKind, (value: string) => string> = { ID_NUMBER: maskIdNumber, PHONE: maskPhone, NAME: maskName };

/** Masks a string or a list of strings; `null` stays `null`. */
export function maskValue(kind: MaskKind, value: unknown): unknown {
  // An erased value reveals nothing, and says so.
  if (value === null || value === undefined || value === ERASED) return value;
  if (Array.isArray(value)) return value.map((v: unknown) => maskValue(kind, v));
  return MASKERS[kind](String(value));
}

// ---------------------------------------------------------------------------------------------
// Per-request state

/** Which grants allow a (resource, actions) pair for this request; `null` when none does. */
interface Coverage {
  grantIds: readonly string[];
  purposes: readonly string[];
  masked: boolean;
}

const PUBLIC_COVERAGE: Coverage = { grantIds: [], purposes: [], masked: false };

/** What a request served, for its access record. */
export interface ServedData {
  resources: Set<string>;
  grantIds: Set<string>;
  purposes: Set<string>;
  subjectIds: Set<string>;
  /** Events delivered whole (the event feed), by id. */
  eventIds: Set<string>;
}

const emptyServed = (): ServedData => ({ resources: new Set(), grantIds: new Set(), purposes: new Set(), subjectIds: new Set(), eventIds: new Set() });

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/**
 * One request's grants (loaded on first need) and what it served. For a subscription the server
 * calls `reset()` after each event, so each event is checked against the grants valid then and
 * gets its own record.
 */
export class RequestAccess {
  private grants: readonly AccessGrant[] | undefined;
  private loadedJurisdiction: Jurisdiction | null | undefined;
  private loading: Promise<unknown> | undefined;
  private generation = 0;
  private readonly coverage = new Map<string, Coverage | null>();
  private readonly loggedRefusals = new Set<string>();
  private seenSubjects = new WeakSet<object>();
  served: ServedData = emptyServed();

  constructor(
    private readonly load: () => Promise<Principal>,
    private readonly logger: Logger,
    /** The unit register (`AccessControl.unit`); none in tests that name no unit. */
    private readonly units: AccessControl['unit'] = async () => null,
  ) {}

  /** The handling unit governance registered under `unitId`; null for none. */
  unit(unitId: string): Promise<Required<Jurisdiction> | null> {
    return this.units(unitId);
  }

  /** Forgets the grants and what was served: the next check loads the grants again. */
  reset(): void {
    this.generation++;
    this.grants = undefined;
    this.loadedJurisdiction = undefined;
    this.loading = undefined;
    this.coverage.clear();
    this.loggedRefusals.clear();
    this.seenSubjects = new WeakSet();
    this.served = emptyServed();
  }

  /**
   * Checks this request (this subscription event) against `grants` instead of loading them: for a
   * resolver that keeps the consumer's grants valid now itself, such as the event feed, which
   * serves many events between reloads, with the jurisdiction it keeps beside them (for the access
   * record's actor). Coverage worked out from earlier grants is forgotten.
   */
  useGrants(grants: readonly AccessGrant[], jurisdiction?: Jurisdiction | null): void {
    // A load still in flight must not overwrite these when it lands.
    this.generation++;
    this.grants = grants;
    if (jurisdiction !== undefined) this.loadedJurisdiction = jurisdiction;
    this.loading = undefined;
    this.coverage.clear();
  }

  /** Synchronous once the grants are loaded, so leaf fields cost no extra promise. */
  cover(resource: string, actions: readonly AccessAction[], key: string): Coverage | null | Promise<Coverage | null> {
    if (resource === PUBLIC_RESOURCE) return PUBLIC_COVERAGE;
    const known = this.coverage.get(key);
    if (known !== undefined) return known;
    if (this.grants) return this.compute(this.grants, resource, actions, key);
    const generation = this.generation;
    this.loading ??= this.loadPrincipal(generation);
    return this.loading.then(() => this.cover(resource, actions, key));
  }

  private loadPrincipal(generation: number): Promise<void> {
    return this.load().then(({ grants, jurisdiction }) => {
      if (generation !== this.generation) return;
      this.grants = grants;
      this.loadedJurisdiction = jurisdiction;
    });
  }

  /**
   * The caller's jurisdiction, loaded with its grants (a mutation's root field has loaded both
   * before its resolver runs). Commands act for it; nothing the client sends changes it.
   */
  async jurisdiction(): Promise<Jurisdiction | null> {
    if (this.loadedJurisdiction !== undefined) return this.loadedJurisdiction;
    if (this.grants) {
      // Grants supplied by `useGrants` (the feed) stay: load the principal for its jurisdiction only.
      const generation = this.generation;
      const { jurisdiction } = await this.load();
      if (generation === this.generation) this.loadedJurisdiction = jurisdiction;
      return jurisdiction;
    }
    this.loading ??= this.loadPrincipal(this.generation);
    await this.loading;
    return this.loadedJurisdiction ?? null;
  }

  /** The jurisdiction when already loaded (always, inside a mutation's resolver); `undefined` otherwise. */
  get knownJurisdiction(): Jurisdiction | null | undefined {
    return this.loadedJurisdiction;
  }

  private compute(grants: readonly AccessGrant[], resource: string, actions: readonly AccessAction[], key: string): Coverage | null {
    const covering = grants.filter((g) => g.resources.includes(resource) && g.actions.some((a) => actions.includes(a)));
    const clear = covering.filter((g) => !g.masked);
    const chosen = clear.length ? clear : covering;
    const result = chosen.length
      ? { grantIds: chosen.map((g) => g.grantId), purposes: [...new Set(chosen.map((g) => g.purpose))], masked: clear.length === 0 }
      : null;
    this.coverage.set(key, result);
    return result;
  }

  markServed(resource: string, coverage: Coverage): void {
    this.served.resources.add(resource);
    for (const id of coverage.grantIds) this.served.grantIds.add(id);
    for (const p of coverage.purposes) this.served.purposes.add(p);
  }

  markSubject(source: unknown, coordinate: string): void {
    if (typeof source !== 'object' || source === null || this.seenSubjects.has(source)) return;
    this.seenSubjects.add(source);
    const id = (source as { id?: unknown }).id;
    if (typeof id === 'string' || typeof id === 'number') this.served.subjectIds.add(String(id));
    else this.logger.error({ field: coordinate }, 'a @subject entity was served without an `id` on its source object; its access record misses it');
  }

  /** A data subject named by what was served without a `@subject` entity, such as an event delivered by the feed. */
  markSubjectId(id: string): void {
    this.served.subjectIds.add(id);
  }

  /** An event delivered whole: its access record names it. */
  markEvent(eventId: string): void {
    this.served.eventIds.add(eventId);
  }

  /** `qualifier` narrows the grant needed (`in clear` for a natural-key lookup). */
  refuse(consumerId: string, resource: string, action: AccessAction, coordinate: string, qualifier?: string): ForbiddenError {
    const key = `${resource}\u0000${action}`;
    if (!this.loggedRefusals.has(key)) {
      this.loggedRefusals.add(key);
      this.logger.info({ resource, action, field: coordinate }, 'refused a field: no grant valid now');
    }
    return new ForbiddenError(
      `consumer ${consumerId} has no grant valid now to ${action} ${resource}${qualifier ? ` ${qualifier}` : ''} (field ${coordinate}); ask the governance administrator for a grant`,
      { resource, action, field: coordinate },
    );
  }

  /**
   * The grant a checked root field was served under, for the `grantId` of the events a mutation
   * appends (DESIGN §1: writes made under a grant name it). `undefined` before the check, or for `public`.
   */
  grantIdFor(resource: string, action: AccessAction = 'WRITE'): string | undefined {
    return this.coverage.get(`${resource}\u0000${action}`)?.grantIds[0];
  }

  /** True when the request served any field mapped to a resource. */
  get servedAnything(): boolean {
    return this.served.resources.size > 0;
  }
}

/** How long a gateway request's principal is kept for its later subgraph calls (the assertion's lifetime at the gateway). */
const REQUEST_PRINCIPAL_KEEP_MS = 30_000;
const REQUEST_PRINCIPALS_MAX = 10_000;

/**
 * The principal of each gateway request, read once for all the subgraph calls it makes in this
 * process (a screen's overview calls four subgraphs): one read per request instead of one per call.
 * Keyed by the gateway's request id, which its signed assertion carries, so the next request reads
 * again and sees any revocation. The gateway's response cache reads it first, for its key
 * (subgraphs/kit/answerReads.ts), and the request's subgraph calls then share that read. Not for
 * subscriptions: their events share one request id and are each checked against the grants valid then.
 */
export class RequestPrincipals {
  private readonly kept = new Map<string, { principal: Promise<Principal>; until: number }>();

  constructor(private readonly access: AccessControl) {}

  principalFor(requestId: string, consumerId: string, ctx?: SubgraphContext): Promise<Principal> {
    const key = `${requestId}\u0000${consumerId}`;
    const now = Date.now();
    const entry = this.kept.get(key);
    if (entry && now < entry.until) return entry.principal;
    if (this.kept.size >= REQUEST_PRINCIPALS_MAX) this.kept.delete(this.kept.keys().next().value!);
    const principal = this.access.principalFor(consumerId, ctx);
    this.kept.set(key, { principal, until: now + REQUEST_PRINCIPAL_KEEP_MS });
    // A failed read is not kept: the next call of the request tries again.
    principal.catch(() => this.kept.delete(key));
    return principal;
  }
}

const requestPrincipals = new WeakMap<AccessControl, RequestPrincipals>();

/** The one `RequestPrincipals` of every subgraph server sharing `access` (all those of a process). */
export function requestPrincipalsOf(access: AccessControl): RequestPrincipals {
  return onePer(requestPrincipals, access, (a) => new RequestPrincipals(a));
}

// ---------------------------------------------------------------------------------------------
// Reading the directives

interface ResourceDirective {
  name: string;
  action?: AccessAction;
}

function resourceOf(schema: GraphQLSchema, node: Parameters<typeof getDirective>[1]): ResourceDirective | undefined {
  return getDirective(schema, node, 'resource')?.[0] as ResourceDirective | undefined;
}

function maskOf(schema: GraphQLSchema, node: Parameters<typeof getDirective>[1]): MaskKind | undefined {
  return (getDirective(schema, node, 'masked')?.[0] as { kind: MaskKind } | undefined)?.kind;
}

function partOfResource(schema: GraphQLSchema, node: Parameters<typeof getDirective>[1]): string | undefined {
  return (getDirective(schema, node, 'partOf')?.[0] as { resource: string } | undefined)?.resource;
}

function requiresClear(schema: GraphQLSchema, node: Parameters<typeof getDirective>[1]): boolean {
  return Boolean(getDirective(schema, node, 'requiresClear')?.length);
}

function isSubjectType(schema: GraphQLSchema, type: GraphQLObjectType): boolean {
  return Boolean(getDirective(schema, type, 'subject')?.length);
}

const EXEMPT_ROOT_FIELDS = new Set(['_entities', '_service']);

function rootKind(schema: GraphQLSchema, type: GraphQLNamedType): OperationTypeNode | undefined {
  for (const kind of [OperationTypeNode.QUERY, OperationTypeNode.MUTATION, OperationTypeNode.SUBSCRIPTION]) {
    if (schema.getRootType(kind) === type) return kind;
  }
  return undefined;
}

const isLeaf = (type: GraphQLNamedType): boolean => isScalarType(type) || isEnumType(type);

/**
 * Every violation of the mapping rules (see the module comment) in a subgraph schema, and the
 * resource names it uses. Empty `problems` means every root and leaf field maps to a resource.
 */
export function accessMapping(schema: GraphQLSchema): { problems: string[]; resources: string[] } {
  const problems: string[] = [];
  const resources = new Set<string>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || isIntrospectionType(type) || type.name === '_Service') continue;
    const typeResource = resourceOf(schema, type);
    if (typeResource) resources.add(typeResource.name);
    const root = rootKind(schema, type);
    for (const field of Object.values(type.getFields())) {
      if (root && EXEMPT_ROOT_FIELDS.has(field.name)) continue;
      const coordinate = `${type.name}.${field.name}`;
      const own = resourceOf(schema, field);
      if (own) resources.add(own.name);
      const named = getNamedType(field.type);
      if (!(own ?? typeResource) && (root || isLeaf(named))) {
        problems.push(`${coordinate} is a ${root ? 'root' : 'leaf'} field mapped to no resource: add @resource(name: "…") to it or to type ${type.name}`);
      }
      if (maskOf(schema, field) && !(named.name === 'String' || named.name === 'ID')) {
        problems.push(`${coordinate} is @masked but returns ${named.name}: only String and ID fields can be masked`);
      }
    }
  }
  return { problems, resources: [...resources].sort() };
}

// ---------------------------------------------------------------------------------------------
// Wrapping the resolvers

type Ctx = SubgraphContext;

interface FieldRule {
  coordinate: string;
  resource: string;
  /** Accepted actions (first = the one named in a refusal) and their coverage cache key, per operation type. */
  byOperation: Record<OperationTypeNode, { actions: readonly AccessAction[]; key: string }>;
  mask: MaskKind | undefined;
  /** `@partOf`: the resource that must be granted in clear for the field to be served (else null). */
  partOf: string | undefined;
  /** `@requiresClear`: a masked grant does not cover it. */
  requiresClear: boolean;
  subject: boolean;
}

function fieldRule(schema: GraphQLSchema, type: GraphQLObjectType, fieldName: string): FieldRule | undefined {
  const fieldNode = type.getFields()[fieldName];
  if (!fieldNode) return undefined;
  const directive = resourceOf(schema, fieldNode) ?? resourceOf(schema, type);
  if (!directive) return undefined;
  const root = rootKind(schema, type);
  const accepted = (operation: OperationTypeNode): readonly AccessAction[] => {
    if (directive.action) return [directive.action];
    if (root) return root === OperationTypeNode.QUERY ? ['READ'] : root === OperationTypeNode.MUTATION ? ['WRITE'] : ['SUBSCRIBE'];
    if (operation === OperationTypeNode.MUTATION) return ['WRITE', 'READ'];
    if (operation === OperationTypeNode.SUBSCRIPTION) return ['SUBSCRIBE', 'READ'];
    return ['READ'];
  };
  const entry = (operation: OperationTypeNode) => {
    const actions = accepted(operation);
    return { actions, key: `${directive.name}\u0000${actions.join(',')}` };
  };
  return {
    coordinate: `${type.name}.${fieldName}`,
    resource: directive.name,
    byOperation: {
      [OperationTypeNode.QUERY]: entry(OperationTypeNode.QUERY),
      [OperationTypeNode.MUTATION]: entry(OperationTypeNode.MUTATION),
      [OperationTypeNode.SUBSCRIPTION]: entry(OperationTypeNode.SUBSCRIPTION),
    },
    mask: maskOf(schema, fieldNode),
    partOf: partOfResource(schema, fieldNode),
    requiresClear: requiresClear(schema, fieldNode),
    subject: isSubjectType(schema, type),
  };
}

function guardedResolve(rule: FieldRule, resolve: GraphQLFieldResolver<unknown, Ctx>): GraphQLFieldResolver<unknown, Ctx> {
  return (source, args, ctx, info) => {
    const { actions, key } = rule.byOperation[info.operation.operation];
    const serve = (coverage: Coverage | null): unknown => {
      if (!coverage) throw ctx.access.refuse(ctx.caller.consumerId, rule.resource, actions[0]!, rule.coordinate);
      if (rule.requiresClear && coverage.masked) throw ctx.access.refuse(ctx.caller.consumerId, rule.resource, actions[0]!, rule.coordinate, 'in clear');
      // Recorded once the resolver has answered: a field whose resolver fails (bad input, not found)
      // served nothing, and its access record must not say otherwise.
      const record = (value: unknown): unknown => {
        ctx.access.markServed(rule.resource, coverage);
        if (rule.subject) ctx.access.markSubject(source, rule.coordinate);
        return coverage.masked && rule.mask ? maskValue(rule.mask, value) : value;
      };
      const value = resolve(source, args, ctx, info);
      return isPromiseLike(value) ? Promise.resolve(value).then(record) : record(value);
    };
    const coverage = ctx.access.cover(rule.resource, actions, key);
    const partOf = rule.partOf;
    if (partOf === undefined) return isPromiseLike(coverage) ? coverage.then(serve) : serve(coverage);
    // Served only when the whole it is part of is granted in clear; checked after the field's own grant.
    const whole = (own: Coverage | null) => {
      const clear = (c: Coverage | null): unknown => (own && (!c || c.masked) ? null : serve(own));
      const covering = ctx.access.cover(partOf, actions, `${partOf}\u0000${actions.join(',')}`);
      return isPromiseLike(covering) ? covering.then(clear) : clear(covering);
    };
    return isPromiseLike(coverage) ? coverage.then(whole) : whole(coverage);
  };
}

/** A subscription is refused before it starts when the root field is not granted; nothing is served yet. */
function guardedSubscribe(rule: FieldRule, subscribe: GraphQLFieldResolver<unknown, Ctx>): GraphQLFieldResolver<unknown, Ctx> {
  return async (source, args, ctx, info) => {
    const { actions, key } = rule.byOperation[OperationTypeNode.SUBSCRIPTION];
    const coverage = await ctx.access.cover(rule.resource, actions, key);
    if (!coverage) throw ctx.access.refuse(ctx.caller.consumerId, rule.resource, actions[0]!, rule.coordinate);
    // Each event is checked again against the grants valid when it arrives.
    ctx.access.reset();
    return subscribe(source, args, ctx, info);
  };
}

/**
 * The schema with every mapped field's resolver wrapped by the rules above. Throws, listing every
 * problem, when a root or leaf field is unmapped.
 */
export function applyAccessControl(schema: GraphQLSchema): GraphQLSchema {
  const { problems } = accessMapping(schema);
  if (problems.length) {
    throw new Error(`the schema breaks the access-control contract (directives.md):\n  - ${problems.join('\n  - ')}`);
  }
  return mapSchema(schema, {
    [MapperKind.OBJECT_FIELD]: (config, fieldName, typeName) => {
      const type = schema.getType(typeName);
      if (!isObjectType(type)) return config;
      if (rootKind(schema, type) && EXEMPT_ROOT_FIELDS.has(fieldName)) return config;
      const rule = fieldRule(schema, type, fieldName);
      if (!rule) return config;
      const typed = config as GraphQLFieldConfig<unknown, Ctx>;
      return {
        ...typed,
        resolve: guardedResolve(rule, typed.resolve ?? defaultFieldResolver),
        ...(typed.subscribe && { subscribe: guardedSubscribe(rule, typed.subscribe) }),
      } as typeof config;
    },
  });
}
