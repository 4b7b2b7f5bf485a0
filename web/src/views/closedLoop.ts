/**
 * 闭环处置: the four levels of the closed loop (市 → 区县 → 镇街 → 村社区) with each level's cases
 * (those sitting at that level now, as the urban-ops projection keeps them), the city's funnel from
 * report to closure for the incidents reported today, in 7 days or in 30 days, and the overdue cases
 * under supervision with the centre that owns each.
 */
import { chartIn, TEXT } from '../charts.ts';
import { CITY_CODE } from '../jinan.ts';
import { count, escapeHtml, nodes, notGranted, percent, time } from '../format.ts';
import type { View } from '../view.ts';

const LEVELS = [
  ['CITY', '市级'],
  ['DISTRICT', '区县级'],
  ['STREET', '镇街级'],
  ['COMMUNITY', '村社区级'],
] as const;

const LEVEL_NAMES: Record<string, string> = Object.fromEntries(LEVELS);

const PERIODS = [
  ['TODAY', '今日'],
  ['LAST_7_DAYS', '近 7 天'],
  ['LAST_30_DAYS', '近 30 天'],
] as const;
type Period = (typeof PERIODS)[number][0];

const FUNNEL_STAGES = [
  ['reported', '上报'],
  ['registered', '立案'],
  ['dispatched', '派遣'],
  ['handled', '处置'],
  ['verified', '核查'],
  ['closed', '结案'],
  ['closedOnTime', '按期结案'],
] as const;

interface Funnel extends Record<(typeof FUNNEL_STAGES)[number][0], number> {
  from: string;
  to: string;
  rejected: number;
  reworked: number;
  closureRate: number | null;
  onTimeClosureRate: number | null;
  reworkRate: number | null;
}

const FUNNEL = `from to rejected reworked closureRate onTimeClosureRate reworkRate ${FUNNEL_STAGES.map(([stage]) => stage).join(' ')}`;

/** The closed-loop figures the screen asks for: the selection and its type come from these two lists. */
const METRIC_COUNTS = ['reported', 'rejected', 'pendingRegistration', 'registered', 'open', 'closed', 'closedOnTime', 'reworked', 'overdueNow'] as const;
/** Null while there is nothing to divide by (no case due, none closed). */
const METRIC_RATIOS = ['closureRate', 'onTimeClosureRate', 'reworkRate', 'meanHoursToClose'] as const;
const METRICS = [...METRIC_COUNTS, ...METRIC_RATIOS].join(' ');

type LoopMetrics = Record<(typeof METRIC_COUNTS)[number], number> & Record<(typeof METRIC_RATIOS)[number], number | null>;

interface OverdueCase {
  id: string;
  caseNumber: string | null;
  subcategoryName: string;
  district: { name: string };
  street: { name: string };
  level: string | null;
  owner: { level: string; division: { name: string } } | null;
  assignment: { unitName: string } | null;
  deadline: string | null;
  supervised: boolean;
  supervisedBy: { division: { name: string } } | null;
}

type LoopData = {
  city: (Record<string, LoopMetrics | null> & { all: LoopMetrics | null }) | null;
  funnels: Record<Period, Funnel | null> | null;
  overdue?: { totalCount: number; edges: { node: OverdueCase }[] } | null;
};

const QUERY = `query ScreenClosedLoop($city: String!) {
  city: division(code: $city) {
    all: urbanOperations { ${METRICS} }
    ${LEVELS.map(([level]) => `${level}: urbanOperations(level: ${level}) { ${METRICS} }`).join('\n    ')}
  }
  funnels: division(code: $city) {
    ${PERIODS.map(([period]) => `${period}: incidentFunnel(period: ${period}) { ${FUNNEL} }`).join('\n    ')}
  }
  overdue: incidents(filter: { overdue: true }, first: 20) {
    totalCount
    edges { node { id caseNumber subcategoryName district { name } street { name } level owner { level division { name } } assignment { unitName } deadline supervised supervisedBy { division { name } } } }
  }
}`;

