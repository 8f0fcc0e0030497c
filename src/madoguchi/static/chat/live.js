// The conversation on screen, kept in step with the server. This module owns the frame's one
// socket: it follows the conversation, applies what the socket brings (events, the place in the
// queue), and fetches from the REST API what the socket has not brought (the history, an ending
// that happened while we were away).
import { socketUrl } from '../common/api.js';
import { t, errorText } from '../common/i18n.js';
import { ChatSocket } from '../common/socket.js';
import { Thread } from '../common/thread.js';
import { topicLabel } from './screens.js';
import { state, show, updateStatus, updateWaiting } from './page.js';
import { api, saveSession, setCurrentConversation } from './session.js';
import { trackConversations, restoreConversation } from './conversations.js';
import { noteEvent } from './limits.js';
import { refusedAsUnavailable } from './unavailable.js';
import { refusalText, refusalOffer } from './moderation.js';
import { waitText } from '../common/ratelimit.js';

const OUTBOX_KEY = 'madoguchi.outbox';

let socket = null;

/** Show the conversation `summary` and, unless it has ended, follow it live. */
export function openConversation(summary) {
  state.conversation = summary;
  state.notice = null;
  state.queue = null; // the socket sends the place once it follows the conversation
  setCurrentConversation(summary.id);
  state.thread = new Thread({ viewer: 'visitor', topicLabel: (id) => topicLabel(state.config, id), id: 'chat' });
  ensureSocket();
  restoreConversation(summary); // its thread so far, if the socket followed it off screen (V16)
  state.thread.setPending(socket.pending(summary.id));
  const ended = summary.status === 'ended';
  show('chat', ended || summary.status === 'offline' ? 'chat-ended-button' : 'chat-composer-text');
  if (!ended) {
    socket.start();
    socket.follow(summary.id);
  }
  loadHistory(summary.id);
}

/** Follow every open conversation while none is on screen (the list of SPEC V16). */
export function watchAll() {
  ensureSocket();
  socket.start();
}

/** Fetch what the socket has not brought yet (the socket drops what it already has). */
async function loadHistory(id) {
  try {
    const { events } = await api('GET', `/api/v1/visitor/conversations/${encodeURIComponent(id)}/events?since=${socket.lastSeq(id)}`);
    for (const event of events) socket.ingest({ ...event, conversation_id: event.conversation_id || id });
  } catch (err) {
    if (err.status === 401) sessionLost();
  }
}

function ensureSocket() {
  if (socket) return;
  socket = new ChatSocket({
    url: socketUrl('/ws/visitor'),
    hello: () => ({ token: state.session && state.session.token }),
    outboxKey: OUTBOX_KEY,
  });
  // First, so that the list of conversations is up to date when the screen reacts (V16).
  trackConversations(socket);
  socket.addEventListener('event', (e) => onEvent(e.detail));
  socket.addEventListener('welcome', (e) => {
    const mine = (e.detail.conversations || []).find((c) => state.conversation && c.id === state.conversation.id);
    if (!state.conversation || state.conversation.status === 'ended') return;
    if (mine && mine.status === 'ended') {
      conversationEnded(mine.end_reason || 'resolved');
    } else if (mine && mine.status === 'offline') {
      conversationOffline(); // nobody took it while we were away; the event follows
    } else if (mine) {
      state.conversation = { ...state.conversation, ...mine };
      if (mine.status !== 'waiting') state.queue = null;
      updateStatus();
      updateWaiting();
    } else {
      refreshSummary(); // not among our open ones any more: it ended while we were away
    }
  });
  socket.addEventListener('status', (e) => {
    state.connection = e.detail.state;
    if (state.connection === 'open') state.connectedOnce = true;
    if (state.screen === 'chat') updateStatus();
  });
  socket.addEventListener('queue', (e) => {
    const f = e.detail;
    const c = state.conversation;
    if (!c || f.conversation_id !== c.id || c.status !== 'waiting') return;
    state.queue = { position: f.position, wait_seconds: f.wait_seconds };
    updateWaiting();
  });
  socket.addEventListener('typing', (e) => {
    const f = e.detail;
    if (state.thread && state.conversation && f.conversation_id === state.conversation.id && f.role === 'operator') {
      state.thread.setTyping(Boolean(f.typing));
    }
  });
  socket.addEventListener('outbox', (e) => {
    if (state.thread && state.conversation && e.detail.conversation_id === state.conversation.id) {
      state.thread.setPending(socket.pending(state.conversation.id));
    }
  });
  socket.addEventListener('error', (e) => {
    const f = e.detail;
    if (!state.conversation || (f.conversation_id && f.conversation_id !== state.conversation.id)) return;
    if (f.code === 'rate_limited' && f.client_id) state.thread.hold(f.client_id, waitText(f, 'resending'));
    else if (f.client_id) state.thread.fail(f.client_id, refusalText(f), refusalOffer(f));
    if (f.code === 'conversation_ended') refreshSummary();
  });
  socket.addEventListener('unauthorized', () => sessionLost());
  // The socket's hello or a message was refused as "not available" (SPEC A10): it stopped.
  socket.addEventListener('not_available', () => refusedAsUnavailable('not_available'));
}

