// Bans (SPEC A10). Every chat's header has a "Ban visitor" button: a dialog asks for a reason
// (required), a duration from the desk's choices and whether to ban the visitor's network too;
// the server ends their open chats as prohibited content, so the pane shows the chat ended. For
// supervisors and admins the header's "Bans" button opens the bans in force, each with Lift, and
// the audit log (who banned or lifted what, when). The visitor is never told they are banned.
import { h, replace } from '../common/dom.js';
import { t, errorText, formatDateTime } from '../common/i18n.js';
import { paneParts, chatTitle } from './pane.js';
import { state } from './page.js';
import { api, conversationPath } from './session.js';
import { toast } from './transfer.js';

const banDialog = h('dialog', { class: 'handoff-dialog ban-dialog', id: 'ban-dialog', 'aria-labelledby': 'ban-title' });
const listDialog = h('dialog', { class: 'handoff-dialog overview bans-list', id: 'bans-dialog', 'aria-labelledby': 'bans-title' });
let current = null; // the Ban dialog: {id, options, error, busy}
let listing = null; // the Bans dialog: {bans, entries, error, busy: Set}

/** "12 hours", "7 days", "Permanently" for a duration token of the config. */
export function durationLabel(token) {
  const found = /^(\d+)([hd])$/.exec(token || '');
  if (!found) return t('ban.permanent');
  const count = Number(found[1]);
  return found[2] === 'h' ? t('ban.hours', { count }) : t('ban.days', { count });
}

function banButton(pane) {
  return h('button', {
    type: 'button', class: 'secondary small ban-open', id: `${pane.domId}-ban`, 'data-action': 'ban-open',
    dataset: { id: pane.id }, text: t('ban.open'),
  });
}

function drawBan() {
  const pane = current && state.panes.get(current.id);
  if (!pane) return;
  const form = banDialog.querySelector('form');
  const kept = form
    ? { reason: form.elements.reason.value, duration: form.elements.duration.value, network: form.elements.network.checked }
    : { reason: '', duration: '', network: false };
  const durations = (current.options && current.options.durations) || [];
  const focused = banDialog.contains(document.activeElement) && document.activeElement.id;
  replace(banDialog, h('form', { 'data-form': 'ban', novalidate: true },
    h('h2', { id: 'ban-title', text: t('ban.title') }),
    h('p', { class: 'field-hint', text: t('ban.lead') }),
    h('p', { class: 'ban-who', text: chatTitle(pane.summary) }),
    h('div', { class: 'field' },
      h('label', { for: 'ban-reason', text: t('ban.reason') }),
      h('textarea', {
        id: 'ban-reason', name: 'reason', rows: '3', maxlength: '500', required: true,
        'aria-invalid': current.reasonMissing ? 'true' : false,
        'aria-describedby': current.reasonMissing ? 'ban-reason-error' : false,
      }),
      current.reasonMissing ? h('p', { class: 'field-error', id: 'ban-reason-error', text: errorText('reason_required') }) : null),
    h('div', { class: 'field' },
      h('label', { for: 'ban-duration', text: t('ban.duration') }),
      h('select', { id: 'ban-duration', name: 'duration', disabled: !durations.length },
        durations.length
          ? durations.map((d) => h('option', { value: d, text: durationLabel(d) }))
          : h('option', { value: '', text: t('chat.loading') }))),
    h('div', { class: 'field ban-network' },
      h('input', { type: 'checkbox', id: 'ban-network', name: 'network', 'aria-describedby': 'ban-network-hint' }),
      ' ',
      h('label', { for: 'ban-network', text: t('ban.network') }),
      h('p', { class: 'field-hint', id: 'ban-network-hint', text: t('ban.network_hint') })),
    current.error ? h('p', { class: 'form-error', role: 'alert', id: 'ban-error', text: current.error }) : null,
    h('div', { class: 'handoff-buttons' },
      h('button', { type: 'submit', class: 'danger', id: 'ban-submit', disabled: current.busy || !durations.length, text: t('ban.submit') }),
      h('button', { type: 'button', class: 'secondary', 'data-action': 'ban-cancel', text: t('ban.cancel') }))));
  const fresh = banDialog.querySelector('form');
  fresh.elements.reason.value = kept.reason;
  if (kept.duration) fresh.elements.duration.value = kept.duration;
  fresh.elements.network.checked = kept.network;
  if (focused) document.getElementById(focused)?.focus();
}

