// Offers and offline messages (SPEC A3, V8, P5): what the server says about them and what the
// operator does with them. An offer is a waiting chat held for me until `expires_at`; I accept it
// (it opens as a tab) or decline it, and otherwise the server moves it on and says why
// (`offer_withdrawn`). Offline messages left the live queue and are read here, not answered.
import { errorText, t } from '../common/i18n.js';
import { Thread } from '../common/thread.js';
import {
  state, renderOffers, renderQueue, renderOffline, renderReader, readerDialog, announce, select,
  topicLabel,
} from './page.js';
import { api, conversationPath } from './session.js';
import { onSocket, ensurePane, loadPreview } from './live.js';
import { secondsLeft, noticeText } from './offers.js';
import { offlineDomId } from './offline.js';
import { languageName } from './pane.js';

const NOTICE_MS = 20_000; // long enough to read, short enough not to pile up
// Accepting failed because the chat is no longer there to take: its card goes.
const GONE = new Set(['already_assigned', 'not_waiting', 'conversation_ended', 'not_found', 'forbidden']);

let noticeKey = 0;
let offlineTimer = 0;

/** Listen to the socket for offers and queue changes (once, before it opens). */
export function installInbox() {
  onSocket('welcome', (frame) => {
    setOffers(frame.offers || []);
    loadOffline();
  });
  onSocket('offered', (frame) => addOffer(frame));
  onSocket('offer_withdrawn', (frame) => withdrawOffer(frame.conversation_id, frame.reason));
  onSocket('assigned', (frame) => dropOffer(frame.conversation && frame.conversation.id));
  onSocket('queue_changed', () => {
    // A chat that waited `max_wait_minutes` left the queue as an offline message.
    clearTimeout(offlineTimer);
    offlineTimer = setTimeout(loadOffline, 200);
  });
  readerDialog().addEventListener('close', () => { if (state.reader) closeReader(); });
}

function remember(frame) {
  const c = frame.conversation;
  if (!c || !c.id || state.panes.has(c.id)) return false;
  const known = state.offers.get(c.id);
  // The bar's full length: the seconds the offer had when it first came.
  const total = known ? known.total : secondsLeft(frame.expires_at);
  state.offers.set(c.id, { conversation: c, expires_at: frame.expires_at, total });
  if (!state.previews.has(c.id)) loadPreview(c.id);
  return !known;
}

/** The offers as the server has them now (`welcome`): any others went while we were away. */
export function setOffers(frames) {
  const ids = new Set(frames.map((f) => f.conversation && f.conversation.id));
  for (const id of [...state.offers.keys()]) if (!ids.has(id)) state.offers.delete(id);
  for (const frame of frames) remember(frame);
  renderOffers();
  renderQueue();
}

function addOffer(frame) {
  const fresh = remember(frame); // not one we knew (a resync sends known ones again)
  renderOffers();
  renderQueue();
  if (!fresh) return;
  const c = frame.conversation;
  announce(t('offer.announce', { topic: topicLabel(c.topic), language: languageName(c.language) }));
}

function withdrawOffer(id, reason) {
  const offer = state.offers.get(id);
  if (!offer) return; // gone already (I declined or accepted it here)
  state.offers.delete(id);
  notify(offer.conversation.topic, { reason });
  renderQueue();
}

/** Forget an offer without a word (it became my chat). */
export function dropOffer(id) {
  if (!id || !state.offers.delete(id)) return;
  renderOffers();
  renderQueue();
}

/** Show (and announce) what became of the offer of a chat on `topic`: {reason} or {error}. */
function notify(topic, what) {
  const notice = { key: `n${++noticeKey}`, topic, ...what };
  state.offerNotices = [...state.offerNotices, notice];
  renderOffers();
  announce(`${topicLabel(topic)}: ${noticeText(notice)}`);
  setTimeout(() => dismissNotice(notice.key), NOTICE_MS);
}

