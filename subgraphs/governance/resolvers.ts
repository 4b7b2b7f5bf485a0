/**
 * Thin resolvers: queries read the `governance.consumers` read model; mutations build a command and
 * run it through the kit's command path. Administering consumers and grants needs both a
 * `governance.admin` WRITE grant (checked by the kit) and the `admin` role (checked here).
 */
import { ForbiddenError, ValidationError } from '../../events/errors.ts';
import type { EventMetadata, RecordedEvent } from '../../events/types.ts';
import type { StoredDoc, Where } from '../../projections/types.ts';
import type { AccessAction, Jurisdiction } from '../kit/access.ts';
import { levelOf } from '../kit/divisions/catalog.ts';
import { parseInstant } from '../kit/calendar.ts';
import { streamHistory } from '../kit/history.ts';
import { arrayConnection, collectionConnection, equalityWhere, type ConnectionArgs } from '../kit/connections.ts';
import type { SubgraphContext } from '../kit/context.ts';
import { commandOptionsOf, newEntityId, type CommandOptions } from '../kit/command.ts';
import type { SubgraphRuntime } from '../kit/module.ts';
import type { SubgraphResolvers } from '../kit/server.ts';
import { actorOf } from '../kit/provenance.ts';
import { CATALOG, catalogResource } from './catalog.ts';
import type { AssignJurisdiction, ConsumerCommand } from './consumer/commands.ts';
import { assignJurisdiction, handleConsumer } from './consumer/handler.ts';
import { grantStatus, type GrantStatus } from './consumer/decider.ts';
import { consumerStreamId, type AccessGranted, type AccessRevoked, type ConsumerKind, type GrantTerms } from './consumer/events.ts';
import { readConsumerState } from './access.ts';
import { erasePersonalData, type ErasureInput } from './erasure/erase.ts';
import { eventEnvelopeResolvers, openEventFeed, resolveFeedItem, type EventFeedArgs } from './feed/eventFeed.ts';
import { EventFeedHub } from './feed/hub.ts';
import type { FeedClassifications } from '../kit/payloadPolicy.ts';
import { ACCESS_LOG_PROJECTION, type AccessRecordDoc } from './readModels/accessLog.ts';
import { CONSUMERS_PROJECTION, grantDocOf, revocationOf, type ConsumerDoc, type GrantDoc } from './readModels/consumers.ts';

export interface ConsumerView {
  id: string;
  name: string;
  kind: ConsumerKind;
  department: string;
  registeredAt: string;
  jurisdiction: JurisdictionView | null;
}

interface JurisdictionView {
  divisionCode: string;
  level: string;
  unitId: string | null;
  unitName: string | null;
}

export interface GrantView extends Omit<GrantTerms, 'grantId'> {
  id: string;
  grantedAt: string;
  status: GrantStatus;
  revokedAt: string | null;
  revokedBy: string | null;
  revocationReason: string | null;
}

const consumerView = ({ consumerId, name, kind, department, registeredAt, divisionCode, unitId, unitName }: ConsumerDoc): ConsumerView => ({
  id: consumerId,
  name,
  kind,
  department,
  registeredAt,
  jurisdiction: jurisdictionView(divisionCode === null ? null : { divisionCode, ...(unitId !== null && unitName !== null && { unitId, unitName }) }),
});

/** A jurisdiction as the graph shows it: the division's level and a `Division` reference. */
function jurisdictionView(jurisdiction: Jurisdiction | null | undefined): JurisdictionView | null {
  if (!jurisdiction) return null;
  const { divisionCode, unitId, unitName } = jurisdiction;
  return { divisionCode, level: levelOf(divisionCode), unitId: unitId ?? null, unitName: unitName ?? null };
}

function grantView(doc: GrantDoc, now: Date): GrantView {
  const { grantId, ...rest } = doc;
  return { id: grantId, ...rest, status: grantStatus({ ...doc, revoked: doc.revokedAt !== null }, now) };
}

