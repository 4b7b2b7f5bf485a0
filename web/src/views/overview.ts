/**
 * 城市总览: the twelve districts and counties on a schematic, coloured by the chosen indicator, a
 * table of the same figures, and a district's streets (with its elderly living alone) on click.
 */
import { DISTRICT_TILES, districtOf } from '../jinan.ts';
import { count, escapeHtml, maskedAware, nodes, notGranted, percent, time } from '../format.ts';
import { when, type Graph } from '../graph.ts';
import type { View, ViewContext } from '../view.ts';

interface Metrics {
  open: number;
  overdueNow: number;
  closureRate: number | null;
}
interface Population {
  residents: number;
  elderlyLivingAlone: number;
}
interface DivisionRow {
  code: string;
  name: string;
  urbanOperations?: Metrics | null;
  population?: Population | null;
}
interface StationNow {
  divisionCode: string;
  latest: { aqi: number | null; colour: string | null; levelName: string | null } | null;
}
/** The worst station's real-time AQI in a district, with its HJ 633 colour and level name. */
interface AqiNow {
  aqi: number;
  colour: string;
  levelName: string;
}

export interface Indicator {
  key: 'aqi' | 'open' | 'overdue' | 'closureRate' | 'elderly';
  label: string;
  resource: string;
  value(row: DivisionRow, aqi: AqiNow | undefined): number | null;
  format(value: number | null): string;
  /** Higher is better (the colour scale runs the other way). */
  higherIsBetter?: boolean;
}

export const INDICATORS: readonly Indicator[] = [
  { key: 'aqi', label: '实时AQI', resource: 'environment.air', value: (_r, aqi) => aqi?.aqi ?? null, format: (v) => count(v) },
  { key: 'open', label: '在办事件', resource: 'urban.metrics', value: (r) => r.urbanOperations?.open ?? null, format: (v) => count(v) },
  { key: 'overdue', label: '超期事件', resource: 'urban.metrics', value: (r) => r.urbanOperations?.overdueNow ?? null, format: (v) => count(v) },
  { key: 'closureRate', label: '结案率', resource: 'urban.metrics', value: (r) => r.urbanOperations?.closureRate ?? null, format: percent, higherIsBetter: true },
  { key: 'elderly', label: '独居老人', resource: 'population.statistics', value: (r) => r.population?.elderlyLivingAlone ?? null, format: (v) => count(v) },
];

const divisionFields = (graph: Graph) => `code name
  ${when(graph, 'urban.metrics', 'urbanOperations { open overdueNow closureRate }')}
  ${when(graph, 'population.statistics', 'population { residents elderlyLivingAlone }')}`;

const overviewQuery = (graph: Graph) => `query ScreenOverview {
  divisions(level: DISTRICT, first: 20) { edges { node { ${divisionFields(graph)} } } }
  ${when(graph, 'environment.air', 'stations(first: 100) { edges { node { divisionCode latest { aqi colour levelName } } } }')}
  ${when(graph, 'audit.log', 'accessLog(first: 8) { edges { node { id consumerId resources operationName subgraph at } } }')}
}`;

const streetsQuery = (graph: Graph) => `query ScreenDistrict($code: String!) {
  division(code: $code) { code name children(first: 100) { edges { node { ${divisionFields(graph)} } } } }
  ${when(graph, 'population.basic', 'elderlyLivingAlone(divisionCode: $code, first: 8) { totalCount edges { node { age daysSinceLastActivity person { name idNumber } } } }')}
}`;

interface AccessRecord {
  id: string;
  consumerId: string;
  resources: string[];
  operationName: string | null;
  subgraph: string;
  at: string;
}
interface OverviewData {
  divisions: { edges: { node: DivisionRow }[] };
  stations?: { edges: { node: StationNow }[] } | null;
  accessLog?: { edges: { node: AccessRecord }[] } | null;
}
interface ElderlyPerson {
  age: number;
  daysSinceLastActivity: number;
  person: { name: string | null; idNumber: string | null } | null;
}
interface DistrictData {
  division: { code: string; name: string; children: { edges: { node: DivisionRow }[] } } | null;
  elderlyLivingAlone?: { totalCount: number; edges: { node: ElderlyPerson }[] } | null;
}

