/**
 * Legal-person resolvers. Queries read the `legal-person.legalPersons` read model; references and
 * `Person.representedLegalPersons` are batched per request (one round trip for any number of ids).
 * Streams are folded only for `asOf`, a mutation's payload, or a legal person the projector has
 * not reached yet.
 */
import type { Where } from '../../projections/types.ts';
import { findAll, findOne } from '../../projections/findAll.ts';
import { newEntityId, type CommandContext, type Outcome } from '../kit/command.ts';
import { arrayConnection, collectionConnection, type ConnectionArgs } from '../kit/connections.ts';
import { loader, storedDocLoader, type SubgraphContext } from '../kit/context.ts';
import { provenanceResolvers, type FieldSourceMap } from '../kit/fieldProvenance.ts';
import { streamHistory } from '../kit/history.ts';
import { createShellCompanyResolvers } from './shellCompany/index.ts';
import type { SubgraphRuntime } from '../kit/module.ts';
import { mutationCommandContext, type ProvenanceDefaults, type ProvenanceInput } from '../kit/provenance.ts';
import type { SubgraphResolvers } from '../kit/server.ts';
import { entityViews } from '../kit/entityViews.ts';
import type { AsOfArguments } from '../kit/timeTravel.ts';
import { assertDivision, divisionReference } from '../kit/divisions/catalog.ts';
import { divisionField } from '../kit/divisions/division.ts';
import { createLegalPersonHandlers, registrationSource, SUPERVISION_SOURCE } from './handlers.ts';
import { assertCreditCode } from './identity/creditCode.ts';
import { legalPersonDecider } from './legalPerson/decider.ts';
import { legalPersonStreamId, type LegalPersonType, type RegisteredAddress } from './legalPerson/events.ts';
import type { IndustrySection } from './legalPerson/industry.ts';
import { LEGAL_PERSONS, LEGAL_PERSONS_PROJECTION, type LegalPersonDoc } from './readModels/legalPersons.ts';
import { moneyView } from '../kit/money.ts';
import { legalPersonFromDoc, legalPersonFromState, parseYuan, sectionName, type LegalPersonView } from './views.ts';

type Ctx = SubgraphContext;

/** The catalog resource every mutation of this subgraph is granted under. */
const WRITE_RESOURCE = 'legal-person.write';
type Args<T> = T & Record<string, unknown>;

/** Reads of `Person.representedLegalPersons` fetch this many documents per round trip. */
const REPRESENTED_BATCH = 1_000;

interface LegalPersonFilter {
  divisionCode?: string | null;
  status?: LegalPersonView['status'] | null;
  industry?: IndustrySection | null;
}

interface WithRevision {
  expectedRevision?: number | null;
  provenance?: ProvenanceInput | null;
}

const address = (input: RegisteredAddress): RegisteredAddress => ({ address: input.address, divisionCode: input.divisionCode });

/** Each `LegalPerson` field and the read model's document fields it is computed from. */
const LEGAL_PERSON_FIELD_SOURCES: FieldSourceMap = {
  id: ['legalPersonId'],
  creditCode: ['creditCode'],
  name: ['name'],
  type: ['type'],
  legalRepresentative: ['legalRepresentativeId'],
  registeredAddress: ['registeredAddress'],
  registeredCapital: ['registeredCapitalFen'],
  industry: ['industrySection', 'industryName'],
  establishedOn: ['establishedOn'],
  status: ['status'],
  revokedOn: ['revokedOn'],
  revocationReason: ['revocationReason'],
  deregisteredOn: ['deregisteredOn'],
  annualReports: ['annualReports'],
  revision: ['revision'],
};

