// Secrets (SPEC V15) in the console: a visitor's secret is a bubble with "Reveal (once)". The
// reveal (POST …/secrets/{id}/reveal) deletes it on the server and answers with the value, which
// the bubble shows with a copy button and hides again after `[secrets] show_seconds`; then it is
// gone from the page too. Later events (`secret_revealed`, `secret_expired`) and a 410 from the
// server turn the bubble into "revealed" or "expired".
import { h } from '../common/dom.js';
import { t, errorText, formatTime, formatDateTime } from '../common/i18n.js';
import { registerRenderer } from '../common/render.js';
import { state } from './page.js';
import { api, conversationPath } from './session.js';

const DEFAULT_SHOW_SECONDS = 30;
// secret id -> what the operator's page knows of it: {fate: 'revealed'|'expired'|'ended'|'gone'}
// once it is used up; {value, timer} while it is shown. Values live here only while shown.
const known = new Map();
// secret id -> its bubble (the latest one drawn): events after it redraw it in place.
const bubbles = new Map();

function labelOf(data) {
  return (data && data.label) || t('secret.unnamed');
}

function showSeconds() {
  const s = state.config && state.config.secrets;
  return (s && s.show_seconds) || DEFAULT_SHOW_SECONDS;
}

function fateText(fate) {
  if (fate === 'revealed') return t('secret.state_revealed');
  if (fate === 'expired' || fate === 'ended') return t('secret.state_expired');
  return t('secret.state_gone');
}

/** The bubble's changing part: the reveal button, the value shown, or what became of it. */
function bubbleBody(conversationId, secretId, data) {
  const now = known.get(secretId) || {};
  if (now.value !== undefined) {
    return h('div', { class: 'secret-shown' },
      h('div', { class: 'code' },
        h('pre', {}, h('code', { class: 'secret-value', text: now.value })),
        h('button', {
          type: 'button', class: 'copy', 'data-action': 'copy', 'aria-label': t('secret.copy_label'),
          text: t('message.copy'),
        })),
      h('p', { class: 'secret-hint', text: t('secret.shown_hint') }),
      h('button', {
        type: 'button', class: 'secondary small', 'data-action': 'secret-hide',
        dataset: { secret: secretId, conversation: conversationId }, text: t('secret.hide'),
      }));
  }
  if (now.fate) return h('p', { class: `secret-state secret-state--${now.fate}`, text: fateText(now.fate) });
  return h('div', { class: 'secret-actions' },
    h('button', {
      type: 'button', class: 'primary small', 'data-action': 'secret-reveal',
      dataset: { secret: secretId, conversation: conversationId }, text: t('secret.reveal'),
    }),
    h('span', { class: 'secret-hint', text: t('secret.reveal_hint', { time: formatTime(data.expires_at) }) }),
    now.error ? h('p', { class: 'field-error', role: 'alert', text: now.error }) : null);
}

function renderSecret(event, { viewer }) {
  if (viewer !== 'operator') return null;
  const data = event.data || {};
  const secretId = data.secret_id;
  const li = h('li', {
    class: 'msg msg--theirs msg--visitor msg--secret', dataset: { seq: String(event.seq), secret: secretId || '' },
  },
  h('div', { class: 'meta' },
    h('span', { class: 'who', text: t('message.visitor') }), ' ',
    h('time', { datetime: event.at || '', title: event.at ? formatDateTime(event.at) : false, text: formatTime(event.at) })),
  h('div', { class: 'body secret-body' },
    h('p', { class: 'secret-title' },
      h('span', { class: 'secret-icon', 'aria-hidden': 'true', text: '🔑 ' }),
      t('secret.from_visitor', { label: labelOf(data) })),
    h('div', { class: 'secret-slot' }, bubbleBody(event.conversation_id, secretId, data))));
  li.secretData = data;
  li.conversationId = event.conversation_id;
  bubbles.set(secretId, li);
  return li;
}

function redraw(secretId) {
  const li = bubbles.get(secretId);
  const slot = li && li.querySelector('.secret-slot');
  if (!slot) return;
  const hadFocus = li.contains(document.activeElement);
  slot.replaceChildren(bubbleBody(li.conversationId, secretId, li.secretData));
  if (hadFocus) (slot.querySelector('button') || li.querySelector('.secret-title'))?.focus?.();
}

/** Record what became of a secret; a value on screen stays until its time is up. */
function settle(secretId, fate) {
  const now = known.get(secretId) || {};
  if (now.fate && now.value === undefined) return;
  known.set(secretId, { ...now, fate });
  if (now.value === undefined) redraw(secretId);
}

function hide(secretId) {
  const now = known.get(secretId);
  if (!now) return;
  clearTimeout(now.timer);
  known.set(secretId, { fate: now.fate || 'revealed' }); // the value is dropped here
  redraw(secretId);
}

async function reveal(conversationId, secretId) {
  const now = known.get(secretId) || {};
  if (now.busy || now.fate) return;
  known.set(secretId, { busy: true });
  try {
    const answer = await api('POST', conversationPath(conversationId, `/secrets/${encodeURIComponent(secretId)}/reveal`));
    const timer = setTimeout(() => hide(secretId), showSeconds() * 1000);
    known.set(secretId, { value: answer.value, timer, fate: 'revealed' });
    redraw(secretId);
    bubbles.get(secretId)?.querySelector('.secret-shown .copy')?.focus();
  } catch (err) {
    if (err.code === 'secret_gone') known.set(secretId, { fate: 'gone' });
    else known.set(secretId, { error: errorText(err.code) });
    redraw(secretId);
  }
}

function systemItem(event, text) {
  return h('li', { class: `system system--${event.kind}`, dataset: { seq: String(event.seq) } },
    h('span', { class: 'system-text', text }), ' ',
    h('time', { datetime: event.at || '', title: event.at ? formatDateTime(event.at) : false, text: formatTime(event.at) }));
}

/** Draw secrets in every chat's thread, and listen to their buttons (once, at start). */
export function installSecrets(root) {
  registerRenderer('secret', renderSecret);
  registerRenderer('secret_revealed', (event) => {
    const data = event.data || {};
    settle(data.secret_id, 'revealed');
    const name = (data.operator && data.operator.name) || t('message.operator');
    return systemItem(event, t('secret.revealed_operator', { name, label: labelOf(data) }));
  });
  registerRenderer('secret_expired', (event) => {
    const data = event.data || {};
    const reason = data.reason === 'ended' ? 'ended' : 'expired';
    settle(data.secret_id, reason);
    return systemItem(event, t(`secret.${reason}_operator`, { label: labelOf(data) }));
  });
  root.addEventListener('click', (event) => {
    const button = event.target.closest('[data-action="secret-reveal"], [data-action="secret-hide"]');
    if (!button) return;
    if (button.dataset.action === 'secret-reveal') reveal(button.dataset.conversation, button.dataset.secret);
    else hide(button.dataset.secret);
  });
}
