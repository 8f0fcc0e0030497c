// What the visitor asks for: pick up the last conversation after a (re)load, start one from the
// pre-chat form, leave an offline message, end a chat (these through the REST API), or go back
// to the topics for a new one.
import { newId } from '../common/dom.js';
import { errorText } from '../common/i18n.js';
import { ApiError } from '../common/api.js';
import { collectContext } from './screens.js';
import { state, render, show, readPrechat, readLeave } from './page.js';
import { chatLanguage, showTopics, refusedStart } from './availability.js';
import { api, loadSession, saveSession, currentConversationId, setCurrentConversation } from './session.js';
import { openConversation, conversationEnded, refreshSummary, resetSocket, watchAll } from './live.js';
import { setConversations, isLive, liveOn } from './conversations.js';
import { identityToken, planRefused } from './identity.js';
import { refusedAsUnavailable } from './unavailable.js';
import { waitText } from '../common/ratelimit.js';

/**
 * After a (re)load: the live conversation last on screen, else the visitor's only live one, else
 * the list when several are live (SPEC V16), else the one last on screen, else the topics.
 */
export async function resumeLastConversation() {
  state.session = loadSession();
  if (!state.session) {
    showTopics();
    return;
  }
  try {
    const { conversations } = await api('GET', '/api/v1/visitor/conversations');
    const currentId = currentConversationId();
    setConversations(conversations, currentId);
    // An offline message waits for an email answer: it does not keep the visitor from a new chat.
    const live = conversations.filter(isLive);
    const current = conversations.find((c) => c.id === currentId);
    if (live.length > 1 && !(current && isLive(current))) {
      showConversations();
      return;
    }
    const last = (current && isLive(current) ? current : live[0]) || current;
    if (last) {
      openConversation(last);
      return;
    }
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) saveSession(null);
  }
  showTopics();
}

/** Make a REST call as the visitor, creating the visitor session first (again, if it expired). */
async function asVisitor(call) {
  try {
    // Another tab of this browser may have made the visitor meanwhile: one visitor, one list.
    if (!state.session) state.session = loadSession();
    // A session from an emailed link reaches that conversation only: a new chat needs the
    // visitor's own (SPEC V9).
    if (!state.session || state.session.scoped) {
      resetSocket();
      saveSession(await api('POST', '/api/v1/visitor/session', {}));
    }
    return await call();
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401) throw err;
    // The stored token is no longer valid: start a new visitor session once.
    resetSocket();
    saveSession(await api('POST', '/api/v1/visitor/session', {}));
    return call();
  }
}

/** Start a conversation from the pre-chat form (creating the visitor session if need be). */
export async function startConversation() {
  readPrechat();
  const values = state.prechat;
  if (!values.consent) {
    state.prechatStatus = { consentError: true };
    show('prechat', 'prechat-consent');
    return;
  }
  state.prechatStatus = { busy: true };
  render();
  const clean = (v) => (v && v.trim() ? v.trim() : null);
  const body = {
    topic: state.topic,
    language: chatLanguage(),
    consent: true,
    prechat: {
      member_id: clean(values.member_id),
      contract_name: clean(values.contract_name),
      contact_person: clean(values.contact_person),
      email: clean(values.email),
    },
    context: collectContext(),
    identity: identityToken(),
  };
  if (values.message && values.message.trim()) body.message = { client_id: newId(), body: values.message };
  try {
    const summary = await asVisitor(() => api('POST', '/api/v1/visitor/conversations', body));
    state.prechat = {};
    state.prechatStatus = {};
    openConversation(summary);
  } catch (err) {
    state.prechatStatus = {};
    if (err.code === 'already_open' && err.details && err.details.conversation_id) {
      // A chat on this topic is already open (another tab, a double click): show it (V16).
      state.prechat = {};
      await openListed(err.details.conversation_id);
      return;
    }
    if (refusedAsUnavailable(err.code) || await refusedStart(err.code) || planRefused(err)) return;
    state.prechatStatus = { error: waitText(err) }; // the code's text; with the wait when limited
    show('prechat', 'prechat-title');
  }
}

