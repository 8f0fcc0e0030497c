// The offer cards: a chat the server holds for me until `expires_at` (docs/protocol.md, `offered`),
// with Accept and Decline, and the short notices that say why an offer went away. Views only:
// they depend on nothing but their arguments (inbox.js changes the offers, page.js draws them).
import { h } from '../common/dom.js';
import { t, errorText } from '../common/i18n.js';
import { languageName } from './pane.js';
import { prechatList } from './queue.js';

/** Whole seconds from `now` until the ISO time `expiresAt`, never below zero. */
export function secondsLeft(expiresAt, now = Date.now()) {
  const ms = new Date(expiresAt).getTime() - now;
  return Number.isFinite(ms) ? Math.max(0, Math.ceil(ms / 1000)) : 0;
}

function countdownText(seconds) {
  return seconds > 0 ? t('offer.countdown', { seconds }) : t('offer.countdown_over');
}

/** The DOM id part of a conversation id. */
export function offerDomId(id) {
  return `offer-${id.replace(/[^\w-]/g, '_')}`;
}

/**
 * One offer card.
 * @param {{conversation: object, expires_at: string, total: number}} offer `total`: the seconds
 *   it had when it came, for the bar
 * @param {{topicLabel: Function, departmentLabel: Function, preview?: string|null, busy: boolean}} options
 */
export function offerCard(offer, { topicLabel, departmentLabel, preview, busy }) {
  const c = offer.conversation;
  const dom = offerDomId(c.id);
  const left = secondsLeft(offer.expires_at);
  return h('article', {
    class: 'offer-card', id: dom, dataset: { id: c.id }, 'aria-labelledby': `${dom}-title`,
    'aria-describedby': `${dom}-countdown`,
  },
  h('p', { class: 'offer-kicker', text: t('offer.kicker') }),
  h('div', { class: 'qi-head' },
    h('strong', { id: `${dom}-title`, class: 'qi-topic', text: topicLabel(c.topic) }),
    h('span', { class: 'qi-lang', text: languageName(c.language) }),
    h('span', { class: 'offer-dept', text: departmentLabel(c.department) })),
  prechatList(c.prechat),
  preview === undefined ? null : h('p', {
    class: preview === null ? 'qi-preview qi-preview--none' : 'qi-preview',
    text: preview === null ? t('queue.no_message') : preview,
  }),
  // role=timer is not announced at every tick; the card's arrival is (page.js announces it).
  h('p', {
    class: 'offer-countdown', id: `${dom}-countdown`, role: 'timer',
    dataset: { expires: offer.expires_at, total: String(offer.total || left || 1) },
    text: countdownText(left),
  }),
  bar(barPercent(left, offer.total)),
  h('div', { class: 'offer-actions' },
    h('button', {
      type: 'button', class: 'primary', id: `${dom}-accept`, 'data-action': 'accept-offer',
      dataset: { id: c.id }, disabled: busy ? true : false, text: t('offer.accept'),
      'aria-describedby': `${dom}-title`,
    }),
    h('button', {
      type: 'button', class: 'secondary', id: `${dom}-decline`, 'data-action': 'decline-offer',
      dataset: { id: c.id }, disabled: busy ? true : false, text: t('offer.decline'),
      'aria-describedby': `${dom}-title`,
    })));
}

// The page's CSP (style-src 'self') refuses style attributes but not CSSOM writes.
function bar(percent) {
  const fill = h('span');
  fill.style.width = `${percent}%`;
  return h('div', { class: 'offer-bar', 'aria-hidden': 'true' }, fill);
}

function barPercent(left, total) {
  return total > 0 ? Math.round((100 * Math.min(left, total)) / total) : 0;
}

/** Move every countdown under `root` to the current time (called every second). */
export function refreshCountdowns(root) {
  for (const el of root.querySelectorAll('.offer-countdown[data-expires]')) {
    const left = secondsLeft(el.dataset.expires);
    const text = countdownText(left);
    if (el.textContent !== text) el.textContent = text;
    const bar = el.parentElement.querySelector('.offer-bar > span');
    if (bar) bar.style.width = `${barPercent(left, Number(el.dataset.total))}%`;
  }
}

/** Why an offer went away, in the operator's words (`reason` from `offer_withdrawn`). */
export function withdrawnText(reason) {
  const known = ['lapsed', 'declined', 'unavailable', 'taken', 'ended', 'expired'];
  return t(`offer.withdrawn.${known.includes(reason) ? reason : 'other'}`);
}

/** A notice's words: why the offer went away (`reason`), or why accepting it failed (`error`). */
export function noticeText(notice) {
  return notice.error ? errorText(notice.error) : withdrawnText(notice.reason);
}

/**
 * One notice: which chat, and what became of its offer.
 * @param {{key: string, topic: string, reason?: string, error?: string}} notice `topic`: an id
 * @param {Function} topicLabel
 */
function noticeItem(notice, topicLabel) {
  return h('li', { class: 'offer-notice', dataset: { key: notice.key } },
    h('span', {}, h('strong', { text: `${topicLabel(notice.topic)}: ` }), noticeText(notice)),
    h('button', {
      type: 'button', class: 'link offer-dismiss', 'data-action': 'dismiss-offer-notice',
      dataset: { key: notice.key }, 'aria-label': t('offer.dismiss'), text: '×',
    }));
}

/**
 * The offers section (page.js hides it when empty): heading, notices, cards (most urgent first).
 * @param {Array<object>} offers
 * @param {{notices: Array<object>, topicLabel: Function, departmentLabel: Function,
 *   previews: Map, busy: Set}} options
 */
export function offersChildren(offers, { notices, topicLabel, departmentLabel, previews, busy }) {
  const sorted = [...offers].sort((a, b) => String(a.expires_at).localeCompare(String(b.expires_at)));
  return [
    h('h2', { id: 'offers-title' }, t('offer.title'), ' ',
      h('span', { class: 'count', text: String(sorted.length) })),
    notices.length
      ? h('ul', { class: 'offer-notices' }, notices.map((n) => noticeItem(n, topicLabel)))
      : null,
    sorted.map((offer) => offerCard(offer, {
      topicLabel, departmentLabel, preview: previews.get(offer.conversation.id),
      busy: busy.has(offer.conversation.id),
    })),
  ];
}
