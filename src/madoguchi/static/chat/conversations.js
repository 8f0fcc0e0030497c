// Several conversations per visitor (SPEC V16): "Your conversations", the list of the visitor's
// conversations (topic, status in words, time, an unread mark), kept up to date from the frame's
// one socket, which follows every open conversation. `state.conversation` stays the one on
// screen; the list lives next to it in `state.conversations`. A conversation's events are kept
// here as the socket brings them, so that switching back to it shows its whole thread at once.
// Which messages the visitor has seen is the frame's own business: the last seq shown on screen
// per conversation, in the frame's storage, so a reload still knows what is new.
import { h } from '../common/dom.js';
import { t, has, lang, formatTime } from '../common/i18n.js';
import * as store from '../common/store.js';
import { topicLabel } from './screens.js';
import { state, render } from './page.js';
import { noteEvent } from './limits.js';

const SEEN_KEY = 'madoguchi.seen';
const LIVE = ['waiting', 'active'];

const events = new Map(); // conversation id -> its events so far, in seq order
const places = new Map(); // conversation id -> its last `queue` frame, while it waits
let seen = loadSeen(); // conversation id -> the last seq shown on screen

function loadSeen() {
  try {
    const found = JSON.parse(store.get(SEEN_KEY) || '{}');
    return found && typeof found === 'object' ? found : {};
  } catch (_) {
    return {};
  }
}

function saveSeen() {
  // Only the conversations the list still shows: the map stays small.
  const kept = {};
  for (const c of state.conversations) if (seen[c.id]) kept[c.id] = seen[c.id];
  seen = kept;
  store.set(SEEN_KEY, JSON.stringify(kept));
}

function find(id) {
  return state.conversations.find((c) => c.id === id) || null;
}

/** Whether a conversation is waiting or with an operator (the ones a topic allows once). */
export function isLive(summary) {
  return LIVE.includes(summary.status);
}

/** The visitor's live conversation on `topicId`, or null. */
export function liveOn(topicId) {
  return state.conversations.find((c) => c.topic === topicId && isLive(c)) || null;
}

/**
 * Take the visitor's conversations from GET /api/v1/visitor/conversations: every one not ended,
 * and `keepId` (the one last on screen) even if it has.
 */
export function setConversations(list, keepId = null) {
  state.conversations = list
    .filter((c) => c.status !== 'ended' || c.id === keepId)
    .map((c) => ({ ...c, unread: Boolean(find(c.id) && find(c.id).unread) }));
}

/** Put `summary` in the list (a new conversation goes first), or update its entry. */
export function rememberConversation(summary) {
  const entry = find(summary.id);
  if (entry) {
    Object.assign(entry, summary, { unread: entry.unread });
    return entry;
  }
  const added = { ...summary, unread: false };
  state.conversations.unshift(added);
  return added;
}

function markSeen(id, seq) {
  if (!(seq > (seen[id] || 0))) return;
  seen[id] = seq;
  saveSeen();
}

function onScreen(id) {
  return state.screen === 'chat' && state.conversation && state.conversation.id === id;
}

// What an event says about the conversation's status, for its line in the list.
const STATUS_AFTER = {
  assigned: () => 'active',
  transferred: (data) => (data.to ? 'active' : 'waiting'),
  requeued: () => 'waiting',
  offline: () => 'offline',
  follow_up: () => 'follow_up',
  ended: () => 'ended',
};

function applyEvent(entry, event) {
  // The summary already says what its events up to last_seq did (a socket starts from 0).
  if (event.seq <= (entry.last_seq || 0)) return;
  entry.last_seq = event.seq;
  const next = STATUS_AFTER[event.kind];
  if (next) entry.status = next(event.data || {});
  if (event.kind === 'assigned' && event.data && event.data.operator) entry.operator = event.data.operator;
  if (event.kind === 'message') entry.last_activity_at = event.at;
}

/** What the visitor should come and read: an operator's message, or a warning that a limit nears. */
function calls(event) {
  if (event.kind === 'warning') return true;
  return event.kind === 'message' && Boolean(event.author) && event.author.role === 'operator';
}

function onEvent(event) {
  const id = event.conversation_id;
  const kept = events.get(id) || [];
  if (kept.length && event.seq <= kept[kept.length - 1].seq) return;
  kept.push(event);
  events.set(id, kept);
  let entry = find(id);
  if (!entry && event.kind === 'created') {
    // Started elsewhere (another tab): it joins the list.
    entry = rememberConversation({
      id, topic: (event.data || {}).topic, status: 'waiting', created_at: event.at, last_seq: 0,
    });
  }
  if (entry) applyEvent(entry, event);
  if (onScreen(id)) {
    markSeen(id, event.seq);
  } else if (entry && calls(event) && event.seq > (seen[id] || 0)) {
    entry.unread = true;
  }
  if (entry) refreshList();
}

