// Small DOM helpers. Text always goes in through textContent / text nodes, never through HTML
// parsing, so a visitor's "<script>" is shown as the eight characters it is.

/**
 * Build an element.
 * @param {string} tag
 * @param {Object<string, any>} [attrs] attributes; `class` sets className, `text` sets textContent,
 *   `dataset` an object of data-*; `false`/`null`/`undefined` values are skipped, `true` sets "".
 * @param {...(Node|string|null|undefined|false|Array)} children strings become text nodes
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name === 'class') el.className = value;
    else if (name === 'text') el.textContent = value;
    else if (name === 'dataset') Object.assign(el.dataset, value);
    else if (name === 'value') el.value = value;
    else if (name === 'checked') el.checked = Boolean(value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

/** Append children (nodes, strings as text, nested arrays; falsy ones skipped). */
export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** Replace all children of `parent`. */
export function replace(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

/** A new client id (UUID v4); crypto.randomUUID needs a secure context, so fall back. */
export function newId() {
  if (globalThis.crypto && typeof crypto.randomUUID === 'function') {
    try { return crypto.randomUUID(); } catch (_) { /* insecure context */ }
  }
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((n) => n.toString(16).padStart(2, '0')).join('');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** Pick the text of a localized dict ({ja: "…", en: "…"}) for `lang`, then `fallback`, then any. */
export function localized(dict, lang, fallback) {
  if (dict === null || dict === undefined) return '';
  if (typeof dict === 'string') return dict;
  return dict[lang] ?? dict[fallback] ?? Object.values(dict)[0] ?? '';
}
