// The chat frame (the visitor's side). Screens: topics -> pre-chat form -> conversation -> ended.
// The visitor token lives in this frame's own storage only (session.js); the host page never sees it.
// This file starts the frame and holds its delegated listeners. The rest, by idea:
//   page.js     the frame's state and the screen drawn from it (screens.js builds the screens)
//   session.js  what the frame keeps about the visitor, and REST calls made as them
//   live.js     the conversation on screen kept in step with the server: the one socket, catch-up fetches
//   actions.js  what the visitor asks for: resume, start, leave a message, end, start anew
//   availability.js  what each topic can do now, and the screen a topic leads to (hours.js draws
//               the hours, busy and thank-you screens; waiting.js the place in line)
//   conversations.js  the visitor's several conversations: the list, unread marks (SPEC V16)
//   maintenance.js  the admin's message instead of the topics while chat is paused (SPEC X5)
//   transcript.js  the header's download button: the conversation as a .txt file (SPEC V11)
//   survey.js   the post-chat survey under an ended chat: stars, a comment, send or skip (SPEC V12)
//   identity.js the host page's signed token: a verified member, or links for a plan without chat (V4)
//   secret.js   the key button and form: a password sent for the operator to reveal once (SPEC V15)
import * as i18n from '../common/i18n.js';
import { errorText } from '../common/i18n.js';
import { request } from '../common/api.js';
import { installComposer } from '../common/thread.js';
import { installCopyHandler } from '../common/render.js';
import { state, main, mount, render, show, readPrechat, readLeave } from './page.js';
import { sendMessage, sendTyping } from './live.js';
import {
  resumeLastConversation, startConversation, endConversation, newConversation, leaveMessage,
  showConversations, openListed, openLiveTopic,
} from './actions.js';
import { chooseTopic, showTopics, retryBusy, refreshAvailability } from './availability.js';
import { siteLanguage, prepareNotice, installLanguageNotice } from './notice.js';
import { refreshWhenOpened } from './maintenance.js';
import { installTranscript } from './transcript.js';
import { installSurvey } from './survey.js';
import { installChatAttachments } from './attachments.js';
import { installIdentity, loadIdentity } from './identity.js';
import { installSecret } from './secret.js';
import { installModeration } from './moderation.js';
import { takeReturnLink } from './session.js';

const root = document.getElementById('app');

async function boot() {
  let failure = null;
  try {
    state.config = await request('GET', '/api/v1/visitor/config');
  } catch (err) {
    failure = err;
  }
  const fallback = state.config ? state.config.default_language : 'ja';
  // The frame speaks the languages the desk offers (docs/configuration.md, [languages]).
  await i18n.init({ fallback, only: state.config && state.config.languages, site: siteLanguage });
  await prepareNotice();
  tellLauncher();
  i18n.onChange(() => {
    tellLauncher();
    render();
    refreshAvailability(); // what a topic can do depends on the language
  });
  if (failure) {
    state.error = errorText(failure.code);
    show('error', 'error-title');
    return;
  }
  await loadIdentity(); // the host page's token, if it sends one (SPEC V4)
  state.linkRefused = await takeReturnLink(); // opened from an away mail (SPEC V9)
  await resumeLastConversation();
}

/** Let the launcher on the host page label itself in our language (no data but the code). */
function tellLauncher() {
  if (window.parent !== window) window.parent.postMessage({ type: 'madoguchi:lang', lang: i18n.lang() }, '*');
}

function installHandlers() {
  root.addEventListener('click', (event) => {
    const target = event.target.closest('[data-action]');
    if (!target) return;
    switch (target.dataset.action) {
      case 'topic':
        state.linkRefused = null;
        // A topic already being talked about opens that conversation (SPEC V16).
        if (!openLiveTopic(target.dataset.topic)) chooseTopic(target.dataset.topic);
        break;
      case 'list':
        showConversations();
        break;
      case 'open-conversation':
        openListed(target.dataset.id);
        break;
      case 'new-question':
        newConversation();
        break;
      case 'change-topic':
        readPrechat();
        readLeave();
        showTopics('topics-title');
        break;
      case 'busy-retry':
        retryBusy();
        break;
      case 'retry':
        location.reload();
        break;
      case 'end':
        document.getElementById('end-dialog')?.showModal();
        break;
      case 'end-cancel':
        event.preventDefault();
        document.getElementById('end-dialog')?.close();
        document.getElementById('chat-end')?.focus();
        break;
      case 'end-confirm':
        event.preventDefault();
        document.getElementById('end-dialog')?.close();
        endConversation();
        break;
      case 'new':
        newConversation();
        break;
      default:
    }
  });
  root.addEventListener('submit', (event) => {
    if (event.target.matches('[data-form="prechat"]')) {
      event.preventDefault();
      if (!state.prechatStatus.busy) startConversation();
    } else if (event.target.matches('[data-form="leave"]')) {
      event.preventDefault();
      if (!state.leaveStatus.busy) leaveMessage();
    }
  });
  root.addEventListener('change', (event) => {
    if (event.target.id === 'prechat-consent' && event.target.checked && state.prechatStatus.consentError) {
      readPrechat();
      state.prechatStatus = {};
      render();
    } else if (event.target.id === 'leave-consent' && event.target.checked && (state.leaveStatus.errors || {}).consent) {
      readLeave();
      const { consent, ...others } = state.leaveStatus.errors;
      state.leaveStatus = { errors: others };
      render();
    }
  });
  installComposer(root, {
    send: (form, text) => sendMessage(text),
    typing: (form, on) => sendTyping(on),
  });
  installCopyHandler(root);
  i18n.installLanguageSwitcher(root);
  installLanguageNotice(root, render);
  installTranscript(root);
  installSurvey(root);
  installChatAttachments(root);
  installIdentity();
  installSecret(root);
  installModeration(root);

  // The launcher (widget.js, on the host page) tells us when we are full-screen or just opened;
  // nothing in these messages is trusted beyond a class toggle and a focus move.
  window.addEventListener('message', (event) => {
    if (event.source !== window.parent || !event.data || typeof event.data !== 'object') return;
    if (event.data.type === 'madoguchi:layout') {
      document.documentElement.classList.toggle('fullscreen', Boolean(event.data.fullscreen));
    } else if (event.data.type === 'madoguchi:opened') {
      const first = main.querySelector('[data-composer], h1, [data-action="new"]');
      first?.focus();
      refreshWhenOpened(); // chat may have been paused or resumed meanwhile (SPEC X5)
    }
  });
  document.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape' || window.parent === window) return;
    if (document.querySelector('dialog[open]')) return;
    window.parent.postMessage({ type: 'madoguchi:close' }, '*'); // carries nothing but the wish
  });
}

mount(root);
installHandlers();
boot();
