// A chat's transcript and its survey answer in the console (SPEC V11, V12). A "Download
// transcript" button in each chat's header saves the .txt the visitor can download (never the
// private notes), in my UI language and my time zone. Once the visitor rates the chat, the header
// shows the stars and the comment; the socket's `rated` frame brings them while the pane is open.
import { h } from '../common/dom.js';
import { t, lang, errorText } from '../common/i18n.js';
import { downloadFile, browserTimeZone } from '../common/download.js';
import { paneParts } from './pane.js';
import { state } from './page.js';
import { conversationPath } from './session.js';
import { onSocket } from './live.js';

const busy = new Set(); // conversation ids whose transcript is being fetched

function downloadButton(pane) {
  return h('button', {
    type: 'button', class: 'secondary small', id: `${pane.domId}-transcript`,
    'data-action': 'transcript-download', dataset: { id: pane.id },
    disabled: busy.has(pane.id), text: t('transcript.download'),
  });
}

function ratingBadge(pane) {
  const rating = pane.summary.rating;
  if (!rating) return null;
  const stars = '★'.repeat(rating.score) + '☆'.repeat(5 - rating.score);
  return h('p', { class: 'pane-rating', id: `${pane.domId}-rating` },
    h('span', { class: 'pane-rating-stars', 'aria-hidden': 'true', text: stars }), ' ',
    h('span', { class: 'pane-rating-score', text: t('survey.console_rating', { rating: rating.score }) }),
    rating.comment
      ? h('span', { class: 'pane-rating-comment', text: t('survey.console_comment', { comment: rating.comment }) })
      : null);
}

function transcriptPath(id) {
  const params = new URLSearchParams({ lang: lang() });
  const zone = browserTimeZone();
  if (zone) params.set('tz', zone);
  return conversationPath(id, `/transcript?${params}`);
}

/** Save the transcript of chat `id` as a .txt file. */
export async function downloadTranscript(id) {
  const pane = state.panes.get(id);
  if (!pane || busy.has(id)) return;
  busy.add(id);
  pane.render();
  try {
    await downloadFile(transcriptPath(id), { fallbackName: `chat-${id}.txt` });
  } catch (err) {
    pane.notice = err.code === 'erased' ? errorText('erased') : t('transcript.failed');
  } finally {
    busy.delete(id);
    pane.render();
    document.getElementById(`${pane.domId}-transcript`)?.focus();
  }
}

/** Add the pane parts, the button's listener and the `rated` frame's handling (once, at start). */
export function installTranscript(root) {
  paneParts.head.push(downloadButton, ratingBadge);
  root.addEventListener('click', (event) => {
    const button = event.target.closest('[data-action="transcript-download"]');
    if (button) downloadTranscript(button.dataset.id);
  });
  onSocket('rated', (frame) => {
    const pane = state.panes.get(frame.conversation_id);
    if (!pane) return;
    pane.summary = { ...pane.summary, rating: frame.rating };
    pane.render();
  });
}
