// The one owner of a madoguchi WebSocket (docs/protocol.md): hello with a resume map, heartbeats
// with jitter, reconnection with backoff, dedupe of events by seq, gap filling with `resume`, an
// outbox of unacknowledged sends (resent with the same client_id), and throttled typing.
// Apps listen for: status, welcome, event, ack, typing, assigned, queue_changed, error,
// unauthorized, outbox (the pending sends changed).
import { newId } from './dom.js';
import * as store from './store.js';

const PONG_TIMEOUT_MS = 10_000;
const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 15_000;
const TYPING_EVERY_MS = 3_000;
const RESUME_AGAIN_MS = 3_000;
const OUTBOX_MAX_AGE_MS = 24 * 3600 * 1000;

export class ChatSocket extends EventTarget {
  /**
   * @param {{url: string, hello?: () => object, outboxKey?: string|null}} options
   *   `hello` adds fields to the hello frame (the visitor's token); `outboxKey` keeps the outbox
   *   in storage (store.js) so that a message sent right before a reload is sent again after it.
   */
  constructor({ url, hello = () => ({}), outboxKey = null }) {
    super();
    this.url = url;
    this.helloFields = hello;
    this.outboxKey = outboxKey;
    this.ws = null;
    this.state = 'idle'; // idle | connecting | open | waiting | stopped
    this.attempt = 0;
    this.heartbeat = 25;
    this.seqs = new Map(); // conversation id -> last seq applied
    this.resumeAsked = new Map(); // conversation id -> {since, at}
    this.typingSent = new Map(); // conversation id -> {at, on}
    this.typingWanted = new Map(); // conversation id -> when `true` was asked while closed
    this.outbox = new Map(); // client_id -> {conversation_id, client_id, body, at}
    this.heldUntil = 0; // a rate limit refused a send: nothing is sent before this (Date.now())
    this.holdTimer = 0;
    this.timers = { ping: 0, pong: 0, retry: 0 };
    this.loadOutbox();
    this.onOnline = () => this.wake();
    this.onVisible = () => { if (document.visibilityState === 'visible') this.wake(); };
  }

  /** Connect, and keep connecting until stop(). */
  start() {
    if (this.state !== 'idle' && this.state !== 'stopped') return;
    window.addEventListener('online', this.onOnline);
    document.addEventListener('visibilitychange', this.onVisible);
    this.connect();
  }

  /** Close for good (logout, a visitor without a conversation). */
  stop() {
    this.setState('stopped');
    window.removeEventListener('online', this.onOnline);
    document.removeEventListener('visibilitychange', this.onVisible);
    this.clearTimers();
    this.detach(1000);
  }

  /** Whether frames can be sent now. */
  get open() {
    return this.state === 'open';
  }

  /**
   * Follow a conversation: remember it in the resume map and ask for what we have not seen.
   * @param {string} conversationId
   */
  follow(conversationId) {
    if (!this.seqs.has(conversationId)) this.seqs.set(conversationId, 0);
    if (this.open) this.askResume(conversationId, true);
  }

  /** Stop resuming a conversation (its pane was closed). */
  forget(conversationId) {
    this.seqs.delete(conversationId);
    this.resumeAsked.delete(conversationId);
  }

  /** The last seq applied for a conversation (0 when none). */
  lastSeq(conversationId) {
    return this.seqs.get(conversationId) || 0;
  }

  /**
   * Apply one event (from the socket or from a REST history fetch): drop a duplicate, ask the
   * server to fill a gap, else dispatch it. Returns whether it was applied.
   */
  ingest(event) {
    const id = event.conversation_id;
    const last = this.seqs.get(id) || 0;
    if (typeof event.seq !== 'number' || event.seq <= last) return false;
    if (event.seq > last + 1) {
      // A gap: drop this one; the resume sends it again in order after the missing ones.
      this.askResume(id, false);
      return false;
    }
    this.seqs.set(id, event.seq);
    if (event.kind === 'message' && event.client_id && this.outbox.has(event.client_id)) {
      // Stored; the ack may have been lost with the old socket.
      this.outbox.delete(event.client_id);
      this.saveOutbox();
    }
    this.emit('event', event);
    return true;
  }

