// The chat frame (the visitor's side). Screens: topics -> pre-chat form -> conversation -> ended.
// The visitor token lives in this frame's own storage only (store.js); the host page never sees it.
import { h, replace, newId } from '../common/dom.js';
import * as i18n from '../common/i18n.js';
import { t, errorText } from '../common/i18n.js';
import { request, socketUrl, ApiError } from '../common/api.js';
import { ChatSocket } from '../common/socket.js';
import { Thread, composer, installComposer } from '../common/thread.js';
import { installCopyHandler } from '../common/render.js';
import * as store from '../common/store.js';
import {
  topicsScreen, prechatScreen, errorScreen, endedPanel, endDialog, topicLabel, collectContext,
} from './screens.js';

const SESSION_KEY = 'madoguchi.visitor';
const CURRENT_KEY = 'madoguchi.conversation';
const OUTBOX_KEY = 'madoguchi.outbox';

const root = document.getElementById('app');
const header = h('header', { class: 'chat-header' });
const main = h('main', { class: 'chat-main', id: 'main' });

const state = {
  config: null,
  session: null, // {visitor_id, token}
  screen: 'loading', // loading | topics | prechat | chat | error
  error: null,
  topic: null,
  prechat: {}, // form values kept across re-renders
  prechatStatus: {},
  conversation: null, // the summary of the conversation on screen
  connection: 'idle',
  connectedOnce: false,
  notice: null, // a transient error about the conversation
};
let socket = null;
let thread = null;
let focusNext = null; // what to focus after the next render

// --- storage ------------------------------------------------------------------------------

function loadSession() {
  const raw = store.get(SESSION_KEY);
  try {
    const session = JSON.parse(raw);
    return session && session.token ? session : null;
  } catch (_) {
    return null;
  }
}

function saveSession(session) {
  state.session = session;
  if (session) store.set(SESSION_KEY, JSON.stringify(session));
  else store.remove(SESSION_KEY);
}

function api(method, path, body) {
  return request(method, path, { body, token: state.session && state.session.token });
}

// --- rendering ----------------------------------------------------------------------------

function render() {
  const company = (state.config && state.config.company && state.config.company.name) || '';
  document.title = company ? t('chat.document_title', { company }) : t('chat.document_title_plain');
  const active = document.activeElement && document.activeElement.id;
  const draft = main.querySelector('[data-composer]')?.value;
  if (state.screen === 'prechat') readPrechat();

  replace(header,
    h('p', { class: 'company', text: company || t('chat.document_title_plain') }),
    i18n.languageSwitcher('chat-lang'));
  replace(main, screenElement());

  if (draft) {
    const textarea = main.querySelector('[data-composer]');
    if (textarea) textarea.value = draft;
  }
  const target = focusNext || active;
  focusNext = null;
  if (target) document.getElementById(target)?.focus();
}

function screenElement() {
  switch (state.screen) {
    case 'topics':
      return topicsScreen(state.config);
    case 'prechat':
      return prechatScreen(state.config, state.topic, state.prechat, state.prechatStatus);
    case 'chat':
      return chatScreen();
    case 'error':
      return errorScreen(state.error);
    default:
      return h('div', { class: 'loading', 'aria-busy': 'true', role: 'status', text: t('chat.loading') });
  }
}

function chatScreen() {
  const c = state.conversation;
  const ended = c.status === 'ended';
  thread.render();
  return h('section', { class: 'screen screen--chat', 'aria-label': t('chat.conversation_label') },
    h('div', { class: 'statusbar' },
      h('p', { class: 'status', id: 'chat-status', role: 'status', text: statusText() }),
      ended ? null : h('button', { type: 'button', class: 'secondary small', 'data-action': 'end', id: 'chat-end', text: t('chat.end') })),
    state.notice ? h('p', { class: 'notice', role: 'alert', text: state.notice }) : null,
    thread.scroller,
    thread.typingLine,
    ended
      ? endedPanel(c.end_reason)
      : composer({ id: 'chat-composer', maxLength: state.config.limits && state.config.limits.message_max_chars }),
    ended ? null : endDialog());
}

function statusText() {
  const c = state.conversation;
  if (c.status === 'ended') return t('status.ended');
  if (state.connection === 'waiting' || (state.connection === 'connecting' && state.connectedOnce)) {
    return t('status.reconnecting');
  }
  if (c.status === 'active' && c.operator) return t('status.with', { name: c.operator.name || t('message.operator') });
  return t('status.waiting');
}

function updateStatus() {
  const el = document.getElementById('chat-status');
  if (el) el.textContent = statusText();
}

function show(screen, focusId = null) {
  state.screen = screen;
  focusNext = focusId;
  render();
}

// --- flows --------------------------------------------------------------------------------

