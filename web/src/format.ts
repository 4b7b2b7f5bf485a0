/** Number formatting and small DOM helpers shared by the views. */

export const percent = (rate: number | null | undefined): string => (rate === null || rate === undefined ? '—' : `${(rate * 100).toFixed(1)}%`);

export const count = (value: number | null | undefined): string => (value === null || value === undefined ? '—' : value.toLocaleString('zh-CN'));

export const time = (iso: string): string => new Date(iso).toLocaleString('zh-CN', { hour12: false });

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Masked values keep a few characters and replace the rest with `*` (subgraphs/kit/access.ts). */
export function maskedAware(value: string | null | undefined): string {
  if (value === null || value === undefined) return '<span class="muted">—</span>';
  const text = escapeHtml(value);
  return value.includes('*') ? `<span class="masked" title="按授权脱敏展示">${text}<em>已脱敏</em></span>` : text;
}

/** A notice in place of a panel whose resource the token has no grant for. */
export const notGranted = (what: string, resource: string): string =>
  `<div class="not-granted" data-resource="${escapeHtml(resource)}">当前令牌无权查看${escapeHtml(what)}（资源 <code>${escapeHtml(resource)}</code> 未授权）</div>`;

/** Reduces `{ edges: [{ node }] }` to its nodes. */
export const nodes = <T>(connection: { edges: { node: T }[] } | null | undefined): T[] => connection?.edges.map((e) => e.node) ?? [];