/**
 * Follow what `socket` says about every conversation, on screen or not (once per socket: a new
 * socket starts again from seq 0, so what was kept goes).
 * @param {import('../common/socket.js').ChatSocket} socket
 */
export function trackConversations(socket) {
  events.clear();
  places.clear();
  socket.addEventListener('event', (e) => onEvent(e.detail));
  socket.addEventListener('queue', (e) => {
    const f = e.detail;
    places.set(f.conversation_id, { position: f.position, wait_seconds: f.wait_seconds });
  });
  socket.addEventListener('welcome', (e) => {
    for (const summary of e.detail.conversations || []) {
      const entry = find(summary.id);
      // What the list knows from events may be newer than the summary; never older.
      if (!entry || (summary.last_seq || 0) >= (entry.last_seq || 0)) rememberConversation(summary);
    }
    refreshList();
  });
}

/**
 * The conversation `summary` comes on screen (live.js, openConversation): its thread from what the
 * socket brought so far, its last place in line, and it is read.
 */
export function restoreConversation(summary) {
  const entry = rememberConversation(summary);
  entry.unread = false;
  const kept = events.get(summary.id) || [];
  if (kept.length) {
    // A warning that came off screen still gets its "I'm still here" button (limits.js).
    for (const event of kept) noteEvent(event);
    state.thread.setEvents(kept);
    markSeen(summary.id, kept[kept.length - 1].seq);
  }
  state.queue = places.get(summary.id) || null;
}

/** A time for the list: the time alone today, else with the date (Intl, in the UI language). */
function when(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  if (date.toDateString() === new Date().toDateString()) return formatTime(iso);
  return new Intl.DateTimeFormat(lang(), {
    month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit',
  }).format(date);
}

function statusWords(status) {
  const key = `conversations.status.${status}`;
  return has(key) ? t(key) : status;
}

function item(c) {
  return h('li', {},
    h('button', {
      type: 'button', id: `conversation-${c.id}`,
      class: `conversation conversation--${c.status}${c.unread ? ' conversation--unread' : ''}`,
      'data-action': 'open-conversation', dataset: { id: c.id },
    },
    h('span', { class: 'conversation-head' },
      h('span', { class: 'conversation-topic', text: topicLabel(state.config, c.topic) }),
      c.unread ? h('span', { class: 'conversation-unread', text: t('conversations.unread') }) : null),
    h('span', { class: 'conversation-status', text: statusWords(c.status) }),
    h('span', { class: 'conversation-time', text: t('conversations.time', { time: when(c.last_activity_at || c.created_at) }) })));
}

/**
 * The visitor's conversations as buttons that open them.
 * @param {Array<object>} [list] the entries to show (all by default)
 */
export function conversationItems(list = state.conversations) {
  return h('ul', { class: 'conversations', id: 'conversation-list', 'aria-labelledby': 'list-title' }, list.map(item));
}

/** The list screen: the visitor's conversations, and a way to ask something else. */
export function listScreen() {
  return h('section', { class: 'screen screen--list', 'aria-labelledby': 'list-title' },
    h('h1', { id: 'list-title', tabindex: '-1', text: t('conversations.title') }),
    conversationItems(),
    h('button', { type: 'button', class: 'primary list-new', id: 'list-new', 'data-action': 'new-question', text: t('conversations.new') }));
}

/** "‹ All chats", back to the list, with a dot when another conversation has unread replies. */
export function listButton() {
  const current = state.conversation && state.conversation.id;
  const unread = state.conversations.some((c) => c.unread && c.id !== current);
  return h('button', {
    type: 'button', class: `link list-back${unread ? ' list-back--unread' : ''}`, id: 'list-back',
    'data-action': 'list', 'aria-label': t(unread ? 'conversations.back_label_unread' : 'conversations.back_label'),
  },
  h('span', { 'aria-hidden': 'true', text: '‹ ' }), t('conversations.back'),
  unread ? h('span', { class: 'list-back-dot', 'aria-hidden': 'true' }) : null);
}

/** Above the topics when the visitor has conversations: the way back to them. */
export function listBar() {
  if (!state.conversations.length) return null;
  return h('nav', { class: 'list-bar', 'aria-label': t('conversations.title') }, listButton());
}

/** Show a change of the list where it is on screen (the list itself, or the back button). */
function refreshList() {
  if (state.screen === 'chat') {
    const old = document.getElementById('list-back');
    if (!old) return;
    const focused = document.activeElement === old;
    const fresh = listButton();
    old.replaceWith(fresh);
    if (focused) fresh.focus();
  } else if (document.getElementById('conversation-list') || document.getElementById('list-back')) {
    render();
  }
}
