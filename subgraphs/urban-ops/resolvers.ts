/**
 * The urban-ops resolvers: thin. Mutations build a command and run it through incidentCommands.ts;
 * queries read the `urban-ops.incidents` read models (an `asOf` or a timeline reads the incident's
 * own stream); the subscription follows the store's live feed.
 */
import { NotYourCaseError, ValidationError } from '../../events/errors.ts';
import type { EventMetadata, RecordedEvent } from '../../events/types.ts';
import type { Where } from '../../projections/types.ts';
import { commandOptionsOf, givenFields, newEntityId, type Unstamped } from '../kit/command.ts';
import { collectionConnection } from '../kit/connections.ts';
import type { SubgraphContext } from '../kit/context.ts';
import { loader, storedDocLoader } from '../kit/context.ts';
import { readClock } from '../kit/clock.ts';
import { provenanceResolvers, type FieldSourceMap } from '../kit/fieldProvenance.ts';
import type { SubgraphRuntime } from '../kit/module.ts';
import { actorOf, mutationMetadata, type ProvenanceDefaults, type ProvenanceInput } from '../kit/provenance.ts';
import type { SubgraphResolvers } from '../kit/server.ts';
import { streamHistory } from '../kit/history.ts';
import { bucketKey, type TieredBucketDoc, type TieredSummaryDoc } from '../kit/tieredCounts.ts';
import { asOfArguments, stateAsOf, type AsOfArguments } from '../kit/timeTravel.ts';
import { assertDivision, divisionByCode, divisionName, divisionReference } from '../kit/divisions/catalog.ts';
import { getCategory, INCIDENT_CATEGORIES, listCategories } from './categories.ts';
import type { DuplicateOptions } from './duplicates.ts';
import type { Actor, IncidentCommand, ReportIncident } from './incident/commands.ts';
import { allowedCommands, incidentDecider, type Assignment, type DispatchRecord } from './incident/decider.ts';
import { incidentEventDefinitions, incidentStreamId, type CentreRef, type IncidentReported } from './incident/events.ts';
import { registerIncident, reportIncident, runIncidentCommand, type IncidentResult } from './incidentCommands.ts';
import { isWithin, levelOfCode, parentCode, type Level } from './levels.ts';
import { levelOfIncident } from './metrics.ts';
import { addFunnel, emptyFunnel, finishFunnel, funnelDayKey, periodDates, type FunnelDay, type FunnelPeriod } from './readModels/funnel.ts';
import { CLOSE_TIMES, FUNNEL_DAYS, INCIDENTS, INCIDENTS_PROJECTION, METRICS } from './readModels/incidentsProjection.ts';
import { DIVISION_FIELD, foldView, type IncidentDoc, type IncidentView } from './readModels/incidentView.ts';
import { countsAt, finishMetrics, type DivisionCloseTimes, type DivisionCounts } from './readModels/metricCounters.ts';
import { clockCountsAt, clockCountsChangeAt, deadlineDay, OPEN_DEADLINES } from './readModels/openDeadlines.ts';
import { timelineOf } from './readModels/timeline.ts';

export interface UrbanOpsOptions {
  /** Link a new report to an open case of the same subcategory this close; null turns detection off. */
  duplicates: DuplicateOptions | null;
}

export const DEFAULT_URBAN_OPS_OPTIONS: UrbanOpsOptions = { duplicates: { radiusMeters: 50, windowMinutes: 120 } };

/** What an `Incident` resolves from: its view, and the instant it was asked for. */
export interface IncidentNode {
  view: IncidentView;
  asOf: string | null;
  /** The position of an `asOfPosition` view. */
  asOfPosition?: string | null;
}

/**
 * The incident's API fields whose setting event the document keeps: its flat fields (the rest live in
 * `view`, rewritten by every event). What the report alone sets shares the report's source.
 */
const INCIDENT_FIELD_SOURCES: FieldSourceMap = {
  channel: ['channel'],
  category: ['category'],
  subcategory: ['subcategory'],
  description: ['reportedAt'],
  location: ['reportedAt'],
  divisionCode: ['communityCode'],
  reporter: ['reportedAt'],
  reportedAt: ['reportedAt'],
  caseNumber: ['caseNumber'],
  status: ['status'],
  level: ['level'],
  revision: ['view'],
};

