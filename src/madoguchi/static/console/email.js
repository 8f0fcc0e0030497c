// Answering an offline message or a follow-up by email from the reader (docs/email.md): the
// answer is a message of the conversation and a mail to the visitor's address, sent together.
import { h } from '../common/dom.js';
import { t, errorText } from '../common/i18n.js';
import { state } from './page.js';
import { api, conversationPath } from './session.js';
import { openOffline } from './inbox.js';

/** The "Answer by email" form under the reader's facts. */
export function answerForm(summary) {
  const busy = state.emailBusy === summary.id;
  return h('form', { class: 'email-answer', 'data-form': 'email-answer', dataset: { id: summary.id } },
    h('label', { for: 'email-answer-body', text: t('email.answer_label') }),
    h('textarea', {
      id: 'email-answer-body', name: 'body', rows: '5', required: true,
      placeholder: t('email.answer_placeholder'),
    }),
    h('button', {
      type: 'submit', class: 'small', disabled: busy,
      text: busy ? t('email.sending') : t('email.send'),
    }));
}

async function send(form) {
  const id = form.dataset.id;
  const body = form.elements.body.value;
  if (!body.trim() || state.emailBusy) return;
  state.emailBusy = id;
  const button = form.querySelector('button[type="submit"]');
  if (button) { button.disabled = true; button.textContent = t('email.sending'); }
  try {
    // One client id per answer: a retry after a lost response is stored and mailed once.
    form.dataset.clientId ||= crypto.randomUUID();
    await api('POST', conversationPath(id, '/email'), { client_id: form.dataset.clientId, body });
    state.emailBusy = null;
    form.elements.body.value = ''; // sent: the reader, drawn again, keeps no copy of it
    await openOffline(id); // the reader shows the answer in the thread
  } catch (err) {
    state.emailBusy = null;
    if (state.reader) state.reader.error = errorText(err.code);
    if (button) { button.disabled = false; button.textContent = t('email.send'); }
    const note = form.querySelector('.notice') || form.appendChild(h('p', { class: 'notice', role: 'alert' }));
    note.textContent = errorText(err.code);
  }
}

/** The reader's submit listener (delegated on the console's root). */
export function installEmail(root) {
  root.addEventListener('submit', (event) => {
    const form = event.target;
    if (!form.matches('[data-form="email-answer"]')) return;
    event.preventDefault();
    send(form);
  });
}
