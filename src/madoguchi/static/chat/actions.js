// What the visitor asks for: pick up the last conversation after a (re)load, start one from the
// pre-chat form, end it (these through the REST API), or go back to the topics for a new one.
import { newId } from '../common/dom.js';
import * as i18n from '../common/i18n.js';
import { errorText } from '../common/i18n.js';
import { ApiError } from '../common/api.js';
import { collectContext } from './screens.js';
import { state, render, show, readPrechat } from './page.js';
import { api, loadSession, saveSession, currentConversationId, setCurrentConversation } from './session.js';
import { openConversation, conversationEnded, refreshSummary, resetSocket } from './live.js';

/** After a (re)load: the visitor's open conversation, else the one last on screen, else the topics. */
export async function resumeLastConversation() {
  state.session = loadSession();
  if (!state.session) {
    show('topics');
    return;
  }
  try {
    const { conversations } = await api('GET', '/api/v1/visitor/conversations');
    const open = conversations.find((c) => c.status !== 'ended');
    const currentId = currentConversationId();
    const last = open || conversations.find((c) => c.id === currentId);
    if (last) {
      openConversation(last);
      return;
    }
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) saveSession(null);
  }
  show('topics');
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
  const config = state.config;
  const body = {
    topic: state.topic,
    language: config.languages && config.languages.includes(i18n.lang()) ? i18n.lang() : config.default_language,
    consent: true,
    prechat: {
      member_id: clean(values.member_id),
      contract_name: clean(values.contract_name),
      contact_person: clean(values.contact_person),
    },
    context: collectContext(),
  };
  if (values.message && values.message.trim()) body.message = { client_id: newId(), body: values.message };
  try {
    let summary;
    try {
      if (!state.session) saveSession(await api('POST', '/api/v1/visitor/session', {}));
      summary = await api('POST', '/api/v1/visitor/conversations', body);
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 401) throw err;
      // The stored token is no longer valid: start a new visitor session once.
      resetSocket();
      saveSession(await api('POST', '/api/v1/visitor/session', {}));
      summary = await api('POST', '/api/v1/visitor/conversations', body);
    }
    state.prechat = {};
    state.prechatStatus = {};
    openConversation(summary);
  } catch (err) {
    state.prechatStatus = { error: errorText(err.code) };
    show('prechat', 'prechat-title');
  }
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
  show('topics', 'topics-title');
}