const INCIDENT_STREAM_PREFIX = incidentStreamId('');
const INCIDENT_EVENT_TYPES = incidentEventDefinitions.map((d) => d.type);


/** An ISO 8601 instant as the client wrote it, canonical (UTC, milliseconds). */
export function instantArg(value: string, field: string): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new ValidationError(`${field} must be an ISO 8601 instant, got "${value}"`, { field });
  return new Date(ms).toISOString();
}

/** Who a closed-loop command acts as, and the unit a centre said it acts for. */
interface Acting {
  actor: Actor;
  onBehalfOfUnitId?: string;
}

/**
 * The centre or unit the caller acts as: the jurisdiction governance registered for its consumer
 * (loaded with its grants, never from the input or a header). With `onBehalfOf`, a centre acts for
 * a unit it names, which must belong to its own division or one below it.
 */
async function actingAs(ctx: SubgraphContext, onBehalfOf?: OnBehalfOfArg | null): Promise<Acting> {
  const jurisdiction = await ctx.access.jurisdiction();
  const { consumerId } = ctx.caller;
  if (!jurisdiction) {
    throw new NotYourCaseError(
      `consumer ${consumerId} has no jurisdiction: governance has not registered the centre or unit it acts for (assignJurisdiction), so it takes no step of the closed loop`,
      { consumerId, reason: 'NO_JURISDICTION' },
    );
  }
  const { divisionCode, unitId } = jurisdiction;
  const own: Actor = { level: levelOfCode(divisionCode), divisionCode, ...(unitId !== undefined && { unitId }) };
  if (!onBehalfOf) return { actor: own };
  if (unitId !== undefined) {
    throw new NotYourCaseError(`unit ${unitId} may not act on behalf of another unit; only a command centre may (onBehalfOfUnit)`, {
      field: 'onBehalfOfUnit',
      consumerId,
    });
  }
  const unitDivision = assertDivision(onBehalfOf.divisionCode, undefined, 'onBehalfOfUnit.divisionCode').code;
  await registeredUnit(ctx, onBehalfOf, 'onBehalfOfUnit');
  if (!isWithin(unitDivision, divisionCode)) {
    throw new NotYourCaseError(
      `the ${own.level} centre ${divisionCode} may not act for unit ${onBehalfOf.unitId} of ${unitDivision}: that division is outside its jurisdiction`,
      { field: 'onBehalfOfUnit', divisionCode, unitDivisionCode: unitDivision },
    );
  }
  const onBehalfOfUnitId = onBehalfOf.unitId.trim();
  if (!onBehalfOfUnitId) throw new ValidationError('onBehalfOfUnit.unitId must not be empty', { field: 'onBehalfOfUnit.unitId' });
  return { actor: { level: levelOfCode(unitDivision), divisionCode: unitDivision, unitId: onBehalfOfUnitId }, onBehalfOfUnitId };
}

/**
 * The unit a command names, as governance registered it (its unit register, consumer/unit.ts): an
 * unknown unit, or one named under another division or name, is refused naming the field, before
 * anything is decided.
 */
async function registeredUnit(ctx: SubgraphContext, ref: { unitId: string; divisionCode: string; unitName?: string }, field: string): Promise<void> {
  const unitId = ref.unitId.trim();
  const unit = await ctx.access.unit(unitId);
  if (!unit) {
    throw new ValidationError(`${field}.unitId ${unitId} is not a registered handling unit; governance registers a unit when it assigns a consumer to act as it (assignJurisdiction)`, {
      field: `${field}.unitId`,
    });
  }
  if (unit.divisionCode !== ref.divisionCode.trim()) {
    throw new ValidationError(`${field}.divisionCode: unit ${unitId} belongs to division ${unit.divisionCode}, not ${ref.divisionCode.trim()}`, { field: `${field}.divisionCode` });
  }
  if (ref.unitName !== undefined && ref.unitName.trim() !== unit.unitName) {
    throw new ValidationError(`${field}.unitName: unit ${unitId} is registered as ${unit.unitName}, not ${ref.unitName.trim()}`, { field: `${field}.unitName` });
  }
}

