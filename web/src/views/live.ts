/**
 * 实时动态: incident events and air-quality alerts as they happen, over graphql-ws — the generic
 * `events` feed partners use. The feed resumes after a dropped connection from the last position the
 * page received (`fromPosition`), so nothing is lost or shown twice; the page never re-sends an older
 * position, which is why it reconnects by itself instead of letting graphql-ws re-send the first
 * subscription as it was.
 */
import type { Client } from 'graphql-ws';
import { escapeHtml, notGranted, time } from '../format.ts';
import { SignInRequired, type Graph, type GraphError } from '../graph.ts';
import type { View, ViewContext } from '../view.ts';
import type { EventEnvelope } from '../eventEnvelope.ts';

/** The environment subgraph's default alert level (ENVIRONMENT_ALERT_AQI_ABOVE): hours above it are alerts. */
export const ALERT_AQI_ABOVE = 200;
const MAX_ITEMS = 200;
const RETRY_DELAYS_MS = [1000, 2000, 4000, 8000];
const LOOKUP_RETRY_MS = [250, 500, 1000, 2000, 0];

const INCIDENT_EVENTS: Record<string, string> = {
  IncidentReported: '上报',
  IncidentRegistered: '立案',
  IncidentRejected: '不予立案',
  IncidentDispatched: '派遣',
  IncidentReturned: '退回',
  IncidentEscalated: '上报上级',
  IncidentHandlingStarted: '开始处置',
  IncidentHandled: '处置反馈',
  IncidentVerificationPassed: '核查通过',
  IncidentVerificationFailed: '核查不通过（返工）',
  IncidentClosed: '结案',
  IncidentEvaluated: '评价',
  IncidentOverdue: '超期',
  IncidentSupervised: '督办',
};
const AIR_EVENTS = ['AirQualityObserved', 'AirQualityObservationCorrected'];

const FEED = `subscription ScreenLiveFeed($from: String, $types: [String!]) {
  events(filter: { types: $types }, fromPosition: $from) { id type streamId position recordedAt payload }
}`;

interface StationHour {
  station: { name: string; divisionCode: string; hourly: { edges: { node: { aqi: number | null; levelName: string | null; colour: string | null } }[] } } | null;
}

