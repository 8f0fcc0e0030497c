// Translation catalogs and the language choice. Adding a UI language means adding
// /locales/<code>.json and one entry in LANGUAGES; nothing else names the languages.
import { h } from './dom.js';
import * as store from './store.js';

/** The UI languages, each with its own name (shown as is in every language's switcher). */
export const LANGUAGES = [
  { code: 'ja', name: '日本語' },
  { code: 'en', name: 'English' },
];

const STORAGE_KEY = 'madoguchi.lang';
const catalogs = new Map();
const listeners = new Set();
let current = null;
let supported = LANGUAGES.map((l) => l.code);

function match(tag) {
  if (!tag) return null;
  const lower = String(tag).toLowerCase();
  const exact = supported.find((code) => code.toLowerCase() === lower);
  if (exact) return exact;
  const primary = lower.split('-')[0]; // pt-BR -> pt
  return supported.find((code) => code.toLowerCase() === primary) || null;
}

/**
 * Choose the language: ?lang=, then the remembered choice, then the browser's list, then fallback.
 * @param {string} fallback
 */
export function chooseLanguage(fallback) {
  const fromQuery = match(new URLSearchParams(location.search).get('lang'));
  if (fromQuery) return fromQuery;
  const remembered = match(store.get(STORAGE_KEY));
  if (remembered) return remembered;
  const browser = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language];
  for (const tag of browser) {
    const found = match(tag);
    if (found) return found;
  }
  return match(fallback) || supported[0];
}

async function load(code) {
  if (!catalogs.has(code)) {
    const response = await fetch(`/locales/${encodeURIComponent(code)}.json`, { credentials: 'same-origin' });
    if (!response.ok) throw new Error(`catalog ${code}: HTTP ${response.status}`);
    catalogs.set(code, await response.json());
  }
  return catalogs.get(code);
}

/**
 * Load the chosen language's catalog and set <html lang>.
 * @param {{fallback?: string, only?: string[]}} [options] `only` narrows the UI languages
 * @returns {Promise<string>} the language in use
 */
export async function init({ fallback = 'ja', only = null } = {}) {
  if (only && only.length) {
    const narrowed = LANGUAGES.map((l) => l.code).filter((code) => only.includes(code));
    if (narrowed.length) supported = narrowed;
  }
  const code = chooseLanguage(fallback);
  try {
    await load(code);
    current = code;
  } catch (err) {
    const other = supported.find((c) => c !== code);
    if (!other) throw err;
    await load(other);
    current = other;
  }
  document.documentElement.lang = current;
  return current;
}

/** The language in use. */
export function lang() {
  return current;
}

/** The UI languages offered here, with their own names. */
export function languages() {
  return LANGUAGES.filter((l) => supported.includes(l.code));
}

/**
 * Translate `key`, filling `{name}` placeholders from `params`.
 * @param {string} key
 * @param {Object<string, string|number>} [params]
 */
export function t(key, params = {}) {
  const catalog = catalogs.get(current) || {};
  const text = catalog[key];
  if (text === undefined) return key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

/** Whether the catalog has `key` (for codes the server may add before the catalogs know them). */
export function has(key) {
  return Object.prototype.hasOwnProperty.call(catalogs.get(current) || {}, key);
}

/** The localized text for an API/WebSocket error code, or the generic error text. */
export function errorText(code) {
  return code && has(`error.${code}`) ? t(`error.${code}`) : t('error.generic');
}

/**
 * Translate `key` into a list of nodes, putting the given nodes (links, …) where their
 * `{placeholders}` are; the text parts stay text.
 * @param {string} key
 * @param {Object<string, Node>} nodes
 * @returns {Array<Node|string>}
 */
export function tNodes(key, nodes) {
  const parts = [];
  const text = t(key);
  let last = 0;
  for (const m of text.matchAll(/\{(\w+)\}/g)) {
    parts.push(text.slice(last, m.index));
    parts.push(nodes[m[1]] ?? m[0]);
    last = m.index + m[0].length;
  }
  parts.push(text.slice(last));
  return parts.filter((p) => p !== '');
}

/**
 * Switch the language, remember it, and tell every listener (they re-render).
 * @param {string} code
 */
export async function setLanguage(code) {
  const chosen = match(code);
  if (!chosen || chosen === current) return;
  await load(chosen);
  current = chosen;
  document.documentElement.lang = current;
  store.set(STORAGE_KEY, chosen, 365);
  const url = new URL(location.href);
  if (url.searchParams.has('lang')) {
    // ?lang= wins over the remembered choice, so keep it in step or a reload would undo the switch.
    url.searchParams.set('lang', chosen);
    history.replaceState(history.state, '', url);
  }
  for (const fn of listeners) fn(current);
}

/** Call `fn(lang)` after each language switch. */
export function onChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/**
 * A labelled <select> of the UI languages; installLanguageSwitcher makes it switch.
 * @param {string} id element id of the select
 */
export function languageSwitcher(id) {
  const select = h('select', { id, class: 'lang-switch', 'data-action': 'language' },
    languages().map((l) => h('option', { value: l.code, lang: l.code, text: l.name })));
  select.value = current;
  return h('span', { class: 'lang-switch-wrap' },
    h('label', { for: id, class: 'visually-hidden', text: t('lang.label') }), select);
}

/** Switch the language when any switcher under `root` changes (one delegated listener). */
export function installLanguageSwitcher(root) {
  root.addEventListener('change', (event) => {
    const select = event.target.closest('[data-action="language"]');
    if (select) setLanguage(select.value);
  });
}

const timeFormats = new Map();

/** Format an ISO time as hours and minutes in the UI language and the browser's time zone. */
export function formatTime(iso) {
  const date = iso ? new Date(iso) : new Date();
  if (Number.isNaN(date.getTime())) return '';
  if (!timeFormats.has(current)) {
    timeFormats.set(current, new Intl.DateTimeFormat(current, { hour: '2-digit', minute: '2-digit' }));
  }
  return timeFormats.get(current).format(date);
}

/** A full date and time, for the title of a timestamp. */
export function formatDateTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  return new Intl.DateTimeFormat(current, { dateStyle: 'medium', timeStyle: 'medium' }).format(date);
}
