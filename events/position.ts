/**
 * Positions on the SQL backends are the pair (transaction id, global sequence): readers order by
 * the pair so that a transaction committing after a later-numbered one is never skipped (DESIGN §6).
 */
import { ValidationError } from './errors.ts';
import { START, type Position } from './types.ts';

export interface PositionParts {
  tx: bigint;
  seq: bigint;
}

const FORMAT = /^(\d{1,20}):(\d{1,20})$/;

export function encodePosition(tx: bigint | string, seq: bigint | string | number): Position {
  return `${tx}:${seq}`;
}

export function decodePosition(position: Position): PositionParts {
  const match = FORMAT.exec(position);
  if (!match) {
    throw new ValidationError(`position "${position}" is malformed: expected "<transaction>:<sequence>" as returned by the store`, {
      position,
    });
  }
  return { tx: BigInt(match[1]!), seq: BigInt(match[2]!) };
}

/** Negative when `a` comes before `b`. */
export function comparePositions(a: Position, b: Position): number {
  const pa = decodePosition(a);
  const pb = decodePosition(b);
  if (pa.tx !== pb.tx) return pa.tx < pb.tx ? -1 : 1;
  if (pa.seq !== pb.seq) return pa.seq < pb.seq ? -1 : 1;
  return 0;
}

export function isStart(position: Position): boolean {
  return comparePositions(position, START) === 0;
}
