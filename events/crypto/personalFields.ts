/**
 * How an event's personal fields are stored (pure, no I/O): the values at an event type's personal
 * paths are taken out of the payload, encrypted together with the subject's data key (AES-256-GCM)
 * and kept beside the payload under `$personal`, their places holding `ENCRYPTED`; everything else
 * stays in clear, so readers that need no personal data (statistics, counters) read it as before.
 * Reading puts the values back, or `ERASED` in their places once the subject's key is gone.
 *
 * The IV is the event id, so the same event encrypts to the same bytes: a re-sent idempotent command
 * is recognised as a replay.
 *
 * The key is the subject's for the event's scope (the catalog resource its personal values belong
 * to): key id `subject#scope`, so a retention rule can erase one resource of a subject's data and
 * leave the rest. Data sealed before scopes existed names the plain `subject` key and stays readable.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { ValidationError } from '../errors.ts';

/** What a reader sees in place of a personal value whose subject was erased. */
export const ERASED = '[erased]';
/** What the stored payload holds in place of a personal value (the value is in `$personal`). */
export const ENCRYPTED = '[encrypted]';
const SEALED = '$personal';

/** Which values of an event type are personal, and whose. */
export interface PersonalFieldRule {
  /**
   * Payload path of the data subject's id (a person id); of several, the first the payload holds
   * (a pseudonymous subject such as the incident of an anonymous report comes last).
   */
  subject: string | readonly string[];
  /** Leaf paths (dot-separated, arrays transparent) of the personal values; only strings are encrypted. */
  fields: readonly string[];
  /** Only events whose payload holds `equals` (or one of them) at `path` carry personal data (a taxpayer that is a person). */
  when?: { path: string; equals: string | readonly string[] };
  /** The catalog resource the values belong to: they are sealed under the subject's key of this scope. */
  scope?: string;
}

export type PersonalFieldRules = ReadonlyMap<string, PersonalFieldRule>;

/** The part of a stored payload that holds its personal values. */
interface Sealed {
  /** Format version. */
  v: 1;
  /** The id of the key it is sealed under: the data subject, or `subject#scope`. */
  s: string;
  /** The concrete paths (array indexes included) of the values, in the order encrypted. */
  p: string[];
  /** base64 of tag (16) · ciphertext of the JSON array of values (the IV is the event id). */
  c: string;
}

type Path = (string | number)[];

function valueAt(data: unknown, path: string): unknown {
  let value = data;
  for (const segment of path.split('.')) value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[segment] : undefined;
  return value;
}

/** The data subject of an event under `rule`, when its payload names one and holds a personal value of theirs (`values`, when known). */
export function subjectOf(rule: PersonalFieldRule, data: unknown, values?: PersonalValues): string | undefined {
  if (rule.when && !(typeof rule.when.equals === 'string' ? [rule.when.equals] : rule.when.equals).includes(valueAt(data, rule.when.path) as string)) return undefined;
  // Every append of a personal event asks (twice): no arrays made on the way.
  for (const path of typeof rule.subject === 'string' ? [rule.subject] : rule.subject) {
    const subject = valueAt(data, path);
    if (typeof subject === 'string' && subject !== '') return (values ? values.length > 0 : holdsPersonalValue(rule, data)) ? subject : undefined;
  }
  return undefined;
}

const SCOPE_SEPARATOR = '#';

/** The id of a subject's key for `scope` (none: the subject's own key, which data sealed before scopes uses). */
export function keyIdOf(subject: string, scope: string | undefined): string {
  // A subject id holding the separator could name another subject's scoped key.
  if (subject.includes(SCOPE_SEPARATOR)) throw new ValidationError(`subject id "${subject}" holds "${SCOPE_SEPARATOR}", which no data subject's id may hold`, { field: 'subject' });
  return scope ? `${subject}${SCOPE_SEPARATOR}${scope}` : subject;
}

/** Every key id a subject's data may be sealed under: its own key and one per scope of `rules`. */
export function keyIdsOfSubject(subject: string, scopes: Iterable<string>): string[] {
  return [keyIdOf(subject, undefined), ...[...scopes].map((scope) => keyIdOf(subject, scope))];
}

/** The scopes of `rules`: the resources a retention rule may name. */
export function scopesOf(rules: PersonalFieldRules): string[] {
  return [...new Set([...rules.values()].flatMap((rule) => (rule.scope ? [rule.scope] : [])))].sort();
}

/** The string values at a rule's paths, each with its concrete path. */
export type PersonalValues = readonly { path: Path; value: string }[];

/** Each rule's field paths split once: every append of a personal event walks them (for its key id, then its values). */
const fieldSegments = new WeakMap<PersonalFieldRule, string[][]>();

/** Sees a string value at a personal path (`at`: the walk's own array, copied by a visitor that keeps it); false stops the walk. */
type Visit = (at: Path, value: string) => boolean;

/**
 * Visits the string values at `rule`'s paths in order, each with its concrete path, until `visit`
 * returns false. No closure is made per walk: under tsx each named one costs a defineProperty (its
 * kept name), a microsecond per event on the append path.
 */
function walkPersonal(rule: PersonalFieldRule, data: unknown, visit: Visit): void {
  let fields = fieldSegments.get(rule);
  if (!fields) fieldSegments.set(rule, (fields = rule.fields.map((field) => field.split('.'))));
  const at: Path = [];
  for (const segments of fields) if (!walkFrom(data, segments, 0, at, visit)) return;
}

