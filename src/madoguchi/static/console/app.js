// The operator console: log in, presence, the waiting queue, and one pane per chat.
// This file signs the operator in and out and holds the page's delegated listeners. The rest, by idea:
//   page.js     the console's state and the page drawn from it (views.js, queue.js, pane.js build the parts)
//   session.js  REST calls made as the operator, and the one place that notices the session is gone
//   live.js     the one socket and the fetches that catch up with it: my chats, their history, the queue
//   actions.js  what the operator does: presence, accept, end a chat, close its pane
//   inbox.js    offers made to me (accept, decline, why one went away) and offline messages
//   notes.js    private notes: the composer's note switch and how notes look (SPEC A6)
//   transfer.js the Transfer dialog, and a chat that stops being mine (`unassigned`) (SPEC A6)
//   supervisor.js  the supervisors' overview: queues, chats, operators; join, take over (SPEC A9)
//   maintenance.js the banner while chat is paused, and the admins' switch (SPEC X5)
//   transcript.js  each chat's "Download transcript" button and the visitor's rating (SPEC V11, V12)
//   secrets.js  a visitor's secret: "Reveal (once)", shown a short while, then gone (SPEC V15)
//   bans.js     each chat's "Ban visitor" dialog; the supervisors' bans and audit log (SPEC A10)
import * as i18n from '../common/i18n.js';
import { errorText } from '../common/i18n.js';
import { request } from '../common/api.js';
import { installComposer } from '../common/thread.js';
import { installCopyHandler } from '../common/render.js';
import {
  root, state, renderAll, renderTabs, renderWaitedTimes, renderCountdowns, select,
} from './page.js';
import { api, whenSessionGone } from './session.js';
import { startSocket, stopSocket, loadMine, loadQueue, sendMessage, sendTyping } from './live.js';
import { setPresence, accept, endChat, closePane } from './actions.js';
import {
  installInbox, acceptOffer, declineOffer, dismissNotice, loadOffline, openOffline, closeReader,
  closeFollowUp,
} from './inbox.js';
import { installNotes, isNoteMode, addNote } from './notes.js';
import { installModeration } from './moderation.js';
import { installTransfer } from './transfer.js';
import { installSupervisor } from './supervisor.js';
import { installMaintenance } from './maintenance.js';
import { installTranscript } from './transcript.js';
import { installConsoleAttachments } from './attachments.js';
import { installSecrets } from './secrets.js';
import { installBans } from './bans.js';
import { installEmail } from './email.js';

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
  loadOffline();
}

function loggedOut() {
  stopSocket();
  for (const pane of state.panes.values()) pane.element.remove();
  Object.assign(state, {
    screen: 'login', me: null, csrf: null, queue: [], queueNotice: null, active: null, order: [],
    connection: 'idle', connectedOnce: false, offerNotices: [], offline: [], followUps: [], reader: null,
  });
  state.offers.clear();
  state.offerBusy.clear();
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
      case 'accept-offer': acceptOffer(id); break;
      case 'decline-offer': declineOffer(id); break;
      case 'dismiss-offer-notice': dismissNotice(target.dataset.key); break;
      case 'read-offline': openOffline(id); break;
      case 'close-follow-up': closeFollowUp(id); break;
      case 'close-reader': closeReader(); break;
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
    send: (form, text) => {
      const id = form.closest('.pane')?.dataset.id;
      if (isNoteMode(id)) addNote(id, text); // a private note (notes.js), not a message
      else sendMessage(id, text);
    },
    // Writing a note is not typing to the visitor: they are not told.
    typing: (form, on) => {
      const id = form.closest('.pane')?.dataset.id;
      if (!isNoteMode(id)) sendTyping(id, on);
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
  setInterval(renderWaitedTimes, 30_000);
  setInterval(renderCountdowns, 1_000);
}

whenSessionGone(loggedOut);
installHandlers();
installInbox();
installEmail(root);
installNotes(root);
installModeration(root);
installTransfer(root);
installSupervisor(root);
installMaintenance();
installTranscript(root);
installConsoleAttachments(root);
installSecrets(root);
installBans(root);
boot();
