// The operator console: log in, presence, the waiting queue, and one pane per chat.
import { h, replace, localized } from '../common/dom.js';
import * as i18n from '../common/i18n.js';
import { t, errorText } from '../common/i18n.js';
import { request, socketUrl, ApiError } from '../common/api.js';
import { ChatSocket } from '../common/socket.js';
import { installComposer } from '../common/thread.js';
import { installCopyHandler } from '../common/render.js';
import { ChatPane } from './pane.js';
import { queueChildren, refreshWaited } from './queue.js';
import { loginView, headerChildren, tabsChildren } from './views.js';

const root = document.getElementById('app');
const state = {
  screen: 'loading', // loading | login | main
  me: null,
  csrf: null,
  config: null, // the public visitor config: topic labels
  login: { email: '', error: null, busy: false },
  queue: [],
  queueNotice: null,
  previews: new Map(), // conversation id -> first message text, or null when there is none
  accepting: new Set(),
  panes: new Map(), // conversation id -> ChatPane
  order: [],
  active: null,
  events: new Map(), // conversation id -> events applied so far
  connection: 'idle',
  connectedOnce: false,
};
let socket = null;
let queueTimer = 0;

const headerEl = h('header', { class: 'console-header' });
const queueSection = h('section', { class: 'queue', 'aria-labelledby': 'queue-title' });
const mineSection = h('section', { class: 'mine', 'aria-labelledby': 'mine-title' });
const panesEl = h('main', { class: 'panes', id: 'panes' });
const bodyEl = h('div', { class: 'console-body' },
  h('aside', { class: 'sidebar' }, queueSection, mineSection), panesEl);

// --- API ----------------------------------------------------------------------------------

async function api(method, path, body) {
  try {
    return await request(method, path, { body, csrf: state.csrf });
  } catch (err) {
    if (err instanceof ApiError && err.status === 401 && state.screen === 'main') loggedOut();
    throw err;
  }
}

function conversationPath(id, suffix = '') {
  return `/api/v1/agent/conversations/${encodeURIComponent(id)}${suffix}`;
}

function topicLabel(id) {
  const topic = ((state.config && state.config.topics) || []).find((x) => x.id === id);
  return topic ? localized(topic.label, i18n.lang(), state.config.default_language) : (id || '');
}

// --- rendering ----------------------------------------------------------------------------

function renderAll() {
  const active = document.activeElement && document.activeElement.id;
  if (state.screen === 'login') {
    replace(root, loginView(state.login));
  } else if (state.screen === 'main') {
    renderHeader();
    renderQueue();
    for (const pane of state.panes.values()) pane.render();
    renderTabs();
    renderPanes();
    if (!root.contains(bodyEl)) replace(root, headerEl, bodyEl);
  } else {
    replace(root, h('p', { class: 'loading', role: 'status', text: t('chat.loading') }));
  }
  updateTitle();
  if (active) document.getElementById(active)?.focus();
}

function updateTitle() {
  const unread = [...state.panes.values()].reduce((n, p) => n + p.unread, 0);
  document.title = (unread ? `(${unread}) ` : '') + t('console.document_title');
}

function renderHeader() {
  const reconnecting = state.connection === 'waiting' || (state.connection === 'connecting' && state.connectedOnce);
  replace(headerEl, headerChildren(state.me, reconnecting));
}

function renderQueue() {
  const waiting = state.queue.filter((c) => !state.panes.has(c.id));
  replace(queueSection, queueChildren(waiting, {
    topicLabel, notice: state.queueNotice, previews: state.previews, accepting: state.accepting,
  }));
}

function renderTabs() {
  const panes = state.order.map((id) => state.panes.get(id));
  replace(mineSection, tabsChildren(panes, state.active, topicLabel));
  updateTitle();
}

function renderPanes() {
  for (const [id, pane] of state.panes) {
    if (pane.element.parentNode !== panesEl) panesEl.append(pane.element);
    pane.element.hidden = id !== state.active;
  }
  let empty = panesEl.querySelector('.panes-empty');
  if (!state.active) {
    if (!empty) panesEl.append(empty = h('p', { class: 'panes-empty' }));
    empty.textContent = t('console.select_chat');
  } else if (empty) {
    empty.remove();
  }
}

