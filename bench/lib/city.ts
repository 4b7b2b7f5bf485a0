/** The demo city's twelve county-level districts (GB/T 2260 codes, in code order), which benchmarks spread their load over. */
import { jinanDivisions } from '../../subgraphs/kit/divisions/jinan.ts';

export const DISTRICT_CODES: readonly string[] = jinanDivisions.filter((d) => d.level === 'DISTRICT').map((d) => d.code);
