// What a banned visitor sees (SPEC A10): a neutral "chat is not available", the same words
// whether the session, the start of a chat, an offline message, a message or the socket was
// refused. It never says "banned": that would only tell them to come back from elsewhere.
import { h } from '../common/dom.js';
import { t, errorText } from '../common/i18n.js';
import { show } from './page.js';

/** The screen: a heading and a pointer to the site's other channels; no retry button. */
export function unavailableScreen() {
  return h('section', { class: 'screen screen--unavailable', 'aria-labelledby': 'unavailable-title' },
    h('h1', { id: 'unavailable-title', tabindex: '-1', text: errorText('not_available') }),
    h('p', { class: 'lead', id: 'unavailable-lead', text: t('unavailable.lead') }));
}

/** Whether an API or socket error is the neutral refusal: if so, show its screen. */
export function refusedAsUnavailable(code) {
  if (code !== 'not_available') return false;
  show('unavailable', 'unavailable-title');
  return true;
}