// --- session ------------------------------------------------------------------------------

async function boot() {
  await i18n.init({ fallback: 'ja' });
  i18n.onChange(() => renderAll());
  request('GET', '/api/v1/visitor/config').then((config) => {
    state.config = config;
    if (state.screen === 'main') renderAll();
  }).catch(() => { /* topic ids are shown instead of labels */ });
  try {
    enterConsole(await request('GET', '/api/v1/agent/me'));
  } catch (_) {
    state.screen = 'login';
    renderAll();
    document.getElementById('login-email')?.focus();
  }
}

async function login(form) {
  const email = form.elements.email.value.trim();
  const password = form.elements.password.value;
  state.login = { email, error: null, busy: true };
  renderAll();
  try {
    enterConsole(await request('POST', '/api/v1/agent/login', { body: { email, password } }));
  } catch (err) {
    state.login = { email, error: errorText(err.code), busy: false };
    renderAll();
    document.getElementById('login-password')?.focus();
  }
}

function enterConsole({ operator, csrf_token: csrf }) {
  state.me = operator;
  state.csrf = csrf;
  state.screen = 'main';
  state.login = { email: '', error: null, busy: false };
  renderAll();
  startSocket();
  loadQueue();
  loadMine();
}

function loggedOut() {
  if (socket) socket.stop();
  socket = null;
  for (const pane of state.panes.values()) pane.element.remove();
  Object.assign(state, {
    screen: 'login', me: null, csrf: null, queue: [], queueNotice: null, active: null, order: [],
    connection: 'idle', connectedOnce: false,
  });
  state.panes.clear();
  state.events.clear();
  state.previews.clear();
  state.accepting.clear();
  renderAll();
  document.getElementById('login-email')?.focus();
}

async function logout() {
  try { await api('POST', '/api/v1/agent/logout', {}); } catch (_) { /* logged out either way */ }
  loggedOut();
}

async function setPresence(select) {
  const previous = state.me.status;
  try {
    const { operator } = await api('PUT', '/api/v1/agent/presence', { status: select.value });
    state.me = operator;
  } catch (err) {
    select.value = previous;
    state.queueNotice = errorText(err.code);
    renderQueue();
  }
  renderHeader();
  document.getElementById('presence')?.focus();
}

// --- socket -------------------------------------------------------------------------------

function startSocket() {
  socket = new ChatSocket({ url: socketUrl('/ws/agent') });
  socket.addEventListener('welcome', (e) => {
    for (const summary of e.detail.conversations || []) if (summary.status !== 'ended') ensurePane(summary);
    loadQueue(); // it may have changed while we were disconnected
  });
  socket.addEventListener('assigned', (e) => {
    const pane = ensurePane(e.detail.conversation);
    if (!state.active) select(pane.id, false);
    loadQueue();
  });
  socket.addEventListener('event', (e) => onEvent(e.detail));
  socket.addEventListener('typing', (e) => {
    const f = e.detail;
    if (f.role === 'visitor') state.panes.get(f.conversation_id)?.thread.setTyping(Boolean(f.typing));
  });
  socket.addEventListener('queue_changed', () => {
    clearTimeout(queueTimer);
    queueTimer = setTimeout(loadQueue, 150);
  });
  socket.addEventListener('outbox', (e) => {
    const id = e.detail.conversation_id;
    state.panes.get(id)?.thread.setPending(socket.pending(id));
  });
  socket.addEventListener('error', (e) => {
    const f = e.detail;
    const pane = f.conversation_id && state.panes.get(f.conversation_id);
    if (pane && f.client_id) pane.thread.fail(f.client_id, errorText(f.code));
    if (pane && f.code === 'conversation_ended') refreshPane(pane.id);
  });
  socket.addEventListener('status', (e) => {
    state.connection = e.detail.state;
    if (state.connection === 'open') state.connectedOnce = true;
    if (state.screen === 'main') {
      const conn = headerEl.querySelector('.conn');
      const reconnecting = state.connection === 'waiting' || (state.connection === 'connecting' && state.connectedOnce);
      if (conn) conn.textContent = reconnecting ? t('status.reconnecting') : '';
    }
  });
  socket.addEventListener('unauthorized', () => loggedOut());
  socket.start();
}

