// The chat frame's state and the page drawn from it: which screen is on (topics -> pre-chat form
// -> conversation -> ended; or, for a topic that cannot chat now, its hours or "busy" with the
// offline message form, then a thank-you; or an error), the status line, and where focus goes
// after a redraw.
// Nothing here talks to the server.
import { h, replace } from '../common/dom.js';
import * as i18n from '../common/i18n.js';
import { t, errorText } from '../common/i18n.js';
import { composer } from '../common/thread.js';
import { topicsScreen, prechatScreen, errorScreen, endedPanel, endDialog } from './screens.js';
import { hoursScreen, busyScreen, leftScreen } from './hours.js';
import { waitingPanel, updatePlace } from './waiting.js';
import { languageNotice } from './notice.js';
import { listScreen, listBar, listButton } from './conversations.js';
import { replacedByMaintenance, maintenanceScreen } from './maintenance.js';
import { replacedByPlan, plansScreen } from './identity.js';
import { transcriptButton, transcriptEmailButton } from './transcript.js';
import { withAttachments } from './attachments.js';
import { surveyPanel } from './survey.js';
import { withSecretButton, secretDialog } from './secret.js';
import { unavailableScreen } from './unavailable.js';

export const state = {
  config: null,
  session: null, // {visitor_id, token, scoped}: scoped when it came from an emailed link (V9)
  screen: 'loading', // loading | topics | prechat | hours | busy | left | chat | list | error
  error: null,
  topic: null,
  prechat: {}, // form values kept across re-renders
  prechatStatus: {},
  availability: null, // GET /api/v1/visitor/availability for the chat language, once loaded
  gate: null, // why the chosen topic cannot chat now: closed | not_served | busy
  leave: {}, // the offline message form's values, kept across re-renders
  leaveStatus: {}, // {errors: {field: text}, error, busy}
  retry: {}, // the busy screen's retry: {busy, still}
  left: null, // the address an offline message will be answered at (the thank-you screen)
  queue: null, // the last `queue` frame of the conversation on screen, while it waits
  conversation: null, // the summary of the conversation on screen
  conversations: [], // the visitor's conversations, for the list (conversations.js, SPEC V16)
  thread: null, // its messages, typing line and pending sends (common/thread.js)
  connection: 'idle',
  connectedOnce: false,
  notice: null, // a transient error about the conversation
  identity: null, // what the host page's token vouches for (identity.js, SPEC V4), if one came
  linkRefused: null, // the code an away mail's link was refused with (session.js, SPEC V9)
};
let focusNext = null; // what to focus after the next render

const header = h('header', { class: 'chat-header' });
export const main = h('main', { class: 'chat-main', id: 'main' });

/** Put the frame's header and main area into `root`, once at start. */
export function mount(root) {
  root.append(header, main);
}

/** Redraw the header and the current screen, keeping the draft and the focus. */
export function render() {
  const company = (state.config && state.config.company && state.config.company.name) || '';
  document.title = company ? t('chat.document_title', { company }) : t('chat.document_title_plain');
  const active = document.activeElement && document.activeElement.id;
  const draft = main.querySelector('[data-composer]')?.value;
  if (state.screen === 'prechat') readPrechat();
  if (state.screen === 'hours' || state.screen === 'busy') readLeave();

  replace(header,
    h('p', { class: 'company', text: company || t('chat.document_title_plain') }),
    i18n.languageSwitcher('chat-lang'),
    transcriptEmailButton(),
    transcriptButton());
  replace(main, languageNotice(), screenElement());

  if (draft) {
    const textarea = main.querySelector('[data-composer]');
    if (textarea) textarea.value = draft;
  }
  const target = focusNext || active;
  focusNext = null;
  if (target) document.getElementById(target)?.focus();
}

