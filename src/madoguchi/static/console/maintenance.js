// The maintenance switch in the console (SPEC X5). Every operator sees a banner under the header
// while chat is paused, with the message visitors read; admins get a "Maintenance" button in the
// header that opens a small dialog: the switch, the message, Save. The state comes from
// GET /api/v1/agent/maintenance whenever the socket says welcome (first and every reconnection),
// then from the `maintenance` frames the server sends every console when an admin changes it.
import { h, replace } from '../common/dom.js';
import * as i18n from '../common/i18n.js';
import { t, errorText, formatTime } from '../common/i18n.js';
import { root, state } from './page.js';
import { api } from './session.js';
import { onSocket } from './live.js';

const MESSAGE_MAX = 1000;

let current = null; // {enabled, message, since, by}, as the server last said
let form = null; // the dialog's {enabled, message, busy, error, saved} while it is open

const banner = h('div', { class: 'maintenance-banner', id: 'maintenance-banner', role: 'status', hidden: true });
const dialog = h('dialog', { class: 'handoff-dialog maintenance-dialog', id: 'maintenance', 'aria-labelledby': 'maintenance-title' });

/** Draw the banner (or hide it) and keep it right under the header. */
function drawBanner() {
  const header = root.querySelector('.console-header');
  if (header && banner.previousElementSibling !== header) header.after(banner);
  const on = Boolean(current && current.enabled && state.screen === 'main');
  banner.hidden = !on;
  if (!on) {
    banner.replaceChildren();
    return;
  }
  const by = current.by && current.by.name;
  replace(banner,
    h('p', { class: 'maintenance-banner-title', text: t('maintenance.banner') }),
    h('p', { class: 'maintenance-banner-message' },
      h('span', { class: 'maintenance-banner-label', text: t('maintenance.banner_message') }), ' ',
      h('span', { id: 'maintenance-banner-text', text: current.message })),
    current.since
      ? h('p', { class: 'maintenance-banner-since', text: t('maintenance.banner_since', { time: formatTime(current.since), name: by || '' }) })
      : null);
}

/** Keep what the admin set in the open dialog, so that a redraw (a language switch) puts it back. */
function readDialog() {
  const draft = dialog.querySelector('#maintenance-message');
  const box = dialog.querySelector('#maintenance-enabled');
  if (form && draft && box) form = { ...form, message: draft.value, enabled: box.checked };
}

function drawDialog() {
  if (!form) return;
  const focused = dialog.contains(document.activeElement) && document.activeElement.id;
  replace(dialog,
    h('form', { 'data-form': 'maintenance', novalidate: true, 'aria-busy': form.busy ? 'true' : 'false' },
      h('h2', { id: 'maintenance-title', text: t('maintenance.dialog_title') }),
      h('p', { class: 'field-hint', text: t('maintenance.lead') }),
      h('div', { class: 'maintenance-switch' },
        h('input', { type: 'checkbox', id: 'maintenance-enabled', name: 'enabled', checked: form.enabled }),
        h('label', { for: 'maintenance-enabled', text: t('maintenance.enabled') })),
      h('div', { class: 'field' },
        h('label', { for: 'maintenance-message', text: t('maintenance.message') }),
        h('textarea', {
          id: 'maintenance-message', name: 'message', rows: '4', maxlength: String(MESSAGE_MAX),
          'aria-invalid': form.error ? 'true' : false, 'aria-describedby': form.error ? 'maintenance-error' : false,
        }, form.message)),
      form.error ? h('p', { class: 'form-error', role: 'alert', id: 'maintenance-error', text: form.error }) : null,
      form.saved ? h('p', { class: 'maintenance-saved', role: 'status', id: 'maintenance-saved', text: form.saved }) : null,
      h('div', { class: 'handoff-buttons' },
        h('button', { type: 'button', class: 'secondary', 'data-action': 'maintenance-close', id: 'maintenance-close', text: t('maintenance.close') }),
        h('button', {
          type: 'submit', class: 'primary', id: 'maintenance-save', disabled: form.busy ? true : false,
          text: form.busy ? t('maintenance.saving') : t('maintenance.save'),
        }))));
  if (focused) document.getElementById(focused)?.focus();
}

function take(found) {
  current = found;
  drawBanner();
}

async function load() {
  try {
    take(await api('GET', '/api/v1/agent/maintenance'));
  } catch (_) { /* the next welcome or frame tells */ }
}

function open() {
  form = {
    enabled: Boolean(current && current.enabled), message: (current && current.message) || '',
    busy: false, error: null, saved: null,
  };
  drawDialog();
  if (!dialog.open) dialog.showModal();
  document.getElementById('maintenance-enabled')?.focus();
}

async function save() {
  if (!form || form.busy) return;
  readDialog();
  const { enabled, message } = form;
  form = { ...form, busy: true, error: null, saved: null };
  drawDialog();
  try {
    const found = await api('PUT', '/api/v1/agent/maintenance', { enabled, message });
    take(found);
    if (!form) return;
    form = { ...form, busy: false, message: found.message, saved: t(found.enabled ? 'maintenance.saved_on' : 'maintenance.saved_off') };
    drawDialog();
  } catch (err) {
    if (!form) return;
    form = { ...form, busy: false, error: errorText(err.code) };
    drawDialog();
    document.getElementById('maintenance-message')?.focus();
  }
}

/** Listen to the header's button, the dialog and the socket (once, at start). */
export function installMaintenance() {
  document.body.append(dialog);
  root.addEventListener('click', (event) => {
    if (event.target.closest('[data-action="maintenance-open"]')) open();
  });
  dialog.addEventListener('click', (event) => {
    if (event.target.closest('[data-action="maintenance-close"]')) dialog.close();
  });
  dialog.addEventListener('submit', (event) => {
    event.preventDefault();
    save();
  });
  dialog.addEventListener('close', () => {
    form = null;
    document.getElementById('maintenance-open')?.focus();
  });
  onSocket('welcome', load);
  onSocket('maintenance', (frame) => take(frame));
  i18n.onChange(() => {
    drawBanner();
    readDialog();
    drawDialog();
  });
}
