/**
 * `MonitoringStation.hourly(from, to)`: the real-time report of each hour in a range, paged like every
 * list (keyset cursors bound to the list, `first` ≤ 100), read from the station-day documents that
 * hold the hours. A page reads the few days it spans (one query, usually); `totalCount`, only when
 * asked, reads the days of the whole range.
 */
import { ValidationError } from '../../events/errors.ts';
import type { Collection } from '../../projections/types.ts';
import { arrayConnection, pageSize, type Connection } from '../kit/connections.ts';
import { daySlotOf, hourDocFromDay, hourMsOfSlot, type DayDoc, type HourDoc } from './readModels/airQuality.ts';
import { HOUR_MS } from '../kit/calendar.ts';

/** Days read per query when counting a range. */
const COUNT_PAGE = 500;

/**
 * The hour a cursor of `list` names, when it is one; `undefined` for anything else, which
 * `arrayConnection` then refuses with the message every list gives. A cursor of this list that does
 * not name an hour (one issued before hours moved into day documents) is refused here.
 */
function hourAfter(list: string, after: string): number | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(after, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed) || parsed[0] !== list || typeof parsed[1] !== 'string') return undefined;
  const ms = Date.parse(parsed[1]);
  if (Number.isNaN(ms) || new Date(ms).toISOString() !== parsed[1]) {
    throw new ValidationError(`cursor "${after}" is not one this list returned: start again without "after"`, { field: 'after' });
  }
  return ms;
}

/** Every stored hour of the days in [fromMs, toMs] (whole hours), oldest first, calling `visit` until it returns false. */
async function eachHour(
  days: Collection<DayDoc>,
  stationId: string,
  fromMs: number,
  toMs: number,
  daysPerPage: number,
  visit: (hourMs: number, doc: DayDoc, slot: number) => boolean,
): Promise<void> {
  if (fromMs > toMs) return;
  const from = daySlotOf(fromMs);
  const to = daySlotOf(toMs);
  let cursor: string | undefined;
  for (;;) {
    const page = await days.find({
      where: { stationId, date: { gte: from.date, lte: to.date } },
      sortBy: 'date',
      first: daysPerPage,
      ...(cursor !== undefined && { after: cursor }),
    });
    for (const { node } of page.items) {
      for (let slot = 0; slot < 24; slot++) {
        if (!node.doc.hours.observed[slot]) continue;
        const hourMs = hourMsOfSlot(node.doc.date, slot);
        if (hourMs < fromMs || hourMs > toMs) continue;
        if (!visit(hourMs, node.doc, slot)) return;
      }
    }
    if (!page.hasNextPage || page.endCursor === null) return;
    cursor = page.endCursor;
  }
}

export async function hourlyConnection<Node>(options: {
  days: Collection<DayDoc>;
  stationId: string;
  /** Canonical instants, `from` ≤ `to`. */
  from: string;
  to: string;
  first?: number | null;
  after?: string | null;
  node: (hour: HourDoc) => Node;
}): Promise<Connection<Node>> {
  const { days, stationId } = options;
  const list = `environment.hourly:${stationId}`;
  const size = pageSize(options.first);
  const fromMs = Math.ceil(Date.parse(options.from) / HOUR_MS) * HOUR_MS;
  const toMs = Math.floor(Date.parse(options.to) / HOUR_MS) * HOUR_MS;
  const afterMs = options.after ? hourAfter(list, options.after) : undefined;
  const startMs = afterMs === undefined ? fromMs : Math.max(fromMs, afterMs + HOUR_MS);

  // One more hour than the page, to know whether another page follows.
  const items: HourDoc[] = [];
  await eachHour(days, stationId, startMs, toMs, Math.ceil((size + 1) / 24) + 1, (_ms, doc, slot) => {
    items.push(hourDocFromDay(stationId, doc, slot));
    return items.length <= size;
  });
  const connection = arrayConnection({ list, items, key: (h) => h.hour, node: options.node, first: options.first, after: options.after });
  return {
    ...connection,
    totalCount: async () => {
      let count = 0;
      await eachHour(days, stationId, fromMs, toMs, COUNT_PAGE, () => {
        count++;
        return true;
      });
      return count;
    },
  };
}
