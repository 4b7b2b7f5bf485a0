/**
 * The shell-company assessment (空壳公司判断, §(五)) for the legal-person subgraph to host: its schema
 * snippet (extending `Query` and `LegalPerson`), the facts projection to list among the module's
 * projections, and the resolvers to merge into its own.
 */


export { DEFAULT_SHELL_COMPANY_CONFIG, parseShellCompanyConfig, type ShellCompanyConfig } from './config.ts';
export { shellCompanyFactsProjection } from './projection.ts';
export { createShellCompanyResolvers, type ShellCompanyResolverOptions } from './resolvers.ts';
export { assessShellCompany, type ShellCompanyAssessment } from './signals.ts';
