// The waiting panel (SPEC V7): while a conversation is in the queue, kind words and the visitor's
// place in line with an estimate, from the server's `queue` frames (docs/protocol.md). The place
// line is a polite live region updated in place, so a screen reader hears each change once.
import { h } from '../common/dom.js';
import { t } from '../common/i18n.js';

/** Whole minutes for a wait in seconds: never "0 minutes" for a wait that is not zero. */
export function minutes(seconds) {
  return Math.max(1, Math.round(seconds / 60));
}

/**
 * The lines saying where the visitor stands, or none before the first `queue` frame.
 * @param {{position: number, wait_seconds: number|null}|null} queue
 * @returns {string[]}
 */
export function placeLines(queue) {
  if (!queue) return [];
  const lines = [t('waiting.position', { position: queue.position })];
  if (queue.wait_seconds === null || queue.wait_seconds === undefined) {
    lines.push(t('waiting.nobody'));
  } else if (queue.wait_seconds === 0) {
    lines.push(t('waiting.soon'));
  } else {
    lines.push(t('waiting.estimate', { count: minutes(queue.wait_seconds) }));
  }
  return lines;
}

function fillPlace(el, queue) {
  el.replaceChildren(...placeLines(queue).map((line) => h('span', { class: 'waiting-line', text: line })));
}

/**
 * The panel shown above the messages while the conversation waits.
 * @param {{position: number, wait_seconds: number|null}|null} queue the last `queue` frame
 */
export function waitingPanel(queue) {
  const place = h('p', { class: 'waiting-place', id: 'chat-waiting-place', 'aria-live': 'polite', 'aria-atomic': 'true' });
  fillPlace(place, queue);
  return h('section', { class: 'waiting', id: 'chat-waiting', 'aria-label': t('waiting.label') },
    h('p', { class: 'waiting-kind', text: t('waiting.kind') }),
    place);
}

/** Put the latest place into the panel on screen (nothing when the panel is not there). */
export function updatePlace(queue) {
  const el = document.getElementById('chat-waiting-place');
  if (el) fillPlace(el, queue);
}
