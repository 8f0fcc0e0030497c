// The REST calls made as the operator: the session cookie goes by itself, writes add the CSRF
// token. The server can stop accepting the session at any time (it expired, or the operator
// logged out in another tab); whoever notices says so here, and app.js takes us back to the login.
import { request, ApiError } from '../common/api.js';
import { state } from './page.js';

let onSessionGone = () => {};

/** Name what to do once the server no longer accepts the session (set once, by app.js). */
export function whenSessionGone(fn) {
  onSessionGone = fn;
}

/** The server no longer accepts the session (the socket said `unauthorized`, or a REST call 401). */
export function sessionGone() {
  onSessionGone();
}

/** A REST call with the CSRF token; a 401 while the console is open means the session is gone. */
export async function api(method, path, body) {
  try {
    return await request(method, path, { body, csrf: state.csrf });
  } catch (err) {
    if (err instanceof ApiError && err.status === 401 && state.screen === 'main') sessionGone();
    throw err;
  }
}

/** The REST path of one of the operator's conversations. */
export function conversationPath(id, suffix = '') {
  return `/api/v1/agent/conversations/${encodeURIComponent(id)}${suffix}`;
}
