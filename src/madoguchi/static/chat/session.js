// What the chat frame keeps about the visitor, and the REST calls made as them. The visitor token
// lives in this frame's own storage only (common/store.js); the host page never sees it.
import { request } from '../common/api.js';
import * as store from '../common/store.js';
import { state } from './page.js';

const SESSION_KEY = 'madoguchi.visitor';
const CURRENT_KEY = 'madoguchi.conversation';

/** The stored visitor session ({visitor_id, token}), or null. */
export function loadSession() {
  const raw = store.get(SESSION_KEY);
  try {
    const session = JSON.parse(raw);
    return session && session.token ? session : null;
  } catch (_) {
    return null;
  }
}

/** Use `session` from now on and store it (null forgets it). */
export function saveSession(session) {
  // Another visitor, or none: the conversations listed were the previous one's (SPEC V16).
  if (!session || !state.session || session.visitor_id !== state.session.visitor_id) state.conversations = [];
  state.session = session;
  if (session) store.set(SESSION_KEY, JSON.stringify(session));
  else store.remove(SESSION_KEY);
}

/** The conversation last on screen: a reload shows it again, even once it has ended. */
export function currentConversationId() {
  return store.get(CURRENT_KEY);
}

/** Remember the conversation on screen (null: none, the visitor chose to start anew). */
export function setCurrentConversation(id) {
  if (id) store.set(CURRENT_KEY, id);
  else store.remove(CURRENT_KEY);
}

/**
 * An away mail's link back (`/chat#return=<token>`, docs/email.md, SPEC V9): trade it for a
 * session on that conversation and make it the one on screen. This browser's own session is
 * kept when it is the same visitor's; otherwise the link's session, limited to that one
 * conversation, is used. Returns the refusal's code (expired, not valid), or null.
 */
export async function takeReturnLink() {
  const match = /^#return=([A-Za-z0-9_.\-]{1,300})$/.exec(location.hash);
  if (!match) return null;
  history.replaceState(null, '', location.pathname + location.search); // out of the address bar
  try {
    const back = await request('POST', '/api/v1/visitor/return', { body: { token: match[1] } });
    const own = loadSession();
    if (own && own.visitor_id === back.visitor_id && !own.scoped) state.session = own;
    else saveSession({ visitor_id: back.visitor_id, token: back.token, scoped: true });
    setCurrentConversation(back.conversation_id);
    return null;
  } catch (err) {
    return err.code || 'generic';
  }
}

/** A REST call with the visitor's token. */
export function api(method, path, body) {
  return request(method, path, { body, token: state.session && state.session.token });
}
