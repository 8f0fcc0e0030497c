// One conversation's message list, typing line and composer, shared by the chat frame and the
// console. Events arrive already deduplicated and in seq order (socket.js sees to that).
import { h } from './dom.js';
import { t } from './i18n.js';
import { renderEvent, renderPending } from './render.js';

const TYPING_HIDE_MS = 6_000; // the other side repeats `true` every 3 s while it types

export class Thread {
  /**
   * @param {{viewer: 'visitor'|'operator', topicLabel?: (id: string) => string, id: string}} options
   */
  constructor({ viewer, topicLabel, id }) {
    this.viewer = viewer;
    this.topicLabel = topicLabel;
    this.events = [];
    this.pending = [];
    this.failed = new Map(); // client_id -> localized reason
    this.held = new Map(); // client_id -> why it waits to be sent again (a rate limit)
    this.words = null; // system lines in the visitor's language (console), see renderEvent
    this.typingTimer = 0;
    this.list = h('ol', {
      class: 'messages', id: `${id}-messages`, role: 'log', 'aria-live': 'polite',
      'aria-relevant': 'additions', tabindex: '0',
    });
    this.typingLine = h('p', { class: 'typing', id: `${id}-typing`, 'aria-live': 'polite', hidden: true });
    this.scroller = h('div', { class: 'messages-scroll' }, this.list);
    this.relabel();
  }

  /** Rebuild everything in the current language. */
  render() {
    this.relabel();
    this.list.replaceChildren(...this.events.map((e) => this.item(e)).filter(Boolean));
    this.renderPending();
    if (!this.typingLine.hidden) this.typingLine.textContent = this.typingText();
    this.scrollToEnd(true);
  }

  relabel() {
    this.list.setAttribute('aria-label', t('messages.label'));
  }

  item(event) {
    return renderEvent(event, { viewer: this.viewer, topicLabel: this.topicLabel, words: this.words });
  }

  /** Show system lines as the visitor reads them (`words` from renderEvent), or not (null). */
  setWords(words) {
    this.words = words;
    this.render();
  }

  /** Append one new event (the next seq). */
  add(event) {
    const stick = this.nearEnd() || (event.author && event.author.role === this.viewer);
    this.events.push(event);
    const li = this.item(event);
    if (event.client_id) {
      this.pending = this.pending.filter((p) => p.client_id !== event.client_id);
      this.list.querySelector(`.msg--pending[data-client-id="${CSS.escape(event.client_id)}"]`)?.remove();
    }
    if (li) this.list.insertBefore(li, this.list.querySelector('.msg--pending'));
    if (event.kind === 'message' && event.author && event.author.role !== this.viewer) this.setTyping(false);
    this.scrollToEnd(stick);
  }

  /** Replace all events (a pane rebuilt from history). */
  setEvents(events) {
    this.events = [...events];
    this.render();
  }

  /**
   * Show the sends that have no event yet (outbox entries) and the refused ones.
   * @param {Array<{client_id: string, body: string}>} entries
   */
  setPending(entries) {
    const stored = new Set(this.events.map((e) => e.client_id).filter(Boolean));
    const failedEntries = this.pending.filter((p) => this.failed.has(p.client_id));
    const ids = new Set(entries.map((e) => e.client_id));
    this.pending = [...entries, ...failedEntries.filter((p) => !ids.has(p.client_id))]
      .filter((p) => !stored.has(p.client_id));
    this.renderPending();
    this.scrollToEnd(true);
  }

  /** Mark a pending send as refused, with the reason. */
  fail(clientId, reason, offer = null) {
    // `offer`: text the sender may use instead, e.g. the repair of a garbled message (P8).
    this.failed.set(clientId, offer ? { text: reason, ...offer } : reason);
    this.renderPending();
  }

  /** Drop a refused message from view (its sender took the offered text instead). */
  forget(clientId) {
    this.failed.delete(clientId);
    this.pending = this.pending.filter((p) => p.client_id !== clientId);
    this.renderPending();
  }

  /** Mark a pending send as waiting to be sent again, with why. */
  hold(clientId, note) {
    this.held.set(clientId, note);
    this.renderPending();
  }

  renderPending() {
    for (const li of this.list.querySelectorAll('.msg--pending')) li.remove();
    for (const p of this.pending) {
      this.list.append(renderPending(p, this.failed.get(p.client_id) || null, this.held.get(p.client_id) || null));
    }
  }

  /** Show or hide "… is typing". */
  setTyping(on) {
    clearTimeout(this.typingTimer);
    this.typingLine.hidden = !on;
    this.typingLine.textContent = on ? this.typingText() : '';
    if (on) this.typingTimer = setTimeout(() => this.setTyping(false), TYPING_HIDE_MS);
  }

  typingText() {
    return this.viewer === 'visitor' ? t('typing.operator') : t('typing.visitor');
  }

  nearEnd() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < 80;
  }

  scrollToEnd(force) {
    if (!force) return;
    requestAnimationFrame(() => { this.scroller.scrollTop = this.scroller.scrollHeight; });
  }
}

/**
 * A composer form: a labelled textarea (Enter sends, Shift+Enter is a new line) and a send button.
 * Wire it with installComposer on a common ancestor.
 * @param {{id: string, maxLength?: number}} options
 */
export function composer({ id, maxLength }) {
  const hintId = `${id}-hint`;
  return h('form', { class: 'composer', 'data-form': 'composer', id, novalidate: true },
    h('label', { for: `${id}-text`, class: 'visually-hidden', text: t('composer.label') }),
    h('textarea', {
      id: `${id}-text`, name: 'body', rows: '2', 'data-composer': 'true',
      placeholder: t('composer.placeholder'), maxlength: maxLength ? String(maxLength) : false,
      'aria-describedby': hintId, autocomplete: 'off',
    }),
    h('button', { type: 'submit', class: 'send', text: t('composer.send') }),
    h('p', { class: 'hint', id: hintId, text: t('composer.hint') }));
}

/**
 * Delegated handling of every composer under `root`.
 * @param {HTMLElement} root
 * @param {{send: (form: HTMLFormElement, text: string) => void, typing: (form: HTMLFormElement, on: boolean) => void}} handlers
 */
export function installComposer(root, handlers) {
  const submit = (form) => {
    const textarea = form.querySelector('[data-composer]');
    const text = textarea.value;
    if (!text.trim()) return;
    handlers.send(form, text);
    textarea.value = '';
    textarea.focus();
  };
  root.addEventListener('keydown', (event) => {
    const textarea = event.target.closest('[data-composer]');
    if (!textarea || event.key !== 'Enter') return;
    // An IME is confirming a conversion (Japanese input): that Enter is not "send".
    if (event.isComposing || event.keyCode === 229) return;
    if (event.shiftKey || event.altKey) return; // Shift+Enter: a new line
    event.preventDefault();
    submit(textarea.form);
  });
  root.addEventListener('submit', (event) => {
    const form = event.target.closest('[data-form="composer"]');
    if (!form) return;
    event.preventDefault();
    submit(form);
  });
  root.addEventListener('input', (event) => {
    const textarea = event.target.closest('[data-composer]');
    if (textarea) handlers.typing(textarea.form, textarea.value.trim() !== '');
  });
}