async function openBan(id) {
  if (!state.panes.has(id)) return;
  current = { id, options: null, error: null, busy: false, reasonMissing: false };
  replace(banDialog);
  drawBan();
  if (!banDialog.open) banDialog.showModal();
  document.getElementById('ban-reason')?.focus();
  try {
    const options = await api('GET', '/api/v1/agent/bans/options');
    if (current && current.id === id) current.options = options;
  } catch (err) {
    if (current && current.id === id) current.error = errorText(err.code);
  }
  if (current && current.id === id) drawBan();
}

function closeBan() {
  const id = current && current.id;
  current = null;
  if (banDialog.open) banDialog.close();
  const pane = id && state.panes.get(id);
  if (pane) pane.element.querySelector('[data-action="ban-open"]')?.focus();
}

async function submitBan(form) {
  const pane = current && state.panes.get(current.id);
  if (!pane || current.busy) return;
  const reason = form.elements.reason.value.trim();
  if (!reason) {
    current.reasonMissing = true;
    drawBan();
    document.getElementById('ban-reason')?.focus();
    return;
  }
  current.reasonMissing = false;
  current.busy = true;
  current.error = null;
  drawBan();
  try {
    await api('POST', conversationPath(pane.id, '/ban'), {
      reason, duration: form.elements.duration.value, network: form.elements.network.checked,
    });
    current = null;
    banDialog.close();
    // The chat ends (as prohibited content): its `ended` event redraws the pane.
    pane.notice = null;
    toast(t('ban.done'));
    pane.element.querySelector('[data-action="close-pane"], h2')?.focus();
  } catch (err) {
    if (!current) return;
    if (state.screen !== 'main') { closeBan(); return; } // the session is gone
    current.busy = false;
    current.error = errorText(err.code);
    drawBan();
    document.getElementById('ban-error')?.focus();
  }
}

// -- the supervisors' list ------------------------------------------------------------------

function bansTable(bans) {
  if (!bans.length) return h('p', { class: 'empty', id: 'bans-empty', text: t('bans.none') });
  const head = ['col_visitor', 'col_network', 'col_reason', 'col_by', 'col_until', 'col_actions'];
  return h('table', { class: 'ov-table', id: 'bans-table' },
    h('thead', {}, h('tr', {}, head.map((key) => h('th', { scope: 'col', text: t(`bans.${key}`) })))),
    h('tbody', {}, bans.map((b) => {
      const who = t('console.visitor_short', { id: b.visitor_id.slice(-4) });
      return h('tr', { dataset: { id: b.id } },
        h('th', { scope: 'row', text: who, title: b.visitor_id }),
        h('td', { text: b.network || t('bans.visitor_only') }),
        h('td', { class: 'ban-reason', text: b.reason }),
        h('td', {},
          (b.created_by && b.created_by.name) || '',
          h('span', { class: 'ov-sub', text: formatDateTime(b.created_at) })),
        h('td', { text: b.expires_at ? formatDateTime(b.expires_at) : t('bans.forever') }),
        h('td', { class: 'ov-actions' }, h('button', {
          type: 'button', class: 'secondary small', 'data-action': 'ban-lift', dataset: { id: b.id },
          disabled: listing.busy.has(b.id), 'aria-label': t('bans.lift_label', { visitor: who }), text: t('bans.lift'),
        })));
    })));
}

function auditAction(action) {
  if (action === 'ban') return t('audit.action_ban');
  if (action === 'unban') return t('audit.action_unban');
  return action;
}

function auditDetails(entry) {
  const d = entry.data || {};
  const parts = [];
  if (d.reason) parts.push(d.reason);
  if (d.duration) parts.push(durationLabel(d.duration));
  if (d.network) parts.push(d.network);
  return parts.join(' · ');
}

