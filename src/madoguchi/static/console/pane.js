// One chat in the console: the visitor's context, the messages, the composer, the end controls.
import { h, localized } from '../common/dom.js';
import { t, lang, LANGUAGES, loadCatalog, translator } from '../common/i18n.js';
import { Thread, composer } from '../common/thread.js';

/** Parts other modules add to every pane: transfer.js the header's Transfer button, notes.js the
 * composer's private-note switch. Each is `(pane) => Node|null`, called at every render. */
export const paneParts = { head: [], composer: [] };

export const END_REASONS = [
  'resolved', 'other_channel', 'deferred', 'unrelated', 'prohibited', 'unreadable', 'no_reply', 'time_limit',
];

/** "Chrome 131 / Windows" from a user agent string (the full string goes in a tooltip). */
export function describeAgent(ua) {
  if (!ua) return '';
  const tests = [
    [/Edg\/(\d+)/, 'Edge'], [/OPR\/(\d+)/, 'Opera'], [/Firefox\/(\d+)/, 'Firefox'],
    [/SamsungBrowser\/(\d+)/, 'Samsung Internet'], [/(?:Chrome|Chromium|CriOS)\/(\d+)/, 'Chrome'],
    [/Version\/(\d+)[^ ]* .*Safari\//, 'Safari'],
  ];
  let browser = '';
  for (const [re, name] of tests) {
    const m = re.exec(ua);
    if (m) { browser = `${name} ${m[1]}`; break; }
  }
  const systems = [
    [/Windows NT/, 'Windows'], [/Android/, 'Android'], [/iPhone|iPad|iPod/, 'iOS'],
    [/CrOS/, 'ChromeOS'], [/Mac OS X/, 'macOS'], [/Linux/, 'Linux'],
  ];
  const os = (systems.find(([re]) => re.test(ua)) || [null, ''])[1];
  return [browser, os].filter(Boolean).join(' / ') || ua;
}

/** The language's name in the UI language ("Japanese", "日本語"), or its code. */
export function languageName(code) {
  if (!code) return '';
  try {
    return new Intl.DisplayNames([lang()], { type: 'language' }).of(code) || code;
  } catch (_) {
    return code;
  }
}

/** A short name for the chat: the contact person, contract or member ID, else "Visitor …". */
export function chatTitle(summary) {
  const p = summary.prechat || {};
  const member = (summary.visitor && summary.visitor.member_id) || p.member_id; // verified first (V4)
  const name = p.contact_person || p.contract_name || (member && t('context.member', { id: member }));
  if (name) return name;
  const id = (summary.visitor && summary.visitor.id) || summary.id || '';
  return t('console.visitor_short', { id: id.slice(-4) });
}

function pageLink(url) {
  if (!url) return t('context.none');
  try {
    const parsed = new URL(url);
    if (parsed.protocol === 'http:' || parsed.protocol === 'https:') {
      return h('a', { href: parsed.href, target: '_blank', rel: 'noopener noreferrer', text: url });
    }
  } catch (_) { /* not a URL: show it as text */ }
  return url;
}

function localTime(timeZone) {
  if (!timeZone) return '';
  try {
    const now = new Intl.DateTimeFormat(lang(), { hour: '2-digit', minute: '2-digit', timeZone }).format(new Date());
    return ` (${t('context.local_time', { time: now })})`;
  } catch (_) {
    return '';
  }
}

export class ChatPane {
  /**
   * @param {object} summary the operator's view of the conversation
   * @param {{config: object, maxLength?: number}} options
   */
  constructor(summary, { config }) {
    this.summary = summary;
    this.config = config;
    this.id = summary.id;
    this.domId = `pane-${summary.id.replace(/[^\w-]/g, '_')}`;
    this.unread = 0;
    this.notice = null;
    this.endError = false;
    this.thread = new Thread({ viewer: 'operator', topicLabel: (id) => this.topicLabel(id), id: this.domId });
    this.element = h('section', { class: 'pane', id: this.domId, role: 'tabpanel', dataset: { id: this.id } });
    this.visitorWords = false; // the operator asked to see system lines in the visitor's language
    this.element.addEventListener('change', (event) => {
      if (event.target.matches('[data-action="visitor-words"]')) this.showVisitorWords(event.target.checked);
    });
  }

  topicLabel(id, code = lang()) {
    const topic = ((this.config && this.config.topics) || []).find((x) => x.id === id);
    return topic ? localized(topic.label, code, this.config.default_language) : (id || '');
  }

  /** The visitor's language when it is a UI language other than mine (else null). */
  visitorLanguage() {
    const code = this.summary.language;
    return code && code !== lang() && LANGUAGES.some((l) => l.code === code) ? code : null;
  }

  visitorWordsToggle() {
    const code = this.visitorLanguage();
    if (!code) return null;
    const id = `${this.domId}-visitor-words`;
    return h('span', { class: 'pane-words' },
      h('input', { type: 'checkbox', id, 'data-action': 'visitor-words', checked: this.visitorWords }),
      h('label', { for: id, text: t('lang.visitor_system', { language: languageName(code) }) }));
  }

  /** Show the system lines as the visitor reads them, in their language, or as I read them. */
  async showVisitorWords(on) {
    this.visitorWords = on;
    const code = this.visitorLanguage();
    let words = null;
    if (on && code) {
      try {
        await loadCatalog(code);
        words = { lang: code, t: translator(code), topicLabel: (id) => this.topicLabel(id, code) };
      } catch (_) { /* the catalog did not come: keep my language */ }
    }
    if (this.visitorWords === on) this.thread.setWords(words);
  }

  get ended() {
    // A follow-up (A7, A8) is over as a live chat: its answer goes out by email.
    return this.summary.status === 'ended' || this.summary.status === 'follow_up';
  }

  /** Rebuild the pane (language switch, end, summary change), keeping the draft. */
  render() {
    const draft = this.element.querySelector('[data-composer]')?.value || '';
    const reason = this.element.querySelector('[data-end-reason]')?.value || '';
    const s = this.summary;
    this.element.setAttribute('aria-labelledby', `tab-${this.domId}`);
    this.thread.render();
    this.element.replaceChildren(
      h('div', { class: 'pane-main' },
        h('header', { class: 'pane-head' },
          h('h2', { id: `${this.domId}-title`, tabindex: '-1', text: chatTitle(s) }),
          h('span', { class: 'pane-topic', text: `${this.topicLabel(s.topic)} · ${languageName(s.language)}` }),
          this.visitorWordsToggle(),
          paneParts.head.map((part) => part(this))),
        this.notice ? h('p', { class: 'notice', role: 'alert', text: this.notice }) : null,
        this.thread.scroller,
        this.thread.typingLine,
        this.ended ? this.endedNote() : composer({ id: `${this.domId}-composer`, maxLength: this.maxLength() }),
        this.ended ? null : paneParts.composer.map((part) => part(this)),
        this.ended ? null : this.endControls()),
      this.contextPanel());
    const textarea = this.element.querySelector('[data-composer]');
    if (textarea) textarea.value = draft;
    this.setReason(reason);
  }

  maxLength() {
    return this.config && this.config.limits && this.config.limits.message_max_chars;
  }

  endControls() {
    const id = `${this.domId}-reason`;
    return h('form', { class: 'end-controls', 'data-form': 'end', dataset: { id: this.id }, novalidate: true },
      h('label', { for: id, text: t('console.end_reason') }),
      h('select', {
        id, name: 'reason', 'data-end-reason': 'true',
        'aria-invalid': this.endError ? 'true' : false,
        'aria-describedby': this.endError ? `${id}-error` : false,
      },
      h('option', { value: '', text: t('console.choose_reason') }),
      END_REASONS.map((r) => h('option', { value: r, text: t(`reason.${r}`) }))),
      h('button', { type: 'submit', class: 'danger', text: t('console.end_chat') }),
      this.endError ? h('p', { class: 'field-error', id: `${id}-error`, text: t('console.reason_required') }) : null);
  }

  endedNote() {
    const reason = this.summary.end_reason;
    const key = this.summary.status === 'follow_up' ? 'event.follow_up' : 'event.ended';
    return h('div', { class: 'ended-note' },
      h('p', { text: reason ? t(key, { reason: t(`reason.${reason}`) }) : t('status.ended') }),
      h('button', { type: 'button', class: 'secondary', 'data-action': 'close-pane', dataset: { id: this.id }, text: t('console.close_pane') }));
  }

  contextPanel() {
    const s = this.summary;
    const p = s.prechat || {};
    const c = s.context || {};
    const verified = Boolean(s.visitor && s.visitor.verified);
    const row = (key, value) => [h('dt', { text: t(key) }), h('dd', {}, value || h('span', { class: 'none', text: t('context.none') }))];
    const agent = describeAgent(c.user_agent);
    return h('aside', { class: 'context', 'aria-labelledby': `${this.domId}-context-title` },
      h('h3', { id: `${this.domId}-context-title`, text: t('context.title') }),
      // Verified only by the host app's signed token (SPEC V4); what the visitor typed is marked.
      h('p', { class: verified ? 'badge badge--verified' : 'badge badge--unverified', 'data-identity': verified ? 'verified' : 'unverified',
        text: verified ? t('context.verified_member', { member: s.visitor.member_id, plan: s.visitor.plan }) : t('context.unverified') }),
      h('dl', {},
        row('context.member_id', p.member_id
          ? [p.member_id, ' ', h('span', { class: 'typed-by-visitor', text: t('context.typed_by_visitor') })]
          : null),
        row('context.contract_name', p.contract_name),
        row('context.contact_person', p.contact_person),
        row('context.email', p.email),
        row('context.topic', this.topicLabel(s.topic)),
        row('context.language', languageName(s.language)),
        row('context.page_url', c.page_url ? h('span', { class: 'url' }, pageLink(c.page_url)) : null),
        row('context.browser', agent ? h('span', { title: c.user_agent, text: agent }) : null),
        row('context.time_zone', c.time_zone ? `${c.time_zone}${localTime(c.time_zone)}` : null),
        row('context.screen', c.screen),
        row('context.started', s.created_at ? new Intl.DateTimeFormat(lang(), { dateStyle: 'short', timeStyle: 'short' }).format(new Date(s.created_at)) : null)));
  }

  /** Restore the reason the operator had chosen (after a re-render). */
  setReason(value) {
    const select = this.element.querySelector('[data-end-reason]');
    if (select) select.value = value;
  }
}
