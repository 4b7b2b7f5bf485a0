/**
 * `LegalPerson.shellCompanyAssessment` and `suspectedShellCompanies`, for the legal-person subgraph
 * to merge into its resolvers. Assessments are computed on read from the facts projection, as of
 * today (China time): the time-based signals (idle months, overdue reports, days since a death)
 * change with the calendar, not only with events. A batch of legal persons costs three reads.
 */
import { ValidationError } from '../../../events/errors.ts';
import type { Collection } from '../../../projections/types.ts';
import { chinaDate } from '../../kit/calendar.ts';
import { arrayConnection } from '../../kit/connections.ts';
import { loader, type SubgraphContext } from '../../kit/context.ts';
import type { SubgraphRuntime } from '../../kit/module.ts';
import type { SubgraphResolvers } from '../../kit/server.ts';
import { assertDivision } from '../../kit/divisions/catalog.ts';
import { divisionField } from '../../kit/divisions/division.ts';
import { DEFAULT_SHELL_COMPANY_CONFIG, type ShellCompanyConfig } from './config.ts';
import type { CompanyFacts, GroupFacts, RepresentativeFacts } from './facts.ts';
import { ADDRESSES, COMPANIES, REPRESENTATIVES, SHELL_COMPANY_FACTS } from './projection.ts';
import { assessShellCompany, type ShellCompanyAssessment } from './signals.ts';

type Ctx = SubgraphContext;

export interface ShellCompanyResolverOptions {
  /** @default DEFAULT_SHELL_COMPANY_CONFIG */
  config?: ShellCompanyConfig;
  /** How this subgraph serves a `LegalPerson` by id (the legal-person resolvers' own loader). */
  legalPerson(ctx: Ctx, id: string): unknown;
}

/** Companies read per page when a division is screened. */
const SCREEN_PAGE = 1000;

export function createShellCompanyResolvers(runtime: SubgraphRuntime, options: ShellCompanyResolverOptions): SubgraphResolvers<Ctx> {
  const config = options.config ?? DEFAULT_SHELL_COMPANY_CONFIG;
  const facts = <T extends Record<string, unknown>>(name: string): Collection<T> => runtime.readModels.of(SHELL_COMPANY_FACTS).collection<T>(name);
  const today = () => chinaDate(runtime.now().toISOString());

  /** Assessments of these companies: their address and representative groups in two more reads. */
  async function assess(companies: readonly CompanyFacts[]): Promise<ShellCompanyAssessment[]> {
    const [addresses, representatives] = await Promise.all([
      facts<GroupFacts>(ADDRESSES).getMany([...new Set(companies.map((c) => c.address.key))]),
      facts<RepresentativeFacts>(REPRESENTATIVES).getMany([...new Set(companies.map((c) => c.representative.personId))]),
    ]);
    const addressByKey = new Map(addresses.flatMap((a) => (a ? [[a.id, a.doc] as const] : [])));
    const representativeById = new Map(representatives.flatMap((r) => (r ? [[r.id, r.doc] as const] : [])));
    const day = today();
    return companies.map((company) =>
      assessShellCompany(
        {
          company,
          addressGroup: addressByKey.get(company.address.key) ?? null,
          representative: representativeById.get(company.representative.personId) ?? null,
          today: day,
        },
        config,
      ),
    );
  }

  const assessmentOf = (ctx: Ctx) =>
    loader<string, ShellCompanyAssessment | null>(ctx, 'legal-person.shellCompanyAssessment', async (ids) => {
      const found = (await facts<CompanyFacts>(COMPANIES).getMany(ids)).flatMap((stored) => (stored ? [stored.doc] : []));
      const byId = new Map((await assess(found)).map((a) => [a.legalPersonId, a]));
      return ids.map((id) => byId.get(id) ?? null);
    });

  return {
    Query: {
      async suspectedShellCompanies(_: unknown, args: { divisionCode: string; minScore?: number | null; first?: number | null; after?: string | null }) {
        const division = assertDivision(args.divisionCode, undefined, 'divisionCode');
        const minScore = args.minScore ?? config.suspectScore;
        if (!Number.isInteger(minScore) || minScore < 0 || minScore > 100) {
          throw new ValidationError(`minScore is a score from 0 to 100, got ${minScore}`, { field: 'minScore' });
        }
        const companies: CompanyFacts[] = [];
        let after: string | undefined;
        for (;;) {
          const page = await facts<CompanyFacts>(COMPANIES).find({
            where: { [divisionField(division.level)]: division.code, status: { in: ['ACTIVE', 'REVOKED'] } },
            first: SCREEN_PAGE,
            ...(after !== undefined && { after }),
          });
          companies.push(...page.items.map((i) => i.node.doc));
          if (!page.hasNextPage || page.endCursor === null) break;
          after = page.endCursor;
        }
        // Highest score first; the key orders by descending score, then id.
        const key = (a: ShellCompanyAssessment) => `${String(100 - a.score).padStart(3, '0')}:${a.legalPersonId}`;
        const suspects = (await assess(companies)).filter((a) => a.score >= minScore).sort((a, b) => (key(a) < key(b) ? -1 : 1));
        return arrayConnection({ list: 'legal-person.suspectedShellCompanies', items: suspects, key, node: (a) => a, first: args.first ?? null, after: args.after ?? null });
      },
    },
    LegalPerson: {
      shellCompanyAssessment: (legalPerson: { id: string }, _: unknown, ctx: Ctx) => assessmentOf(ctx).load(legalPerson.id),
    },
    ShellCompanyAssessment: {
      legalPerson: (assessment: ShellCompanyAssessment, _: unknown, ctx: Ctx) => options.legalPerson(ctx, assessment.legalPersonId),
    },
  };
}
