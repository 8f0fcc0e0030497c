// Save a file the API serves (a transcript) on the user's computer. A plain link cannot do it: the
// chat frame proves who the visitor is only with its Bearer token, never a cookie, so the file is
// fetched with the token, held as a Blob, and handed to the browser through an <a download>.
import { ApiError } from './api.js';

/** The file name of a `Content-Disposition: attachment; filename="…"` header, or null. */
export function attachmentName(header) {
  const match = /filename="([^"]+)"/.exec(header || '');
  return match ? match[1] : null;
}

/**
 * Fetch `path` and save it as a file.
 * @param {string} path e.g. "/api/v1/visitor/conversations/c_…/transcript?tz=Asia%2FTokyo"
 * @param {{token?: string, fallbackName?: string}} [options] `token`: the visitor's Bearer token
 *   (the console's cookie goes by itself)
 * @returns {Promise<string>} the name the file was saved under
 * @throws {ApiError} with the API's error code (or `network`)
 */
export async function downloadFile(path, { token, fallbackName = 'download.txt' } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, { headers, credentials: 'same-origin', cache: 'no-store' });
  } catch (err) {
    throw new ApiError(0, 'network', String(err));
  }
  if (!response.ok) {
    let error = {};
    try { error = ((await response.json()) || {}).error || {}; } catch (_) { /* not JSON */ }
    throw new ApiError(response.status, error.code || `http_${response.status}`, error.message);
  }
  const blob = await response.blob();
  const name = attachmentName(response.headers.get('Content-Disposition')) || fallbackName;
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // The browser has started the download by now; give it a moment before the Blob goes.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return name;
}

/** The browser's IANA time zone ("Asia/Tokyo"), or null on an engine that cannot say. */
export function browserTimeZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || null;
  } catch (_) {
    return null;
  }
}