function screenElement() {
  // While an admin has paused chat, their message replaces every screen before a chat (SPEC X5).
  if (replacedByMaintenance(state.screen)) return maintenanceScreen();
  // A verified member whose plan has no chat gets links instead (SPEC V4).
  if (replacedByPlan(state.screen)) return plansScreen();
  switch (state.screen) {
    case 'topics':
      return [linkNotice(), listBar(), topicsScreen(state.config, state.availability)];
    case 'list':
      return listScreen();
    case 'prechat':
      return prechatScreen(state.config, state.topic, state.prechat, state.prechatStatus, state.identity);
    case 'hours':
      return hoursScreen(state.config, state.availability, state.topic, state.gate, state.leave, state.leaveStatus);
    case 'busy':
      return busyScreen(state.config, state.topic, state.leave, state.leaveStatus, state.retry);
    case 'left':
      return leftScreen(state.left);
    case 'chat':
      return chatScreen();
    case 'error':
      return errorScreen(state.error);
    case 'unavailable': // a banned visitor, told only this (SPEC A10)
      return unavailableScreen();
    default:
      return h('div', { class: 'loading', 'aria-busy': 'true', role: 'status', text: t('chat.loading') });
  }
}

/** Why the link of an away mail did not open its conversation (expired, not valid). */
function linkNotice() {
  if (!state.linkRefused) return null;
  return h('p', { class: 'notice', role: 'alert', id: 'link-notice', text: errorText(state.linkRefused) });
}

function chatScreen() {
  const c = state.conversation;
  // An offline conversation (nobody took it in time) waits for an answer: like an ended one,
  // the visitor can only start anew (the API has no way to add a name and email to it yet).
  const ended = c.status === 'ended' || c.status === 'offline';
  state.thread.render();
  return h('section', { class: 'screen screen--chat', 'aria-label': t('chat.conversation_label') },
    h('div', { class: 'statusbar' },
      listButton(),
      h('p', { class: 'status', id: 'chat-status', role: 'status', text: statusText() }),
      ended ? null : h('button', { type: 'button', class: 'secondary small', 'data-action': 'end', id: 'chat-end', text: t('chat.end') })),
    state.notice ? h('p', { class: 'notice', role: 'alert', text: state.notice }) : null,
    c.status === 'waiting' ? waitingPanel(state.queue) : null,
    state.thread.scroller,
    state.thread.typingLine,
    surveyPanel(), // once a chat with an operator is over (SPEC V12)
    ended
      ? endedPanel()
      : withAttachments(withSecretButton(composer({ id: 'chat-composer', maxLength: state.config.limits && state.config.limits.message_max_chars }))),
    ended ? null : endDialog(),
    ended ? null : secretDialog()); // SPEC V15
}

function statusText() {
  const c = state.conversation;
  if (c.status === 'ended') return t('status.ended');
  if (c.status === 'offline') return t('status.offline');
  if (state.connection === 'waiting' || (state.connection === 'connecting' && state.connectedOnce)) {
    return t('status.reconnecting');
  }
  if (c.status === 'active' && c.operator) return t('status.with', { name: c.operator.name || t('message.operator') });
  return t('status.waiting');
}

/** Refresh the status line alone (the rest of the screen is unchanged). */
export function updateStatus() {
  const el = document.getElementById('chat-status');
  if (el) el.textContent = statusText();
}

/** Refresh the waiting panel alone: the latest place, or gone once the chat has left the queue. */
export function updateWaiting() {
  const panel = document.getElementById('chat-waiting');
  if (!state.conversation || state.conversation.status !== 'waiting') panel?.remove();
  else updatePlace(state.queue);
}

/** Switch to `screen` and focus `focusId` once it is drawn. */
export function show(screen, focusId = null) {
  state.screen = screen;
  focusNext = focusId;
  render();
}

/** Keep what the visitor typed in the pre-chat form, so that a redraw can put it back. */
export function readPrechat() {
  const form = main.querySelector('[data-form="prechat"]');
  if (!form) return;
  const data = new FormData(form);
  state.prechat = {
    member_id: data.get('member_id') || '',
    contract_name: data.get('contract_name') || '',
    contact_person: data.get('contact_person') || '',
    email: data.get('email') || '',
    message: data.get('message') || '',
    consent: form.elements.consent.checked,
  };
}

/** Keep what the visitor typed in the offline message form, so that a redraw can put it back. */
export function readLeave() {
  const form = main.querySelector('[data-form="leave"]');
  if (!form) return;
  const data = new FormData(form);
  state.leave = {
    name: data.get('name') || '',
    email: data.get('email') || '',
    message: data.get('message') || '',
    consent: form.elements.consent.checked,
  };
}
