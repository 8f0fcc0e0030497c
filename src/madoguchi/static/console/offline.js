// The "Offline messages" list and its read-only reader: chats that left the live queue (left
// while the desk was closed, or nobody took them within `max_wait_minutes`) and now wait for an
// answer. Views only: inbox.js fetches them, page.js draws them.
import { h } from '../common/dom.js';
import { t, tNodes, lang } from '../common/i18n.js';
import { chatTitle, languageName } from './pane.js';
import { answerForm } from './email.js';

/** The DOM id part of an offline message. */
export function offlineDomId(id) {
  return `offline-${id.replace(/[^\w-]/g, '_')}`;
}

/** Who left it: the name they gave, else the chat's usual title. */
export function senderName(summary) {
  const name = summary.prechat && summary.prechat.name;
  return name || chatTitle(summary);
}

function receivedText(iso) {
  const date = new Date(iso);
  if (!iso || Number.isNaN(date.getTime())) return '';
  return new Intl.DateTimeFormat(lang(), { dateStyle: 'short', timeStyle: 'short' }).format(date);
}

/** A mailto: link to `email` (each side of the @ escaped, so the address stays one address). */
export function mailLink(email) {
  const href = `mailto:${email.split('@').map(encodeURIComponent).join('@')}`;
  return h('a', { href, class: 'mail', text: email });
}

function offlineItem(summary, { topicLabel, preview }) {
  const dom = offlineDomId(summary.id);
  const email = summary.prechat && summary.prechat.email;
  return h('li', {},
    h('button', {
      type: 'button', class: 'offline-item', id: `${dom}-open`, 'data-action': 'read-offline',
      dataset: { id: summary.id },
    },
    h('span', { class: 'oi-head' },
      h('strong', { class: 'oi-name', text: senderName(summary) }),
      h('span', { class: 'qi-lang', text: languageName(summary.language) })),
    h('span', { class: 'oi-meta', text: `${topicLabel(summary.topic)} · ${receivedText(summary.created_at)}` }),
    email ? h('span', { class: 'oi-email', text: email }) : null,
    preview ? h('span', { class: 'oi-preview', text: preview }) : null));
}

/**
 * The "Offline messages" section: heading with the count, and the messages, oldest first.
 * @param {Array<object>} messages conversation summaries with status `offline`
 * @param {{topicLabel: Function, previews: Map}} options
 */
export function offlineChildren(messages, { topicLabel, previews }) {
  return [
    h('h2', { id: 'offline-title' }, t('offline.title'), ' ',
      h('span', {
        class: 'count', 'aria-label': t('offline.count', { count: messages.length }),
        text: String(messages.length),
      })),
    messages.length
      ? h('ul', { class: 'offline-list' }, messages.map((m) => offlineItem(m, {
        topicLabel, preview: previews.get(m.id),
      })))
      : h('p', { class: 'empty', text: t('offline.empty') }),
  ];
}

/**
 * The "Follow-ups" list: chats whose answer is owed by email or another channel (A7, A8).
 * @param {Array<object>} followUps conversation summaries with status `follow_up`
 * @param {{topicLabel: Function, previews: Map}} options
 */
export function followUpChildren(followUps, { topicLabel, previews }) {
  return [
    h('h2', { id: 'followups-title' }, t('followups.title'), ' ',
      h('span', { class: 'count', text: String(followUps.length) })),
    followUps.length
      ? h('ul', { class: 'offline-list followup-list' }, followUps.map((m) => offlineItem(m, {
        topicLabel, preview: `${t(`reason.${m.end_reason || 'deferred'}`)}${previews.get(m.id) ? ` · ${previews.get(m.id)}` : ''}`,
      })))
      : h('p', { class: 'empty', text: t('followups.empty') }),
  ];
}

/**
 * The reader's content: who, how to answer today, and the conversation's events (read-only).
 * @param {object} summary
 * @param {{thread: import('../common/thread.js').Thread|null, error: string|null,
 *   topicLabel: Function, departmentLabel: Function}} options
 */
export function readerChildren(summary, { thread, error, topicLabel, departmentLabel }) {
  const email = summary.prechat && summary.prechat.email;
  const row = (key, value) => [h('dt', { text: t(key) }), h('dd', {}, value || t('context.none'))];
  return [
    h('header', { class: 'reader-head' },
      h('h2', { id: 'reader-title', text: senderName(summary) }),
      h('button', {
        type: 'button', class: 'secondary small', 'data-action': 'close-reader',
        text: t('offline.close'),
      })),
    h('dl', { class: 'reader-facts' },
      row('offline.email', email ? mailLink(email) : null),
      row('context.topic', topicLabel(summary.topic)),
      row('offline.department', departmentLabel(summary.department)),
      row('context.language', languageName(summary.language)),
      row('offline.received', receivedText(summary.created_at))),
    h('p', { class: 'reader-note' },
      email ? tNodes('offline.reply_by_email', { email: mailLink(email) }) : t('offline.no_email')),
    email ? answerForm(summary) : null,
    error ? h('p', { class: 'notice', role: 'alert', text: error }) : null,
    summary.status === 'follow_up'
      ? h('button', {
        type: 'button', class: 'small', 'data-action': 'close-follow-up', dataset: { id: summary.id },
        text: t('followups.close'),
      })
      : null,
    thread ? thread.scroller : null,
    thread || error ? null : h('p', { class: 'loading', role: 'status', text: t('chat.loading') }),
  ];
}
