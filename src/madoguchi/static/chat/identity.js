// Identity (SPEC V4, docs/identity.md): the host page's signed token, handed over by the launcher
// (widget.js) with postMessage, never in a URL. The frame asks the server what it vouches for
// before the visitor types anything: a member whose plan has no chat sees the documentation and
// forum links instead of the topics and the form (plansScreen); a verified member's id is shown
// in the pre-chat form instead of a field. The token goes with the start of a chat; the server
// checks it again there. A token that does not verify changes nothing: the visitor chats,
// unverified. The token is kept in memory only.
import { h } from '../common/dom.js';
import { t, lang } from '../common/i18n.js';
import { request } from '../common/api.js';
import { state, render, show } from './page.js';

const BEFORE_A_CHAT = ['topics', 'prechat', 'hours', 'busy'];
// How long the frame waits for the launcher's token before it goes on without one. The launcher
// posts it at the frame's load event, milliseconds after boot; the wait only runs out when the
// host page is broken, and a loaded machine must not make a member unverified.
const WAIT_MS = 10000;

let token = null;
let arrived = null; // resolves when the first token comes
const firstToken = new Promise((resolve) => { arrived = resolve; });

/** Listen for the launcher's token (from the parent window only). */
export function installIdentity() {
  window.addEventListener('message', (event) => {
    const data = event.data;
    if (event.source !== window.parent || !data || data.type !== 'madoguchi:identity') return;
    if (typeof data.token !== 'string' || !data.token || data.token === token) return;
    const renewed = token !== null;
    token = data.token;
    arrived();
    if (renewed) checkIdentity().then(render); // the page renewed it (a new sign-in, a new plan)
  });
}

/** The token to send with a new chat, or undefined. */
export function identityToken() {
  return token || undefined;
}

/** At boot: wait for the token the launcher said is coming, then ask what it vouches for. */
export async function loadIdentity() {
  if (new URLSearchParams(location.search).get('identity') !== '1') return;
  await Promise.race([firstToken, new Promise((resolve) => { setTimeout(resolve, WAIT_MS); })]);
  await checkIdentity();
}

async function checkIdentity() {
  if (!token) return;
  try {
    state.identity = await request('POST', '/api/v1/visitor/identity', { body: { token, language: lang() } });
  } catch (_) {
    state.identity = null; // the start checks it again
  }
}

/** Whether the screen on now gives way to the links: a verified plan without chat. */
export function replacedByPlan(screen) {
  return BEFORE_A_CHAT.includes(screen) && Boolean(state.identity && state.identity.chat_allowed === false);
}

/** The server refused a start with `plan_without_chat`: show the links; whether it was that. */
export function planRefused(err) {
  if (err.code !== 'plan_without_chat') return false;
  state.identity = { ...(state.identity || {}), chat_allowed: false, links: (err.details && err.details.links) || [] };
  show('topics', 'plans-title');
  return true;
}

/** Instead of the chat: where members of this plan find answers. */
export function plansScreen() {
  const identity = state.identity;
  return h('section', { class: 'screen screen--plans', 'aria-labelledby': 'plans-title' },
    h('h1', { id: 'plans-title', tabindex: '-1', text: t('plans.title') }),
    h('p', { class: 'lead', text: t('plans.lead', { plan: identity.plan || '' }) }),
    h('ul', { class: 'plan-links' },
      (identity.links || []).map((link) => h('li', {},
        h('a', { href: link.url, target: '_blank', rel: 'noopener', class: `plan-link plan-link--${link.kind}`, text: t(`plans.${link.kind}`) })))));
}
