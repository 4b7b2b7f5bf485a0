/**
 * The subgraph modules this build serves, in seeding order: a module's demo data may refer to
 * entities seeded by the modules before it (legal persons name seeded persons as representatives).
 */
import type { SubgraphModule } from '../subgraphs/kit/module.ts';

export const MODULES: readonly SubgraphModule[] = [];
