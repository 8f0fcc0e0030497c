// The idle and no-reply warnings in the chat frame (SPEC P2, P3; docs/lifecycle.md). The
// warning's line says how long is left and, while the warning stands, carries an "I'm still
// here" button. Anything that answers it (a message, typing seen by the server, the button)
// makes the server send `warning_cleared`, and the button goes.
import { h } from '../common/dom.js';
import { t, errorText } from '../common/i18n.js';
import { registerRenderer } from '../common/render.js';
import { state } from './page.js';
import { api } from './session.js';

const ANSWERS = new Set(['warning_cleared', 'still_here', 'message', 'ended', 'follow_up', 'requeued']);

let standing = null; // `${conversation_id}:${seq}` of the warning not yet answered

/** Keep track of which warning stands; call for every event, before it is shown. */
export function noteEvent(event) {
  if (event.kind === 'warning') {
    standing = `${event.conversation_id}:${event.seq}`;
  } else if (ANSWERS.has(event.kind) && standing && standing.startsWith(`${event.conversation_id}:`)) {
    standing = null;
    for (const button of document.querySelectorAll('[data-action="still-here"]')) button.remove();
  }
}

registerRenderer('warning', (event) => {
  const data = event.data || {};
  const limit = data.limit === 'no_reply' ? 'no_reply' : 'idle';
  const live = standing === `${event.conversation_id}:${event.seq}`;
  return h('li', { class: 'system system--warning', dataset: { seq: String(event.seq) }, role: 'alert' },
    h('span', { class: 'system-text', text: t(`limits.warning.${limit}`, { count: data.minutes || 1 }) }),
    live
      ? h('button', {
        type: 'button', class: 'still-here', 'data-action': 'still-here',
        dataset: { conversation: event.conversation_id }, text: t('limits.still_here'),
      })
      : null);
});

document.addEventListener('click', async (e) => {
  const button = e.target.closest('[data-action="still-here"]');
  if (!button) return;
  button.disabled = true;
  try {
    await api('POST', `/api/v1/visitor/conversations/${encodeURIComponent(button.dataset.conversation)}/still-here`);
  } catch (err) {
    button.disabled = false;
    state.notice = errorText(err.code);
  }
});