  /**
   * Send a message; it stays in the outbox until acknowledged and is resent after a reconnect.
   * @returns {string} the client_id
   */
  send(conversationId, body) {
    const entry = { conversation_id: conversationId, client_id: newId(), body, at: Date.now() };
    this.outbox.set(entry.client_id, entry);
    this.saveOutbox();
    this.emit('outbox', { conversation_id: conversationId });
    this.typing(conversationId, false);
    if (this.open && !this.holding) this.sendFrame({ type: 'send', ...pick(entry) });
    return entry.client_id;
  }

  /** The unacknowledged sends of a conversation, oldest first. */
  pending(conversationId) {
    return [...this.outbox.values()].filter((e) => e.conversation_id === conversationId);
  }

  /** Drop a pending send (refused by the server, or the conversation is over). */
  discard(clientId) {
    if (this.outbox.delete(clientId)) this.saveOutbox();
  }

  /**
   * Tell the other side we are (not) typing: `true` at most every 3 s, `false` only after a `true`.
   */
  typing(conversationId, on) {
    const sent = this.typingSent.get(conversationId) || { at: 0, on: false };
    const now = Date.now();
    if (on) {
      if (sent.on && now - sent.at < TYPING_EVERY_MS) return;
    } else if (!sent.on) {
      return;
    }
    if (!this.open) {
      // Typing before the socket is (re)opened: say it as soon as it is.
      if (on) this.typingWanted.set(conversationId, now);
      else this.typingWanted.delete(conversationId);
      return;
    }
    this.typingWanted.delete(conversationId);
    this.typingSent.set(conversationId, { at: on ? now : 0, on });
    this.sendFrame({ type: 'typing', conversation_id: conversationId, typing: on });
  }

  // --- connection -------------------------------------------------------------------------

