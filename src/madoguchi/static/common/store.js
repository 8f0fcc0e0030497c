// Small persistent key/value storage for the chat frame and the console.
//
// Why not just localStorage: the chat frame runs on the chat origin inside a customer's page, and
// browsers that block third-party storage (Chromium's default now, every Incognito window) refuse
// localStorage, sessionStorage and IndexedDB to such a frame. A partitioned cookie (CHIPS) is still
// allowed there: it belongs to the frame's origin, is keyed by the top-level site like partitioned
// storage, and the host page cannot read it. So: localStorage when we may, else that cookie,
// else memory (a reload then starts afresh).

const COOKIE_MAX_CHARS = 3800; // a cookie holds about 4 KB; larger values stay in memory
const memory = new Map();

const local = (() => {
  try {
    const probe = 'madoguchi.probe';
    localStorage.setItem(probe, '1');
    localStorage.removeItem(probe);
    return localStorage;
  } catch (_) {
    return null;
  }
})();

function cookieName(key) {
  return `__Host-${key.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

function readCookie(name) {
  for (const part of document.cookie.split('; ')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq) === name) {
      try { return decodeURIComponent(part.slice(eq + 1)); } catch (_) { return null; }
    }
  }
  return null;
}

function writeCookie(name, value, maxAge) {
  try {
    document.cookie = `${name}=${value}; Path=/; Max-Age=${maxAge}; Secure; SameSite=None; Partitioned`;
  } catch (_) { /* cookies disabled: memory only */ }
}

/** The stored string for `key`, or null. */
export function get(key) {
  if (local) {
    try { return local.getItem(key); } catch (_) { /* fall through */ }
  }
  if (memory.has(key)) return memory.get(key);
  return readCookie(cookieName(key));
}

/**
 * Store a string.
 * @param {string} key
 * @param {string} value
 * @param {number} [maxAgeDays] how long the cookie fallback keeps it
 */
export function set(key, value, maxAgeDays = 30) {
  if (local) {
    try { local.setItem(key, value); return; } catch (_) { /* quota: fall through */ }
  }
  memory.set(key, value);
  const encoded = encodeURIComponent(value);
  if (encoded.length <= COOKIE_MAX_CHARS) writeCookie(cookieName(key), encoded, Math.round(maxAgeDays * 86400));
  else writeCookie(cookieName(key), '', 0);
}

/** Forget `key`. */
export function remove(key) {
  if (local) {
    try { local.removeItem(key); } catch (_) { /* ignore */ }
  }
  memory.delete(key);
  if (!local) writeCookie(cookieName(key), '', 0);
}
