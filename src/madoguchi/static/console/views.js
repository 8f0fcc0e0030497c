// The console's views that depend on nothing but their arguments: login, header, chat tabs.
import { h } from '../common/dom.js';
import * as i18n from '../common/i18n.js';
import { t } from '../common/i18n.js';
import { chatTitle, languageName } from './pane.js';
import { bansButton } from './bans.js';

const PRESENCES = ['online', 'away', 'offline'];

/** The login form, refilled from `login` ({email, error, busy}). */
export function loginView(login) {
  const l = login;
  return h('main', { class: 'login' },
    h('div', { class: 'login-lang' }, i18n.languageSwitcher('login-lang')),
    h('form', { class: 'login-card', 'data-form': 'login', novalidate: true, 'aria-labelledby': 'login-title' },
      h('h1', { id: 'login-title', text: t('console.product') }),
      h('p', { class: 'lead', text: t('login.lead') }),
      h('div', { class: 'field' },
        h('label', { for: 'login-email', text: t('login.email') }),
        h('input', { id: 'login-email', name: 'email', type: 'email', autocomplete: 'username', required: true, value: l.email })),
      h('div', { class: 'field' },
        h('label', { for: 'login-password', text: t('login.password') }),
        h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true })),
      l.error ? h('p', { class: 'form-error', role: 'alert', id: 'login-error', text: l.error }) : null,
      h('button', { type: 'submit', class: 'primary', disabled: l.busy ? true : false, text: l.busy ? t('login.busy') : t('login.submit') })));
}

/** The header: product, connection state, my name, presence, language, logout. */
export function headerChildren(me, reconnecting) {
  const presence = h('select', { id: 'presence', 'data-action': 'presence' },
    PRESENCES.map((p) => h('option', { value: p, text: t(`presence.${p}`) })));
  presence.value = me.status || 'offline';
  return [
    h('p', { class: 'brand', text: t('console.product') }),
    h('span', { class: 'conn', role: 'status', text: reconnecting ? t('status.reconnecting') : '' }),
    h('span', { class: 'spacer' }),
    h('span', { class: 'me', text: me.name }),
    h('span', { class: 'presence-wrap' },
      h('label', { for: 'presence', class: 'visually-hidden', text: t('presence.label') }),
      h('span', { class: `presence-dot presence-dot--${me.status}`, 'aria-hidden': 'true' }),
      presence),
    // Supervisors' overview of every queue, chat and operator (supervisor.js).
    me.role === 'supervisor' || me.role === 'admin'
      ? h('button', { type: 'button', class: 'secondary small', 'data-action': 'overview-open', id: 'overview-open', text: t('supervisor.open') })
      : null,
    // Supervisors' bans in force and the audit log (console/bans.js, SPEC A10).
    bansButton(me),
    // Admins pause and resume new chats (console/maintenance.js, SPEC X5).
    me.role === 'admin'
      ? h('button', { type: 'button', class: 'secondary small', 'data-action': 'maintenance-open', id: 'maintenance-open', text: t('maintenance.open') })
      : null,
    i18n.languageSwitcher('console-lang'),
    h('button', { type: 'button', class: 'secondary small', 'data-action': 'logout', id: 'logout', text: t('console.logout') }),
  ];
}

/**
 * "My chats": one tab per pane (WAI-ARIA tabs, vertical), with unread counts.
 * @param {Array<import('./pane.js').ChatPane>} panes in order
 * @param {string|null} active
 * @param {(id: string) => string} topicLabel
 */
export function tabsChildren(panes, active, topicLabel) {
  const tabs = panes.map((pane) => {
    const s = pane.summary;
    const selected = pane.id === active;
    const sub = `${topicLabel(s.topic)} · ${languageName(s.language)}${pane.ended ? ` · ${t('status.ended')}` : ''}`;
    return h('button', {
      type: 'button', role: 'tab', id: `tab-${pane.domId}`, class: `tab${pane.ended ? ' tab--ended' : ''}`,
      'aria-selected': selected ? 'true' : 'false', 'aria-controls': pane.domId, tabindex: selected ? '0' : '-1',
      'data-action': 'select', dataset: { id: pane.id },
    },
    h('span', { class: 'tab-title', text: chatTitle(s) }),
    h('span', { class: 'tab-sub', text: sub }),
    pane.unread
      ? h('span', { class: 'unread', 'aria-label': t('console.unread', { count: pane.unread }), text: String(pane.unread) })
      : null);
  });
  return [
    h('h2', { id: 'mine-title', text: t('console.my_chats') }),
    tabs.length
      ? h('div', { class: 'tabs', role: 'tablist', 'aria-orientation': 'vertical', 'aria-labelledby': 'mine-title' }, tabs)
      : h('p', { class: 'empty', text: t('console.no_chats') }),
  ];
}
