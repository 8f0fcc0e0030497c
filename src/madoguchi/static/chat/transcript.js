// The transcript download (SPEC V11): an icon button with a down arrow at the top right of the
// chat frame, where the second seed page puts it, there whenever a conversation is on screen,
// during the chat and after it. The file comes in the conversation's language with times in the
// browser's time zone (docs/lifecycle.md, "Transcript").
import { h } from '../common/dom.js';
import { t, errorText } from '../common/i18n.js';
import { newId } from '../common/dom.js';
import { downloadFile, browserTimeZone } from '../common/download.js';
import { api } from './session.js';
import { state, render } from './page.js';

const SVG = 'http://www.w3.org/2000/svg';
let busy = false;
let mailing = false;

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, value);
  el.append(...children);
  return el;
}

/** A down arrow over a tray, drawn in the button's text colour. */
function downArrow() {
  return svg('svg', {
    viewBox: '0 0 24 24', width: '20', height: '20', 'aria-hidden': 'true', focusable: 'false',
    fill: 'none', stroke: 'currentColor', 'stroke-width': '2', 'stroke-linecap': 'round',
    'stroke-linejoin': 'round',
  }, svg('path', { d: 'M12 4v11M7 10l5 5 5-5M5 20h14' }));
}

/** The header's download button, or null when no conversation is on screen. */
export function transcriptButton() {
  if (state.screen !== 'chat' || !state.conversation || !state.session) return null;
  const label = t('transcript.download_label');
  return h('button', {
    type: 'button', class: 'icon-button transcript-button', id: 'chat-transcript',
    'data-action': 'transcript', 'aria-label': label, title: label,
    'aria-busy': busy ? 'true' : false,
  }, downArrow());
}

/** An envelope, drawn in the button's text colour. */
function envelope() {
  return svg('svg', {
    viewBox: '0 0 24 24', width: '20', height: '20', 'aria-hidden': 'true', focusable: 'false',
    fill: 'none', stroke: 'currentColor', 'stroke-width': '2', 'stroke-linecap': 'round',
    'stroke-linejoin': 'round',
  }, svg('path', { d: 'M3 6h18v12H3zM3 6l9 7 9-7' }));
}

/** The header's "Email me the transcript" button, beside the download: only when the visitor
 * gave an address for the conversation on screen (the mail goes to that address only). */
export function transcriptEmailButton() {
  const c = state.conversation;
  if (state.screen !== 'chat' || !c || !c.email || !state.session) return null;
  const label = t('transcript.email');
  return h('button', {
    type: 'button', class: 'icon-button transcript-email-button', id: 'chat-transcript-email',
    'data-action': 'transcript-email', 'aria-label': label, title: label,
    'aria-busy': mailing ? 'true' : false,
  }, envelope());
}

/** Ask the desk to mail the transcript to the visitor's address; say where it went, or why not. */
export async function emailTranscript() {
  const c = state.conversation;
  if (!c || !state.session || mailing) return;
  mailing = true;
  document.getElementById('chat-transcript-email')?.setAttribute('aria-busy', 'true');
  try {
    const path = `/api/v1/visitor/conversations/${encodeURIComponent(c.id)}/transcript/email`;
    const sent = await api('POST', path, { client_id: newId() });
    state.notice = t('transcript.emailed', { email: sent.to });
  } catch (err) {
    // A refusal with a reason of its own (no address, erased, rate limited) says it.
    state.notice = ['no_email', 'erased', 'rate_limited'].includes(err.code)
      ? errorText(err.code) : t('transcript.email_failed');
  } finally {
    mailing = false;
    render();
  }
}

function transcriptPath(id, zone) {
  const query = zone ? `?tz=${encodeURIComponent(zone)}` : '';
  return `/api/v1/visitor/conversations/${encodeURIComponent(id)}/transcript${query}`;
}

/** Download the transcript of the conversation on screen as a .txt file. */
export async function downloadTranscript() {
  const c = state.conversation;
  if (!c || !state.session || busy) return;
  busy = true;
  document.getElementById('chat-transcript')?.setAttribute('aria-busy', 'true');
  const options = { token: state.session.token, fallbackName: `chat-${c.id}.txt` };
  try {
    try {
      await downloadFile(transcriptPath(c.id, browserTimeZone()), options);
    } catch (err) {
      // A zone this browser knows and the server does not: the server's choice will do.
      if (err.code !== 'bad_time_zone') throw err;
      await downloadFile(transcriptPath(c.id, null), options);
    }
  } catch (err) {
    state.notice = err.code === 'erased' ? errorText('erased') : t('transcript.failed');
    render();
  } finally {
    busy = false;
    document.getElementById('chat-transcript')?.removeAttribute('aria-busy');
  }
}

/** Download on a click of the header's button (one delegated listener on `root`). */
export function installTranscript(root) {
  root.addEventListener('click', (event) => {
    if (event.target.closest('[data-action="transcript"]')) downloadTranscript();
    if (event.target.closest('[data-action="transcript-email"]')) emailTranscript();
  });
}
