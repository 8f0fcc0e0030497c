// Transfers (SPEC A6): a Transfer button in each chat's header opens a dialog to hand the chat to
// another operator (online, serving its department and language, with a free slot) or back to a
// department's queue, with a private note for whoever takes it. The visitor is told where it went,
// never the note. A chat that stops being mine (transferred, or a supervisor took it over: the
// socket's `unassigned`) closes its tab here and on my other consoles, with a word saying why.
import { h } from '../common/dom.js';
import { t, errorText } from '../common/i18n.js';
import { paneParts } from './pane.js';
import { state, departmentLabel, announce } from './page.js';
import { api, conversationPath } from './session.js';
import { onSocket } from './live.js';
import { closePane } from './actions.js';

const TOAST_MS = 8_000;

const dialog = h('dialog', { class: 'handoff-dialog', id: 'transfer-dialog', 'aria-labelledby': 'transfer-title' });
const toastEl = h('p', { class: 'toast', role: 'status', 'aria-live': 'polite', hidden: true });
let toastTimer = 0;
let current = null; // {id, operators, error, busy}: the chat being transferred

/** Say `text` briefly at the bottom of the page (and to screen readers). */
export function toast(text) {
  clearTimeout(toastTimer);
  toastEl.textContent = text;
  toastEl.hidden = false;
  announce(text);
  toastTimer = setTimeout(() => { toastEl.hidden = true; }, TOAST_MS);
}

function transferButton(pane) {
  if (pane.ended) return null;
  return h('button', {
    type: 'button', class: 'secondary small', id: `${pane.domId}-transfer`, 'data-action': 'transfer-open',
    dataset: { id: pane.id }, text: t('transfer.open'),
  });
}

/** Whether operator `o` (from GET /operators) could take the chat `summary` now. */
export function canTake(o, summary) {
  return o.status === 'online' && o.departments.includes(summary.department)
    && o.languages.includes(summary.language) && o.load < o.capacity;
}

function operatorOptions(summary, operators) {
  const others = (operators || []).filter((o) => o.id !== state.me.id
    && o.id !== (summary.operator && summary.operator.id) && canTake(o, summary));
  if (operators && !others.length) return [h('option', { value: '', text: t('transfer.no_operator') })];
  return [
    h('option', { value: '', text: operators ? t('transfer.choose_operator') : t('chat.loading') }),
    others.map((o) => h('option', {
      value: o.id, text: t('transfer.operator_option', { name: o.name, load: o.load, capacity: o.capacity }),
    })),
  ];
}

function departmentOptions(summary) {
  const ids = ((state.config && state.config.departments) || []).map((d) => d.id);
  // The chat's own department last: sending it back to its own queue is the rarer wish.
  const order = [...ids.filter((id) => id !== summary.department), ...ids.filter((id) => id === summary.department)];
  return order.map((id) => h('option', { value: id, text: departmentLabel(id) }));
}

function draw() {
  const pane = current && state.panes.get(current.id);
  if (!pane) return;
  const form = dialog.querySelector('form');
  const focused = dialog.contains(document.activeElement) && document.activeElement.id;
  const kept = form ? {
    target: form.elements.target.value, operator: form.elements.operator.value,
    department: form.elements.department.value, note: form.elements.note.value,
  } : { target: 'operator', operator: '', department: '', note: '' };
  const toOperator = kept.target !== 'department';
  const radio = (value, key) => h('label', { class: 'handoff-choice' },
    h('input', { type: 'radio', name: 'target', value, id: `transfer-to-${value}`, checked: (value === 'operator') === toOperator }),
    ' ', t(key));
  const maxLength = state.config && state.config.limits && state.config.limits.message_max_chars;
  dialog.replaceChildren(h('form', { 'data-form': 'transfer', novalidate: true },
    h('h2', { id: 'transfer-title', text: t('transfer.title') }),
    h('fieldset', { class: 'handoff-targets' },
      h('legend', { text: t('transfer.to') }),
      radio('operator', 'transfer.to_operator'),
      radio('department', 'transfer.to_department')),
    h('div', { class: 'field' },
      h('label', { for: 'transfer-operator', text: t('transfer.operator') }),
      h('select', { id: 'transfer-operator', name: 'operator', disabled: !toOperator }, operatorOptions(pane.summary, current.operators))),
    h('div', { class: 'field' },
      h('label', { for: 'transfer-department', text: t('transfer.department') }),
      h('select', { id: 'transfer-department', name: 'department', disabled: toOperator }, departmentOptions(pane.summary))),
    h('div', { class: 'field' },
      h('label', { for: 'transfer-note', text: t('transfer.note') }),
      h('textarea', {
        id: 'transfer-note', name: 'note', rows: '3', class: 'note-input', 'aria-describedby': 'transfer-note-hint',
        maxlength: maxLength ? String(maxLength) : false,
      }),
      h('p', { class: 'field-hint', id: 'transfer-note-hint', text: t('note.label') })),
    current.error ? h('p', { class: 'form-error', role: 'alert', id: 'transfer-error', text: current.error }) : null,
    h('div', { class: 'handoff-buttons' },
      h('button', { type: 'submit', class: 'primary', id: 'transfer-submit', disabled: current.busy, text: t('transfer.submit') }),
      h('button', { type: 'button', class: 'secondary', 'data-action': 'transfer-cancel', text: t('transfer.cancel') }))));
  const fresh = dialog.querySelector('form');
  fresh.elements.note.value = kept.note;
  if (kept.operator) fresh.elements.operator.value = kept.operator;
  if (kept.department) fresh.elements.department.value = kept.department;
  if (focused) document.getElementById(focused)?.focus();
}