const centre = (ref: CentreRef | null | undefined) => (ref ? { level: ref.level, divisionCode: ref.divisionCode } : null);

function dispatchOf(d: Assignment | DispatchRecord) {
  const returned = 'returned' in d ? d.returned : null;
  return { ...d, dispatchedBy: centre(d.dispatchedBy), returnedAt: returned?.returnedAt ?? null, returnReason: returned?.reason ?? null };
}

interface FilterArgs {
  status?: string[] | null;
  divisionCode?: string | null;
  level?: Level | null;
  channel?: string | null;
  category?: string | null;
  subcategory?: string | null;
  overdue?: boolean | null;
  from?: string | null;
  to?: string | null;
}

function whereOf(filter: FilterArgs | null | undefined, now: Date): Where {
  const where: Where = {};
  if (!filter) return where;
  if (filter.status?.length) where.status = { in: filter.status };
  if (filter.divisionCode) {
    const division = assertDivision(filter.divisionCode, undefined, 'filter.divisionCode');
    where[DIVISION_FIELD[division.level]] = division.code;
  }
  if (filter.level) where.level = filter.level;
  if (filter.channel) where.channel = filter.channel;
  if (filter.category) {
    if (!INCIDENT_CATEGORIES.includes(filter.category)) {
      throw new ValidationError(`filter.category "${filter.category}" is not in the incident catalog; use one of ${INCIDENT_CATEGORIES.join(', ')}`, {
        field: 'filter.category',
      });
    }
    where.category = filter.category;
  }
  if (filter.subcategory) {
    if (!listCategories().some((c) => c.subcategory === filter.subcategory && (!filter.category || c.category === filter.category))) {
      throw new ValidationError(`filter.subcategory "${filter.subcategory}" is not a subcategory${filter.category ? ` of ${filter.category}` : ''} in the incident catalog`, {
        field: 'filter.subcategory',
      });
    }
    where.subcategory = filter.subcategory;
  }
  if (filter.overdue !== null && filter.overdue !== undefined) {
    // Overdue as of the current whole second: the requests of one second send the same query, so they
    // share the read model's cached result (kept while the incidents' checkpoint stays).
    const cutoff = new Date(Math.floor(now.getTime() / 1000) * 1000).toISOString();
    where.overdueAfter = filter.overdue ? { lt: cutoff } : { gte: cutoff };
  }
  if (filter.from || filter.to) {
    where.reportedAt = {
      ...(filter.from && { gte: instantArg(filter.from, 'filter.from') }),
      ...(filter.to && { lt: instantArg(filter.to, 'filter.to') }),
    };
  }
  return where;
}

/** Where urban-ops commands come from unless the caller states another source. */
const PROVENANCE: ProvenanceDefaults = { department: '城市运行管理服务中心', system: 'urban-ops' };

/** `acting`: a closed-loop step's principal, with the unit a centre acted for. */
const metadataOf = (ctx: SubgraphContext, input: { provenance?: ProvenanceInput | null }, now: string, acting?: Acting): EventMetadata => ({
  ...mutationMetadata(ctx, 'urban.write', { ...PROVENANCE, department: ctx.caller.name ?? PROVENANCE.department }, input.provenance, now),
  actor: actorOf(ctx, acting?.onBehalfOfUnitId),
});

interface CommonInput {
  incidentId: string;
  expectedRevision?: number | null;
  idempotencyKey?: string | null;
  provenance?: ProvenanceInput | null;
}

