/**
 * What other domains may use of healthcare besides its event types. A medical visit is a proof of
 * life: the population subgraph's survival status reads it
 * from healthcare's events through its own projection, never through a call between subgraphs.
 * This is the whole contract that projection relies on; healthcare keeps it stable (a new shape of
 * MedicalVisitRecorded would come with an upcaster, so readers always see this one).
 */
import type { MedicalVisitRecorded } from './healthRecord/events.ts';

/** The event type to subscribe to. */
export const MEDICAL_VISIT_RECORDED = 'MedicalVisitRecorded' satisfies MedicalVisitRecorded['type'];

/** The fields of its data a proof of life needs: who was seen alive, when, and by which hospital. */
export type MedicalVisitProofOfLife = Pick<MedicalVisitRecorded['data'], 'personId' | 'visitedAt' | 'hospitalCode' | 'visitId'>;

/** The population event type a visit stands for (`SurvivalConfirmed.method`). */
export const PROOF_OF_LIFE_METHOD = 'MEDICAL_VISIT' as const;