async function open(id) {
  if (!state.panes.has(id)) return;
  current = { id, operators: null, error: null, busy: false };
  dialog.replaceChildren();
  draw();
  if (!dialog.open) dialog.showModal();
  dialog.querySelector('#transfer-to-operator')?.focus();
  try {
    const { operators } = await api('GET', '/api/v1/agent/operators');
    if (current && current.id === id) current.operators = operators;
  } catch (err) {
    if (current && current.id === id) current.error = errorText(err.code);
  }
  if (current && current.id === id) draw();
}

function close() {
  const id = current && current.id;
  current = null;
  if (dialog.open) dialog.close();
  const pane = id && state.panes.get(id);
  if (pane) pane.element.querySelector('[data-action="transfer-open"]')?.focus();
}

async function submit(form) {
  const pane = current && state.panes.get(current.id);
  if (!pane || current.busy) return;
  const toOperator = form.elements.target.value !== 'department';
  const body = { note: form.elements.note.value };
  if (toOperator) body.operator_id = form.elements.operator.value;
  else body.department = form.elements.department.value;
  if (toOperator && !body.operator_id) {
    current.error = t('transfer.choose_operator');
    draw();
    form.ownerDocument.getElementById('transfer-operator')?.focus();
    return;
  }
  current.busy = true;
  current.error = null;
  draw();
  try {
    const summary = await api('POST', conversationPath(pane.id, '/transfer'), body);
    const name = summary.operator && summary.operator.name;
    current = null;
    dialog.close();
    gone(pane.id, name ? t('transfer.done', { name }) : t('transfer.done_department', { department: departmentLabel(body.department) }));
  } catch (err) {
    if (!current) return;
    if (state.screen !== 'main') { // the session is gone: the login form is drawn
      close();
      return;
    }
    current.busy = false;
    current.error = errorText(err.code);
    draw();
    dialog.querySelector('#transfer-error')?.focus();
  }
}

/** The chat `id` is no longer mine: its tab goes, and `text` says where it went. */
function gone(id, text) {
  if (current && current.id === id) close();
  if (state.panes.has(id)) closePane(id);
  toast(text);
}

function onUnassigned(frame) {
  if (!state.panes.has(frame.conversation_id)) return; // this console already closed it
  const name = frame.to && frame.to.name;
  let text = t('transfer.done_queue');
  if (frame.reason === 'taken_over') text = t('transfer.taken_over', { name });
  else if (frame.reason === 'operator_lost') text = t('transfer.lost');
  else if (name) text = t('transfer.done', { name });
  gone(frame.conversation_id, text);
}

/** Add the Transfer button to every chat and listen to the dialog and the socket (once). */
export function installTransfer(root) {
  paneParts.head.push(transferButton);
  document.body.append(dialog, toastEl);
  onSocket('unassigned', onUnassigned);
  root.addEventListener('click', (event) => {
    const button = event.target.closest('[data-action="transfer-open"]');
    if (button) open(button.dataset.id);
  });
  dialog.addEventListener('click', (event) => {
    if (event.target.closest('[data-action="transfer-cancel"]')) close();
  });
  dialog.addEventListener('change', (event) => {
    if (event.target.name !== 'target') return;
    const form = event.target.form;
    const toOperator = event.target.value === 'operator';
    form.elements.operator.disabled = !toOperator;
    form.elements.department.disabled = toOperator;
  });
  dialog.addEventListener('submit', (event) => {
    event.preventDefault();
    submit(event.target);
  });
  dialog.addEventListener('close', () => { current = null; });
}
