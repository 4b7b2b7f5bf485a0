/**
 * The printed table: one row per measurement, and per store its figure, the baseline, ours ÷
 * baseline, the target and whether it is met, so PostgreSQL and PGlite read side by side.
 */
import { evaluateTargets, ratio, type Figure, type Target } from './figures.ts';

export interface BackendColumn {
  /** The figures' `backend` (`pg`, `pglite`; `''` for figures without one). */
  id: string;
  label: string;
}

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const threshold = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

export function formatValue(key: string, value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (key.endsWith('_ms') || key.endsWith('ratio_to_baseline')) {
    return value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : integer.format(value);
  }
  return integer.format(value);
}

function formatTarget(target: Target): string {
  const op = target.op === '>=' ? '≥' : '≤';
  return target.on === 'value' ? `${op} ${threshold.format(target.threshold)}` : `${op} ${threshold.format(target.threshold)}× baseline`;
}

function status(figure: Figure): string {
  const outcomes = evaluateTargets(figure);
  if (outcomes.length === 0) return '';
  const missed = outcomes.filter((o) => !o.met);
  if (missed.length === 0) return 'met';
  return `MISSED (${missed.map((o) => (o.target.on === 'value' ? 'value' : 'ratio')).join(', ')})`;
}

function pad(cells: readonly string[], widths: readonly number[], rightAligned: readonly boolean[]): string {
  return cells
    .map((cell, i) => (rightAligned[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
    .join('  ')
    .trimEnd();
}

/** Renders the figures; `backends` orders the column groups (any backend not listed follows). */
export function renderTable(figures: readonly Figure[], backends: readonly BackendColumn[]): string {
  const order = [...backends];
  for (const f of figures) {
    const id = f.backend ?? '';
    if (!order.some((b) => b.id === id)) order.push({ id, label: id || 'figures' });
  }
  const present = order.filter((b) => figures.some((f) => (f.backend ?? '') === b.id));
  const keys = [...new Set(figures.map((f) => f.key))];
  const find = (key: string, backend: string) => figures.find((f) => f.key === key && (f.backend ?? '') === backend);

  const groups = present.map((b) => {
    const mine = figures.filter((f) => (f.backend ?? '') === b.id);
    return { backend: b, hasBaseline: mine.some((f) => f.baseline), hasTargets: mine.some((f) => f.targets?.length) };
  });

  const header: string[] = ['measurement'];
  const spans: string[] = [''];
  const right: boolean[] = [false];
  for (const g of groups) {
    const cols = ['ours', ...(g.hasBaseline ? ['baseline', 'ratio'] : []), ...(g.hasTargets ? ['target', 'status'] : [])];
    cols.forEach((c, i) => {
      header.push(c);
      spans.push(i === 0 ? `[${g.backend.label}]` : '');
      right.push(c !== 'target' && c !== 'status');
    });
  }

  const rows = keys.map((key) => {
    const cells = [key];
    for (const g of groups) {
      const f = find(key, g.backend.id);
      cells.push(f ? formatValue(key, f.value) : '');
      if (g.hasBaseline) {
        const r = f ? ratio(f) : undefined;
        cells.push(f?.baseline ? formatValue(f.baseline.key, f.baseline.value) : '', r === undefined ? '' : r.toFixed(2));
      }
      if (g.hasTargets) {
        cells.push((f?.targets ?? []).map(formatTarget).join(', '), f ? status(f) : '');
      }
    }
    return cells;
  });

  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  // Each group label starts over its first column and may spill over the next ones.
  let spanLine = '';
  let offset = 0;
  spans.forEach((label, i) => {
    if (label) spanLine = spanLine.length < offset ? `${spanLine.padEnd(offset)}${label}` : `${spanLine} ${label}`;
    offset += widths[i]! + 2;
  });
  const lines = [spanLine, pad(header, widths, right), ...rows.map((r) => pad(r, widths, right))];
  const rule = '─'.repeat(Math.max(...lines.map((l) => l.length)));
  return [rule, ...lines.slice(0, 2), rule, ...lines.slice(2), rule].join('\n');
}

export function renderFacts(facts: Record<string, string>): string {
  const width = Math.max(...Object.keys(facts).map((k) => k.length));
  return Object.entries(facts)
    .map(([k, v]) => `${k.padEnd(width)}  ${v}`)
    .join('\n');
}