interface AccessLogFilter {
  consumerId?: string | null;
  subjectId?: string | null;
  resource?: string | null;
  subgraph?: string | null;
  requestId?: string | null;
  from?: string | null;
  to?: string | null;
}

function accessLogWhere(filter: AccessLogFilter | null | undefined): Where {
  const where = equalityWhere(filter, ['consumerId', 'subgraph', 'requestId']);
  // Instants compare as canonical ISO 8601 strings, as the records store them.
  const from = filter?.from ? new Date(parseInstant(filter.from, 'filter.from')).toISOString() : undefined;
  const to = filter?.to ? new Date(parseInstant(filter.to, 'filter.to')).toISOString() : undefined;
  if (from && to && from >= to) throw new ValidationError(`filter.from (${from}) must be before filter.to (${to})`, { field: 'filter.from' });
  if (from || to) where.at = { ...(from && { gte: from }), ...(to && { lt: to }) };
  if (filter?.subjectId) where.subjectIds = { contains: filter.subjectId };
  if (filter?.resource) where.resources = { contains: filter.resource };
  return where;
}

const accessRecordView = ({ id, doc }: StoredDoc<AccessRecordDoc>) => ({ ...doc, id });

/** The catalog in name order: in-memory connections page by increasing key. */
const CATALOG_BY_NAME = [...CATALOG].sort((a, b) => (a.name < b.name ? -1 : 1));

const ADMIN_RESOURCE = 'governance.admin';

const withGrant = (grantId: string | undefined): { grantId?: string } => (grantId === undefined ? {} : { grantId });

function requireAdmin(ctx: SubgraphContext): void {
  if (ctx.caller.role !== 'admin') {
    throw new ForbiddenError(
      `administering consumers and grants needs the admin role as well as a governance.admin WRITE grant; consumer ${ctx.caller.consumerId} has the ${ctx.caller.role} role`,
      { resource: ADMIN_RESOURCE, action: 'WRITE', role: ctx.caller.role },
    );
  }
}