function walkFrom(value: unknown, segments: readonly string[], depth: number, at: Path, visit: Visit): boolean {
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      at.push(index);
      const going = walkFrom(value[index], segments, depth, at, visit);
      at.pop();
      if (!going) return false;
    }
    return true;
  }
  if (depth === segments.length) return typeof value !== 'string' || visit(at, value);
  if (typeof value !== 'object' || value === null) return true;
  at.push(segments[depth]!);
  const going = walkFrom((value as Record<string, unknown>)[segments[depth]!], segments, depth + 1, at, visit);
  at.pop();
  return going;
}

/** The string values at `rule`'s paths, each with its concrete path. */
export function personalValues(rule: PersonalFieldRule, data: unknown): PersonalValues {
  const out: { path: Path; value: string }[] = [];
  walkPersonal(rule, data, (at, value) => {
    out.push({ path: [...at], value });
    return true;
  });
  return out;
}

/** Whether `data` holds a string value at one of `rule`'s paths: the walk stops at the first. */
function holdsPersonalValue(rule: PersonalFieldRule, data: unknown): boolean {
  let holds = false;
  walkPersonal(rule, data, () => {
    holds = true;
    return false;
  });
  return holds;
}

/**
 * `root` (an object) with the i-th path holding `valueOf(i)`, copying each object and array along the
 * paths once however many paths go through it (the root is copied, so its result is fresh, unless
 * `rootIsFresh`: a copy the caller just made, changed in place).
 */
function withValuesAt(root: unknown, paths: readonly (readonly (string | number)[])[], valueOf: (index: number) => unknown, rootIsFresh = false): Record<string, unknown> {
  // The copies made, each also keyed by itself: a second path through a container finds it copied.
  const copies = new Map<object, Record<string | number, unknown>>();
  const out = rootIsFresh ? (root as Record<string | number, unknown>) : copyOnce(copies, root);
  if (rootIsFresh) copies.set(out, out);
  paths.forEach((path, index) => {
    let at = out;
    for (let depth = 0; depth < path.length - 1; depth++) at = at[path[depth]!] = copyOnce(copies, at[path[depth]!]);
    at[path[path.length - 1]!] = valueOf(index);
  });
  return out as Record<string, unknown>;
}

/** A shallow copy of an object or array made once per `copies` (a module function: see `walkPersonal`). */
function copyOnce(copies: Map<object, Record<string | number, unknown>>, value: unknown): Record<string | number, unknown> {
  let copy = copies.get(value as object);
  if (!copy) {
    copy = (Array.isArray(value) ? [...value] : { ...(value as object) }) as Record<string | number, unknown>;
    copies.set(value as object, copy).set(copy, copy);
  }
  return copy;
}

const TAG_BYTES = 16;

/**
 * The IV of an event's ciphertext: its event id's 16 bytes. Unique per stored event (the store refuses
 * a second event with an id), the same for a re-sent idempotent event, and authenticated as well, so
 * ciphertext cannot be moved to another event.
 */
const ivOf = (eventId: string): Buffer => Buffer.from(eventId.replaceAll('-', ''), 'hex');

const encodePath = (path: Path): string => path.join('.');
const decodePath = (path: string): string[] => path.split('.');

/**
 * The payload to store for an event of `rule`'s type: its personal values (`values`, when known)
 * encrypted with `key`, or replaced by `ERASED` when the subject's key was erased (`null`: a new value
 * of an erased subject is not kept). Unchanged when it holds no personal value.
 */
export function sealPersonal(data: unknown, rule: PersonalFieldRule, keyId: string, key: Buffer | null, eventId: string, values = personalValues(rule, data)): unknown {
  if (values.length === 0) return data;
  const marker = key ? ENCRYPTED : ERASED;
  const out = withValuesAt(data, values.map((v) => v.path), () => marker);
  if (!key) return out;
  const iv = ivOf(eventId);
  const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(iv);
  const body = cipher.update(JSON.stringify(values.map((v) => v.value)), 'utf8');
  cipher.final(); // GCM: no bytes held back; computes the tag
  const sealed: Sealed = { v: 1, s: keyId, p: values.map((v) => encodePath(v.path)), c: Buffer.concat([cipher.getAuthTag(), body]).toString('base64') };
  out[SEALED] = sealed;
  return out;
}

function sealedOf(data: unknown): Sealed | undefined {
  return typeof data === 'object' && data !== null && SEALED in data ? ((data as Record<string, unknown>)[SEALED] as Sealed) : undefined;
}

/** SQL giving the id of the key that opens a stored payload (`data`: a jsonb expression); NULL when it holds nothing encrypted. */
export function sealedKeyIdSql(data: string): string {
  return `(${data}->'${SEALED}'->>'s')`;
}

/** The id of the key that opens a stored payload; `undefined` when it holds nothing encrypted. */
export function sealedKeyIdOf(data: unknown): string | undefined {
  return sealedOf(data)?.s;
}

/** A stored payload as readers see it: personal values back in place, or `ERASED` when `key` is `null` (erased). */
export function openPersonal(data: unknown, key: Buffer | null, eventId: string): unknown {
  const sealed = sealedOf(data);
  if (!sealed) return data;
  const { [SEALED]: _, ...rest } = data as Record<string, unknown>;
  let values: unknown[];
  if (key) {
    const bytes = Buffer.from(sealed.c, 'base64');
    const iv = ivOf(eventId);
    const decipher = createDecipheriv('aes-256-gcm', key, iv).setAAD(iv);
    decipher.setAuthTag(bytes.subarray(0, TAG_BYTES));
    const body = decipher.update(bytes.subarray(TAG_BYTES));
    // GCM: `final` returns no bytes; it checks the tag, so the values are read only once it passed.
    decipher.final();
    values = JSON.parse(body.toString('utf8')) as unknown[];
  } else {
    values = sealed.p.map(() => ERASED);
  }
  // `rest` is already a copy: every read of a person opens one payload per event.
  return withValuesAt(rest, sealed.p.map(decodePath), (index) => values[index], true);
}
