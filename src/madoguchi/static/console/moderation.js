// A visitor's message with abuse words (P9) is followed by a `flagged` event that only operators
// get: a line naming the words, and a button that chooses "prohibited content" as the end reason
// in the pane's end form (the operator still confirms with End). docs/moderation.md.
import { h } from '../common/dom.js';
import { t, formatTime, formatDateTime } from '../common/i18n.js';
import { registerRenderer } from '../common/render.js';
import { state } from './page.js';

function renderFlag(event, { viewer }) {
  if (viewer !== 'operator') return null;
  const words = Array.isArray(event.data && event.data.words) ? event.data.words : [];
  return h('li', { class: 'system system--flagged', dataset: { seq: String(event.seq) } },
    h('span', { class: 'system-text', text: t('flagged.line', { words: words.join(', ') }) }), ' ',
    h('time', { datetime: event.at || '', title: event.at ? formatDateTime(event.at) : false, text: formatTime(event.at) }), ' ',
    h('button', {
      type: 'button', class: 'flag-end', 'data-action': 'flag-end',
      dataset: { id: event.conversation_id }, text: t('flagged.end'),
    }));
}

/** Draw flags in every pane and answer their button (once, at start). */
export function installModeration(root) {
  registerRenderer('flagged', renderFlag);
  root.addEventListener('click', (event) => {
    const button = event.target.closest('[data-action="flag-end"]');
    if (!button || !root.contains(button)) return;
    const pane = state.panes.get(button.dataset.id);
    if (!pane || pane.ended) return;
    pane.setReason('prohibited');
    pane.element.querySelector('[data-end-reason]')?.focus();
  });
}