/** Take a notice away (its × button, or its time is up). */
export function dismissNotice(key) {
  const before = state.offerNotices.length;
  state.offerNotices = state.offerNotices.filter((n) => n.key !== key);
  if (state.offerNotices.length !== before) renderOffers();
}

function focusNextOffer() {
  document.querySelector('.offer-card [data-action="accept-offer"]:not([disabled])')?.focus();
}

/** Accept an offer: the chat opens as a tab, with the composer focused. */
export async function acceptOffer(id) {
  if (state.offerBusy.has(id)) return;
  state.offerBusy.add(id);
  renderOffers();
  try {
    const summary = await api('POST', conversationPath(id, '/accept'), {});
    state.offers.delete(id);
    const pane = ensurePane(summary);
    select(pane.id, false);
    pane.element.querySelector('[data-composer]')?.focus();
  } catch (err) {
    if (!state.me) return; // the session is gone: the login form is up
    const offer = state.offers.get(id);
    if (offer) {
      if (GONE.has(err.code)) state.offers.delete(id);
      notify(offer.conversation.topic, { error: err.code });
    }
  } finally {
    state.offerBusy.delete(id);
    renderOffers();
    renderQueue();
  }
}

/** Decline an offer: it moves to the next operator at once. */
export async function declineOffer(id) {
  if (state.offerBusy.has(id)) return;
  state.offerBusy.add(id);
  renderOffers();
  try {
    await api('POST', conversationPath(id, '/decline'), {});
    withdrawOffer(id, 'declined');
  } catch (err) {
    if (!state.me) return;
    const offer = state.offers.get(id);
    if (offer) {
      if (err.code === 'not_offered') state.offers.delete(id);
      notify(offer.conversation.topic, { error: err.code });
    }
  } finally {
    state.offerBusy.delete(id);
    renderOffers();
    renderQueue();
    if (!state.offers.has(id)) focusNextOffer();
  }
}

/** Fetch the offline messages of my departments again. */
export async function loadOffline() {
  try {
    const [offline, followUps] = await Promise.all([
      api('GET', '/api/v1/agent/offline-messages'), api('GET', '/api/v1/agent/follow-ups'),
    ]);
    state.offline = offline.conversations;
    state.followUps = followUps.conversations; // answers owed by email (A7, A8)
    renderOffline();
    for (const c of [...state.offline, ...state.followUps]) if (!state.previews.has(c.id)) loadPreview(c.id);
  } catch (_) { /* keep the last list */ }
}

/** Open an offline message in the reader: its events, read-only. */
export async function openOffline(id) {
  const summary = [...state.offline, ...(state.followUps || [])].find((c) => c.id === id);
  if (!summary) return;
  const reader = { summary, thread: null, error: null, opener: `${offlineDomId(id)}-open` };
  state.reader = reader;
  renderReader();
  const thread = new Thread({ viewer: 'operator', topicLabel, id: 'reader' });
  let error = null;
  try {
    const { events } = await api('GET', conversationPath(id, '/events?since=0'));
    thread.setEvents(events.map((e) => ({ ...e, conversation_id: e.conversation_id || id })));
  } catch (err) {
    error = errorText(err.code);
  }
  // Closed, or opened again meanwhile (after an answer): a slower, older load must not win.
  if (state.reader !== reader) return;
  Object.assign(reader, error ? { error } : { thread });
  renderReader();
}

/** Mark the follow-up in the reader as answered: it ends, and leaves the list. */
export async function closeFollowUp(id) {
  try {
    await api('POST', conversationPath(id, '/end'), { reason: 'resolved' });
  } catch (err) {
    if (state.reader) Object.assign(state.reader, { error: errorText(err.code) });
    renderReader();
    return;
  }
  closeReader();
  await loadOffline();
}

/** Close the reader and go back to the message it was opened from. */
export function closeReader() {
  const opener = state.reader && state.reader.opener;
  state.reader = null;
  renderReader();
  if (opener) document.getElementById(opener)?.focus();
}
