/**
 * 城市运行一张图: signs in with a token, then shows four views of the public graph. The live feed
 * starts at once and keeps running while other views are shown; the other views load when first
 * shown and again on each click of their tab. `document.body.dataset.ready` names the view whose
 * data is on screen (tests and the bench wait for it).
 */
import './style.css';
import { escapeHtml, time } from './format.ts';
import { Graph, SignInRequired, signInMessage } from './graph.ts';
import { currentSession, signIn, signOut, takeTokenFromAddress, type Session } from './session.ts';
import type { View, ViewContext } from './view.ts';
import { closedLoopView } from './views/closedLoop.ts';
import { environmentView } from './views/environment.ts';
import { liveView } from './views/live.ts';
import { overviewView } from './views/overview.ts';

const app = document.querySelector<HTMLElement>('#app')!;

const ROLE_NAMES: Record<string, string> = { department: '政府部门', partner: '合作应用', auditor: '审计方', admin: '授权管理员' };

function renderSignIn(message: string | null): void {
  document.body.dataset.ready = 'sign-in';
  app.innerHTML = `<main class="sign-in">
    <h1>城市运行一张图</h1>
    <p class="lead">济南城市大脑 · 城市运行"一网统管"</p>
    ${message ? `<p class="sign-in-error" role="alert">${escapeHtml(message)}</p>` : ''}
    <form id="sign-in-form">
      <label for="token">访问令牌（Bearer Token）</label>
      <textarea id="token" name="token" rows="4" required placeholder="粘贴令牌，或打开 npm start 输出的带令牌链接"></textarea>
      <button type="submit">登录</button>
      <p class="note">开发环境：<code>npm run cli -- token --consumer demo-dashboard</code> 签发令牌。</p>
    </form>
  </main>`;
  app.querySelector<HTMLFormElement>('#sign-in-form')!.addEventListener('submit', (event) => {
    event.preventDefault();
    signIn(app.querySelector<HTMLTextAreaElement>('#token')!.value);
    start();
  });
}

function renderShell(session: Session): void {
  const graph = new Graph(session.token);
  const views: View[] = [overviewView(), closedLoopView(), liveView(), environmentView()];
  let active = views.find((v) => `#${v.id}` === location.hash) ?? views[0]!;
  let stopped = false;
  const stop = (message: string) => {
    if (stopped) return;
    stopped = true;
    for (const view of views) view.dispose?.();
    signOut();
    renderSignIn(message);
  };
  const context: ViewContext = {
    graph,
    report(error) {
      if (error instanceof SignInRequired) return stop(error.message);
      const message = error instanceof Error ? error.message : String(error);
      const bar = app.querySelector('#error-bar');
      if (bar) bar.textContent = `数据加载失败：${message}`;
      console.error(error);
    },
  };
  const expires = session.expiresAt ? `令牌有效至 ${time(session.expiresAt.toISOString())}` : '';
  app.innerHTML = `<header class="top">
      <h1>城市运行一张图</h1>
      <nav>${views.map((v) => `<button type="button" data-tab="${v.id}">${v.title}${v.id === 'live' ? ' <span class="badge"></span>' : ''}</button>`).join('')}</nav>
      <div class="who"><span id="consumer">${escapeHtml(session.consumerId ?? '未知调用方')}</span>${session.role ? ` · ${escapeHtml(ROLE_NAMES[session.role] ?? session.role)}` : ''}<small>${expires}</small>
        <button type="button" id="sign-out">退出</button></div>
    </header>
    <div id="error-bar" role="status"></div>
    ${views.map((v) => `<main class="view" id="view-${v.id}" hidden></main>`).join('')}`;
  app.querySelector('#sign-out')!.addEventListener('click', () => stop(''));

  async function show(view: View): Promise<void> {
    active = view;
    history.replaceState(null, '', `#${view.id}`);
    document.body.dataset.ready = '';
    for (const v of views) {
      app.querySelector<HTMLElement>(`#view-${v.id}`)!.hidden = v !== view;
      app.querySelector(`[data-tab="${v.id}"]`)!.classList.toggle('active', v === view);
    }
    try {
      await view.render(app.querySelector<HTMLElement>(`#view-${view.id}`)!, context);
      if (active === view && !stopped) document.body.dataset.ready = view.id;
    } catch (error) {
      context.report(error);
    }
  }
  for (const view of views) app.querySelector(`[data-tab="${view.id}"]`)!.addEventListener('click', () => void show(view));
  const live = views.find((v) => v.id === 'live')!;
  // Who the graph says the caller is decides what the views ask for.
  void graph
    .identify()
    .then((caller) => {
      app.querySelector('#consumer')!.textContent = caller.name ?? caller.consumerId;
    })
    .then(() => show(active))
    .then(() => {
    // The live feed runs from the start, whichever view is shown first.
      if (active !== live && !stopped) void live.render(app.querySelector<HTMLElement>('#view-live')!, context).catch(context.report);
    })
    .catch(context.report);
}

function start(): void {
  const session = currentSession();
  if (!session) return renderSignIn(null);
  if (session.expiresAt && session.expiresAt.getTime() <= Date.now()) {
    signOut();
    return renderSignIn(signInMessage('expired'));
  }
  renderShell(session);
}

takeTokenFromAddress();
start();
