// JSON over fetch, with the API's error shape turned into ApiError.

/**
 * An error answer from the API: `code` is stable (catalog key `error.<code>`); `details` is what a
 * client needs to act on it (e.g. the conversation already open on a topic), or null.
 */
export class ApiError extends Error {
  constructor(status, code, message, details = null) {
    super(message || code);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/**
 * Call the API.
 * @param {string} method
 * @param {string} path e.g. "/api/v1/visitor/config"
 * @param {{body?: any, token?: string, csrf?: string}} [options]
 * @returns {Promise<any>} the parsed JSON (null for 204)
 */
export async function request(method, path, { body, token, csrf } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  if (csrf && method !== 'GET') headers['X-CSRF-Token'] = csrf;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch (err) {
    throw new ApiError(0, 'network', String(err));
  }
  if (response.status === 204) return null;
  let data = null;
  try { data = await response.json(); } catch (_) { /* not JSON */ }
  if (!response.ok) {
    const error = (data && data.error) || {};
    throw new ApiError(response.status, error.code || `http_${response.status}`, error.message, error.details || null);
  }
  return data;
}

/** The WebSocket URL for `path` on this origin (ws: or wss: after the page's protocol). */
export function socketUrl(path) {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}${path}`;
}
