/**
 * 生态环境: the districts' daily AQI ranking (HJ 633 colours and primary pollutant, as the environment
 * subgraph computes them) and one station's last 72 hours of real-time AQI.
 */
import { chartIn, TEXT } from '../charts.ts';
import { count, escapeHtml, notGranted, nodes } from '../format.ts';
import type { Graph } from '../graph.ts';
import type { View } from '../view.ts';

const POLLUTANT_NAMES: Record<string, string> = { PM2_5: 'PM2.5', PM10: 'PM10', SO2: 'SO₂', NO2: 'NO₂', CO: 'CO', O3: 'O₃' };
const pollutants = (list: string[]) => (list.length ? list.map((p) => POLLUTANT_NAMES[p] ?? p).join('、') : '—');

/** HJ 633-2012 level bands, for the chart's colour pieces (the values' own colours come from the graph). */
const AQI_PIECES = [
  { gt: 0, lte: 50, color: '#00E400' },
  { gt: 50, lte: 100, color: '#FFFF00' },
  { gt: 100, lte: 150, color: '#FF7E00' },
  { gt: 150, lte: 200, color: '#FF0000' },
  { gt: 200, lte: 300, color: '#99004C' },
  { gt: 300, color: '#7E0023' },
];

interface Ranked {
  divisionCode: string;
  /** Null when the code is not in the division catalog (the field's error says so). */
  division: { name: string } | null;
  aqi: number | null;
  levelName: string | null;
  colour: string | null;
  primaryPollutants: string[];
  rank: number | null;
}
interface Station {
  id: string;
  name: string;
  kind: string;
}
interface Hour {
  observedAt: string;
  aqi: number | null;
  levelName: string | null;
  primaryPollutants: string[];
}

/** The China calendar date (UTC+8) of an instant, as the environment subgraph's reporting days are. */
export const chinaDate = (at: Date): string => new Date(at.getTime() + 8 * 3600_000).toISOString().slice(0, 10);

async function ranking(graph: Graph): Promise<{ date: string; rows: Ranked[] }> {
  const query = `query ScreenAirRanking($date: Date!) { airQualityRanking(date: $date) { divisionCode division { name } aqi levelName colour primaryPollutants rank } }`;
  // Today's ranking is empty until the day has enough valid hours; then yesterday's is shown.
  for (const offset of [0, 1]) {
    const date = chinaDate(new Date(Date.now() - offset * 86_400_000));
    const { data } = await graph.query<{ airQualityRanking: Ranked[] | null }>(query, { date });
    const rows = (data.airQualityRanking ?? []).filter((r) => r.aqi !== null);
    if (rows.length > 0) return { date, rows: rows.sort((a, b) => (a.rank ?? 99) - (b.rank ?? 99)) };
  }
  return { date: chinaDate(new Date()), rows: [] };
}

export function environmentView(): View {
  let stationId: string | null = null;

  async function renderStation(element: HTMLElement, graph: Graph): Promise<void> {
    if (!stationId) return;
    const to = new Date();
    const from = new Date(to.getTime() - 72 * 3600_000);
    const { data } = await graph.query<{ station: (Station & { hourly: { edges: { node: Hour }[] } }) | null }>(
      `query ScreenStationHours($id: ID!, $from: DateTime!, $to: DateTime!) { station(id: $id) { id name kind hourly(from: $from, to: $to, first: 72) { edges { node { observedAt aqi levelName primaryPollutants } } } } }`,
      { id: stationId, from: from.toISOString(), to: to.toISOString() },
    );
    const hours = nodes(data.station?.hourly);
    element.querySelector('#station-title')!.textContent = `${data.station?.name ?? ''} · 近 72 小时实时 AQI（${hours.length} 个小时值）`;
    chartIn(element.querySelector<HTMLElement>('#station-chart')!).setOption(
      {
        animation: false,
        textStyle: TEXT,
        grid: { left: 48, right: 90, top: 20, bottom: 40 },
        tooltip: { trigger: 'axis' },
        xAxis: { type: 'time', axisLabel: { color: TEXT.color } },
        yAxis: { type: 'value', name: 'AQI', axisLabel: { color: TEXT.color }, splitLine: { lineStyle: { color: '#2a3a50' } } },
        visualMap: { type: 'piecewise', pieces: AQI_PIECES, right: 0, top: 20, textStyle: TEXT, dimension: 1 },
        series: [{ type: 'line', name: 'AQI', showSymbol: false, data: hours.map((h) => [h.observedAt, h.aqi]) }],
      },
      true,
    );
  }

  return {
    id: 'environment',
    title: '生态环境',
    async render(element, { graph }) {
      if (!graph.allows('environment.air')) {
        element.innerHTML = notGranted('空气质量', 'environment.air');
        return;
      }
      const [{ date, rows }, stationsAnswer] = await Promise.all([
        ranking(graph),
        graph.query<{ stations: { edges: { node: Station }[] } | null }>(`query ScreenStations { stations(first: 100) { edges { node { id name kind } } } }`),
      ]);
      if (!graph.allows('environment.air')) {
        element.innerHTML = notGranted('空气质量', 'environment.air');
        return;
      }
      const stations = nodes(stationsAnswer.data.stations);
      stationId ??= stations.find((s) => s.kind === 'NATIONAL')?.id ?? stations[0]?.id ?? null;
      element.innerHTML = `<div class="environment">
        <section class="card"><h3>区县空气质量排名 · ${date}（日报，1 = 最好）</h3><div class="chart" id="ranking-chart"></div>
          <table class="grid ranking"><thead><tr><th>排名</th><th>区县</th><th>AQI</th><th>等级</th><th>首要污染物</th></tr></thead>
          <tbody>${rows
            .map(
              (r) =>
                `<tr data-code="${r.divisionCode}"><td>${r.rank ?? '—'}</td><th scope="row">${escapeHtml(r.division?.name ?? r.divisionCode)}</th><td data-field="aqi">${count(r.aqi)}</td><td><span class="swatch" style="background:${escapeHtml(r.colour ?? '#555')}"></span>${escapeHtml(r.levelName ?? '—')}</td><td>${pollutants(r.primaryPollutants)}</td></tr>`,
            )
            .join('')}</tbody></table></section>
        <section class="card"><h3 id="station-title">站点近 72 小时</h3>
          <label>监测站点 <select id="station-select">${stations.map((s) => `<option value="${escapeHtml(s.id)}" ${s.id === stationId ? 'selected' : ''}>${escapeHtml(s.name)}</option>`).join('')}</select></label>
          <div class="chart" id="station-chart"></div></section>
      </div>`;
      chartIn(element.querySelector<HTMLElement>('#ranking-chart')!).setOption(
        {
          animation: false,
          textStyle: TEXT,
          grid: { left: 70, right: 30, top: 10, bottom: 24 },
          tooltip: { trigger: 'axis' },
          xAxis: { type: 'value', axisLabel: { color: TEXT.color }, splitLine: { lineStyle: { color: '#2a3a50' } } },
          yAxis: { type: 'category', inverse: true, data: rows.map((r) => r.division?.name ?? r.divisionCode), axisLabel: { color: TEXT.color } },
          series: [{ type: 'bar', data: rows.map((r) => ({ value: r.aqi, itemStyle: { color: r.colour ?? '#555' } })), label: { show: true, position: 'right', color: TEXT.color } }],
        },
        true,
      );
      element.querySelector<HTMLSelectElement>('#station-select')!.addEventListener('change', (event) => {
        stationId = (event.target as HTMLSelectElement).value;
        void renderStation(element, graph);
      });
      await renderStation(element, graph);
    },
  };
}
