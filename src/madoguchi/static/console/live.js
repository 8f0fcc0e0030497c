// What the server tells the console, and the fetches that catch up with it. This module owns the
// console's one socket: my chats come on it (welcome, assigned, events) and get a pane each, and
// the waiting queue is fetched again whenever the socket says it changed.
import { socketUrl } from '../common/api.js';
import { errorText } from '../common/i18n.js';
import { ChatSocket } from '../common/socket.js';
import { waitText } from '../common/ratelimit.js';
import { ChatPane } from './pane.js';
import {
  state, renderQueue, renderTabs, renderPanes, renderConnection, renderOffers, renderOffline, select,
} from './page.js';
import { api, conversationPath, sessionGone } from './session.js';

let socket = null;
let queueTimer = 0;
const listeners = []; // [type, fn] added by other modules (inbox.js: offers)

/** Call `fn(frame)` for every frame of `type` on the socket (set up before startSocket). */
export function onSocket(type, fn) {
  listeners.push([type, fn]);
}

/** Open the socket (after logging in). */
export function startSocket() {
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
    if (pane && f.code === 'rate_limited' && f.client_id) pane.thread.hold(f.client_id, waitText(f, 'resending'));
    else if (pane && f.client_id) pane.thread.fail(f.client_id, errorText(f.code));
    if (pane && f.code === 'conversation_ended') refreshPane(pane.id);
  });
  socket.addEventListener('status', (e) => {
    state.connection = e.detail.state;
    if (state.connection === 'open') state.connectedOnce = true;
    renderConnection();
  });
  socket.addEventListener('unauthorized', () => sessionGone());
  for (const [type, fn] of listeners) socket.addEventListener(type, (e) => fn(e.detail));
  socket.start();
}

/** Close the socket (logged out). */
export function stopSocket() {
  if (socket) socket.stop();
  socket = null;
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
  if ((event.kind === 'ended' || event.kind === 'follow_up') && !pane.ended) {
    const status = event.kind === 'ended' ? 'ended' : 'follow_up';
    pane.summary = { ...pane.summary, status, end_reason: event.data && event.data.reason };
    pane.render();
    renderTabs();
  }
}

/** Open (or update) the pane of a conversation assigned to me. */
export function ensurePane(summary) {
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

/** Fetch the operator's view of a conversation and show it (unless it ended before I had it). */
export async function refreshPane(id) {
  try {
    const summary = await api('GET', conversationPath(id));
    if (state.panes.has(id) || summary.status !== 'ended') ensurePane(summary);
  } catch (_) { /* not mine (any more) */ }
}

/** Stop following a conversation whose pane was closed. */
export function forgetConversation(id) {
  if (socket) socket.forget(id);
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

/** Open a pane for each conversation I have (after logging in). */
export async function loadMine() {
  try {
    const { conversations } = await api('GET', '/api/v1/agent/conversations');
    for (const summary of conversations) ensurePane(summary);
  } catch (_) { /* the welcome frame lists them too */ }
}

/** Fetch the waiting list again, and the first message of any entry not seen yet. */
export async function loadQueue() {
  try {
    const { conversations } = await api('GET', '/api/v1/agent/queue');
    state.queue = conversations;
    renderQueue();
    for (const c of conversations) if (!state.previews.has(c.id)) loadPreview(c.id);
  } catch (_) { /* keep the last list */ }
}

/** Fetch the first message of a waiting chat, an offer or an offline message, and show it. */
export async function loadPreview(id) {
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
  if (state.offers.has(id)) renderOffers();
  if (state.offline.some((c) => c.id === id)) renderOffline();
}

/** Send what the operator wrote in the pane of `id` (nothing once the chat has ended). */
export function sendMessage(id, text) {
  const pane = state.panes.get(id);
  if (pane && !pane.ended && socket) socket.send(pane.id, text);
}

/** Tell the visitor of `id` whether the operator is typing. */
export function sendTyping(id, on) {
  if (id && socket) socket.typing(id, on);
}
