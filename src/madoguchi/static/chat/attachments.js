// Attachments in the chat frame (SPEC V6): the clip button in the composer and files dropped on the
// chat go to the conversation on screen, sent with the visitor's token (common/attachments.js).
import { configureAttachments, installAttachments, addToComposer } from '../common/attachments.js';
import { state } from './page.js';

const CLOSED = ['ended', 'offline'];

/** The composer `form` of the conversation on screen, with the clip button. */
export function withAttachments(form) {
  const c = state.conversation;
  if (c && !CLOSED.includes(c.status)) addToComposer(form, c.id);
  return form;
}

/** Listen for uploads and draw file bubbles (once, at start). */
export function installChatAttachments(root) {
  configureAttachments({
    base: '/api/v1/visitor',
    token: () => state.session && state.session.token,
    limits: () => state.config && state.config.attachments,
  });
  installAttachments(root, {
    zoneFor: (target) => {
      const element = target.closest('.screen--chat');
      const c = state.conversation;
      return element && c && !CLOSED.includes(c.status) ? { element, id: c.id } : null;
    },
  });
}
