/**
 * What other domains may use of the population domain besides its event types: the demo people
 * (other domains' seeds pick representatives and taxpayers from the same plan, by the same ids) and
 * age in completed years as the register counts it.
 */
export { planDemoPopulation, type DemoPerson, type DemoPopulation } from './seed.ts';
export { ageOn } from './models/age.ts';
