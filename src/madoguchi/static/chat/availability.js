// What each topic can do now (SPEC V7, V8, P7): the availability answer for the chat language,
// and the screen a topic leads to: the pre-chat form when it is open, else its hours or "busy",
// each with the offline message form. The server checks again when a chat starts, so a page left
// open past closing time is caught there (actions.js hands such answers to refusedStart).
import * as i18n from '../common/i18n.js';
import { t } from '../common/i18n.js';
import { request } from '../common/api.js';
import { topicAvailability } from './hours.js';
import { state, render, show, readLeave } from './page.js';

const SCREENS_SHOWING_IT = ['topics', 'hours', 'busy'];

/** The language a chat starts in: the UI language when the desk offers it, else its default. */
export function chatLanguage() {
  const config = state.config;
  return config.languages && config.languages.includes(i18n.lang()) ? i18n.lang() : config.default_language;
}

/**
 * Fetch what each topic can do now in the chat language and redraw the screens that show it.
 * @param {{redraw?: boolean}} [options] `redraw: false` leaves the screen to the caller
 * @returns {Promise<boolean>} whether it was loaded (without it, the start answers for the topic)
 */
export function loadAvailability({ redraw = true } = {}) {
  pending = fetchAvailability(redraw);
  return pending;
}

// The call in flight: a topic clicked before the answer came waits for it, so that a closed
// topic never opens the pre-chat form on a quick click.
let pending = null;

async function fetchAvailability(redraw) {
  const language = chatLanguage();
  let found;
  try {
    found = await request('GET', `/api/v1/visitor/availability?language=${encodeURIComponent(language)}`);
  } catch (_) {
    return false;
  }
  if (language !== chatLanguage()) return false; // the visitor switched meanwhile; a newer call follows
  // The same answer again (the frame opened, a second look) redraws nothing: a redraw replaces
  // the topic buttons, and a click caught between its press and its release would be lost.
  const changed = JSON.stringify(found) !== JSON.stringify(state.availability);
  state.availability = found;
  if (redraw && changed && SCREENS_SHOWING_IT.includes(state.screen)) render();
  return true;
}

/** Show the topics, then what each can do now (the list works before that arrives). */
export function showTopics(focusId = null) {
  show('topics', focusId);
  loadAvailability();
}

/** Go where a topic in state `gate` leads: the pre-chat form, its hours, or "busy". */
function gateTopic(gate) {
  if (!gate || gate === 'open') {
    state.gate = null;
    show('prechat', 'prechat-title');
    return;
  }
  state.gate = gate;
  state.leaveStatus = {};
  state.retry = {};
  // What the visitor already wrote for the chat becomes their message: nobody types it twice.
  const { message, consent } = state.prechat;
  state.leave = { ...state.leave, message: state.leave.message || message || '', consent: state.leave.consent || Boolean(consent) };
  if (gate === 'busy') show('busy', 'busy-title');
  else show('hours', 'hours-screen-title');
}

/** The visitor picked a topic: the pre-chat form, or why it cannot chat now. */
export async function chooseTopic(topicId) {
  state.topic = topicId;
  state.prechatStatus = {};
  if (!state.availability && pending) await pending;
  if (state.topic !== topicId) return; // the visitor moved on meanwhile
  const found = topicAvailability(state.availability, topicId);
  gateTopic(found ? found.state : 'open');
}

const REFUSALS = { closed: 'closed', language_not_served: 'not_served', busy: 'busy' };

/**
 * The server would not start the chat because the topic closed, filled up or is not served in
 * this language since the form opened: show that screen (with fresh hours), keeping what was typed;
 * or because chat is paused for maintenance: show the admin's message.
 * @returns {Promise<boolean>} whether `code` was such a refusal
 */
export async function refusedStart(code) {
  if (code === 'maintenance') {
    // An admin paused chat meanwhile (SPEC X5): the fresh answer carries their message.
    await loadAvailability({ redraw: false });
    show('topics', 'maintenance-title');
    return true;
  }
  const gate = REFUSALS[code];
  if (!gate) return false;
  await loadAvailability();
  gateTopic(gate);
  return true;
}

/**
 * "Try again" on the busy screen: the pre-chat form if there is room now, else say it is still
 * busy. The screen is not redrawn for that line: its live region and the focus stay as they are.
 */
export async function retryBusy() {
  if (state.retry.busy) return;
  state.retry = { busy: true };
  const line = () => document.getElementById('busy-still');
  if (line()) line().textContent = '';
  await loadAvailability({ redraw: false });
  const found = topicAvailability(state.availability, state.topic);
  if (found && found.state !== 'busy') {
    state.retry = {};
    readLeave();
    gateTopic(found.state);
    return;
  }
  state.retry = { still: true };
  if (line()) line().textContent = t('busy.still');
}

/** After a language switch: fresh availability, and another screen if the topic's state changed. */
export async function refreshAvailability() {
  if (![...SCREENS_SHOWING_IT, 'prechat'].includes(state.screen)) return;
  if (!(await loadAvailability())) return;
  if (state.screen !== 'hours' && state.screen !== 'busy') return;
  const found = topicAvailability(state.availability, state.topic);
  if (found && found.state !== state.gate) {
    readLeave();
    gateTopic(found.state);
  }
}
