/**
 * What this process last knew of the streams its commands read or wrote (`handle` with `keepFolds`): for each, the fold of the
 * stream and the revision that fold is at. A command on a known stream is decided on that fold and
 * appended with that revision as the expected revision, without reading the stream first; the store
 * checks the revision in the append, so a fold that another writer has overtaken (another process,
 * the deadline manager) is refused there and the command is decided again on the stream itself. A
 * known fold is therefore never trusted for what is written, only for what is tried.
 *
 * The fold of a stream at revision r is the fold of its first r + 1 events, which never change
 * (append-only). Bounded: past `max` streams the least recently used are forgotten (read again).
 */
export interface Known<State> {
  state: State;
  /** The revision of the stream's last event folded into `state`; -1 for a stream that does not exist. */
  revision: number;
}

export class KnownStreams<State> {
  private readonly entries = new Map<string, Known<State>>();

  constructor(readonly max: number) {}

  get(streamId: string): Known<State> | undefined {
    const known = this.entries.get(streamId);
    if (known) {
      this.entries.delete(streamId);
      this.entries.set(streamId, known);
    }
    return known;
  }

  set(streamId: string, known: Known<State>): void {
    this.entries.delete(streamId);
    this.entries.set(streamId, known);
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
  }

  delete(streamId: string): void {
    this.entries.delete(streamId);
  }

  get size(): number {
    return this.entries.size;
  }
}
