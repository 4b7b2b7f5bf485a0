/**
 * One event as the gateway's `events` subscription delivers it. Kept free of the DOM so the feed's
 * end-to-end spec reads the same shape the screen does.
 */
export interface EventEnvelope<Payload = Record<string, unknown>> {
  id: string;
  type: string;
  streamId: string;
  position: string;
  recordedAt: string;
  payload: Payload;
}
