// Secrets (SPEC V15): a key button beside the message box opens a small form (a label, and the
// value in a password field) that sends a password or API token for the operator to reveal
// once. The value goes out in one REST request and is never put in the thread, the outbox or
// storage: the thread shows the `secret` event, which carries only the label, and then what
// became of it (`secret_revealed`, `secret_expired`).
import { h, newId } from '../common/dom.js';
import { t, errorText, formatTime } from '../common/i18n.js';
import { registerRenderer } from '../common/render.js';
import { state, render } from './page.js';
import { api } from './session.js';

const DIALOG = 'secret-dialog';
let sending = false;

function enabled() {
  const s = state.config && state.config.secrets;
  return Boolean(s && s.enabled);
}

function labelOf(data) {
  return (data && data.label) || t('secret.unnamed');
}

/** Put the key button into the composer form, before its send button (a live chat only). */
export function withSecretButton(form) {
  if (!enabled()) return form;
  form.classList.add('composer--secret');
  form.insertBefore(h('button', {
    type: 'button', class: 'secret-open secondary', 'data-action': 'secret-open', id: 'secret-open',
    'aria-label': t('secret.open'), title: t('secret.open'), 'aria-haspopup': 'dialog', text: '🔑',
  }), form.querySelector('.send'));
  return form;
}

/** The form, in a modal dialog; drawn with the chat screen and opened by the key button. */
export function secretDialog() {
  if (!enabled()) return null;
  const max = state.config.secrets.max_chars;
  return h('dialog', { class: 'confirm secret-dialog', id: DIALOG, 'aria-labelledby': `${DIALOG}-title` },
    h('form', { 'data-form': 'secret', novalidate: true, autocomplete: 'off' },
      h('h2', { id: `${DIALOG}-title`, text: t('secret.title') }),
      h('p', { class: 'secret-intro', id: `${DIALOG}-intro`, text: t('secret.intro') }),
      h('label', { for: 'secret-label', text: t('secret.label') }),
      h('input', {
        type: 'text', id: 'secret-label', name: 'label', maxlength: '100', autocomplete: 'off',
        placeholder: t('secret.label_placeholder'),
      }),
      h('label', { for: 'secret-value', text: t('secret.value') }),
      h('input', {
        type: 'password', id: 'secret-value', name: 'value', maxlength: String(max), required: true,
        autocomplete: 'off', spellcheck: 'false', 'aria-describedby': `${DIALOG}-intro ${DIALOG}-error`,
      }),
      h('p', { class: 'field-error', id: `${DIALOG}-error`, role: 'alert' }),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'secondary', 'data-action': 'secret-cancel', text: t('secret.cancel') }),
        h('button', { type: 'submit', class: 'primary', text: t('secret.send') }))));
}

function dialog() {
  return document.getElementById(DIALOG);
}

function close() {
  const box = dialog();
  if (!box) return;
  box.querySelector('form').reset(); // the value leaves the page with the dialog
  box.querySelector(`#${DIALOG}-error`).textContent = '';
  box.close();
  document.getElementById('secret-open')?.focus();
}

function open() {
  const c = state.conversation;
  if (!c || c.status !== 'active') {
    // Only the operator who has the chat can reveal it, before it expires: wait for them.
    state.notice = t('secret.not_yet');
    render();
    return;
  }
  dialog()?.showModal();
  document.getElementById('secret-label')?.focus();
}

async function submit(form) {
  const value = form.elements.value.value;
  const error = form.querySelector(`#${DIALOG}-error`);
  if (!value.trim()) {
    error.textContent = errorText('bad_secret');
    form.elements.value.focus();
    return;
  }
  if (sending || !state.conversation) return;
  sending = true;
  try {
    await api('POST', `/api/v1/visitor/conversations/${encodeURIComponent(state.conversation.id)}/secrets`, {
      client_id: newId(), label: form.elements.label.value.trim() || null, value,
    });
    close(); // the `secret` event shows it in the thread
  } catch (err) {
    error.textContent = errorText(err.code);
    form.elements.value.focus();
  } finally {
    sending = false;
  }
}

function sentItem(event) {
  const data = event.data || {};
  return h('li', { class: 'msg msg--mine msg--visitor msg--secret', dataset: { seq: String(event.seq), clientId: event.client_id || '' } },
    h('div', { class: 'meta' },
      h('span', { class: 'who visually-hidden', text: t('message.you') }), ' ',
      h('time', { datetime: event.at || '', text: formatTime(event.at) })),
    h('div', { class: 'body secret-body' },
      h('span', { class: 'secret-icon', 'aria-hidden': 'true', text: '🔑 ' }),
      h('span', { class: 'secret-title', text: t('secret.sent', { label: labelOf(data) }) }),
      h('span', { class: 'secret-hint', text: t('secret.sent_until', { time: formatTime(data.expires_at) }) })));
}

function systemItem(event, text) {
  return h('li', { class: `system system--${event.kind}`, dataset: { seq: String(event.seq) } },
    h('span', { class: 'system-text', text }), ' ',
    h('time', { datetime: event.at || '', text: formatTime(event.at) }));
}

/** Draw secrets in the visitor's thread, and listen to the key button and the form. */
export function installSecret(root) {
  registerRenderer('secret', (event) => sentItem(event));
  registerRenderer('secret_revealed', (event) => systemItem(event, t('secret.revealed_visitor', { label: labelOf(event.data) })));
  registerRenderer('secret_expired', (event) => {
    const reason = event.data && event.data.reason === 'ended' ? 'ended' : 'expired';
    return systemItem(event, t(`secret.${reason}_visitor`, { label: labelOf(event.data) }));
  });
  root.addEventListener('click', (event) => {
    const target = event.target.closest('[data-action]');
    if (!target) return;
    if (target.dataset.action === 'secret-open') open();
    else if (target.dataset.action === 'secret-cancel') close();
  });
  root.addEventListener('submit', (event) => {
    if (!event.target.matches('[data-form="secret"]')) return;
    event.preventDefault();
    submit(event.target);
  });
  root.addEventListener('cancel', (event) => {
    if (event.target.id === DIALOG) {
      event.preventDefault();
      close();
    }
  }, true);
}