function onEvent(event) {
  const id = event.conversation_id;
  if (!state.events.has(id)) state.events.set(id, []);
  state.events.get(id).push(event);
  const pane = state.panes.get(id);
  if (!pane) {
    refreshPane(id); // a chat we have no pane for yet: fetch its summary and show it
    return;
  }
  pane.thread.add(event);
  if (event.kind === 'message' && event.author && event.author.role === 'visitor'
      && (id !== state.active || document.hidden)) {
    pane.unread += 1;
    renderTabs();
  }
  if (event.kind === 'ended' && !pane.ended) {
    pane.summary = { ...pane.summary, status: 'ended', end_reason: event.data && event.data.reason };
    pane.render();
    renderTabs();
  }
}

/** Open (or update) the pane of a conversation assigned to me. */
function ensurePane(summary) {
  let pane = state.panes.get(summary.id);
  if (pane) {
    pane.summary = { ...pane.summary, ...summary };
    pane.render();
    renderTabs();
    return pane;
  }
  pane = new ChatPane(summary, { config: state.config });
  state.panes.set(summary.id, pane);
  state.order.push(summary.id);
  pane.thread.setEvents(state.events.get(summary.id) || []);
  pane.thread.setPending(socket ? socket.pending(summary.id) : []);
  pane.render();
  if (!state.active) state.active = summary.id;
  renderTabs();
  renderPanes();
  renderQueue();
  if (socket) socket.follow(summary.id);
  loadHistory(summary.id);
  if (!summary.context) refreshPane(summary.id); // a short summary: fetch the operator's view
  return pane;
}

async function refreshPane(id) {
  try {
    const summary = await api('GET', conversationPath(id));
    if (state.panes.has(id) || summary.status !== 'ended') ensurePane(summary);
  } catch (_) { /* not mine (any more) */ }
}

async function loadHistory(id) {
  try {
    const since = socket ? socket.lastSeq(id) : 0;
    const { events } = await api('GET', conversationPath(id, `/events?since=${since}`));
    for (const event of events) {
      const full = { ...event, conversation_id: event.conversation_id || id };
      if (socket) socket.ingest(full);
    }
  } catch (_) { /* the socket resumes it */ }
}

async function loadMine() {
  try {
    const { conversations } = await api('GET', '/api/v1/agent/conversations');
    for (const summary of conversations) ensurePane(summary);
  } catch (_) { /* the welcome frame lists them too */ }
}

async function loadQueue() {
  try {
    const { conversations } = await api('GET', '/api/v1/agent/queue');
    state.queue = conversations;
    renderQueue();
    for (const c of conversations) if (!state.previews.has(c.id)) loadPreview(c.id);
  } catch (_) { /* keep the last list */ }
}

async function loadPreview(id) {
  state.previews.set(id, undefined);
  try {
    const { events } = await api('GET', conversationPath(id, '/events?since=0'));
    const first = events.find((e) => e.kind === 'message');
    state.previews.set(id, first ? first.body : null);
  } catch (_) {
    state.previews.delete(id);
    return;
  }
  if (state.queue.some((c) => c.id === id)) renderQueue();
}

// --- actions ------------------------------------------------------------------------------

function select(id, focus = true) {
  const pane = state.panes.get(id);
  if (!pane) return;
  state.active = id;
  pane.unread = 0;
  renderTabs();
  renderPanes();
  pane.thread.scrollToEnd(true);
  if (focus) document.getElementById(`tab-${pane.domId}`)?.focus();
}