export function urbanOpsResolvers(runtime: SubgraphRuntime, options: UrbanOpsOptions = DEFAULT_URBAN_OPS_OPTIONS): SubgraphResolvers<SubgraphContext> {
  const incidents = () => runtime.readModels.of(INCIDENTS_PROJECTION).collection<IncidentDoc>(INCIDENTS);
  const metrics = () => runtime.readModels.of(INCIDENTS_PROJECTION).collection<DivisionCounts>(METRICS);
  const closeTimes = () => runtime.readModels.of(INCIDENTS_PROJECTION).collection<DivisionCloseTimes>(CLOSE_TIMES);

  const incidentProvenance = provenanceResolvers<IncidentNode, SubgraphContext>({
    entity: 'Incident',
    store: runtime.store,
    fields: INCIDENT_FIELD_SOURCES,
    stored: (ctx, node) => storedDocLoader(ctx, 'urban-ops.incidentDoc', incidents).load(node.view.incidentId),
  });

  const incidentLoader = (ctx: SubgraphContext) =>
    loader<string, IncidentNode | null>(ctx, 'urban-ops.incident', async (ids) =>
      (await incidents().getMany(ids)).map((stored) => (stored ? { view: stored.doc.view, asOf: null } : null)),
    );
  const countsLoader = (ctx: SubgraphContext) =>
    loader<string, DivisionCounts | null>(ctx, 'urban-ops.metrics', async (ids) =>
      (await metrics().getMany(ids)).map((stored) => stored?.doc ?? null),
    );
  const funnelDayLoader = (ctx: SubgraphContext) =>
    loader<string, FunnelDay | null>(ctx, 'urban-ops.funnelDays', async (keys) =>
      (await runtime.readModels.of(INCIDENTS_PROJECTION).collection<FunnelDay>(FUNNEL_DAYS).getMany(keys)).map((stored) => stored?.doc ?? null),
    );
  const closeTimesLoader = (ctx: SubgraphContext) =>
    loader<string, DivisionCloseTimes | null>(ctx, 'urban-ops.closeTimes', async (ids) =>
      (await closeTimes().getMany(ids)).map((stored) => stored?.doc ?? null),
    );
  const deadlineDaysLoader = (ctx: SubgraphContext) =>
    loader<string, TieredSummaryDoc | null>(ctx, 'urban-ops.deadlineDays', async (ids) =>
      (await runtime.readModels.of(INCIDENTS_PROJECTION).collection<TieredSummaryDoc>(OPEN_DEADLINES.summaries).getMany(ids)).map((stored) => stored?.doc ?? null),
    );
  const deadlinesLoader = (ctx: SubgraphContext) =>
    loader<string, TieredBucketDoc | null>(ctx, 'urban-ops.deadlines', async (keys) =>
      (await runtime.readModels.of(INCIDENTS_PROJECTION).collection<TieredBucketDoc>(OPEN_DEADLINES.buckets).getMany(keys)).map((stored) => stored?.doc ?? null),
    );

  /** The incident as the command left it, read from its stream (the read model may lag). */
  async function payload(incidentId: string, result: IncidentResult) {
    const view = foldView(await runtime.store.readStream(incidentStreamId(incidentId)));
    if (!view) throw new Error(`incident ${incidentId} has no events after a successful command`);
    return {
      incident: { view, asOf: null } satisfies IncidentNode,
      positions: result.events.map((e) => e.position),
      revision: view.revision,
      replayed: result.replayed,
    };
  }

  /** A closed-loop step acted by the caller's jurisdiction (or the unit it names with `onBehalfOfUnit`). */
  async function step(
    ctx: SubgraphContext,
    input: CommonInput & { onBehalfOfUnit?: OnBehalfOfArg | null },
    build: (actor: Actor) => Unstamped<Exclude<IncidentCommand, { type: 'registerIncident' | 'reportIncident' | 'evaluateIncident' }>>,
  ) {
    const acting = await actingAs(ctx, input.onBehalfOfUnit);
    const now = runtime.now().toISOString();
    const command = { ...build(acting.actor), metadata: { now } };
    const result = await runIncidentCommand(runtime.store, command, metadataOf(ctx, input, now, acting), commandOptionsOf(input, ctx.caller));
    return payload(input.incidentId, result);
  }

  /** 评价: by whoever reported or was served (a citizen app), so no jurisdiction is needed. */
  async function evaluation(ctx: SubgraphContext, input: CommonInput, data: Extract<IncidentCommand, { type: 'evaluateIncident' }>['data']) {
    const now = runtime.now().toISOString();
    const command: IncidentCommand = { type: 'evaluateIncident', data, metadata: { now } };
    const result = await runIncidentCommand(runtime.store, command, metadataOf(ctx, input, now), commandOptionsOf(input, ctx.caller));
    return payload(input.incidentId, result);
  }

  /** Which community an incident lies in, for the subscription's filter: it never changes, so it is cached. */
  const communities = new Map<string, string>();
  async function communityOf(event: RecordedEvent): Promise<string | null> {
    const incidentId = (event.data as { incidentId: string }).incidentId;
    if (event.type === 'IncidentReported') return (event.data as IncidentReported['data']).divisionCode;
    let code = communities.get(incidentId);
    if (code === undefined) {
      const [first] = await runtime.store.readStream(event.streamId, { limit: 1 });
      if (first?.type !== 'IncidentReported') return null;
      code = (first.data as IncidentReported['data']).divisionCode;
      if (communities.size >= 50_000) communities.delete(communities.keys().next().value!);
      communities.set(incidentId, code);
    }
    return code;
  }

  return {
    Query: {
      division: (_root: unknown, { code }: { code: string }) => divisionByCode(code),
      async incident(_root: unknown, args: { id: string } & AsOfArguments, ctx: SubgraphContext): Promise<IncidentNode | null> {
        const point = asOfArguments(args);
        if (point) {
          const { events, at, position } = await stateAsOf({ store: runtime.store, streamId: incidentStreamId(args.id), decider: incidentDecider, asOf: point });
          const view = foldView(events);
          return view ? { view, asOf: at, asOfPosition: position } : null;
        }
        return incidentLoader(ctx).load(args.id);
      },
      incidents: (_root: unknown, args: { filter?: FilterArgs | null; first?: number | null; after?: string | null }) =>
        collectionConnection({
          list: 'urban-ops.incidents',
          collection: incidents(),
          where: whereOf(args.filter, runtime.now()),
          sortBy: 'reportedAt',
          direction: 'desc',
          first: args.first,
          after: args.after,
          node: (stored): IncidentNode => ({ view: stored.doc.view, asOf: null }),
        }),
      incidentCategories: () =>
        listCategories().map((c) => ({ ...c, subcategoryName: c.name })),
    },

    Mutation: {
      async reportIncident(_root: unknown, { input }: { input: ReportInput }, ctx: SubgraphContext) {
        const now = runtime.now().toISOString();
        const incidentId = newEntityId(input.id, input, ctx.caller, 'reportIncident');
        const command: ReportIncident = {
          type: 'reportIncident',
          data: {
            incidentId,
            channel: input.channel,
            category: input.category,
            subcategory: input.subcategory,
            description: input.description,
            location: input.location,
            divisionCode: input.divisionCode,
            reporter: {
              kind: input.reporter.kind,
              ...(input.reporter.id && { id: input.reporter.id }),
              ...(input.reporter.name && { name: input.reporter.name }),
            },
            attachments: input.attachments ?? [],
            reportedAt: input.reportedAt ? instantArg(input.reportedAt, 'reportedAt') : now,
          },
          metadata: { now },
        };
        const { result, duplicateOfId } = await reportIncident(runtime, command, metadataOf(ctx, input, now), {
          ...commandOptionsOf(input, ctx.caller),
          duplicates: options.duplicates,
        });
        return { ...(await payload(incidentId, result)), duplicateOf: duplicateOfId === null ? null : await incidentLoader(ctx).load(duplicateOfId) };
      },
      async registerIncident(_root: unknown, { input }: { input: CommonInput }, ctx: SubgraphContext) {
        const acting = await actingAs(ctx);
        const now = runtime.now().toISOString();
        const result = await registerIncident(
          runtime.store,
          { incidentId: input.incidentId, actor: acting.actor },
          now,
          metadataOf(ctx, input, now, acting),
          commandOptionsOf(input, ctx.caller),
        );
        return payload(input.incidentId, result);
      },
      rejectIncident: (_root: unknown, { input }: { input: RejectInput }, ctx: SubgraphContext) =>
        step(ctx, input, (actor) => ({
          type: 'rejectIncident',
          data: {
            incidentId: input.incidentId,
            reason: input.reason,
            ...(input.duplicateOfId && { duplicateOfId: input.duplicateOfId }),
            note: input.note,
            actor,
          },
        })),
      dispatchIncident: async (_root: unknown, { input }: { input: DispatchInput }, ctx: SubgraphContext) => {
        await registeredUnit(ctx, input.unit, 'unit');
        return step(ctx, input, (actor) => ({
          type: 'dispatchIncident',
          data: { incidentId: input.incidentId, unit: input.unit, actor },
        }));
      },
      returnIncident: (_root: unknown, { input }: { input: ReasonInput }, ctx: SubgraphContext) =>
        step(ctx, input, (actor) => ({
          type: 'returnIncident',
          data: { incidentId: input.incidentId, reason: input.reason, actor },
        })),
      escalateIncident: (_root: unknown, { input }: { input: ReasonInput }, ctx: SubgraphContext) =>
        step(ctx, input, (actor) => ({
          type: 'escalateIncident',
          data: { incidentId: input.incidentId, reason: input.reason, actor },
        })),
      startHandling: (_root: unknown, { input }: { input: CommonInput & { onBehalfOfUnit?: OnBehalfOfArg | null } }, ctx: SubgraphContext) =>
        step(ctx, input, (actor) => ({
          type: 'startHandling',
          data: { incidentId: input.incidentId, actor },
        })),
      reportHandled: (_root: unknown, { input }: { input: HandledInput }, ctx: SubgraphContext) =>
        step(ctx, input, (actor) => ({
          type: 'reportHandled',
          data: { incidentId: input.incidentId, evidence: input.evidence, note: input.note, actor },
        })),
      verifyIncident: (_root: unknown, { input }: { input: VerifyInput }, ctx: SubgraphContext) =>
        step(ctx, input, (actor) => ({
          type: 'verifyIncident',
          data: { incidentId: input.incidentId, passed: input.passed, ...givenFields({ reason: input.reason, note: input.note }), actor },
        })),
      evaluateIncident: (_root: unknown, { input }: { input: EvaluateInput }, ctx: SubgraphContext) =>
        evaluation(ctx, input, {
          incidentId: input.incidentId,
          satisfaction: input.satisfaction,
          ...givenFields({ comment: input.comment }),
        }),
    },

    Subscription: {
      incidentChanged: {
        /**
         * From the committed head at the moment of subscribing (EventStore.committedHead). A plain iterator rather than a generator, so
         * that a client leaving closes the store's subscription at once instead of after the next event.
         */
        async subscribe(_root: unknown, args: { divisionCode: string }): Promise<AsyncIterableIterator<{ incidentChanged: RecordedEvent }>> {
          const division = assertDivision(args.divisionCode, undefined, 'divisionCode');
          const subscription = runtime.store.subscribe({
            fromPosition: await runtime.store.committedHead(),
            filter: { types: INCIDENT_EVENT_TYPES, streamPrefixes: [INCIDENT_STREAM_PREFIX] },
          });
          const events = subscription[Symbol.asyncIterator]();
          const done = async (): Promise<IteratorResult<{ incidentChanged: RecordedEvent }>> => {
            await subscription.close();
            return { value: undefined, done: true };
          };
          const iterator: AsyncIterableIterator<{ incidentChanged: RecordedEvent }> = {
            [Symbol.asyncIterator]: () => iterator,
            async next() {
              for (;;) {
                const next = await events.next();
                if (next.done) return done();
                const community = await communityOf(next.value);
                if (community !== null && isWithin(community, division.code)) return { value: { incidentChanged: next.value }, done: false };
              }
            },
            return: done,
          };
          return iterator;
        },
      },
    },

    IncidentChange: {
      incidentId: (event: RecordedEvent) => (event.data as { incidentId: string }).incidentId,
      async incident(event: RecordedEvent): Promise<IncidentNode> {
        const view = foldView(await runtime.store.readStream(event.streamId, { toPosition: event.position }));
        if (!view) throw new Error(`incident stream ${event.streamId} has no report before ${event.position}`);
        return { view, asOf: event.recordedAt };
      },
    },

    Division: {
      __resolveReference: (ref: { code: string }) => ({ code: ref.code }),
      name: divisionName,
      async urbanOperations(division: { code: string }, args: { level?: Level | null }, ctx: SubgraphContext) {
        levelOfCode(division.code, 'code');
        const level = args.level ?? null;
        const clock = readClock(runtime);
        const now = clock.now.toISOString();
        const [counts, closeTimes, deadlineDays, deadlinesToday] = await Promise.all([
          countsLoader(ctx).load(division.code),
          closeTimesLoader(ctx).load(division.code),
          deadlineDaysLoader(ctx).load(division.code),
          deadlinesLoader(ctx).load(bucketKey(division.code, deadlineDay(now))),
        ]);
        const m = finishMetrics(countsAt(counts, closeTimes, level), clockCountsAt(deadlineDays, deadlinesToday, level, now));
        clock.holdsUntil(clockCountsChangeAt(deadlinesToday, now));
        const hours = (minutes: number | null) => (minutes === null ? null : minutes / 60);
        return { ...m, meanHoursToClose: hours(m.meanTimeToCloseMinutes), p90HoursToClose: hours(m.p90TimeToCloseMinutes), satisfaction: m.meanSatisfaction };
      },
      async incidentFunnel(division: { code: string }, args: { period: FunnelPeriod }, ctx: SubgraphContext) {
        levelOfCode(division.code, 'code');
        const dates = periodDates(args.period, runtime.now().toISOString());
        const days = await funnelDayLoader(ctx).loadMany(dates.map((date) => funnelDayKey(division.code, date)));
        const counts = emptyFunnel();
        for (const day of days) {
          if (day instanceof Error) throw day;
          if (day) addFunnel(counts, day.counts);
        }
        return finishFunnel(args.period, dates, counts);
      },
    },

    Incident: {
      __resolveReference: (ref: { id: string }, ctx: SubgraphContext) => incidentLoader(ctx).load(ref.id),
      id: (n: IncidentNode) => n.view.incidentId,
      status: (n: IncidentNode) => n.view.state.status,
      channel: (n: IncidentNode) => n.view.state.report.channel,
      category: (n: IncidentNode) => n.view.state.report.category,
      categoryName: (n: IncidentNode) => getCategory(n.view.state.report.category, n.view.state.report.subcategory).categoryName,
      subcategory: (n: IncidentNode) => n.view.state.report.subcategory,
      subcategoryName: (n: IncidentNode) => getCategory(n.view.state.report.category, n.view.state.report.subcategory).name,
      description: (n: IncidentNode) => n.view.state.report.description,
      location: (n: IncidentNode) => n.view.state.report.location,
      divisionCode: (n: IncidentNode) => n.view.state.report.divisionCode,
      community: (n: IncidentNode) => divisionReference(n.view.state.report.divisionCode),
      street: (n: IncidentNode) => divisionReference(parentCode(n.view.state.report.divisionCode)!),
      district: (n: IncidentNode) => divisionReference(parentCode(parentCode(n.view.state.report.divisionCode)!)!),
      reporter: (n: IncidentNode) => n.view.state.report.reporter,
      attachments: (n: IncidentNode) => n.view.state.report.attachments,
      reportedAt: (n: IncidentNode) => n.view.state.report.reportedAt,
      caseNumber: (n: IncidentNode) => caseOf(n)?.caseNumber ?? null,
      urgency: (n: IncidentNode) => caseOf(n)?.urgency ?? null,
      limitMinutes: (n: IncidentNode) => caseOf(n)?.limitMinutes ?? null,
      registeredAt: (n: IncidentNode) => caseOf(n)?.registeredAt ?? null,
      deadline: (n: IncidentNode) => caseOf(n)?.deadline ?? null,
      level: (n: IncidentNode) => levelOfIncident(n.view.state),
      owner: (n: IncidentNode) => centre(caseOf(n)?.owner),
      assignment: (n: IncidentNode) => ('unit' in n.view.state ? dispatchOf(n.view.state.unit) : null),
      dispatches: (n: IncidentNode) => (caseOf(n)?.dispatches ?? []).map(dispatchOf),
      reworkCount: (n: IncidentNode) => caseOf(n)?.reworkCount ?? 0,
      escalations: (n: IncidentNode) =>
        n.view.escalations.map((e) => ({ ...e, escalatedBy: centre(e.escalatedBy), escalatedByUnitId: e.escalatedBy?.unitId ?? null })),
      overdue: (n: IncidentNode) => caseOf(n)?.overdue ?? false,
      supervised: (n: IncidentNode) => caseOf(n)?.supervised ?? false,
      supervisedBy: (n: IncidentNode) => centre(caseOf(n)?.supervisedBy),
      supervisionDeadline: (n: IncidentNode) => caseOf(n)?.supervisionDeadline ?? null,
      rejection: (n: IncidentNode, _args: unknown, ctx: SubgraphContext) => {
        const { state } = n.view;
        if (state.status !== 'REJECTED') return null;
        const { duplicateOfId, ...rejection } = state.rejection;
        return {
          ...rejection,
          rejectedBy: centre(rejection.rejectedBy),
          duplicateOf: duplicateOfId === undefined ? null : () => incidentLoader(ctx).load(duplicateOfId),
        };
      },
      handling: (n: IncidentNode) => {
        const { state, handlingStartedAt } = n.view;
        if (state.status === 'HANDLING') return { unitId: state.unit.unitId, startedAt: state.startedAt, handledAt: null, evidence: [], note: null };
        if (state.status === 'HANDLED' || state.status === 'CLOSED') {
          const { unitId, handledAt, evidence, note } = state.handling;
          return { unitId, startedAt: handlingStartedAt, handledAt, evidence, note };
        }
        return null;
      },
      lastVerification: (n: IncidentNode) => caseOf(n)?.lastVerification ?? null,
      closedAt: (n: IncidentNode) => (n.view.state.status === 'CLOSED' ? n.view.state.closedAt : null),
      closedOnTime: (n: IncidentNode) => (n.view.state.status === 'CLOSED' ? n.view.state.onTime : null),
      evaluation: (n: IncidentNode) => (n.view.state.status === 'CLOSED' ? n.view.state.evaluation : null),
      allowedNextSteps: (n: IncidentNode) => allowedCommands(n.view.state),
      revision: (n: IncidentNode) => n.view.revision,
      asOf: (n: IncidentNode) => n.asOf,
      asOfPosition: (n: IncidentNode) => n.asOfPosition ?? null,
      history: (n: IncidentNode) => streamHistory(runtime.store, incidentStreamId(n.view.incidentId), n),
      ...incidentProvenance,
      async timeline(n: IncidentNode) {
        const streamId = incidentStreamId(n.view.incidentId);
        return timelineOf(await runtime.store.readStream(streamId, { toRevision: n.view.revision }));
      },
    },

    Centre: {
      division: (c: CentreRef) => divisionReference(c.divisionCode),
    },
    Dispatch: {
      division: (d: { divisionCode: string }) => divisionReference(d.divisionCode),
    },
  };
}

