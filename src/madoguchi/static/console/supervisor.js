// The supervisor's overview (SPEC A9), opened from the header: the live queue per department,
// every active chat with its operator and who joined it, and each operator's presence and load.
// From it a supervisor joins a chat as a second operator (the visitor is told) or takes it over
// (the operator loses it); either way the chat opens in a tab here. It refreshes while open: on
// every `queue_changed` and every few seconds (an operator's load changes without one).
import { h, replace } from '../common/dom.js';
import { t, errorText, formatTime } from '../common/i18n.js';
import { state, topicLabel, departmentLabel, select } from './page.js';
import { api, conversationPath } from './session.js';
import { onSocket, ensurePane } from './live.js';
import { chatTitle, languageName } from './pane.js';

const REFRESH_MS = 5_000;

const dialog = h('dialog', { class: 'handoff-dialog overview', id: 'overview', 'aria-labelledby': 'overview-title' });
let view = null; // {data, error, busy: Set of conversation ids}
let timer = 0;
let focusBack = true; // on closing, focus the header's button (not when a chat tab opened)

/** The department's average survey rating over the last days (SPEC V12). */
function ratingLine(rating) {
  const text = rating.count
    ? t('survey.average', { average: rating.average, count: rating.count })
    : t('survey.no_ratings');
  return [' ', h('span', { class: 'ov-rating', text })];
}

function waitingSection(departments) {
  return h('section', { class: 'ov-section', 'aria-labelledby': 'ov-waiting' },
    h('h3', { id: 'ov-waiting', text: t('supervisor.waiting') }),
    departments.map((dep) => h('div', { class: 'ov-department' },
      h('h4', {}, departmentLabel(dep.id), ' ',
        h('span', { class: 'count', text: t('queue.count', { count: dep.waiting.length }) }),
        dep.rating ? ratingLine(dep.rating) : null),
      dep.waiting.length
        ? h('ul', { class: 'ov-list' }, dep.waiting.map((c) => h('li', {},
          h('strong', { text: chatTitle(c) }), ' · ', topicLabel(c.topic), ' · ', languageName(c.language), ' · ',
          t('supervisor.since', { time: formatTime(c.queued_at || c.created_at) }))))
        : h('p', { class: 'empty', text: t('supervisor.no_waiting') }))));
}

function actions(c) {
  const mine = c.operator && c.operator.id === state.me.id;
  const joined = (c.participants || []).some((p) => p.id === state.me.id);
  const busy = view.busy.has(c.id);
  const title = chatTitle(c);
  return h('td', { class: 'ov-actions' },
    mine ? h('span', { class: 'ov-tag', text: t('supervisor.yours') }) : null,
    !mine && joined ? h('span', { class: 'ov-tag', text: t('supervisor.joined') }) : null,
    mine || joined ? null : h('button', {
      type: 'button', class: 'secondary small', 'data-action': 'ov-join', dataset: { id: c.id }, disabled: busy,
      'aria-label': t('supervisor.join_label', { chat: title }), text: t('supervisor.join'),
    }),
    mine ? null : h('button', {
      type: 'button', class: 'secondary small', 'data-action': 'ov-take-over', dataset: { id: c.id }, disabled: busy,
      'aria-label': t('supervisor.take_over_label', { chat: title }), text: t('supervisor.take_over'),
    }));
}

function activeSection(active) {
  const head = ['col_chat', 'col_operator', 'col_joined', 'col_since', 'col_actions'];
  return h('section', { class: 'ov-section', 'aria-labelledby': 'ov-active' },
    h('h3', { id: 'ov-active', text: t('supervisor.active') }),
    active.length
      ? h('table', { class: 'ov-table' },
        h('thead', {}, h('tr', {}, head.map((key) => h('th', { scope: 'col', text: t(`supervisor.${key}`) })))),
        h('tbody', {}, active.map((c) => h('tr', { dataset: { id: c.id } },
          h('th', { scope: 'row' }, h('span', { class: 'ov-chat', text: chatTitle(c) }),
            h('span', { class: 'ov-sub', text: `${topicLabel(c.topic)} · ${languageName(c.language)}` })),
          h('td', { text: (c.operator && c.operator.name) || '' }),
          h('td', { text: (c.participants || []).map((p) => p.name).join(', ') }),
          h('td', { text: formatTime(c.created_at) }),
          actions(c)))))
      : h('p', { class: 'empty', text: t('supervisor.no_active') }));
}

