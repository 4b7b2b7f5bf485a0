/**
 * Every error the service raises on purpose. `code` is the GraphQL `extensions.code` (DESIGN §3);
 * the subgraph kit maps these to GraphQL errors in one place, so nothing else throws strings.
 */
export type ErrorCode =
  | 'BAD_USER_INPUT'
  | 'FORBIDDEN'
  | 'UNAUTHENTICATED'
  | 'CONFLICT'
  | 'NOT_FOUND'
  | 'INVALID_TRANSITION'
  | 'NOT_YOUR_CASE'
  | 'NOT_YET_PROJECTED';

export abstract class CityBrainError extends Error {
  abstract readonly code: ErrorCode;
  /** Extra, machine-readable facts a client may act on (placed in `extensions`). */
  readonly details: Record<string, unknown>;
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = new.target.name;
    this.details = details;
  }
}

/** The base of an error class whose only difference from the others is its code. */
function errorWithCode<Code extends ErrorCode>(code: Code) {
  return class extends CityBrainError {
    readonly code = code;
  };
}

/** Input that can never succeed as sent: a malformed field, an unregistered type, a bad check digit. */
export class ValidationError extends errorWithCode('BAD_USER_INPUT') {}

/** The stream's revision is not the one the writer read: reload and decide again. */
export class ConcurrencyError extends errorWithCode('CONFLICT') {
  constructor(
    readonly streamId: string,
    readonly expected: string,
    readonly actual: number | undefined,
  ) {
    super(
      `stream ${streamId}: expected revision ${expected} but the stream is at ${actual === undefined ? 'no_stream' : `revision ${actual}`}`,
      { streamId, expectedRevision: expected, actualRevision: actual ?? null },
    );
  }
}

/** A uniqueness rule was broken: the same natural key, the same hour, an event id reused with other content. */
export class ConflictError extends errorWithCode('CONFLICT') {}

export class NotFoundError extends errorWithCode('NOT_FOUND') {}

/** A workflow step that is not allowed from the current status. */
export class InvalidTransitionError extends errorWithCode('INVALID_TRANSITION') {
  constructor(
    readonly command: string,
    readonly status: string,
    readonly allowed: readonly string[],
  ) {
    super(
      `cannot ${command} while the status is ${status}; allowed next steps: ${allowed.length ? allowed.join(', ') : 'none'}`,
      { command, status, allowed },
    );
  }
}

export class UnauthenticatedError extends errorWithCode('UNAUTHENTICATED') {}

export class ForbiddenError extends errorWithCode('FORBIDDEN') {}

/**
 * A workflow rule about who acts refused the command: the caller holds the grant (else FORBIDDEN),
 * but the case is not its to take this step on (a unit handling what was dispatched to another, a
 * centre outside its division, the unit that did the work verifying it).
 */
export class NotYourCaseError extends errorWithCode('NOT_YOUR_CASE') {}

/** A query asked for read models projected through a position they had not reached in time: ask again. */
export class NotYetProjectedError extends errorWithCode('NOT_YET_PROJECTED') {}