async function boot() {
  let failure = null;
  try {
    state.config = await request('GET', '/api/v1/visitor/config');
  } catch (err) {
    failure = err;
  }
  const fallback = state.config ? state.config.default_language : 'ja';
  await i18n.init({ fallback });
  tellLauncher();
  i18n.onChange(() => {
    tellLauncher();
    render();
  });
  if (failure) {
    state.error = errorText(failure.code);
    show('error', 'error-title');
    return;
  }
  state.session = loadSession();
  if (!state.session) {
    show('topics');
    return;
  }
  try {
    const { conversations } = await api('GET', '/api/v1/visitor/conversations');
    const open = conversations.find((c) => c.status !== 'ended');
    const currentId = store.get(CURRENT_KEY);
    const last = open || conversations.find((c) => c.id === currentId);
    if (last) {
      openConversation(last);
      return;
    }
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) saveSession(null);
  }
  show('topics');
}

function readPrechat() {
  const form = main.querySelector('[data-form="prechat"]');
  if (!form) return;
  const data = new FormData(form);
  state.prechat = {
    member_id: data.get('member_id') || '',
    contract_name: data.get('contract_name') || '',
    contact_person: data.get('contact_person') || '',
    message: data.get('message') || '',
    consent: form.elements.consent.checked,
  };
}

async function startConversation() {
  readPrechat();
  const values = state.prechat;
  if (!values.consent) {
    state.prechatStatus = { consentError: true };
    show('prechat', 'prechat-consent');
    return;
  }
  state.prechatStatus = { busy: true };
  render();
  const clean = (v) => (v && v.trim() ? v.trim() : null);
  const config = state.config;
  const body = {
    topic: state.topic,
    language: config.languages && config.languages.includes(i18n.lang()) ? i18n.lang() : config.default_language,
    consent: true,
    prechat: {
      member_id: clean(values.member_id),
      contract_name: clean(values.contract_name),
      contact_person: clean(values.contact_person),
    },
    context: collectContext(),
  };
  if (values.message && values.message.trim()) body.message = { client_id: newId(), body: values.message };
  try {
    let summary;
    try {
      if (!state.session) saveSession(await api('POST', '/api/v1/visitor/session', {}));
      summary = await api('POST', '/api/v1/visitor/conversations', body);
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 401) throw err;
      // The stored token is no longer valid: start a new visitor session once.
      resetSocket();
      saveSession(await api('POST', '/api/v1/visitor/session', {}));
      summary = await api('POST', '/api/v1/visitor/conversations', body);
    }
    state.prechat = {};
    state.prechatStatus = {};
    openConversation(summary);
  } catch (err) {
    state.prechatStatus = { error: errorText(err.code) };
    show('prechat', 'prechat-title');
  }
}

function openConversation(summary) {
  state.conversation = summary;
  state.notice = null;
  store.set(CURRENT_KEY, summary.id);
  thread = new Thread({ viewer: 'visitor', topicLabel: (id) => topicLabel(state.config, id), id: 'chat' });
  ensureSocket();
  thread.setPending(socket.pending(summary.id));
  const ended = summary.status === 'ended';
  show('chat', ended ? 'chat-ended-button' : 'chat-composer-text');
  if (!ended) {
    socket.start();
    socket.follow(summary.id);
  }
  loadHistory(summary.id);
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
  socket.addEventListener('event', (e) => onEvent(e.detail));
  socket.addEventListener('welcome', (e) => {
    const mine = (e.detail.conversations || []).find((c) => state.conversation && c.id === state.conversation.id);
    if (!state.conversation || state.conversation.status === 'ended') return;
    if (mine && mine.status === 'ended') {
      conversationEnded(mine.end_reason || 'resolved');
    } else if (mine) {
      state.conversation = { ...state.conversation, ...mine };
      updateStatus();
    } else {
      refreshSummary(); // not among our open ones any more: it ended while we were away
    }
  });
  socket.addEventListener('status', (e) => {
    state.connection = e.detail.state;
    if (state.connection === 'open') state.connectedOnce = true;
    if (state.screen === 'chat') updateStatus();
  });
  socket.addEventListener('typing', (e) => {
    const f = e.detail;
    if (thread && state.conversation && f.conversation_id === state.conversation.id && f.role === 'operator') {
      thread.setTyping(Boolean(f.typing));
    }
  });
  socket.addEventListener('outbox', (e) => {
    if (thread && state.conversation && e.detail.conversation_id === state.conversation.id) {
      thread.setPending(socket.pending(state.conversation.id));
    }
  });
  socket.addEventListener('error', (e) => {
    const f = e.detail;
    if (!state.conversation || (f.conversation_id && f.conversation_id !== state.conversation.id)) return;
    if (f.client_id) thread.fail(f.client_id, errorText(f.code));
    if (f.code === 'conversation_ended') refreshSummary();
  });
  socket.addEventListener('unauthorized', () => sessionLost());
}

