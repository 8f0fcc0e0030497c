// Attachments in the console (SPEC V6): each chat's composer gets the clip button, and a file
// dropped on a chat's pane goes to that chat (common/attachments.js; writes carry the CSRF token).
import { configureAttachments, installAttachments, addToComposer } from '../common/attachments.js';
import { paneParts } from './pane.js';
import { state } from './page.js';

function clipPart(pane) {
  // Once the pane is drawn: the clip button goes inside its composer, before the text.
  queueMicrotask(() => {
    const form = pane.element.querySelector('[data-form="composer"]');
    if (form) addToComposer(form, pane.id);
  });
  return null;
}

/** Add the clip button to every pane and listen for uploads (once, at start). */
export function installConsoleAttachments(root) {
  configureAttachments({
    base: '/api/v1/agent',
    csrf: () => state.csrf,
    limits: () => state.config && state.config.attachments,
  });
  paneParts.composer.push(clipPart);
  installAttachments(root, {
    zoneFor: (target) => {
      const element = target.closest('.pane');
      const pane = element && state.panes.get(element.dataset.id);
      return pane && !pane.ended ? { element, id: pane.id } : null;
    },
  });
}
