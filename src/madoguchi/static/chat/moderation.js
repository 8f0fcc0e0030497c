// What the visitor is told when moderation refuses a message (docs/moderation.md): garbled text
// (P8) comes back with the repaired text to use when the server could repair it, a blocked link
// (P9) names its host. Card numbers are masked by the server and explained under the message.
import { t, errorText } from '../common/i18n.js';
import { state } from './page.js';

/** The words for a refused send: the error code's, with the blocked host where there is one. */
export function refusalText(frame) {
  if (frame.code === 'blocked_link' && frame.details && frame.details.host) {
    return t('error.blocked_link_host', { host: frame.details.host });
  }
  return errorText(frame.code);
}

/** What the refusal offers instead: the repair of a garbled message, when there is one. */
export function refusalOffer(frame) {
  if (frame.code === 'garbled_text' && frame.details && typeof frame.details.repaired === 'string') {
    return { repaired: frame.details.repaired };
  }
  return null;
}

/** "Use this text": the repair goes into the message box, to read and send (or change). */
export function installModeration(root) {
  root.addEventListener('click', (event) => {
    const button = event.target.closest('[data-action="use-repaired"]');
    if (!button || !root.contains(button)) return;
    const box = root.querySelector('[data-composer]');
    if (!box) return;
    box.value = button.dataset.text;
    box.dispatchEvent(new Event('input', { bubbles: true }));
    if (state.thread) state.thread.forget(button.dataset.clientId);
    box.focus();
  });
}
