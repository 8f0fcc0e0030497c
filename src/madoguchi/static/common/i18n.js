// Translation catalogs and the language choice. Adding a UI language means adding
// /locales/<code>.json and one entry in LANGUAGES; nothing else names the languages
// (docs/translations.md). Plurals, numbers, dates and times come from the browser's Intl (ICU,
// the CLDR data Babel ships too): no format here is built by hand.
import { h } from './dom.js';
import * as store from './store.js';

/** The UI languages, each with its own name (shown as is in every language's switcher). */
export const LANGUAGES = [
  { code: 'ja', name: '日本語' },
  { code: 'en', name: 'English' },
  { code: 'it', name: 'Italiano' },
  { code: 'pt', name: 'Português' },
  { code: 'fr', name: 'Français' },
  { code: 'de', name: 'Deutsch' },
  { code: 'nl', name: 'Nederlands' },
  { code: 'es', name: 'Español' },
  { code: 'sv', name: 'Svenska' },
  { code: 'da', name: 'Dansk' },
];

const STORAGE_KEY = 'madoguchi.lang';
const HINT_KEY = 'madoguchi.lang_hint_dismissed';
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

/** The first language of the browser's preferred list that is offered here, or null. */
export function browserLanguage() {
  const tags = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language];
  for (const tag of tags) {
    const found = match(tag);
    if (found) return found;
  }
  return null;
}

/**
 * Choose the language: the visitor's remembered choice, then ?lang= (a host page may pin one),
 * then the browser's list, then the site's language, then the fallback.
 * @param {string} fallback
 * @param {string|null} [site] the host page's <html lang>
 */
export function chooseLanguage(fallback, site = null) {
  // The visitor's own choice beats a language the host pinned: it is the one they can read.
  return match(store.get(STORAGE_KEY))
    || match(new URLSearchParams(location.search).get('lang'))
    || browserLanguage()
    || match(site)
    || match(fallback)
    || supported[0];
}

async function load(code) {
  if (!catalogs.has(code)) {
    const response = await fetch(`/locales/${encodeURIComponent(code)}.json`, { credentials: 'same-origin' });
    if (!response.ok) throw new Error(`catalog ${code}: HTTP ${response.status}`);
    catalogs.set(code, await response.json());
  }
  return catalogs.get(code);
}

/** Load the catalog of `code` (a UI language) once, e.g. to show a visitor's words to an operator. */
export async function loadCatalog(code) {
  await load(code);
}

/**
 * Load the chosen language's catalog and set <html lang>.
 * @param {{fallback?: string, only?: string[], site?: string|null}} [options] `only` narrows
 *   the UI languages; `site` is the host page's language
 * @returns {Promise<string>} the language in use
 */
export async function init({ fallback = 'ja', only = null, site = null } = {}) {
  if (only && only.length) {
    const narrowed = LANGUAGES.map((l) => l.code).filter((code) => only.includes(code));
    if (narrowed.length) supported = narrowed;
  }
  const code = chooseLanguage(fallback, site);
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

const numberFormats = new Map();
const pluralRules = new Map();

function cached(cache, code, make) {
  if (!cache.has(code)) cache.set(code, make());
  return cache.get(code);
}

/**
 * The text of one catalog value in `code`: a string, or an object of CLDR plural categories
 * ({"one": "…", "other": "…"}) chosen by `params.count`; numbers are formatted for `code`.
 */
function format(value, params, code) {
  let text = value;
  if (text !== null && typeof text === 'object') {
    const count = Number(params.count);
    const category = Number.isFinite(count)
      ? cached(pluralRules, code, () => new Intl.PluralRules(code)).select(count)
      : 'other';
    text = text[category] ?? text.other ?? '';
  }
  return String(text).replace(/\{(\w+)\}/g, (whole, name) => {
    if (!(name in params)) return whole;
    const param = params[name];
    return typeof param === 'number'
      ? cached(numberFormats, code, () => new Intl.NumberFormat(code)).format(param)
      : String(param);
  });
}

/**
 * Translate `key`, filling `{name}` placeholders from `params` (numbers in the UI language's
 * digits and separators; a plural value picks its form by `params.count`).
 * @param {string} key
 * @param {Object<string, string|number>} [params]
 */
export function t(key, params = {}) {
  const catalog = catalogs.get(current) || {};
  if (catalog[key] === undefined) return key;
  return format(catalog[key], params, current);
}

/**
 * A `t` for another loaded language (loadCatalog first): a key it lacks comes from the UI language.
 * @param {string} code
 * @returns {(key: string, params?: Object<string, string|number>) => string}
 */
export function translator(code) {
  return (key, params = {}) => {
    const value = (catalogs.get(code) || {})[key];
    return value === undefined ? t(key, params) : format(value, params, code);
  };
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
    // A reload keeps the URL even where the frame may store nothing: keep ?lang= in step.
    url.searchParams.set('lang', chosen);
    history.replaceState(history.state, '', url);
  }
  for (const fn of listeners) fn(current);
}

/**
 * The language to offer in an "also available in …" notice, or null: the browser's language when
 * the chat is in another one (the host page pinned it), the page itself is not in the browser's
 * language, and the visitor has neither chosen a language nor dismissed this offer.
 * @param {string|null} site the host page's <html lang>
 */
export function suggestedLanguage(site) {
  const wanted = browserLanguage();
  if (!wanted || wanted === current || wanted === match(site)) return null;
  if (match(store.get(STORAGE_KEY)) || store.get(HINT_KEY) === wanted) return null;
  return wanted;
}

/** Do not offer `code` again (the visitor closed the notice). */
export function dismissSuggestion(code) {
  store.set(HINT_KEY, code, 365);
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