  connect() {
    this.clearTimers();
    this.setState('connecting');
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (_) {
      this.retry();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.sendFrame({ type: 'hello', ...this.helloFields(), resume: Object.fromEntries(this.seqs) }, true);
    };
    ws.onmessage = (message) => {
      let frame;
      try { frame = JSON.parse(message.data); } catch (_) { return; }
      this.receive(frame);
    };
    ws.onclose = (close) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (close.code === 4401) {
        this.unauthorized();
        return;
      }
      if (close.code === 4403) { // not available (SPEC A10): the error frame said so first
        this.stop();
        return;
      }
      if (this.state !== 'stopped') this.retry();
    };
    ws.onerror = () => { /* onclose follows */ };
  }

  receive(frame) {
    switch (frame.type) {
      case 'welcome':
        this.attempt = 0;
        this.heartbeat = Number(frame.heartbeat) > 0 ? Number(frame.heartbeat) : 25;
        this.resumeAsked.clear();
        this.typingSent.clear();
        for (const c of frame.conversations || []) {
          if (c.status !== 'ended' && !this.seqs.has(c.id)) this.seqs.set(c.id, 0);
        }
        this.setState('open');
        this.emit('welcome', frame);
        this.flushOutbox();
        for (const [id, at] of this.typingWanted) if (Date.now() - at < TYPING_EVERY_MS) this.typing(id, true);
        this.typingWanted.clear();
        this.schedulePing();
        break;
      case 'event':
        this.ingest(frame);
        break;
      case 'ack':
        if (this.outbox.delete(frame.client_id)) this.saveOutbox();
        this.emit('ack', frame);
        break;
      case 'pong':
        clearTimeout(this.timers.pong);
        this.timers.pong = 0;
        this.schedulePing();
        break;
      case 'assigned':
        if (frame.conversation && !this.seqs.has(frame.conversation.id)) this.seqs.set(frame.conversation.id, 0);
        this.emit('assigned', frame);
        break;
      case 'error':
        if (frame.code === 'unauthorized') {
          this.unauthorized();
          return;
        }
        if (frame.code === 'not_available') { // a banned visitor (SPEC A10): stop, do not retry
          this.stop();
          this.emit('not_available', frame);
          return;
        }
        if (frame.code === 'rate_limited' && frame.client_id && this.outbox.has(frame.client_id)) {
          // Too fast (SPEC P11): not stored, so kept, and the outbox goes again in order once the
          // server allows; nothing is sent meanwhile, so no later message overtakes it.
          this.hold(Number(frame.retry_after) || 1);
        } else if (frame.client_id && this.outbox.has(frame.client_id)) {
          // Refused (too long, conversation ended …): nothing was stored, so do not resend.
          this.outbox.delete(frame.client_id);
          this.saveOutbox();
        }
        this.emit('error', frame);
        break;
      default:
        this.emit(frame.type, frame); // typing, queue_changed, and frames added later
    }
  }

  askResume(conversationId, force) {
    if (!this.open) return; // the next hello resumes it
    const since = this.seqs.get(conversationId) || 0;
    const asked = this.resumeAsked.get(conversationId);
    if (!force && asked && asked.since === since && Date.now() - asked.at < RESUME_AGAIN_MS) return;
    this.resumeAsked.set(conversationId, { since, at: Date.now() });
    this.sendFrame({ type: 'resume', conversation_id: conversationId, since });
  }

  flushOutbox() {
    if (this.holding) return; // the hold's timer flushes it
    for (const entry of this.outbox.values()) this.sendFrame({ type: 'send', ...pick(entry) });
  }

  /** Whether sends wait for a rate limit's retry time. */
  get holding() {
    return Date.now() < this.heldUntil;
  }

  /** Send nothing for `seconds`, then the whole outbox, oldest first. */
  hold(seconds) {
    this.heldUntil = Math.max(this.heldUntil, Date.now() + seconds * 1000);
    clearTimeout(this.holdTimer);
    this.holdTimer = setTimeout(() => {
      this.heldUntil = 0;
      this.holdTimer = 0;
      if (this.open) this.flushOutbox();
    }, this.heldUntil - Date.now());
  }

  schedulePing() {
    clearTimeout(this.timers.ping);
    const jitter = 0.8 + Math.random() * 0.4; // ±20 % so that clients do not beat in step
    this.timers.ping = setTimeout(() => this.ping(), this.heartbeat * 1000 * jitter);
  }

  ping() {
    clearTimeout(this.timers.ping);
    if (!this.open || this.timers.pong) return;
    this.sendFrame({ type: 'ping', t: Date.now() });
    this.timers.pong = setTimeout(() => {
      this.timers.pong = 0;
      this.detach(4000); // no pong: the connection is dead even if the browser has not noticed
      this.retry(true);
    }, PONG_TIMEOUT_MS);
  }

  /** Back online or visible again: reconnect now, or check that the open socket still lives. */
  wake() {
    if (this.state === 'waiting') this.connect();
    else if (this.state === 'open') this.ping();
  }

  retry(now = false) {
    if (this.state === 'stopped') return;
    this.clearTimers();
    this.setState('waiting');
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** this.attempt);
    this.attempt += 1;
    const delay = now ? 0 : base / 2 + Math.random() * (base / 2);
    this.timers.retry = setTimeout(() => this.connect(), delay);
  }

  unauthorized() {
    this.stop();
    this.emit('unauthorized', {});
  }

  detach(code) {
    const ws = this.ws;
    this.ws = null;
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    try { ws.close(code); } catch (_) { /* already closed */ }
  }

  sendFrame(frame, evenIfNotWelcomed = false) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    if (!evenIfNotWelcomed && !this.open) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  clearTimers() {
    clearTimeout(this.timers.ping);
    clearTimeout(this.timers.pong);
    clearTimeout(this.timers.retry);
    this.timers = { ping: 0, pong: 0, retry: 0 };
  }

  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.emit('status', { state });
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  loadOutbox() {
    if (!this.outboxKey) return;
    try {
      const saved = JSON.parse(store.get(this.outboxKey) || '[]');
      for (const e of saved) {
        if (e && e.client_id && e.conversation_id && Date.now() - (e.at || 0) < OUTBOX_MAX_AGE_MS) {
          this.outbox.set(e.client_id, e);
        }
      }
    } catch (_) { /* unreadable or blocked storage: start empty */ }
  }

  saveOutbox() {
    if (!this.outboxKey) return;
    if (this.outbox.size) store.set(this.outboxKey, JSON.stringify([...this.outbox.values()]), 1);
    else store.remove(this.outboxKey);
  }
}

function pick(entry) {
  return { conversation_id: entry.conversation_id, client_id: entry.client_id, body: entry.body };
}
