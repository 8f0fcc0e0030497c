// The maintenance switch as the visitor meets it (SPEC X5): while an admin has paused chat, the
// availability answer carries their message, and every screen before a chat (topics, pre-chat
// form, hours, busy) gives way to it, under a heading of ours. A visitor whose chat is running
// is not stopped: the chat stays on screen, and from here the list leads back to it. The
// message is the admin's plain text, shown as text.
import { h } from '../common/dom.js';
import { t } from '../common/i18n.js';
import { state, render } from './page.js';
import { loadAvailability } from './availability.js';
import { conversationItems } from './conversations.js';

const BEFORE_A_CHAT = ['topics', 'prechat', 'hours', 'busy'];

/** Whether the last availability answer says chat is paused. */
export function maintenanceOn() {
  return Boolean(state.availability && state.availability.maintenance);
}

/** Whether the screen on now is one that maintenance replaces. */
export function replacedByMaintenance(screen) {
  return BEFORE_A_CHAT.includes(screen) && maintenanceOn();
}

/** The admin's message under our heading, and the visitor's own conversations, which go on. */
export function maintenanceScreen() {
  const going = state.conversations.filter((c) => c.status !== 'ended');
  return h('section', { class: 'screen screen--maintenance', 'aria-labelledby': 'maintenance-title' },
    h('h1', { id: 'maintenance-title', tabindex: '-1', text: t('maintenance.title') }),
    h('p', { class: 'maintenance-message', id: 'maintenance-message', text: state.availability.maintenance.message }),
    going.length ? h('p', { class: 'lead', text: t('maintenance.running') }) : null,
    going.length ? conversationItems(going) : null);
}

/**
 * The launcher opened the frame again: ask whether chat is paused (or back) before the visitor
 * picks a topic, so that the form or the message shows without a reload.
 */
export async function refreshWhenOpened() {
  if (![...BEFORE_A_CHAT, 'list'].includes(state.screen)) return;
  const wasOn = maintenanceOn();
  if (!(await loadAvailability())) return;
  // The pre-chat form is not redrawn by a fresh answer unless maintenance came or went.
  if (state.screen === 'prechat' && wasOn !== maintenanceOn()) render();
}