export function closedLoopView(): View {
  return {
    id: 'loop',
    title: '闭环处置',
    async render(element, { graph }) {
      const metricsGranted = graph.allows('urban.metrics');
      const incidentsGranted = graph.allows('urban.incidents');
      const { data } = await graph.query<LoopData>(metricsGranted || incidentsGranted ? QUERY : '{ __typename }', { city: CITY_CODE });
      const all = graph.allows('urban.metrics') ? data.city?.all : null;
      const rows = LEVELS.map(([level, name]) => ({ level, name, m: data.city?.[level] ?? null }));
      const levelTable = all
        ? `<table class="grid funnel-table"><caption>各层级在办与办结（按案件当前所在层级）</caption>
            <thead><tr><th>层级</th><th>上报</th><th>立案</th><th>在办</th><th>结案</th><th>结案率</th><th>按期结案率</th><th>返工</th><th>返工率</th><th>超期</th><th>平均办结(小时)</th></tr></thead>
            <tbody>${[...rows, { level: 'ALL', name: '全市合计', m: all }]
              .map(
                ({ level, name, m }) =>
                  `<tr data-level="${level}"><th scope="row">${name}</th><td data-field="reported">${count(m?.reported)}</td><td data-field="registered">${count(m?.registered)}</td><td data-field="open">${count(m?.open)}</td><td data-field="closed">${count(m?.closed)}</td><td data-field="closureRate">${percent(m?.closureRate)}</td><td data-field="onTimeClosureRate">${percent(m?.onTimeClosureRate)}</td><td data-field="reworked">${count(m?.reworked)}</td><td>${percent(m?.reworkRate)}</td><td data-field="overdueNow">${count(m?.overdueNow)}</td><td>${m?.meanHoursToClose === null || m?.meanHoursToClose === undefined ? '—' : m.meanHoursToClose.toFixed(1)}</td></tr>`,
              )
              .join('')}</tbody></table>`
        : notGranted('闭环处置指标', 'urban.metrics');
      const overdue = data.overdue;
      const overdueTable = graph.allows('urban.incidents')
        ? `<table class="grid overdue"><caption>超期督办案件（共 ${count(overdue?.totalCount)} 件，显示前 20 件）</caption>
            <thead><tr><th>案件号</th><th>类别</th><th>位置</th><th>所在层级</th><th>责任中心</th><th>处置单位</th><th>期限</th><th>督办</th></tr></thead>
            <tbody>${nodes(overdue)
              .map(
                (c) =>
                  `<tr data-incident="${escapeHtml(c.id)}"><td>${escapeHtml(c.caseNumber ?? '—')}</td><td>${escapeHtml(c.subcategoryName)}</td><td>${escapeHtml(`${c.district.name} ${c.street.name}`)}</td><td>${c.level ? LEVEL_NAMES[c.level] : '—'}</td><td data-field="owner">${escapeHtml(c.owner ? `${c.owner.division.name}（${LEVEL_NAMES[c.owner.level]}）` : '—')}</td><td>${escapeHtml(c.assignment?.unitName ?? '—')}</td><td>${c.deadline ? time(c.deadline) : '—'}</td><td>${c.supervised ? `督办：${escapeHtml(c.supervisedBy?.division.name ?? '')}` : '—'}</td></tr>`,
              )
              .join('')}</tbody></table>`
        : notGranted('超期督办案件', 'urban.incidents');
      element.innerHTML = `<div class="loop">
        <section class="card"><h3>全市事件闭环漏斗（按上报日期）</h3>
          <div class="indicators periods" role="tablist">${PERIODS.map(([period, name]) => `<button type="button" role="tab" data-period="${period}">${name}</button>`).join('')}</div>
          <div class="chart" id="funnel-chart"></div>
          <p class="note" id="funnel-rates"></p></section>
        <section class="card">${levelTable}</section>
        <section class="card wide">${overdueTable}</section>
      </div>`;
      const chartElement = element.querySelector<HTMLElement>('#funnel-chart')!;
      const funnels = data.funnels;
      if (!funnels || !graph.allows('urban.metrics')) {
        element.querySelector('.periods')?.remove();
        chartElement.outerHTML = notGranted('闭环漏斗', 'urban.metrics');
        return;
      }
      const chart = chartIn(chartElement);
      const showPeriod = (period: Period) => {
        for (const button of element.querySelectorAll<HTMLElement>('[data-period]')) {
          button.setAttribute('aria-selected', String(button.dataset.period === period));
          button.classList.toggle('active', button.dataset.period === period);
        }
        const funnel = funnels[period];
        chartElement.dataset.period = period;
        chartElement.dataset.stages = funnel ? FUNNEL_STAGES.map(([stage]) => funnel[stage]).join(',') : '';
        element.querySelector('#funnel-rates')!.textContent = funnel
          ? `${funnel.from} 至 ${funnel.to}：结案率 ${percent(funnel.closureRate)}，按期结案率 ${percent(funnel.onTimeClosureRate)}，返工 ${count(funnel.reworked)} 件（返工率 ${percent(funnel.reworkRate)}），不予立案 ${count(funnel.rejected)} 件。`
          : '';
        chart.setOption({
          animation: false,
          tooltip: { trigger: 'item' },
          series: [
            {
              type: 'funnel',
              sort: 'none',
              left: '10%',
              width: '80%',
              minSize: '8%',
              label: { show: true, position: 'inside', formatter: '{b}: {c}', color: '#fff' },
              data: FUNNEL_STAGES.map(([stage, name]) => ({ name, value: funnel?.[stage] ?? 0 })),
            },
          ],
          textStyle: TEXT,
        });
      };
      for (const button of element.querySelectorAll<HTMLElement>('[data-period]')) button.addEventListener('click', () => showPeriod(button.dataset.period as Period));
      showPeriod('LAST_7_DAYS');
    },
  };
}
