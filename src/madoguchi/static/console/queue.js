// The "Waiting" list: chats in my departments that no operator has yet, oldest first.
import { h } from '../common/dom.js';
import { t } from '../common/i18n.js';
import { languageName } from './pane.js';

/** "just now", "3 min", "1 h 5 min" since an ISO time. */
export function waitedText(iso, now = Date.now()) {
  const minutes = Math.max(0, Math.floor((now - new Date(iso).getTime()) / 60000));
  if (minutes < 1) return t('queue.waited_now');
  if (minutes < 60) return t('queue.waited_minutes', { minutes });
  return t('queue.waited_hours', { hours: Math.floor(minutes / 60), minutes: minutes % 60 });
}

/** The pre-chat fields the visitor filled in, as a small list (null when none). */
export function prechatList(prechat) {
  const p = prechat || {};
  const rows = [
    ['context.member_id', p.member_id], ['context.contract_name', p.contract_name],
    ['context.contact_person', p.contact_person], ['context.email', p.email],
  ].filter(([, v]) => v);
  if (!rows.length) return null;
  return h('dl', { class: 'qi-prechat' }, rows.map(([key, value]) => [h('dt', { text: t(key) }), h('dd', { text: value })]));
}

/**
 * One queue entry.
 * @param {object} summary
 * @param {{topicLabel: (id: string) => string, preview?: string|null, error?: string|null, busy?: boolean}} options
 */
export function queueItem(summary, { topicLabel, preview, error, busy }) {
  const titleId = `queue-${summary.id.replace(/[^\w-]/g, '_')}`;
  return h('li', { class: 'queue-item', dataset: { id: summary.id }, 'aria-labelledby': titleId },
    h('div', { class: 'qi-head' },
      h('strong', { id: titleId, class: 'qi-topic', text: topicLabel(summary.topic) }),
      h('span', { class: 'qi-lang', text: languageName(summary.language) }),
      h('span', {
        class: 'qi-waited', dataset: { since: summary.created_at || '' },
        'aria-label': t('queue.waited_label', { time: waitedText(summary.created_at) }),
        text: waitedText(summary.created_at),
      })),
    prechatList(summary.prechat),
    preview === undefined || preview === null
      ? (preview === null ? h('p', { class: 'qi-preview qi-preview--none', text: t('queue.no_message') }) : null)
      : h('p', { class: 'qi-preview', text: preview }),
    error ? h('p', { class: 'field-error', role: 'alert', text: error }) : null,
    h('button', {
      type: 'button', class: 'primary small', 'data-action': 'accept', dataset: { id: summary.id },
      disabled: busy ? true : false, text: t('queue.accept'),
      'aria-describedby': titleId,
    }));
}

/** Refresh every "waited" time shown under `root`. */
export function refreshWaited(root) {
  for (const el of root.querySelectorAll('.qi-waited[data-since]')) {
    const text = waitedText(el.dataset.since);
    el.textContent = text;
    el.setAttribute('aria-label', t('queue.waited_label', { time: text }));
  }
}

/**
 * The "Waiting" section: heading with the count, a notice, and the entries.
 * @param {Array<object>} waiting
 * @param {{topicLabel: (id: string) => string, notice: string|null, previews: Map, accepting: Set}} options
 */
export function queueChildren(waiting, { topicLabel, notice, previews, accepting }) {
  return [
    h('h2', { id: 'queue-title' }, t('queue.title'), ' ',
      h('span', { class: 'count', 'aria-label': t('queue.count', { count: waiting.length }), text: String(waiting.length) })),
    notice ? h('p', { class: 'notice', role: 'alert', text: notice }) : null,
    waiting.length
      ? h('ul', { class: 'queue-list' }, waiting.map((c) => queueItem(c, {
        topicLabel, preview: previews.get(c.id), busy: accepting.has(c.id),
      })))
      : h('p', { class: 'empty', text: t('queue.empty') }),
  ];
}
