// "This chat is also available in Deutsch — switch": when the host page pinned the chat to its
// own language and the visitor's browser prefers another one the desk offers, a small notice in
// that language offers it (as the second seed page's site does). Closing it is remembered.
import { h } from '../common/dom.js';
import * as i18n from '../common/i18n.js';

/** The host page's <html lang>, as the loader passed it. */
export const siteLanguage = new URLSearchParams(location.search).get('site_lang');

const ready = new Set(); // languages whose catalog is loaded for the notice

/** Load the words of the language to offer, if any (before the first render shows them). */
export async function prepareNotice() {
  const code = i18n.suggestedLanguage(siteLanguage);
  if (!code || ready.has(code)) return;
  try {
    await i18n.loadCatalog(code);
    ready.add(code);
  } catch (_) { /* no notice without its words */ }
}

/** The notice, in the language it offers, or null. */
export function languageNotice() {
  const code = i18n.suggestedLanguage(siteLanguage);
  if (!code || !ready.has(code)) return null;
  const tr = i18n.translator(code);
  return h('div', { class: 'lang-notice', lang: code, id: 'lang-notice' },
    h('p', { text: tr('lang.available') }),
    h('button', { type: 'button', class: 'link', 'data-action': 'lang-suggest', dataset: { lang: code }, text: tr('lang.switch') }),
    h('button', {
      type: 'button', class: 'lang-notice-close', 'data-action': 'lang-dismiss', dataset: { lang: code },
      'aria-label': tr('lang.dismiss'), title: tr('lang.dismiss'), text: '×',
    }));
}

/**
 * Handle the notice's two buttons under `root` (one delegated listener).
 * @param {HTMLElement} root
 * @param {() => void} redraw draws the frame again (after a dismissal)
 */
export function installLanguageNotice(root, redraw) {
  root.addEventListener('click', async (event) => {
    const button = event.target.closest('[data-action="lang-suggest"], [data-action="lang-dismiss"]');
    if (!button) return;
    const focusAfter = () => root.querySelector('main h1, main [data-composer], main [data-action="new"]')?.focus();
    if (button.dataset.action === 'lang-suggest') {
      await i18n.setLanguage(button.dataset.lang); // its listeners redraw the frame
    } else {
      i18n.dismissSuggestion(button.dataset.lang);
      redraw();
    }
    focusAfter();
  });
}
