// Private notes (SPEC A6): a switch under a chat's composer turns what the operator writes into a
// note that only operators see (POST …/notes, never the socket's `send`, never a typing signal),
// and notes are drawn apart from messages: yellow, labelled as invisible to the visitor. The
// server never sends a note to the visitor's socket (docs/protocol.md, `hidden`).
import { h, newId } from '../common/dom.js';
import { t, errorText, formatTime, formatDateTime } from '../common/i18n.js';
import { registerRenderer, renderBody } from '../common/render.js';
import { paneParts } from './pane.js';
import { state } from './page.js';
import { api, conversationPath } from './session.js';
import { sendTyping } from './live.js';

/** A note in a chat's thread (operators only; the chat frame registers no renderer for it). */
export function renderNote(event, { viewer }) {
  if (viewer !== 'operator') return null;
  const name = (event.author && event.author.name) || t('message.operator');
  return h('li', { class: 'msg msg--note', dataset: { seq: String(event.seq), clientId: event.client_id || '' } },
    h('div', { class: 'meta' },
      h('span', { class: 'note-label', text: t('note.label') }), ' · ',
      h('span', { class: 'who', text: name }), ' ',
      h('time', { datetime: event.at || '', title: event.at ? formatDateTime(event.at) : false, text: formatTime(event.at) })),
    renderBody(event.body));
}

/** The switch under the composer; the pane keeps its state (`noteMode`) across renders. */
function noteSwitch(pane) {
  const id = `${pane.domId}-note-mode`;
  pane.element.classList.toggle('pane--note', Boolean(pane.noteMode));
  if (pane.noteMode) {
    // Once the pane is drawn: the composer's description says that this is a private note.
    queueMicrotask(() => pane.element.querySelector('[data-composer]')
      ?.setAttribute('aria-describedby', `${id}-hint ${pane.domId}-composer-hint`));
  }
  return h('div', { class: 'note-switch' },
    h('input', { type: 'checkbox', id, 'data-action': 'note-mode', dataset: { id: pane.id }, checked: Boolean(pane.noteMode) }),
    h('label', { for: id, text: t('note.mode') }),
    pane.noteMode ? h('span', { class: 'note-hint', id: `${id}-hint`, text: t('note.label') }) : null);
}

/** Whether the composer of chat `id` writes private notes now. */
export function isNoteMode(id) {
  const pane = id && state.panes.get(id);
  return Boolean(pane && pane.noteMode);
}

/** Store `text` as a private note in chat `id`; it comes back on the socket as a `note` event. */
export async function addNote(id, text) {
  const pane = state.panes.get(id);
  if (!pane || pane.ended) return;
  try {
    await api('POST', conversationPath(id, '/notes'), { client_id: newId(), body: text });
    if (pane.notice) {
      pane.notice = null;
      pane.render();
    }
  } catch (err) {
    pane.notice = errorText(err.code);
    pane.render();
    const textarea = pane.element.querySelector('[data-composer]');
    if (textarea && !textarea.value) textarea.value = text; // give the words back to retry
  }
}

function setNoteMode(id, on) {
  const pane = state.panes.get(id);
  if (!pane) return;
  pane.noteMode = on;
  if (on) sendTyping(id, false); // what comes now is not for the visitor
  pane.render();
  pane.element.querySelector('[data-action="note-mode"]')?.focus();
}

/** Add the switch to every pane and listen to it (once, at start). */
export function installNotes(root) {
  registerRenderer('note', renderNote);
  paneParts.composer.push(noteSwitch);
  root.addEventListener('change', (event) => {
    const box = event.target.closest('[data-action="note-mode"]');
    if (box) setNoteMode(box.dataset.id, box.checked);
  });
}
