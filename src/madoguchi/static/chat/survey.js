// The post-chat survey (SPEC V12): once a chat with an operator is over (ended, or a follow-up),
// the ended screen asks for a rating of 1 to 5 stars and an optional comment, with "Send" and
// "Skip". The stars are a group of radio buttons (arrow keys move between them, each has its
// words for screen readers); after sending, a thank-you replaces the form. Skipping sends
// nothing: the frame remembers it, and the server never offers what was answered
// (`rated` in the conversation's summary).
import { h } from '../common/dom.js';
import { t, errorText } from '../common/i18n.js';
import * as store from '../common/store.js';
import { state, render } from './page.js';
import { api } from './session.js';

const DONE_KEY = 'madoguchi.survey_done';
const REMEMBERED = 30; // conversations whose survey was sent or skipped, newest last
const RATINGS = [1, 2, 3, 4, 5];

// conversation id -> {rating, comment, phase: 'open' | 'sending' | 'sent', error}
const answers = new Map();

function doneIds() {
  try {
    const ids = JSON.parse(store.get(DONE_KEY) || '[]');
    return Array.isArray(ids) ? ids : [];
  } catch (_) {
    return [];
  }
}

function rememberDone(id) {
  const ids = doneIds().filter((x) => x !== id);
  ids.push(id);
  store.set(DONE_KEY, JSON.stringify(ids.slice(-REMEMBERED)), 90);
}

function answerOf(id) {
  if (!answers.has(id)) answers.set(id, { rating: 0, comment: '', phase: 'open', error: null });
  return answers.get(id);
}

/** Whether the conversation on screen offers the survey now (or shows its thank-you). */
function offered(c) {
  const survey = state.config && state.config.survey;
  if (!c || !survey || !survey.enabled) return false;
  if (c.status !== 'ended' && c.status !== 'follow_up') return false;
  if (answers.get(c.id)?.phase === 'sent') return true; // the thank-you stays
  if (c.rated || doneIds().includes(c.id)) return false;
  // Only a chat an operator took part in: the thread shows who joined, the summary who had it.
  const events = (state.thread && state.thread.events) || [];
  return Boolean(c.operator) || events.some((e) => e.kind === 'assigned');
}

function starField(answer) {
  return h('fieldset', { class: 'survey-stars', dataset: { rating: String(answer.rating) } },
    h('legend', { text: t('survey.rating') }),
    h('div', { class: 'survey-star-row' },
      RATINGS.map((n) => [
        h('input', {
          type: 'radio', name: 'rating', value: String(n), id: `survey-rating-${n}`,
          class: 'survey-star-input', checked: answer.rating === n,
        }),
        h('label', { for: `survey-rating-${n}`, class: 'survey-star', title: t(`survey.rating_${n}`) },
          h('span', { 'aria-hidden': 'true', text: '★' }),
          h('span', { class: 'visually-hidden', text: t(`survey.rating_${n}`) })),
      ])));
}

/** The survey under an ended chat, its thank-you once sent, or null (not offered, skipped). */
export function surveyPanel() {
  const c = state.conversation;
  if (!offered(c)) return null;
  const answer = answerOf(c.id);
  if (answer.phase === 'sent') {
    return h('section', { class: 'survey survey--done', id: 'chat-survey' },
      h('p', { class: 'survey-thanks', id: 'survey-thanks', role: 'status', tabindex: '-1', text: answer.thanks || t('survey.thanks') }));
  }
  const max = state.config.survey.comment_max_chars;
  const sending = answer.phase === 'sending';
  return h('section', { class: 'survey', id: 'chat-survey', 'aria-labelledby': 'survey-title' },
    h('h2', { id: 'survey-title', class: 'survey-title', tabindex: '-1', text: t('survey.title') }),
    h('p', { class: 'survey-lead', text: t('survey.lead') }),
    h('form', { 'data-form': 'survey', novalidate: true, 'aria-busy': sending ? 'true' : 'false' },
      starField(answer),
      max > 0 ? h('div', { class: 'field' },
        h('label', { for: 'survey-comment' },
          t('survey.comment'), ' ', h('span', { class: 'optional', text: t('prechat.optional') })),
        h('textarea', { id: 'survey-comment', name: 'comment', rows: '2', maxlength: String(max) }, answer.comment))
        : null,
      answer.error ? h('p', { class: 'form-error', id: 'survey-error', role: 'alert', text: answer.error }) : null,
      h('div', { class: 'survey-actions' },
        h('button', { type: 'submit', class: 'primary', id: 'survey-send', disabled: sending, text: sending ? t('message.sending') : t('survey.send') }),
        h('button', { type: 'button', class: 'secondary', id: 'survey-skip', 'data-action': 'survey-skip', disabled: sending, text: t('survey.skip') }))));
}

function focusAfterRender(id) {
  render();
  document.getElementById(id)?.focus();
}

async function send(form) {
  const c = state.conversation;
  const answer = answerOf(c.id);
  if (answer.phase !== 'open') return;
  answer.comment = form.elements.comment ? form.elements.comment.value : '';
  if (!answer.rating) {
    answer.error = errorText('bad_rating');
    focusAfterRender('survey-rating-1');
    return;
  }
  answer.phase = 'sending';
  answer.error = null;
  render();
  const body = { rating: answer.rating };
  if (answer.comment.trim()) body.comment = answer.comment;
  try {
    await api('POST', `/api/v1/visitor/conversations/${encodeURIComponent(c.id)}/survey`, body);
    answer.phase = 'sent';
  } catch (err) {
    if (err.code === 'already_rated') {
      answer.phase = 'sent'; // answered from another tab: thank them all the same
      answer.thanks = errorText('already_rated');
    } else {
      answer.phase = 'open';
      answer.error = errorText(err.code);
      focusAfterRender('survey-send');
      return;
    }
  }
  rememberDone(c.id);
  if (state.conversation && state.conversation.id === c.id) state.conversation = { ...state.conversation, rated: true };
  focusAfterRender('survey-thanks');
}

function skip() {
  const c = state.conversation;
  if (!c) return;
  answers.delete(c.id);
  rememberDone(c.id);
  focusAfterRender('chat-ended-button');
}

/** The survey's delegated listeners on `root`: the stars, the comment, Send and Skip. */
export function installSurvey(root) {
  root.addEventListener('change', (event) => {
    const input = event.target.closest('.survey-star-input');
    if (!input || !state.conversation) return;
    const answer = answerOf(state.conversation.id);
    answer.rating = Number(input.value);
    answer.error = null;
    input.closest('.survey-stars').dataset.rating = String(answer.rating);
    root.querySelector('#survey-error')?.remove();
  });
  root.addEventListener('input', (event) => {
    if (event.target.id === 'survey-comment' && state.conversation) {
      answerOf(state.conversation.id).comment = event.target.value;
    }
  });
  root.addEventListener('submit', (event) => {
    if (!event.target.matches('[data-form="survey"]')) return;
    event.preventDefault();
    send(event.target);
  });
  root.addEventListener('click', (event) => {
    if (event.target.closest('[data-action="survey-skip"]')) skip();
  });
}