/** Close the socket; the next conversation opened makes a new one (with the new token). */
export function resetSocket() {
  if (socket) socket.stop();
  socket = null;
}

function sessionLost() {
  resetSocket();
  saveSession(null);
  state.conversation = null;
  state.prechatStatus = { error: t('error.unauthorized') };
  show(state.topic ? 'prechat' : 'topics');
}

function onEvent(event) {
  const c = state.conversation;
  if (!c || event.conversation_id !== c.id || !state.thread) return;
  noteEvent(event); // before it is shown: whether its "I'm still here" button stands (P2)
  state.thread.add(event);
  if (event.kind === 'assigned') {
    state.conversation = { ...c, status: 'active', operator: (event.data && event.data.operator) || c.operator };
    state.queue = null;
    updateStatus();
    updateWaiting();
  } else if (event.kind === 'transferred') {
    // To another operator (or taken over): theirs now. To a department: back in its queue.
    const to = event.data && event.data.to;
    state.conversation = { ...c, status: to ? 'active' : 'waiting', operator: to || null };
    state.queue = null;
    if (to) updateStatus();
    else show('chat');
  } else if (event.kind === 'requeued') {
    // Its operator was lost: back in the queue until another one takes it (SPEC V10).
    state.conversation = { ...c, status: 'waiting', operator: null };
    state.queue = null;
    show('chat');
  } else if (event.kind === 'follow_up') {
    // The live chat is over; the answer comes by email, and the visitor may still write (A7, A8).
    state.conversation = { ...c, status: 'follow_up' };
    state.thread.setTyping(false);
    show('chat');
  } else if (event.kind === 'offline') {
    conversationOffline();
  } else if (event.kind === 'ended') {
    conversationEnded((event.data && event.data.reason) || 'resolved');
  }
}

/** Show the conversation as ended for `reason`; what was still unsent can no longer go. */
export function conversationEnded(reason) {
  if (state.conversation.status === 'ended') return;
  state.conversation = { ...state.conversation, status: 'ended', end_reason: reason };
  for (const entry of socket.pending(state.conversation.id)) socket.discard(entry.client_id);
  state.thread.setPending([]);
  state.thread.setTyping(false);
  show('chat', 'chat-ended-button');
  loadHistory(state.conversation.id); // the `ended` event, if the socket has not brought it
}

/**
 * Show the conversation as left the queue (SPEC P5): the thread says why (`offline.<reason>`),
 * and the composer gives way to a new conversation; the message waits for an operator's answer.
 */
function conversationOffline() {
  const c = state.conversation;
  if (c.status === 'offline' || c.status === 'ended') return;
  state.conversation = { ...c, status: 'offline' };
  state.queue = null;
  state.thread.setTyping(false);
  show('chat', 'chat-ended-button');
}

/** Ask the REST API whether the conversation on screen has ended (when the socket hints so). */
export async function refreshSummary() {
  try {
    const summary = await api('GET', `/api/v1/visitor/conversations`);
    const mine = summary.conversations.find((c) => c.id === state.conversation.id);
    if (mine && mine.status === 'ended') conversationEnded(mine.end_reason || 'resolved');
  } catch (_) { /* the socket will tell */ }
}

/** Send what the visitor wrote in the composer (nothing once the chat has ended). */
export function sendMessage(text) {
  const c = state.conversation;
  if (!c || c.status === 'ended' || !socket) return;
  state.notice = null;
  socket.send(c.id, text);
}

/** Tell the operator whether the visitor is typing. */
export function sendTyping(on) {
  if (socket && state.conversation) socket.typing(state.conversation.id, on);
}
