/**
 * The subgraph modules this build serves, in seeding order: a module's demo data may refer to
 * entities seeded by the modules before it (legal persons name seeded persons as representatives;
 * permits, claims and taxpayers name seeded legal persons and persons).
 */
import { environmentModule } from '../subgraphs/environment/index.ts';
import { governanceModule } from '../subgraphs/governance/index.ts';
import { healthcareModule } from '../subgraphs/healthcare/index.ts';
import type { SubgraphModule } from '../subgraphs/kit/module.ts';
import { legalPersonModule } from '../subgraphs/legal-person/index.ts';
import { populationModule } from '../subgraphs/population/index.ts';
import { taxModule } from '../subgraphs/tax/index.ts';
import { urbanOpsModule } from '../subgraphs/urban-ops/index.ts';

export const MODULES: readonly SubgraphModule[] = [
  governanceModule,
  populationModule,
  legalPersonModule,
  urbanOpsModule,
  environmentModule,
  healthcareModule,
  taxModule,
];