/** `feedClassifications`: the event feed's classification table (the service's own unless a test adds its event types). */
export function governanceResolvers(runtime: SubgraphRuntime, feedClassifications?: FeedClassifications): SubgraphResolvers<SubgraphContext> {
  const readModel = () => runtime.readModels.of(CONSUMERS_PROJECTION);
  // One live reader of the log for every event feed this process serves (it runs while one is open).
  const feedHub = new EventFeedHub(runtime.store, {
    logger: runtime.logger,
    now: runtime.now,
    loadConsumer: (consumerId) => readConsumerState(runtime.store, consumerId),
    ...(feedClassifications && { classifications: feedClassifications }),
  });

  function metadataFor(ctx: SubgraphContext, now: string): EventMetadata {
    return {
      provenance: { department: 'big-data-bureau', system: 'city-brain/governance', channel: 'graphql', collectedAt: now },
      actor: actorOf(ctx),
      correlationId: ctx.requestId,
      ...withGrant(ctx.access.grantIdFor(ADMIN_RESOURCE)),
    };
  }

  async function run(ctx: SubgraphContext, consumerId: string, command: (now: string) => ConsumerCommand, options: CommandOptions = {}) {
    requireAdmin(ctx);
    const now = runtime.now().toISOString();
    return handleConsumer(runtime.store, command(now), metadataFor(ctx, now), options);
  }

  /** The grant as it stands after a command, from the consumer's stream (the read model may lag). */
  async function grantAfter(consumerId: string, grantId: string): Promise<GrantView> {
    const events = await runtime.store.readStream(consumerStreamId(consumerId));
    const granted = events.find((e) => e.type === 'AccessGranted' && (e.data as AccessGranted['data']).grantId === grantId);
    const revoked = events.find((e) => e.type === 'AccessRevoked' && (e.data as AccessRevoked['data']).grantId === grantId);
    if (!granted) throw new Error(`grant ${grantId} is missing from the stream of consumer ${consumerId} right after its command`);
    const doc = grantDocOf(granted as RecordedEvent<'AccessGranted', AccessGranted['data']>);
    return grantView(revoked ? { ...doc, ...revocationOf(revoked as RecordedEvent<'AccessRevoked', AccessRevoked['data']>) } : doc, runtime.now());
  }

  return {
    Query: {
      async me(_: unknown, _args: unknown, ctx: SubgraphContext) {
        const { consumerId, role, expiresAt } = ctx.caller;
        const state = await readConsumerState(runtime.store, consumerId);
        const identity = { consumerId, role, tokenExpiresAt: expiresAt.toISOString() };
        if (state.status !== 'REGISTERED') return { ...identity, registered: false, name: null, kind: null, department: null, grants: [], jurisdiction: null };
        const now = runtime.now();
        const { name, kind, department } = state.consumer;
        return {
          ...identity,
          registered: true,
          name,
          kind,
          department,
          jurisdiction: jurisdictionView(state.jurisdiction),
          grants: state.grants.map((g) => ({
            id: g.grantId,
            resources: g.resources.flatMap((r) => catalogResource(r) ?? []),
            actions: g.actions,
            purpose: g.purpose,
            validFrom: g.validFrom,
            validUntil: g.validUntil,
            masked: g.masked,
            status: grantStatus({ ...g, revoked: g.revocation !== null }, now),
          })),
        };
      },
      catalog: (_: unknown, args: ConnectionArgs) =>
        arrayConnection({ ...args, list: 'governance.catalog', items: CATALOG_BY_NAME, key: (r) => r.name, node: (r) => r }),
      consumers: (_: unknown, args: ConnectionArgs & { kind?: ConsumerKind | null }) =>
        collectionConnection({
          ...args,
          list: 'governance.consumers',
          collection: readModel().collection<ConsumerDoc>('consumers'),
          where: args.kind ? { kind: args.kind } : {},
          node: ({ doc }) => consumerView(doc),
        }),
      accessLog: (_: unknown, args: ConnectionArgs & { filter?: AccessLogFilter | null }) =>
        collectionConnection({
          ...args,
          list: 'governance.access-log',
          collection: runtime.readModels.of(ACCESS_LOG_PROJECTION).collection<AccessRecordDoc>('records'),
          where: accessLogWhere(args.filter),
          sortBy: 'at',
          direction: 'desc',
          node: accessRecordView,
        }),
      async consumer(_: unknown, args: { id: string }) {
        const doc = await readModel().collection<ConsumerDoc>('consumers').get(args.id);
        return doc ? consumerView(doc.doc) : null;
      },
    },
    Subscription: {
      events: {
        subscribe: (_: unknown, args: EventFeedArgs, ctx: SubgraphContext) => openEventFeed(feedHub, args, ctx),
        resolve: (root: Parameters<typeof resolveFeedItem>[0], _args: unknown, ctx: SubgraphContext) => resolveFeedItem(root, ctx),
      },
    },
    EventEnvelope: eventEnvelopeResolvers,
    Consumer: {
      history: (consumer: ConsumerView) => streamHistory(runtime.store, consumerStreamId(consumer.id)),
      grants(consumer: ConsumerView, args: ConnectionArgs & { activeOnly?: boolean | null }) {
        const now = runtime.now();
        const nowIso = now.toISOString();
        return collectionConnection({
          ...args,
          list: `governance.grants${args.activeOnly ? '.active' : ''}`,
          collection: readModel().collection<GrantDoc>('grants'),
          where: {
            consumerId: consumer.id,
            ...(args.activeOnly && { revokedAt: null, validFrom: { lte: nowIso }, validUntil: { gt: nowIso } }),
          },
          sortBy: 'grantedAt',
          node: ({ doc }) => grantView(doc, now),
        });
      },
    },
    Mutation: {
      async registerConsumer(_: unknown, { input }: { input: { id: string; name: string; kind: ConsumerKind; department: string; idempotencyKey?: string | null } }, ctx: SubgraphContext) {
        const result = await run(ctx, input.id, (now) => ({
          type: 'registerConsumer',
          data: { consumerId: input.id, name: input.name, kind: input.kind, department: input.department },
          metadata: { now },
        }), commandOptionsOf(input, ctx.caller));
        if (result.state.status !== 'REGISTERED') throw new Error(`consumer ${input.id} is not registered right after registerConsumer`);
        const registeredAt = result.events[0]?.recordedAt ?? runtime.now().toISOString();
        return {
          consumer: consumerView({ ...result.state.consumer, registeredAt, divisionCode: null, unitId: null, unitName: null }),
          positions: result.events.map((e) => e.position),
        };
      },
      async grantAccess(
        _: unknown,
        {
          input,
        }: {
          input: {
            consumerId: string;
            resources: string[];
            actions: AccessAction[];
            purpose: string;
            validFrom?: string | null;
            validUntil: string;
            masked?: boolean | null;
            approver: string;
            idempotencyKey?: string | null;
          };
        },
        ctx: SubgraphContext,
      ) {
        const grantId = newEntityId(null, input, ctx.caller, 'grantAccess');
        const result = await run(ctx, input.consumerId, (now) => ({
          type: 'grantAccess',
          data: {
            grantId,
            consumerId: input.consumerId,
            resources: input.resources,
            actions: input.actions,
            purpose: input.purpose,
            validFrom: input.validFrom ?? now,
            validUntil: input.validUntil,
            masked: input.masked ?? true,
            approver: input.approver,
          },
          metadata: { now },
        }), commandOptionsOf(input, ctx.caller));
        return { grant: await grantAfter(input.consumerId, grantId), positions: result.events.map((e) => e.position) };
      },
      async assignJurisdiction(
        _: unknown,
        { input }: { input: { consumerId: string; divisionCode: string; unitId?: string | null; unitName?: string | null } },
        ctx: SubgraphContext,
      ) {
        requireAdmin(ctx);
        const unitId = input.unitId?.trim() || undefined;
        const now = runtime.now().toISOString();
        const command: AssignJurisdiction = {
          type: 'assignJurisdiction',
          data: {
            consumerId: input.consumerId,
            divisionCode: input.divisionCode,
            ...(unitId !== undefined && { unitId }),
            ...(input.unitName && { unitName: input.unitName }),
            assignedBy: ctx.caller.consumerId,
          },
          metadata: { now },
        };
        const result = await assignJurisdiction(runtime.store, command, metadataFor(ctx, now));
        if (result.state.status !== 'REGISTERED') throw new Error(`consumer ${input.consumerId} is not registered after assignJurisdiction`);
        const doc = await readModel().collection<ConsumerDoc>('consumers').get(input.consumerId);
        return {
          consumer: { ...consumerView(doc?.doc ?? { ...result.state.consumer, registeredAt: '', divisionCode: null, unitId: null, unitName: null }), jurisdiction: jurisdictionView(result.state.jurisdiction) },
          positions: result.events.map((e) => e.position),
        };
      },
      async erasePersonalData(_: unknown, { input }: { input: ErasureInput }, ctx: SubgraphContext) {
        requireAdmin(ctx);
        if (!runtime.personalData) throw new Error('this process holds no personal-data keys: erase through the governance subgraph of the platform');
        const now = runtime.now().toISOString();
        const { erasedAt, events } = await erasePersonalData(runtime, runtime.personalData, input, metadataFor(ctx, now));
        return { subjectId: input.subjectId.trim(), erasedAt, positions: events.map((e) => e.position) };
      },
      async revokeAccess(_: unknown, { input }: { input: { consumerId: string; grantId: string; reason: string } }, ctx: SubgraphContext) {
        const result = await run(ctx, input.consumerId, (now) => ({
          type: 'revokeAccess',
          data: { consumerId: input.consumerId, grantId: input.grantId, reason: input.reason, revokedBy: ctx.caller.consumerId },
          metadata: { now },
        }));
        return { grant: await grantAfter(input.consumerId, input.grantId), positions: result.events.map((e) => e.position) };
      },
    },
  };
}