function worstStationByDistrict(stations: StationNow[]): Map<string, AqiNow> {
  const worst = new Map<string, AqiNow>();
  for (const { divisionCode, latest } of stations) {
    if (latest?.aqi === null || latest?.aqi === undefined || !latest.colour || !latest.levelName) continue;
    const district = districtOf(divisionCode);
    if ((worst.get(district)?.aqi ?? -1) < latest.aqi) worst.set(district, { aqi: latest.aqi, colour: latest.colour, levelName: latest.levelName });
  }
  return worst;
}

/** Blue (good) to red (bad) over the indicator's range among the districts. */
function scaleColour(value: number | null, values: number[], higherIsBetter = false): string {
  if (value === null || values.length === 0) return '#2f3b4c';
  const min = Math.min(...values);
  const max = Math.max(...values);
  let t = max === min ? 0.5 : (value - min) / (max - min);
  if (higherIsBetter) t = 1 - t;
  const from = [46, 134, 222];
  const to = [235, 77, 75];
  const mix = from.map((c, i) => Math.round(c + (to[i]! - c) * t));
  return `rgb(${mix.join(',')})`;
}

const TILE_W = 118;
const TILE_H = 78;
const GAP = 10;

function mapSvg(rows: Map<string, DivisionRow>, aqi: Map<string, AqiNow>, indicator: Indicator, selected: string | null): string {
  const values = [...rows.values()].map((r) => indicator.value(r, aqi.get(r.code))).filter((v): v is number => v !== null);
  const tiles = DISTRICT_TILES.map(({ code, col, row }) => {
    const division = rows.get(code);
    const name = division?.name ?? code;
    const value = division ? indicator.value(division, aqi.get(code)) : null;
    const fill = indicator.key === 'aqi' ? (aqi.get(code)?.colour ?? '#2f3b4c') : scaleColour(value, values, indicator.higherIsBetter);
    const x = col * (TILE_W + GAP) + (row % 2) * ((TILE_W + GAP) / 2);
    const y = row * (TILE_H + GAP);
    const dark = indicator.key === 'aqi' && ['#FFFF00', '#00E400'].includes(fill.toUpperCase());
    return `<g class="tile${selected === code ? ' selected' : ''}" data-code="${code}" tabindex="0" role="button" aria-label="${escapeHtml(name)}">
      <rect x="${x}" y="${y}" width="${TILE_W}" height="${TILE_H}" rx="10" fill="${fill}"/>
      <text x="${x + TILE_W / 2}" y="${y + 30}" class="${dark ? 'dark' : ''}">${escapeHtml(name)}</text>
      <text x="${x + TILE_W / 2}" y="${y + 56}" class="value ${dark ? 'dark' : ''}" data-field="${indicator.key}">${escapeHtml(indicator.format(value))}</text>
    </g>`;
  }).join('');
  const width = 5.5 * (TILE_W + GAP);
  const height = 5 * (TILE_H + GAP);
  return `<svg class="city-map" viewBox="-4 -4 ${width + 8} ${height + 8}" role="img" aria-label="济南市十二区县示意图">${tiles}</svg>`;
}

function divisionTable(rows: DivisionRow[], aqi: Map<string, AqiNow>, graph: Graph, caption: string, indicators = INDICATORS): string {
  const head = indicators.filter((i) => graph.allows(i.resource));
  const cells = (row: DivisionRow) =>
    head.map((i) => `<td data-field="${i.key}">${escapeHtml(i.format(i.value(row, aqi.get(row.code))))}</td>`).join('') +
    (graph.allows('population.statistics') ? `<td data-field="residents">${count(row.population?.residents)}</td>` : '');
  return `<table class="grid"><caption>${escapeHtml(caption)}</caption>
    <thead><tr><th>区划</th>${head.map((i) => `<th>${i.label}</th>`).join('')}${graph.allows('population.statistics') ? '<th>户籍人口</th>' : ''}</tr></thead>
    <tbody>${rows.map((r) => `<tr data-code="${r.code}"><th scope="row">${escapeHtml(r.name)}</th>${cells(r)}</tr>`).join('')}</tbody></table>`;
}