// Which field of the offline message form each refusal is about.
const LEAVE_FIELDS = {
  bad_name: 'name', bad_email: 'email', empty_message: 'message', message_too_long: 'message',
  consent_required: 'consent',
};

function leaveFailed(errors, error = null) {
  state.leaveStatus = { errors, error };
  const first = ['name', 'email', 'message', 'consent'].find((name) => errors[name]);
  show(state.screen, first ? `leave-${first}` : 'leave-title');
}

/** Leave an offline message from the hours or busy screen (POST …/offline-messages). */
export async function leaveMessage() {
  readLeave();
  const values = state.leave;
  // The empty fields are told all at once; the server judges the rest (an address's shape …).
  const errors = {};
  if (!values.name.trim()) errors.name = errorText('bad_name');
  if (!values.email.trim()) errors.email = errorText('bad_email');
  if (!values.message.trim()) errors.message = errorText('empty_message');
  if (!values.consent) errors.consent = errorText('consent_required');
  if (Object.keys(errors).length) {
    leaveFailed(errors);
    return;
  }
  state.leaveStatus = { busy: true };
  render();
  const body = {
    topic: state.topic,
    language: chatLanguage(),
    consent: true,
    name: values.name.trim(),
    email: values.email.trim(),
    message: { client_id: newId(), body: values.message },
    context: collectContext(),
    identity: identityToken(),
  };
  try {
    await asVisitor(() => api('POST', '/api/v1/visitor/offline-messages', body));
  } catch (err) {
    if (refusedAsUnavailable(err.code)) return;
    if (err.code === 'maintenance' && await refusedStart(err.code)) return;
    if (planRefused(err)) return;
    const name = LEAVE_FIELDS[err.code];
    if (name) leaveFailed({ [name]: errorText(err.code) });
    else leaveFailed({}, waitText(err));
    return;
  }
  state.left = body.email;
  state.leave = {};
  state.leaveStatus = {};
  state.prechat = {};
  show('left', 'left-title');
}

/** End the conversation on screen (the visitor confirmed it). */
export async function endConversation() {
  const c = state.conversation;
  try {
    const summary = await api('POST', `/api/v1/visitor/conversations/${encodeURIComponent(c.id)}/end`, {});
    conversationEnded(summary.end_reason || 'visitor_left');
  } catch (err) {
    if (err.code === 'conversation_ended') {
      refreshSummary();
      return;
    }
    state.notice = errorText(err.code);
    render();
  }
}

/** Leave the ended conversation for the topics, to start another. */
export function newConversation() {
  setCurrentConversation(null);
  state.conversation = null;
  state.thread = null;
  state.topic = null;
  state.queue = null;
  showTopics('topics-title');
}

/** Leave the conversation on screen for the list of the visitor's conversations (SPEC V16). */
export function showConversations() {
  setCurrentConversation(null);
  state.conversation = null;
  state.thread = null;
  state.queue = null;
  state.notice = null;
  watchAll(); // the list marks replies in any of them as they come
  show('list', 'list-title');
}

/** Open the visitor's conversation `id` from the list (fetching the list if it is not there). */
export async function openListed(id) {
  let found = state.conversations.find((c) => c.id === id);
  if (!found) {
    try {
      const { conversations } = await api('GET', '/api/v1/visitor/conversations');
      setConversations(conversations, id);
      found = state.conversations.find((c) => c.id === id);
    } catch (_) { /* found stays null */ }
  }
  if (found) {
    const { unread, ...summary } = found;
    openConversation(summary);
  } else {
    showTopics('topics-title');
  }
}

/** A topic on which the visitor already has a live conversation opens that one; false if none. */
export function openLiveTopic(topicId) {
  const found = liveOn(topicId);
  if (!found) return false;
  openListed(found.id);
  return true;
}