export function createLegalPersonResolvers(runtime: SubgraphRuntime): SubgraphResolvers<Ctx> {
  const { store, readModels } = runtime;
  const handlers = createLegalPersonHandlers(store);
  const legalPersons = () => readModels.of(LEGAL_PERSONS_PROJECTION).collection<LegalPersonDoc>(LEGAL_PERSONS);

  /** The stored document with its per-field sources (for `provenance`); one `getMany` per request. */
  const legalPersonStored = (ctx: Ctx, id: string) =>
    storedDocLoader(ctx, 'legal-person.doc', legalPersons).load(id);

  const legalPersonProvenance = provenanceResolvers<LegalPersonView, Ctx>({
    entity: 'LegalPerson',
    store,
    fields: LEGAL_PERSON_FIELD_SOURCES,
    stored: (ctx, lp) => legalPersonStored(ctx, lp.id),
  });

  /** A legal person now (the read model's, or the stream's while the projector has not reached it), in the past, or as just written. */
  const legalPersonViews = entityViews({
    store,
    streamIdOf: legalPersonStreamId,
    decider: legalPersonDecider,
    absent: 'UNREGISTERED',
    doc: async (ctx: Ctx, id) => (await legalPersonStored(ctx, id))?.doc,
    fromDoc: legalPersonFromDoc,
    fromState: legalPersonFromState,
    unwritten: (id) => `legal person ${id} has no registration`,
  });

  /** Every legal person each person represents, for a whole batch of persons in as few round trips as the rows need. */
  const representedBy = (ctx: Ctx, personId: string) =>
    loader<string, LegalPersonDoc[]>(ctx, 'legal-person.byRepresentative', async (personIds) => {
      const found = await findAll(legalPersons(), { where: { legalRepresentativeId: { in: [...personIds] } }, first: REPRESENTED_BATCH });
      return personIds.map((id) => found.filter((d) => d.legalRepresentativeId === id));
    }).load(personId);

  function where(filter: LegalPersonFilter | null | undefined): Where {
    const conditions: Where = {};
    if (filter?.divisionCode != null) {
      const division = assertDivision(filter.divisionCode, undefined, 'filter.divisionCode');
      conditions[divisionField(division.level)] = division.code;
    }
    if (filter?.status != null) conditions.status = filter.status;
    if (filter?.industry != null) conditions.industrySection = filter.industry;
    return conditions;
  }

  const payload = (outcome: Outcome) => ({ legalPerson: () => legalPersonViews.written(outcome.id), revision: outcome.revision, positions: outcome.events.map((e) => e.position) });

  const commandContext = (ctx: Ctx, source: ProvenanceDefaults, input: WithRevision & { idempotencyKey?: string | null }): CommandContext =>
    mutationCommandContext(ctx, WRITE_RESOURCE, source, input, runtime.now().toISOString());

  const resolvers = {
    Query: {
      legalPerson: (_: unknown, args: Args<{ id: string } & AsOfArguments>, ctx: Ctx) => legalPersonViews.query(ctx, args),

      legalPersonByCreditCode: (_: unknown, { creditCode }: Args<{ creditCode: string }>) =>
        findOne(legalPersons(), { creditCode: assertCreditCode(creditCode).creditCode }).then((found) => (found ? legalPersonFromDoc(found) : null)),

      legalPersons: (_: unknown, { filter, first, after }: Args<ConnectionArgs & { filter?: LegalPersonFilter | null }>) =>
        collectionConnection({ list: 'legal-person.legalPersons', collection: legalPersons(), where: where(filter), first, after, node: (d) => legalPersonFromDoc(d.doc) }),
    },

    Mutation: {
      async registerLegalPerson(
        _: unknown,
        {
          input,
        }: Args<{
          input: WithRevision & {
            idempotencyKey?: string | null;
            creditCode: string;
            name: string;
            type: LegalPersonType;
            legalRepresentativeId: string;
            registeredAddress: RegisteredAddress;
            registeredCapital: string;
            industry: { section: IndustrySection; name: string };
            establishedOn: string;
          };
        }>,
        ctx: Ctx,
      ) {
        const { creditCode, name, type, legalRepresentativeId, establishedOn } = input;
        const data = {
          legalPersonId: newEntityId(null, input, ctx.caller, 'registerLegalPerson'),
          creditCode,
          name,
          type,
          legalRepresentativeId,
          registeredAddress: address(input.registeredAddress),
          registeredCapitalFen: parseYuan(input.registeredCapital, 'registeredCapital'),
          industry: { section: input.industry.section, name: input.industry.name },
          establishedOn,
        };
        return payload(await handlers.registerLegalPerson(data, commandContext(ctx, registrationSource(type), input)));
      },

      async changeLegalRepresentative(_: unknown, { input }: Args<{ input: WithRevision & { legalPersonId: string; legalRepresentativeId: string; changedOn: string } }>, ctx: Ctx) {
        const { legalPersonId, legalRepresentativeId, changedOn } = input;
        return payload(await handlers.changeLegalRepresentative({ legalPersonId, legalRepresentativeId, changedOn }, commandContext(ctx, SUPERVISION_SOURCE, input)));
      },

      async changeRegisteredAddress(_: unknown, { input }: Args<{ input: WithRevision & { legalPersonId: string; registeredAddress: RegisteredAddress; changedOn: string } }>, ctx: Ctx) {
        const { legalPersonId, changedOn } = input;
        const data = { legalPersonId, registeredAddress: address(input.registeredAddress), changedOn };
        return payload(await handlers.changeRegisteredAddress(data, commandContext(ctx, SUPERVISION_SOURCE, input)));
      },

      async fileAnnualReport(_: unknown, { input }: Args<{ input: WithRevision & { legalPersonId: string; year: number; employees: number; revenue: string } }>, ctx: Ctx) {
        const { legalPersonId, year, employees } = input;
        const data = { legalPersonId, year, employees, revenueFen: parseYuan(input.revenue, 'revenue') };
        return payload(await handlers.fileAnnualReport(data, commandContext(ctx, SUPERVISION_SOURCE, input)));
      },

      async revokeLegalPerson(_: unknown, { input }: Args<{ input: WithRevision & { legalPersonId: string; reason: string; revokedOn: string } }>, ctx: Ctx) {
        const { legalPersonId, reason, revokedOn } = input;
        return payload(await handlers.revokeLegalPerson({ legalPersonId, reason, revokedOn }, commandContext(ctx, SUPERVISION_SOURCE, input)));
      },

      async deregisterLegalPerson(_: unknown, { input }: Args<{ input: WithRevision & { legalPersonId: string; deregisteredOn: string } }>, ctx: Ctx) {
        const { legalPersonId, deregisteredOn } = input;
        return payload(await handlers.deregisterLegalPerson({ legalPersonId, deregisteredOn }, commandContext(ctx, SUPERVISION_SOURCE, input)));
      },
    },

    LegalPerson: {
      __resolveReference: (ref: { id: string }, ctx: Ctx) => legalPersonViews.now(ctx, ref.id),
      legalRepresentative: (lp: LegalPersonView) => ({ id: lp.legalRepresentativeId }),
      registeredCapital: (lp: LegalPersonView) => moneyView(lp.registeredCapitalFen),
      industry: (lp: LegalPersonView) => ({ ...lp.industry, sectionName: sectionName(lp.industry.section) }),
      annualReports: (lp: LegalPersonView) => lp.annualReports.map((r) => ({ year: r.year, employees: r.employees, revenue: moneyView(r.revenueFen) })),
      history: (lp: LegalPersonView) => streamHistory(store, legalPersonStreamId(lp.id), lp),
      ...legalPersonProvenance,
    },

    RegisteredAddress: {
      division: (registered: RegisteredAddress) => divisionReference(registered.divisionCode),
    },

    Person: {
      __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
      async representedLegalPersons({ id }: { id: string }, { first, after }: Args<ConnectionArgs>, ctx: Ctx) {
        const represented = await representedBy(ctx, id);
        return arrayConnection({
          list: 'legal-person.represented',
          items: represented.sort((a, b) => (a.legalPersonId < b.legalPersonId ? -1 : 1)),
          key: (d) => d.legalPersonId,
          node: legalPersonFromDoc,
          first,
          after,
        });
      },
    },
  };
  const shell = createShellCompanyResolvers(runtime, { legalPerson: (ctx, id) => legalPersonViews.now(ctx as Ctx, id) });
  return {
    ...resolvers,
    ...(shell.ShellCompanyAssessment && { ShellCompanyAssessment: shell.ShellCompanyAssessment }),
    Query: { ...resolvers.Query, ...(shell.Query as object) },
    LegalPerson: { ...resolvers.LegalPerson, ...(shell.LegalPerson as object) },
  };
}