export function liveView(): View {
  let client: Client | undefined;
  let stop: (() => void) | undefined;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let lastPosition: string | null = null;
  let attempts = 0;
  let list: HTMLElement | undefined;
  let status: HTMLElement | undefined;
  let counter = 0;

  const setStatus = (state: 'connecting' | 'live' | 'reconnecting' | 'refused', text: string) => {
    if (!status) return;
    status.dataset.state = state;
    status.textContent = text;
  };

  const prepend = (html: string) => {
    if (!list) return;
    list.querySelector('.empty')?.remove();
    list.insertAdjacentHTML('afterbegin', html);
    while (list.children.length > MAX_ITEMS) list.lastElementChild?.remove();
    counter += 1;
    document.querySelector('[data-tab="live"] .badge')?.replaceChildren(String(counter));
  };

  async function showAirQuality(graph: Graph, event: EventEnvelope): Promise<void> {
    const { stationId, hour } = event.payload as { stationId: string; hour: string };
    // The feed delivers the event as soon as it is stored; the hour's AQI appears once the
    // environment projection has applied it, a moment later.
    let data: StationHour | undefined;
    for (const wait of LOOKUP_RETRY_MS) {
      ({ data } = await graph.query<StationHour>(
        `query ScreenAlertHour($id: ID!, $hour: DateTime!) { station(id: $id) { name divisionCode hourly(from: $hour, to: $hour, first: 1) { edges { node { aqi levelName colour } } } } }`,
        { id: stationId, hour },
      ));
      if (data.station?.hourly.edges.length) break;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
    const reading = data?.station?.hourly.edges[0]?.node;
    if (!data?.station || reading?.aqi === null || reading?.aqi === undefined || reading.aqi <= ALERT_AQI_ABOVE) return;
    prepend(`<li class="alert" data-event-id="${escapeHtml(event.id)}" data-position="${escapeHtml(event.position)}">
      <time>${time(event.recordedAt)}</time><span class="tag" style="background:${escapeHtml(reading.colour ?? '#7E0023')}">空气质量预警</span>
      <b>${escapeHtml(data.station.name)}</b> ${time(hour)} AQI <b>${reading.aqi}</b>（${escapeHtml(reading.levelName ?? '')}）${event.type === 'AirQualityObservationCorrected' ? '（数据修正）' : ''}</li>`);
  }

  function showIncident(event: EventEnvelope): void {
    const payload = event.payload as { incidentId?: string; description?: string; divisionCode?: string };
    const incidentId = payload.incidentId ?? event.streamId.replace(/^urban\.incident-/, '');
    prepend(`<li class="incident" data-event-id="${escapeHtml(event.id)}" data-position="${escapeHtml(event.position)}" data-incident="${escapeHtml(incidentId)}" data-type="${escapeHtml(event.type)}">
      <time>${time(event.recordedAt)}</time><span class="tag">${escapeHtml(INCIDENT_EVENTS[event.type] ?? event.type)}</span>
      ${payload.description ? `<b>${escapeHtml(payload.description)}</b>` : ''} <span class="muted">事件 ${escapeHtml(incidentId.slice(0, 8))}${payload.divisionCode ? ` · ${escapeHtml(payload.divisionCode)}` : ''}</span></li>`);
  }

  function subscribe(context: ViewContext): void {
    const { graph } = context;
    client = graph.connect((error) => context.report(error));
    setStatus(attempts === 0 ? 'connecting' : 'reconnecting', attempts === 0 ? '连接中…' : `重新连接中（第 ${attempts} 次），从位置 ${lastPosition ?? '当前'} 续传…`);
    const types = [...(graph.allows('urban.incidents') ? Object.keys(INCIDENT_EVENTS) : []), ...(graph.allows('environment.air') ? AIR_EVENTS : [])];
    const current = client;
    stop = current.subscribe<{ events: EventEnvelope | null }>(
      { query: FEED, variables: { from: lastPosition, types } },
      {
        next: ({ data, errors }) => {
          if (errors?.length) {
            graph.learn(errors as GraphError[]);
            return;
          }
          const event = data?.events;
          if (!event) return;
          attempts = 0;
          lastPosition = event.position;
          setStatus('live', `实时连接 · 最新位置 ${event.position}`);
          if (AIR_EVENTS.includes(event.type)) void showAirQuality(graph, event).catch(context.report);
          else showIncident(event);
        },
        error: (error: unknown) => {
          const errors = Array.isArray(error) ? (error as GraphError[]) : [];
          if (errors.length) graph.learn(errors);
          if (errors.some((e) => e.extensions?.code === 'FORBIDDEN') || !graph.allows('events.feed')) {
            setStatus('refused', '当前令牌无权订阅实时事件（资源 events.feed 未授权）');
            return;
          }
          if ((error as CloseEvent | undefined)?.code === 4401) return context.report(new SignInRequired('expired'));
          void current.dispose();
          const delay = RETRY_DELAYS_MS[Math.min(attempts, RETRY_DELAYS_MS.length - 1)]!;
          attempts += 1;
          setStatus('reconnecting', `连接中断，${delay / 1000} 秒后从位置 ${lastPosition ?? '当前'} 续传…`);
          retry = setTimeout(() => subscribe(context), delay);
        },
        complete: () => setStatus('refused', '实时订阅已结束'),
      },
    );
    // The subscription is live once the server acknowledges it; until the first event this says so.
    current.on('connected', () => setStatus('live', lastPosition ? `实时连接 · 已从位置 ${lastPosition} 续传` : '实时连接 · 等待新事件'));
  }

  return {
    id: 'live',
    title: '实时动态',
    async render(element, context) {
      // Rendered once: the feed keeps running while other views are shown.
      if (list) return;
      if (!context.graph.allows('events.feed')) {
        element.innerHTML = notGranted('实时事件', 'events.feed');
        return;
      }
      element.innerHTML = `<section class="card live"><h3>实时事件与空气质量预警 <span class="status" id="live-status" data-state="connecting">连接中…</span></h3>
        <p class="note">新上报与状态变化的事件、实时 AQI 超过 ${ALERT_AQI_ABOVE} 的站点小时值；断线后自动从最后收到的位置续传，不丢不重。</p>
        <ol class="feed" id="live-feed"><li class="empty">等待新事件…</li></ol></section>`;
      list = element.querySelector<HTMLElement>('#live-feed')!;
      status = element.querySelector<HTMLElement>('#live-status')!;
      subscribe(context);
    },
    dispose() {
      clearTimeout(retry);
      stop?.();
      void client?.dispose();
    },
  };
}