function operatorsSection(operators) {
  const head = ['col_name', 'col_presence', 'col_load', 'col_departments', 'col_languages'];
  return h('section', { class: 'ov-section', 'aria-labelledby': 'ov-operators' },
    h('h3', { id: 'ov-operators', text: t('supervisor.operators') }),
    h('table', { class: 'ov-table' },
      h('thead', {}, h('tr', {}, head.map((key) => h('th', { scope: 'col', text: t(`supervisor.${key}`) })))),
      h('tbody', {}, operators.map((o) => h('tr', {},
        h('th', { scope: 'row', text: o.name }),
        h('td', {},
          h('span', { class: `presence-dot presence-dot--${o.status}`, 'aria-hidden': 'true' }), ' ',
          t(`presence.${o.status}`)),
        h('td', {
          class: o.load >= o.capacity ? 'ov-full' : false,
          text: t('supervisor.load', { load: o.load, capacity: o.capacity }),
        }),
        h('td', { text: o.departments.map(departmentLabel).join(', ') }),
        h('td', { text: o.languages.map(languageName).join(', ') }))))));
}

function draw() {
  if (!view) return;
  const focused = dialog.contains(document.activeElement) && document.activeElement;
  const refocus = focused && (focused.id || (focused.dataset.id && `${focused.dataset.action}|${focused.dataset.id}`));
  const d = view.data;
  replace(dialog,
    h('header', { class: 'reader-head' },
      h('h2', { id: 'overview-title', text: t('supervisor.title') }),
      d ? h('span', { class: 'ov-updated', text: t('supervisor.updated', { time: formatTime(d.at) }) }) : null,
      h('button', { type: 'button', class: 'secondary small', id: 'overview-close', 'data-action': 'ov-close', text: t('supervisor.close') })),
    view.error ? h('p', { class: 'notice', role: 'alert', text: view.error }) : null,
    d
      ? h('div', { class: 'ov-body' }, waitingSection(d.departments), activeSection(d.active), operatorsSection(d.operators))
      : h('p', { class: 'loading', role: 'status', text: t('chat.loading') }));
  if (!refocus) return;
  const [action, id] = String(refocus).split('|');
  const again = id
    ? dialog.querySelector(`[data-action="${action}"][data-id="${CSS.escape(id)}"]`)
    : document.getElementById(refocus);
  again?.focus();
}

async function load() {
  if (!view) return;
  if (state.screen !== 'main') { // logged out meanwhile
    dialog.close();
    return;
  }
  try {
    view.data = await api('GET', '/api/v1/agent/supervisor/overview');
    view.error = null;
  } catch (err) {
    if (view) view.error = errorText(err.code);
  }
  draw();
}

function open() {
  view = { data: null, error: null, busy: new Set() };
  focusBack = true;
  draw();
  if (!dialog.open) dialog.showModal();
  document.getElementById('overview-close')?.focus();
  load();
  clearInterval(timer);
  timer = setInterval(load, REFRESH_MS);
}

function closed() {
  clearInterval(timer);
  view = null;
}

/** Join or take over the chat `id`; it opens in a tab of its own. */
async function act(id, action) {
  if (!view || view.busy.has(id)) return;
  view.busy.add(id);
  draw();
  try {
    const summary = await api('POST', conversationPath(id, action === 'ov-join' ? '/join' : '/take-over'), {});
    focusBack = false;
    dialog.close();
    const pane = ensurePane(summary);
    select(pane.id, false);
    pane.element.querySelector('[data-composer]')?.focus();
  } catch (err) {
    if (!view) return;
    view.busy.delete(id);
    view.error = errorText(err.code);
    load();
  }
}

/** Listen to the header's Overview button, the dialog and the socket (once, at start). */
export function installSupervisor(root) {
  document.body.append(dialog);
  root.addEventListener('click', (event) => {
    if (event.target.closest('[data-action="overview-open"]')) open();
  });
  dialog.addEventListener('click', (event) => {
    const target = event.target.closest('[data-action]');
    if (!target) return;
    if (target.dataset.action === 'ov-close') dialog.close();
    else if (target.dataset.action === 'ov-join' || target.dataset.action === 'ov-take-over') act(target.dataset.id, target.dataset.action);
  });
  dialog.addEventListener('close', () => {
    closed();
    if (focusBack) document.getElementById('overview-open')?.focus();
  });
  onSocket('queue_changed', () => { if (view) load(); });
}
