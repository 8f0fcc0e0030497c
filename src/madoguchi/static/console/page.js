// The console's state and the page drawn from it: the login form, or the header, the offers made
// to me, the waiting queue, the chat tabs, the offline messages and the panes. Nothing here talks
// to the server.
import { h, replace, localized } from '../common/dom.js';
import * as i18n from '../common/i18n.js';
import { t } from '../common/i18n.js';
import { queueChildren, refreshWaited } from './queue.js';
import { offersChildren, refreshCountdowns } from './offers.js';
import { followUpChildren, offlineChildren, readerChildren } from './offline.js';
import { loginView, headerChildren, tabsChildren } from './views.js';

export const root = document.getElementById('app');
export const state = {
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
  offers: new Map(), // conversation id -> {conversation, expires_at, total}: held for me to accept
  offerNotices: [], // {key, topic, text}: why an offer went away
  offerBusy: new Set(), // offers being accepted or declined
  offline: [], // offline messages (summaries), oldest first
  reader: null, // {summary, thread, error}: the offline message open in the reader
  connection: 'idle',
  connectedOnce: false,
};

const headerEl = h('header', { class: 'console-header' });
const offersSection = h('section', { class: 'offers', 'aria-labelledby': 'offers-title' });
const offlineSection = h('section', { class: 'offline', 'aria-labelledby': 'offline-title' });
// Screen readers hear a new offer and why one went away from here: the region stays in the page
// so that a change of its text is announced (a region added with its text often is not).
const announcer = h('div', { class: 'visually-hidden', 'aria-live': 'assertive', 'aria-atomic': 'true' });
const readerEl = h('dialog', { class: 'reader', id: 'offline-reader', 'aria-labelledby': 'reader-title' });
const queueSection = h('section', { class: 'queue', 'aria-labelledby': 'queue-title' });
const mineSection = h('section', { class: 'mine', 'aria-labelledby': 'mine-title' });
const panesEl = h('main', { class: 'panes', id: 'panes' });
const bodyEl = h('div', { class: 'console-body' },
  h('aside', { class: 'sidebar' }, offersSection, queueSection, mineSection, offlineSection), panesEl,
  announcer, readerEl);

/** The UI-language label of a topic id (the id itself until the config has come). */
export function topicLabel(id) {
  const topic = ((state.config && state.config.topics) || []).find((x) => x.id === id);
  return topic ? localized(topic.label, i18n.lang(), state.config.default_language) : (id || '');
}

/** Redraw the whole page for the current screen, keeping the focus. */
export function renderAll() {
  const active = document.activeElement && document.activeElement.id;
  if (state.screen === 'login') {
    replace(root, loginView(state.login));
  } else if (state.screen === 'main') {
    renderHeader();
    renderOffers();
    renderQueue();
    renderOffline();
    renderReader();
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

function reconnecting() {
  return state.connection === 'waiting' || (state.connection === 'connecting' && state.connectedOnce);
}

/** Redraw the header: my name and presence, the connection state. */
export function renderHeader() {
  replace(headerEl, headerChildren(state.me, reconnecting()));
}

/** Update the header's connection note alone (it changes often; the rest of it does not). */
export function renderConnection() {
  if (state.screen !== 'main') return;
  const conn = headerEl.querySelector('.conn');
  if (conn) conn.textContent = reconnecting() ? t('status.reconnecting') : '';
}

/** Redraw the waiting list (without the chats I already have a pane for). */
export function renderQueue() {
  const waiting = state.queue.filter((c) => !state.panes.has(c.id) && !state.offers.has(c.id));
  replace(queueSection, queueChildren(waiting, {
    topicLabel, notice: state.queueNotice, previews: state.previews, accepting: state.accepting,
  }));
}

/** The UI-language name of a department id (the id itself until the config has come). */
export function departmentLabel(id) {
  const dep = ((state.config && state.config.departments) || []).find((x) => x.id === id);
  return dep ? localized(dep.name, i18n.lang(), state.config.default_language) : (id || '');
}

/** Redraw the offers made to me and the notices of those that went away, keeping the focus. */
export function renderOffers() {
  const focused = offersSection.contains(document.activeElement) && document.activeElement.id;
  offersSection.hidden = !state.offers.size && !state.offerNotices.length;
  replace(offersSection, offersChildren([...state.offers.values()], {
    notices: state.offerNotices, topicLabel, departmentLabel, previews: state.previews,
    busy: state.offerBusy,
  }));
  if (focused) document.getElementById(focused)?.focus();
}

/** Move the offers' countdowns on (every second). */
export function renderCountdowns() {
  refreshCountdowns(offersSection);
}

/** Say `text` to screen readers now (a new offer, an offer gone). */
export function announce(text) {
  announcer.textContent = '';
  // A tick later, so that the same words twice are announced twice.
  setTimeout(() => { announcer.textContent = text; }, 50);
}

/** Redraw the offline messages list, keeping the focus. */
export function renderOffline() {
  const focused = offlineSection.contains(document.activeElement) && document.activeElement.id;
  replace(offlineSection, [
    ...offlineChildren(state.offline, { topicLabel, previews: state.previews }),
    ...followUpChildren(state.followUps || [], { topicLabel, previews: state.previews }),
  ]);
  if (focused) document.getElementById(focused)?.focus();
}

/** Draw the reader of the open offline message (a modal dialog), or close it. */
export function renderReader() {
  const r = state.reader;
  if (!r) {
    if (readerEl.open) readerEl.close();
    readerEl.replaceChildren();
    return;
  }
  // The reader is drawn again when its events arrive: an answer typed meanwhile stays.
  const draft = readerEl.querySelector('textarea');
  const kept = draft && { id: draft.id, value: draft.value, focused: document.activeElement === draft };
  replace(readerEl, readerChildren(r.summary, {
    thread: r.thread, error: r.error, topicLabel, departmentLabel,
  }));
  const again = kept && document.getElementById(kept.id);
  if (again) {
    again.value = kept.value;
    if (kept.focused) again.focus();
  }
  if (r.thread) r.thread.render();
  if (!readerEl.open) readerEl.showModal();
}

/** The reader's dialog (app.js listens to its closing). */
export function readerDialog() {
  return readerEl;
}

/** Refresh the "waited" times of the waiting list. */
export function renderWaitedTimes() {
  refreshWaited(queueSection);
}

/** Redraw the chat tabs and the unread count in the title. */
export function renderTabs() {
  const panes = state.order.map((id) => state.panes.get(id));
  replace(mineSection, tabsChildren(panes, state.active, topicLabel));
  updateTitle();
}

/** Put every pane in the page and show the active one (or a hint when none is). */
export function renderPanes() {
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

/** Show the chat `id` (its unread count goes to zero) and focus its tab unless told not to. */
export function select(id, focus = true) {
  const pane = state.panes.get(id);
  if (!pane) return;
  state.active = id;
  pane.unread = 0;
  renderTabs();
  renderPanes();
  pane.thread.scrollToEnd(true);
  if (focus) document.getElementById(`tab-${pane.domId}`)?.focus();
}