async function accept(id) {
  state.accepting.add(id);
  state.queueNotice = null;
  renderQueue();
  try {
    const summary = await api('POST', conversationPath(id, '/accept'), {});
    const pane = ensurePane(summary);
    select(pane.id, false);
    pane.element.querySelector('[data-composer]')?.focus();
  } catch (err) {
    state.queueNotice = errorText(err.code);
  } finally {
    state.accepting.delete(id);
    renderQueue();
    loadQueue();
  }
}

async function endChat(form) {
  const pane = state.panes.get(form.dataset.id);
  const reason = form.elements.reason.value;
  if (!pane) return;
  if (!reason) {
    pane.endError = true;
    pane.render();
    pane.element.querySelector('[data-end-reason]')?.focus();
    return;
  }
  pane.endError = false;
  try {
    const summary = await api('POST', conversationPath(pane.id, '/end'), { reason });
    pane.summary = { ...pane.summary, ...summary, status: 'ended', end_reason: summary.end_reason || reason };
    pane.notice = null;
  } catch (err) {
    pane.notice = errorText(err.code);
    if (err.code === 'conversation_ended') refreshPane(pane.id);
  }
  pane.render();
  renderTabs();
  pane.element.querySelector('[data-action="close-pane"]')?.focus();
}

function closePane(id) {
  const pane = state.panes.get(id);
  if (!pane) return;
  pane.element.remove();
  state.panes.delete(id);
  state.events.delete(id);
  if (socket) socket.forget(id);
  const index = state.order.indexOf(id);
  state.order = state.order.filter((x) => x !== id);
  if (state.active === id) state.active = state.order[Math.min(index, state.order.length - 1)] || null;
  renderTabs();
  renderPanes();
  const next = state.active && state.panes.get(state.active);
  if (next) document.getElementById(`tab-${next.domId}`)?.focus();
}

function installHandlers() {
  root.addEventListener('click', (event) => {
    const target = event.target.closest('[data-action]');
    if (!target || target.tagName === 'SELECT') return;
    const id = target.dataset.id;
    switch (target.dataset.action) {
      case 'select': select(id); break;
      case 'accept': accept(id); break;
      case 'close-pane': closePane(id); break;
      case 'logout': logout(); break;
      default:
    }
  });
  root.addEventListener('change', (event) => {
    if (event.target.id === 'presence') setPresence(event.target);
  });
  root.addEventListener('submit', (event) => {
    const form = event.target;
    if (form.matches('[data-form="login"]')) {
      event.preventDefault();
      if (!state.login.busy) login(form);
    } else if (form.matches('[data-form="end"]')) {
      event.preventDefault();
      endChat(form);
    }
  });
  root.addEventListener('keydown', (event) => {
    // Arrow keys move between the chat tabs (roving tabindex, WAI-ARIA tabs pattern).
    const tab = event.target.closest('[role="tab"]');
    if (!tab) return;
    const keys = { ArrowDown: 1, ArrowRight: 1, ArrowUp: -1, ArrowLeft: -1 };
    let index = state.order.indexOf(tab.dataset.id);
    if (event.key in keys) index = (index + keys[event.key] + state.order.length) % state.order.length;
    else if (event.key === 'Home') index = 0;
    else if (event.key === 'End') index = state.order.length - 1;
    else return;
    event.preventDefault();
    select(state.order[index]);
  });
  installComposer(root, {
    send(form, text) {
      const pane = state.panes.get(form.closest('.pane')?.dataset.id);
      if (pane && !pane.ended && socket) socket.send(pane.id, text);
    },
    typing(form, on) {
      const id = form.closest('.pane')?.dataset.id;
      if (id && socket) socket.typing(id, on);
    },
  });
  installCopyHandler(root);
  i18n.installLanguageSwitcher(root);
  document.addEventListener('visibilitychange', () => {
    const pane = !document.hidden && state.active && state.panes.get(state.active);
    if (pane && pane.unread) {
      pane.unread = 0;
      renderTabs();
    }
  });
  setInterval(() => refreshWaited(queueSection), 30_000);
}

installHandlers();
boot();