function auditTable(entries) {
  if (!entries.length) return h('p', { class: 'empty', text: t('audit.none') });
  const head = ['col_when', 'col_who', 'col_action', 'col_target', 'col_details'];
  return h('table', { class: 'ov-table', id: 'audit-table' },
    h('thead', {}, h('tr', {}, head.map((key) => h('th', { scope: 'col', text: t(`audit.${key}`) })))),
    h('tbody', {}, entries.map((e) => h('tr', {},
      h('td', { text: formatDateTime(e.at) }),
      h('td', { text: e.actor ? (e.actor.name || e.actor.id) : t('audit.system') }),
      h('td', { text: auditAction(e.action) }),
      h('td', { class: 'audit-target', text: e.target }),
      h('td', { text: auditDetails(e) })))));
}

function drawList() {
  if (!listing) return;
  const focused = listDialog.contains(document.activeElement) && document.activeElement.id;
  replace(listDialog,
    h('header', { class: 'reader-head' },
      h('h2', { id: 'bans-title', text: t('bans.title') }),
      h('button', { type: 'button', class: 'secondary small', id: 'bans-close', 'data-action': 'bans-close', text: t('bans.close') })),
    listing.error ? h('p', { class: 'notice', role: 'alert', text: listing.error }) : null,
    listing.bans
      ? h('div', { class: 'ov-body' },
        h('section', { class: 'ov-section', 'aria-labelledby': 'bans-in-force' },
          h('h3', { id: 'bans-in-force', text: t('bans.in_force') }),
          bansTable(listing.bans)),
        h('section', { class: 'ov-section', 'aria-labelledby': 'audit-title' },
          h('h3', { id: 'audit-title', text: t('audit.title') }),
          auditTable(listing.entries || [])))
      : h('p', { class: 'loading', role: 'status', text: t('chat.loading') }));
  if (focused) document.getElementById(focused)?.focus();
}

async function loadList() {
  if (!listing) return;
  try {
    const [{ bans }, { entries }] = await Promise.all([
      api('GET', '/api/v1/agent/bans'), api('GET', '/api/v1/agent/audit'),
    ]);
    if (!listing) return;
    listing.bans = bans;
    listing.entries = entries;
    listing.error = null;
  } catch (err) {
    if (listing) listing.error = errorText(err.code);
  }
  drawList();
}

function openList() {
  listing = { bans: null, entries: null, error: null, busy: new Set() };
  drawList();
  if (!listDialog.open) listDialog.showModal();
  document.getElementById('bans-close')?.focus();
  loadList();
}

async function lift(id) {
  if (!listing || listing.busy.has(id)) return;
  listing.busy.add(id);
  drawList();
  try {
    await api('POST', `/api/v1/agent/bans/${encodeURIComponent(id)}/lift`, {});
    toast(t('bans.lifted'));
  } catch (err) {
    if (listing) listing.error = errorText(err.code);
  }
  if (!listing) return;
  listing.busy.delete(id);
  await loadList();
  document.getElementById('bans-close')?.focus();
}

/** The header's "Bans" button, for supervisors and admins (views.js draws it). */
export function bansButton(me) {
  if (me.role !== 'supervisor' && me.role !== 'admin') return null;
  return h('button', { type: 'button', class: 'secondary small', 'data-action': 'bans-open', id: 'bans-open', text: t('bans.open') });
}

/** Add the Ban button to every chat; listen to both dialogs (once, at start). */
export function installBans(root) {
  paneParts.head.push(banButton);
  document.body.append(banDialog, listDialog);
  root.addEventListener('click', (event) => {
    const ban = event.target.closest('[data-action="ban-open"]');
    if (ban) openBan(ban.dataset.id);
    if (event.target.closest('[data-action="bans-open"]')) openList();
  });
  banDialog.addEventListener('click', (event) => {
    if (event.target.closest('[data-action="ban-cancel"]')) closeBan();
  });
  banDialog.addEventListener('submit', (event) => {
    event.preventDefault();
    submitBan(event.target);
  });
  banDialog.addEventListener('close', () => { current = null; });
  listDialog.addEventListener('click', (event) => {
    const target = event.target.closest('[data-action]');
    if (!target) return;
    if (target.dataset.action === 'bans-close') listDialog.close();
    else if (target.dataset.action === 'ban-lift') lift(target.dataset.id);
  });
  listDialog.addEventListener('close', () => {
    listing = null;
    document.getElementById('bans-open')?.focus();
  });
}
