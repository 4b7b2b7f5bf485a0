/**
 * Masking of event payloads for consumers whose grant says `masked`: payloads are free-form JSON, so
 * the identity keys are masked wherever they occur, at any depth, with the kit's maskers.
 */
import { maskIdNumber, maskPhone } from '../../kit/access.ts';

const MASKED_KEYS: Readonly<Record<string, (value: string) => string>> = { idNumber: maskIdNumber, phone: maskPhone };

/** A copy of `payload` with every `idNumber` and `phone` string masked; other values unchanged. */
export function maskPayload(payload: unknown): unknown {
  if (Array.isArray(payload)) return payload.map(maskPayload);
  if (typeof payload !== 'object' || payload === null) return payload;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(payload)) {
    const mask = MASKED_KEYS[key];
    out[key] = mask && typeof value === 'string' ? mask(value) : maskPayload(value);
  }
  return out;
}
