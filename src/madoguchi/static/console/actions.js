// What the operator does from the page: set their presence, accept a chat from the queue, end a
// chat with a reason, close its pane.
import { errorText } from '../common/i18n.js';
import { state, renderHeader, renderQueue, renderTabs, renderPanes, select } from './page.js';
import { api, conversationPath } from './session.js';
import { ensurePane, refreshPane, loadQueue, forgetConversation } from './live.js';
import { loadOffline } from './inbox.js';

/** Set my presence from the header's select (put back as it was if the server refuses). */
export async function setPresence(select) {
  const previous = state.me.status;
  try {
    const { operator } = await api('PUT', '/api/v1/agent/presence', { status: select.value });
    state.me = operator;
  } catch (err) {
    // A 401 has already logged the operator out and drawn the login form: nothing to redraw.
    if (!state.me) return;
    select.value = previous;
    state.queueNotice = errorText(err.code);
    renderQueue();
  }
  renderHeader();
  document.getElementById('presence')?.focus();
}

/** Take a waiting chat: it opens in a pane of its own, with the composer focused. */
export async function accept(id) {
  state.accepting.add(id);
  state.queueNotice = null;
  renderQueue();
  try {
    const summary = await api('POST', conversationPath(id, '/accept'), {});
    const pane = ensurePane(summary);
    select(pane.id, false);
    pane.element.querySelector('[data-composer]')?.focus();
  } catch (err) {
    state.queueNotice = errorText(err.code);
  } finally {
    state.accepting.delete(id);
    renderQueue();
    loadQueue();
  }
}

/** End the chat of a pane's end form, with the reason chosen there (one is required). */
export async function endChat(form) {
  const pane = state.panes.get(form.dataset.id);
  const reason = form.elements.reason.value;
  if (!pane) return;
  if (!reason) {
    pane.endError = true;
    pane.render();
    pane.element.querySelector('[data-end-reason]')?.focus();
    return;
  }
  pane.endError = false;
  try {
    const summary = await api('POST', conversationPath(pane.id, '/end'), { reason });
    pane.summary = { ...pane.summary, ...summary, end_reason: summary.end_reason || reason };
    pane.notice = null;
    if (summary.status === 'follow_up') loadOffline(); // it joins the follow-ups (A7, A8)
  } catch (err) {
    pane.notice = errorText(err.code);
    if (err.code === 'conversation_ended') refreshPane(pane.id);
  }
  pane.render();
  renderTabs();
  pane.element.querySelector('[data-action="close-pane"]')?.focus();
}

/** Close the pane of an ended chat; the next tab takes its place. */
export function closePane(id) {
  const pane = state.panes.get(id);
  if (!pane) return;
  pane.element.remove();
  state.panes.delete(id);
  state.events.delete(id);
  forgetConversation(id);
  const index = state.order.indexOf(id);
  state.order = state.order.filter((x) => x !== id);
  if (state.active === id) state.active = state.order[Math.min(index, state.order.length - 1)] || null;
  renderTabs();
  renderPanes();
  const next = state.active && state.panes.get(state.active);
  if (next) document.getElementById(`tab-${next.domId}`)?.focus();
}