function resetSocket() {
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
  if (!c || event.conversation_id !== c.id || !thread) return;
  thread.add(event);
  if (event.kind === 'assigned') {
    state.conversation = { ...c, status: 'active', operator: (event.data && event.data.operator) || c.operator };
    updateStatus();
  } else if (event.kind === 'ended') {
    conversationEnded((event.data && event.data.reason) || 'resolved');
  }
}

function conversationEnded(reason) {
  if (state.conversation.status === 'ended') return;
  state.conversation = { ...state.conversation, status: 'ended', end_reason: reason };
  for (const entry of socket.pending(state.conversation.id)) socket.discard(entry.client_id);
  thread.setPending([]);
  thread.setTyping(false);
  show('chat', 'chat-ended-button');
  loadHistory(state.conversation.id); // the `ended` event, if the socket has not brought it
}

async function refreshSummary() {
  try {
    const summary = await api('GET', `/api/v1/visitor/conversations`);
    const mine = summary.conversations.find((c) => c.id === state.conversation.id);
    if (mine && mine.status === 'ended') conversationEnded(mine.end_reason || 'resolved');
  } catch (_) { /* the socket will tell */ }
}

async function endConversation() {
  const c = state.conversation;
  try {
    const summary = await api('POST', `/api/v1/visitor/conversations/${encodeURIComponent(c.id)}/end`, {});
    conversationEnded(summary.end_reason || 'visitor_left');
  } catch (err) {
    if (err.code === 'conversation_ended') {
      refreshSummary();
      return;
    }
    state.notice = errorText(err.code);
    render();
  }
}

function newConversation() {
  store.remove(CURRENT_KEY);
  state.conversation = null;
  thread = null;
  state.topic = null;
  show('topics', 'topics-title');
}

/** Let the launcher on the host page label itself in our language (no data but the code). */
function tellLauncher() {
  if (window.parent !== window) window.parent.postMessage({ type: 'madoguchi:lang', lang: i18n.lang() }, '*');
}

// --- events -------------------------------------------------------------------------------

function installHandlers() {
  root.addEventListener('click', (event) => {
    const target = event.target.closest('[data-action]');
    if (!target) return;
    switch (target.dataset.action) {
      case 'topic':
        state.topic = target.dataset.topic;
        state.prechatStatus = {};
        show('prechat', 'prechat-title');
        break;
      case 'change-topic':
        readPrechat();
        show('topics', 'topics-title');
        break;
      case 'retry':
        location.reload();
        break;
      case 'end':
        document.getElementById('end-dialog')?.showModal();
        break;
      case 'end-cancel':
        event.preventDefault();
        document.getElementById('end-dialog')?.close();
        document.getElementById('chat-end')?.focus();
        break;
      case 'end-confirm':
        event.preventDefault();
        document.getElementById('end-dialog')?.close();
        endConversation();
        break;
      case 'new':
        newConversation();
        break;
      default:
    }
  });
  root.addEventListener('submit', (event) => {
    if (event.target.matches('[data-form="prechat"]')) {
      event.preventDefault();
      if (!state.prechatStatus.busy) startConversation();
    }
  });
  root.addEventListener('change', (event) => {
    if (event.target.id === 'prechat-consent' && event.target.checked && state.prechatStatus.consentError) {
      readPrechat();
      state.prechatStatus = {};
      render();
    }
  });
  installComposer(root, {
    send(form, text) {
      const c = state.conversation;
      if (!c || c.status === 'ended' || !socket) return;
      state.notice = null;
      socket.send(c.id, text);
    },
    typing(form, on) {
      if (socket && state.conversation) socket.typing(state.conversation.id, on);
    },
  });
  installCopyHandler(root);
  i18n.installLanguageSwitcher(root);

  // The launcher (widget.js, on the host page) tells us when we are full-screen or just opened;
  // nothing in these messages is trusted beyond a class toggle and a focus move.
  window.addEventListener('message', (event) => {
    if (event.source !== window.parent || !event.data || typeof event.data !== 'object') return;
    if (event.data.type === 'madoguchi:layout') {
      document.documentElement.classList.toggle('fullscreen', Boolean(event.data.fullscreen));
    } else if (event.data.type === 'madoguchi:opened') {
      const first = main.querySelector('[data-composer], h1, [data-action="new"]');
      first?.focus();
    }
  });
  document.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape' || window.parent === window) return;
    if (document.querySelector('dialog[open]')) return;
    window.parent.postMessage({ type: 'madoguchi:close' }, '*'); // carries nothing but the wish
  });
}

root.append(header, main);
installHandlers();
boot();