const caseOf = (n: IncidentNode) => ('caseFile' in n.view.state ? n.view.state.caseFile : null);

interface OnBehalfOfArg {
  unitId: string;
  divisionCode: string;
}

interface ReportInput {
  id?: string | null;
  channel: ReportIncident['data']['channel'];
  category: string;
  subcategory: string;
  description: string;
  location: ReportIncident['data']['location'];
  divisionCode: string;
  reporter: { kind: ReportIncident['data']['reporter']['kind']; id?: string | null; name?: string | null };
  attachments?: string[] | null;
  reportedAt?: string | null;
  idempotencyKey?: string | null;
  provenance?: ProvenanceInput | null;
}

interface RejectInput extends CommonInput {
  reason: Extract<IncidentCommand, { type: 'rejectIncident' }>['data']['reason'];
  duplicateOfId?: string | null;
  note: string;
}

interface DispatchInput extends CommonInput {
  unit: { unitId: string; unitName: string; divisionCode: string };
}

interface ReasonInput extends CommonInput {
  reason: string;
  onBehalfOfUnit?: OnBehalfOfArg | null;
}

interface HandledInput extends CommonInput {
  evidence: string[];
  note: string;
  onBehalfOfUnit?: OnBehalfOfArg | null;
}

interface VerifyInput extends CommonInput {
  passed: boolean;
  reason?: string | null;
  note?: string | null;
}

interface EvaluateInput extends CommonInput {
  satisfaction: number;
  comment?: string | null;
}
