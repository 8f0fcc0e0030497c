// Message bodies and conversation events as DOM. Bodies are text: they reach the page only through
// text nodes (never parsed as HTML) with their whitespace kept; code is shown in <pre><code>.
import { h, localized } from './dom.js';
import { t, lang, formatTime, formatDateTime } from './i18n.js';

const FENCE = /```[^\n`]*\n?([\s\S]*?)```/g;

// Lines that mark pasted code, logs or error output.
const CODE_LINE = [
  /^Traceback \(most recent call last\)/,
  /^\s*File ".+", line \d+/,
  /^\s*[\w.$]*(Error|Exception)\b.*:/,
  /^\s*(Fatal error|Parse error|Warning|Notice|Deprecated):/, // PHP
  /^\s+at\s+\S/, // stack frames
  /^\s*\$ \S/, // shell prompt
  /^\s*#!\//,
  /^\s*<\?php/,
  /^\s*[{}[\]()][,;]?\s*$/, // a lone brace or bracket
  /^\s*(def|class|function|import|from|const|let|var|if|for|while|return|SELECT|INSERT|UPDATE)\b.*[:;{(]\s*$/,
];

/**
 * Whether a message without fences looks like pasted code or error output: several lines with
 * indentation, or a line such as `Traceback …`, `Error: …`, `  at …`, `$ …`, `{`.
 * @param {string} text
 */
export function looksLikeCode(text) {
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  if (lines.length < 2) return false;
  const indented = lines.filter((line) => /^( {2,}|\t)\S/.test(line)).length;
  if (indented >= 2) return true;
  return lines.some((line) => CODE_LINE.some((re) => re.test(line)));
}

function codeBlock(code) {
  return h('div', { class: 'code' },
    h('pre', {}, h('code', { text: code })),
    h('button', {
      type: 'button', class: 'copy', 'data-action': 'copy', 'aria-label': t('message.copy_label'),
      text: t('message.copy'),
    }));
}

/**
 * Text with the links the server found in it (event `data.links`: the text as typed, the URL it
 * really opens, its host). A link opens exactly `url`, never what the text seems to say, and
 * shows its host beside it when the text does not start with it (userinfo, IDN, full-width).
 * Anything else, `javascript:` included, stays text.
 */
function textBlock(text, links = []) {
  const root = h('div', { class: 'text' });
  let rest = text;
  for (const link of links) {
    const at = rest.indexOf(link.text);
    if (at < 0 || !/^https?:\/\//.test(link.url)) continue;
    if (at > 0) root.append(rest.slice(0, at));
    root.append(h('a', {
      href: link.url, target: '_blank', rel: 'noopener noreferrer nofollow', title: link.url, text: link.text,
    }));
    const shown = link.text.replace(/^https?:\/\//i, '').toLowerCase();
    if (!shown.startsWith(link.host)) {
      root.append(' ', h('span', { class: 'link-host', text: t('message.link_host', { host: link.host }) }));
    }
    rest = rest.slice(at + link.text.length);
  }
  if (rest) root.append(rest);
  return root;
}

/**
 * Render a message body: text with whitespace kept, fenced blocks and code-like messages as code.
 * @param {string} body
 * @param {{text: string, url: string, host: string}[]} links the links of the event's data
 * @returns {HTMLElement}
 */
export function renderBody(body, links = []) {
  const text = String(body ?? '');
  const root = h('div', { class: 'body' });
  let last = 0;
  let fenced = false;
  for (const m of text.matchAll(FENCE)) {
    fenced = true;
    const before = text.slice(last, m.index).replace(/^\n+|\s+$/g, '');
    if (before) root.append(textBlock(before, links));
    root.append(codeBlock(m[1].replace(/\n$/, '')));
    last = m.index + m[0].length;
  }
  if (fenced) {
    const after = text.slice(last).replace(/^\s*\n|\s+$/g, '');
    if (after) root.append(textBlock(after, links));
  } else if (looksLikeCode(text)) {
    root.append(codeBlock(text.replace(/\n+$/, '')));
  } else {
    root.append(textBlock(text, links));
  }
  return root;
}

const renderers = new Map(); // kind -> (event, options) => HTMLLIElement|null

/**
 * Render events of `kind` with `fn(event, options)` in this app (console/notes.js: private notes).
 * A kind only one app registers stays invisible in the other: the chat frame registers no `note`.
 */
export function registerRenderer(kind, fn) {
  renderers.set(kind, fn);
}

/** The line of a `transferred` event, as the visitor or an operator reads it. */
function transferText(data, reader, tr, code) {
  const from = (data.from && data.from.name) || tr('message.operator');
  const name = data.to && data.to.name;
  if (data.reason === 'take_over') {
    return reader === 'visitor' ? tr('transferred.taken_over', { name }) : tr('event.taken_over', { name, from });
  }
  if (name) return reader === 'visitor' ? tr('transferred.operator', { name }) : tr('event.transferred', { name, from });
  const department = localized(data.department_name, code, 'en') || data.department || '';
  return reader === 'visitor'
    ? tr('transferred.department', { department })
    : tr('event.transferred_department', { department, from });
}

function timeElement(iso) {
  return h('time', { datetime: iso || '', title: iso ? formatDateTime(iso) : false, text: formatTime(iso) });
}

/**
 * Render a stored event as a list item.
 * @param {object} event a protocol `event`
 * @param {{viewer: 'visitor'|'operator', topicLabel?: (id: string) => string,
 *   words?: {lang: string, t: Function, topicLabel: (id: string) => string}|null}} options
 *   `words`: show system lines as the visitor reads them, in their language (console toggle)
 * @returns {HTMLLIElement|null}
 */
export function renderEvent(event, { viewer, topicLabel = (id) => id, words = null }) {
  const data = event.data || {};
  const custom = renderers.get(event.kind);
  if (custom) return custom(event, { viewer, topicLabel, words });
  if (event.kind === 'message') {
    const role = event.author && event.author.role;
    const mine = role === viewer;
    const who = role === 'operator'
      ? (event.author.name || t('message.operator'))
      : t('message.visitor');
    return h('li', {
      class: `msg ${mine ? 'msg--mine' : 'msg--theirs'} msg--${role}`,
      dataset: { seq: String(event.seq), clientId: event.client_id || '' },
    },
    h('div', { class: 'meta' },
      h('span', { class: mine ? 'who visually-hidden' : 'who', text: mine ? t('message.you') : who }),
      ' ', timeElement(event.at)),
    renderBody(event.body, Array.isArray(data.links) ? data.links : []),
    // Card numbers were masked before storage (P10): both sides see why.
    data.masked_cards ? h('p', { class: 'msg-note', text: t('message.masked_cards') }) : null);
  }
  const tr = words ? words.t : t;
  const label = words ? words.topicLabel : topicLabel;
  const reader = words ? 'visitor' : viewer;
  let text = null;
  if (event.kind === 'created') {
    text = tr('event.created', { topic: label(data.topic) });
  } else if (event.kind === 'assigned') {
    text = tr('event.assigned', { name: (data.operator && data.operator.name) || tr('message.operator') });
  } else if (event.kind === 'joined') {
    text = tr('event.joined', { name: (data.operator && data.operator.name) || tr('message.operator') });
  } else if (event.kind === 'transferred') {
    text = transferText(data, reader, tr, words ? words.lang : lang());
  } else if (event.kind === 'requeued') {
    // Its operator was lost (SPEC V10): the visitor is told someone else continues.
    text = reader === 'visitor'
      ? tr('requeued.operator_lost')
      : tr('event.requeued.operator_lost', { name: (data.operator && data.operator.name) || tr('message.operator') });
  } else if (event.kind === 'ended') {
    const reason = data.reason || 'resolved';
    text = reader === 'visitor'
      ? tr(`ended.${reason}`)
      : tr('event.ended', { reason: tr(`reason.${reason}`) });
  } else if (event.kind === 'offline' && reader === 'operator') {
    // The operator's words: what became of the chat (the visitor's follow, below).
    text = tr(`event.offline.${data.reason === 'left_message' ? 'left_message' : 'no_operator'}`);
  } else if (event.kind === 'offline') {
    // The visitor's thread says why the chat left the queue, kindly (SPEC P5).
    text = tr(`offline.${data.reason === 'left_message' ? 'left_message' : 'no_operator'}`);
  } else if (event.kind === 'warning') {
    // Idle or no reply (P2, P3): the visitor is told how long is left, operators until when.
    const limit = data.limit === 'no_reply' ? 'no_reply' : 'idle';
    text = reader === 'visitor'
      ? tr(`limits.warning.${limit}`, { count: data.minutes || 1 })
      : tr(`event.warning.${limit}`, { time: formatTime(data.ends_at) });
  } else if (event.kind === 'time_notice' && reader === 'operator') {
    text = tr('event.time_notice', { time: formatTime(data.ends_at), count: data.minutes || 1 });
  } else if (event.kind === 'away_mailed' && reader === 'operator') {
    // The visitor was not there: what they missed went to their email (SPEC V9).
    text = tr('event.away_mailed', { count: data.messages || 1 });
  } else if (event.kind === 'still_here' && reader === 'operator') {
    text = tr('event.still_here');
  } else if (event.kind === 'follow_up') {
    const reason = data.reason || 'deferred';
    text = reader === 'visitor'
      ? tr(`followup.${reason === 'other_channel' || reason === 'time_limit' ? reason : 'deferred'}`)
      : tr('event.follow_up', { reason: tr(`reason.${reason}`) });
  } else {
    return null; // a kind this client does not know yet, or not for this reader
  }
  return h('li', {
    class: `system system--${event.kind}`, dataset: { seq: String(event.seq) }, lang: words ? words.lang : false,
  },
    h('span', { class: 'system-text', text }), ' ', timeElement(event.at));
}

/**
 * Render a message that is sent but not acknowledged yet (or refused).
 * @param {{client_id: string, body: string, at: number}} entry
 * @param {string|{text: string, repaired?: string}|null} error localized reason when the server
 *   refused it, with the repaired text when the refusal offers one
 * @param {string|null} note why it waits to be sent again (a rate limit), when it does
 */
export function renderPending(entry, error = null, note = null) {
  const reason = error && typeof error === 'object' ? error.text : error;
  const repaired = error && typeof error === 'object' ? error.repaired : null;
  return h('li', {
    class: `msg msg--mine msg--pending${error ? ' msg--failed' : note ? ' msg--held' : ''}`,
    dataset: { clientId: entry.client_id },
  },
  h('div', { class: 'meta' }, h('span', { class: 'status', role: error ? 'alert' : false, text: reason || note || t('message.sending') })),
  renderBody(entry.body),
  repaired ? h('div', { class: 'repaired' },
    h('p', { class: 'repaired-label', text: t('garbled.repaired_label') }),
    h('p', { class: 'repaired-text', text: repaired }),
    h('button', {
      type: 'button', class: 'use-repaired', 'data-action': 'use-repaired',
      dataset: { clientId: entry.client_id, text: repaired }, text: t('garbled.use_repaired'),
    })) : null);
}

/**
 * Handle clicks on every copy button inside `root` (one delegated listener).
 * @param {HTMLElement} root
 */
export function installCopyHandler(root) {
  root.addEventListener('click', async (event) => {
    const button = event.target.closest('[data-action="copy"]');
    if (!button || !root.contains(button)) return;
    const code = button.closest('.code').querySelector('code').textContent;
    let ok = true;
    try {
      await navigator.clipboard.writeText(code);
    } catch (_) {
      ok = false;
    }
    button.textContent = ok ? t('message.copied') : t('message.copy_failed');
    clearTimeout(button._reset);
    button._reset = setTimeout(() => { button.textContent = t('message.copy'); }, 2000);
  });
}