export function overviewView(): View {
  let indicator: Indicator = INDICATORS[0]!;
  let selected: string | null = null;

  async function renderDistrict(panel: HTMLElement, code: string, context: ViewContext): Promise<void> {
    panel.innerHTML = '<div class="loading">加载街道数据…</div>';
    const { data } = await context.graph.query<DistrictData>(streetsQuery(context.graph), { code });
    if (!data.division) {
      panel.innerHTML = '<div class="empty">未找到该区划</div>';
      return;
    }
    const streets = nodes(data.division.children);
    const elderly = data.elderlyLivingAlone;
    const elderlyList = context.graph.allows('population.basic')
      ? `<table class="grid elderly"><caption>独居老人（最久无活动在前，共 ${count(elderly?.totalCount)} 人）</caption>
          <thead><tr><th>姓名</th><th>身份证号</th><th>年龄</th><th>无活动天数</th></tr></thead>
          <tbody>${nodes(elderly)
            .map((e) => `<tr><td data-field="name">${maskedAware(e.person?.name)}</td><td data-field="idNumber">${maskedAware(e.person?.idNumber)}</td><td>${e.age}</td><td>${e.daysSinceLastActivity}</td></tr>`)
            .join('')}</tbody></table>`
      : notGranted('独居老人名单', 'population.basic');
    panel.innerHTML = `<h3>${escapeHtml(data.division.name)} · 街道（镇）</h3>
      ${divisionTable(streets, new Map(), context.graph, `${streets.length} 个街道（镇）`, INDICATORS.filter((i) => i.key !== 'aqi'))}
      ${elderlyList}`;
  }

  return {
    id: 'overview',
    title: '城市总览',
    async render(element, context) {
      const { graph } = context;
      const { data } = await graph.query<OverviewData>(overviewQuery(graph));
      const rows = nodes(data.divisions);
      const byCode = new Map(rows.map((r) => [r.code, r]));
      const aqi = worstStationByDistrict(nodes(data.stations));
      if (!graph.allows(indicator.resource)) indicator = INDICATORS.find((i) => graph.allows(i.resource)) ?? indicator;
      const audit = graph.allows('audit.log')
        ? `<section class="card audit"><h3>数据访问审计（最近 8 条）</h3><ul class="audit-log">${nodes(data.accessLog)
            .map((r) => `<li data-access-id="${escapeHtml(r.id)}"><time>${time(r.at)}</time> <b>${escapeHtml(r.consumerId)}</b> ${escapeHtml(r.operationName ?? '匿名操作')} · ${escapeHtml(r.resources.join(', '))}</li>`)
            .join('')}</ul></section>`
        : `<section class="card audit">${notGranted('数据访问审计', 'audit.log')}</section>`;
      element.innerHTML = `
        <div class="overview">
          <section class="card map-card">
            <div class="indicators" role="radiogroup" aria-label="着色指标">${INDICATORS.map(
              (i) =>
                `<button type="button" data-indicator="${i.key}" class="${i === indicator ? 'active' : ''}" ${graph.allows(i.resource) ? '' : `disabled title="当前令牌无权查看（${i.resource}）"`}>${i.label}</button>`,
            ).join('')}</div>
            ${mapSvg(byCode, aqi, indicator, selected)}
            <p class="note">示意图：按区县大致方位排列，非实际边界；点击区县查看街道。${indicator.key === 'aqi' ? '颜色为 HJ 633 等级色（辖区站点最高实时AQI）。' : '颜色由蓝（较好）到红（较差）。'}</p>
          </section>
          <section class="card">${divisionTable(rows, aqi, graph, '十二区县指标')}</section>
          <section class="card district" id="district-panel">${selected ? '' : '<div class="empty">点击地图或表格中的区县，查看其街道</div>'}</section>
          ${audit}
        </div>`;
      const panel = element.querySelector<HTMLElement>('#district-panel')!;
      const select = async (code: string) => {
        selected = code;
        element.querySelectorAll('.tile').forEach((t) => t.classList.toggle('selected', t.getAttribute('data-code') === code));
        try {
          await renderDistrict(panel, code, context);
        } catch (error) {
          panel.innerHTML = `<div class="error">${escapeHtml(error instanceof Error ? error.message : String(error))}</div>`;
          throw error;
        }
      };
      element.querySelectorAll<SVGGElement>('.tile').forEach((tile) => tile.addEventListener('click', () => void select(tile.dataset.code!).catch(context.report)));
      element.querySelectorAll<HTMLTableRowElement>('.grid tbody tr[data-code]').forEach((tr) => tr.addEventListener('click', () => void select(tr.dataset.code!).catch(context.report)));
      element.querySelectorAll<HTMLButtonElement>('[data-indicator]').forEach((button) =>
        button.addEventListener('click', () => {
          indicator = INDICATORS.find((i) => i.key === button.dataset.indicator) ?? indicator;
          void this.render(element, context).catch(context.report);
        }),
      );
      if (selected) await select(selected);
    },
  };
}
