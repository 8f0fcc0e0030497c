// Attachments in a thread (SPEC V6), for the chat frame and the console alike: the clip button,
// drag-and-drop onto the chat, the upload with its progress, and the file's bubble: "checking for
// viruses…", then a preview (images) and a download button, or why it was refused.
//
// The file is fetched with the reader's credentials (the visitor's Bearer token, the console's
// cookie) and shown from a Blob: an <img src> to the API could not carry the token. The file's
// name and type come from the server's event, never from the uploader's browser.
import { h, newId } from './dom.js';
import { t, errorText, lang, formatTime, formatDateTime } from './i18n.js';
import { ApiError } from './api.js';
import { registerRenderer } from './render.js';

let access = {
  base: '/api/v1/visitor', // or /api/v1/agent
  token: () => null, // the visitor's token (the console's cookie goes by itself)
  csrf: () => null, // the console's CSRF token
  limits: () => null, // the config's `attachments`: {enabled, max_bytes, accept, …}
};
const statuses = new Map(); // attachment id -> {status: scanning|ok|refused, reason?}
const bubbles = new Map(); // attachment id -> the last few elements showing it (re-renders)
const blobs = new Map(); // attachment id -> Promise<Blob>
const trays = new Map(); // conversation id -> the element listing its uploads in progress or failed
const KEEP_BUBBLES = 4;

/** Say where the API is and how to prove who we are (once, at start). */
export function configureAttachments(options) {
  access = { ...access, ...options };
}

function filePath(conversationId, attachmentId = '') {
  const tail = attachmentId ? `/${encodeURIComponent(attachmentId)}` : '';
  return `${access.base}/conversations/${encodeURIComponent(conversationId)}/attachments${tail}`;
}

/** "1.2 MB", "640 KB", "12 B" in the UI language's digits. */
export function formatSize(bytes) {
  const units = [['MB', 1024 * 1024], ['KB', 1024]];
  const number = new Intl.NumberFormat(lang(), { maximumFractionDigits: 1 });
  for (const [unit, size] of units) {
    if (bytes >= size) return `${number.format(bytes / size)} ${unit}`;
  }
  return `${number.format(bytes)} B`;
}

// --- the bubble ----------------------------------------------------------------------------------

function clipIcon() {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  for (const [k, v] of Object.entries({
    viewBox: '0 0 24 24', width: '20', height: '20', 'aria-hidden': 'true', focusable: 'false',
    fill: 'none', stroke: 'currentColor', 'stroke-width': '2', 'stroke-linecap': 'round', 'stroke-linejoin': 'round',
  })) svg.setAttribute(k, v);
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', 'M21 11.5l-8.5 8.5a5.5 5.5 0 0 1-7.8-7.8l9-9a3.7 3.7 0 0 1 5.2 5.2l-9 9a1.8 1.8 0 0 1-2.6-2.6L15.5 6.5');
  svg.append(path);
  return svg;
}

function fetchBlob(conversationId, attachmentId) {
  if (!blobs.has(attachmentId)) {
    const headers = {};
    const token = access.token();
    if (token) headers.Authorization = `Bearer ${token}`;
    const promise = fetch(filePath(conversationId, attachmentId), { headers, credentials: 'same-origin', cache: 'no-store' })
      .then(async (response) => {
        if (!response.ok) {
          let error = {};
          try { error = ((await response.json()) || {}).error || {}; } catch (_) { /* not JSON */ }
          throw new ApiError(response.status, error.code || `http_${response.status}`, error.message);
        }
        return response.blob();
      });
    promise.catch(() => blobs.delete(attachmentId)); // a later try may work
    blobs.set(attachmentId, promise);
  }
  return blobs.get(attachmentId);
}

function fileBody(li) {
  const { attachmentId: id, conversationId, name, size, preview } = li.dataset;
  const state = statuses.get(id) || { status: 'scanning' };
  const parts = [
    h('span', { class: 'file-name', text: name }), ' ',
    h('span', { class: 'file-size', text: formatSize(Number(size)) }),
  ];
  if (state.status === 'scanning') {
    parts.push(h('p', { class: 'file-status file-status--scanning', role: 'status', text: t('attach.scanning') }));
  } else if (state.status === 'refused') {
    const reason = ['infected', 'scanner_unavailable'].includes(state.reason) ? state.reason : 'other';
    parts.push(h('p', { class: 'file-status file-status--refused', role: 'alert', text: t(`attach.refused.${reason}`) }));
  } else {
    if (preview === 'true') {
      const img = h('img', { class: 'file-preview', alt: t('attach.preview', { name }), hidden: true });
      fetchBlob(conversationId, id).then((blob) => {
        img.src = URL.createObjectURL(blob);
        img.hidden = false;
      }).catch(() => { /* the download button says what went wrong */ });
      parts.push(img);
    }
    parts.push(h('button', {
      type: 'button', class: 'secondary small file-download', 'data-action': 'attachment-download',
      text: t('attach.download'), 'aria-label': `${t('attach.download')}: ${name}`,
    }));
  }
  return h('div', { class: `file file--${state.status}` }, ...parts);
}

function refresh(li) {
  li.querySelector('.file')?.replaceWith(fileBody(li));
}

function remember(id, li) {
  const list = (bubbles.get(id) || []).filter((el) => el !== li);
  list.push(li);
  bubbles.set(id, list.slice(-KEEP_BUBBLES));
}

function setStatus(id, status) {
  const before = statuses.get(id);
  if (before && before.status !== 'scanning') return; // a refusal or a pass is final
  statuses.set(id, status);
  for (const li of bubbles.get(id) || []) refresh(li);
}

/** The bubble of an `attachment` event. */
function renderAttachment(event, { viewer }) {
  const data = event.data || {};
  const role = event.author && event.author.role;
  const mine = role === viewer;
  const who = role === 'operator' ? (event.author.name || t('message.operator')) : t('message.visitor');
  if (!statuses.has(data.attachment_id)) {
    statuses.set(data.attachment_id, { status: data.status === 'ok' ? 'ok' : data.status || 'scanning' });
  }
  const li = h('li', {
    class: `msg ${mine ? 'msg--mine' : 'msg--theirs'} msg--${role} msg--file`,
    dataset: {
      seq: String(event.seq), clientId: event.client_id || '', attachmentId: data.attachment_id,
      conversationId: event.conversation_id || '', name: data.name || '', size: String(data.size || 0),
      preview: data.preview ? 'true' : 'false',
    },
  },
  h('div', { class: 'meta' },
    h('span', { class: mine ? 'who visually-hidden' : 'who', text: mine ? t('message.you') : who }), ' ',
    h('time', { datetime: event.at || '', title: event.at ? formatDateTime(event.at) : false, text: formatTime(event.at) })),
  h('div', { class: 'file' }));
  refresh(li);
  remember(data.attachment_id, li);
  return li;
}

// --- uploads -------------------------------------------------------------------------------------

/** The list of this conversation's uploads in progress or refused (kept across re-renders). */
function tray(conversationId) {
  if (!trays.has(conversationId)) {
    trays.set(conversationId, h('ul', { class: 'uploads', 'aria-live': 'polite' }));
  }
  return trays.get(conversationId);
}

function showFailure(conversationId, name, code) {
  const li = h('li', { class: 'upload upload--failed', role: 'alert' },
    h('span', { text: t('attach.failed', { name, reason: errorText(code) }) }), ' ',
    h('button', { type: 'button', class: 'link', 'data-action': 'upload-dismiss', text: t('chat.cancel') }));
  tray(conversationId).append(li);
}

function send(conversationId, file) {
  const limits = access.limits() || {};
  if (limits.max_bytes && file.size > limits.max_bytes) {
    showFailure(conversationId, file.name, 'attachment_too_large');
    return;
  }
  if (file.size === 0) {
    showFailure(conversationId, file.name, 'empty_attachment');
    return;
  }
  const bar = h('progress', { max: '100', value: '0' });
  const label = h('span', { text: t('attach.uploading', { name: file.name, percent: 0 }) });
  const li = h('li', { class: 'upload' }, label, ' ', bar);
  tray(conversationId).append(li);
  const query = new URLSearchParams({ name: file.name, client_id: newId() });
  const xhr = new XMLHttpRequest(); // fetch cannot tell an upload's progress
  xhr.open('POST', `${filePath(conversationId)}?${query}`);
  const token = access.token();
  if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`);
  const csrf = access.csrf();
  if (csrf) xhr.setRequestHeader('X-CSRF-Token', csrf);
  xhr.setRequestHeader('Content-Type', 'application/octet-stream');
  xhr.upload.addEventListener('progress', (event) => {
    if (!event.lengthComputable) return;
    const percent = Math.floor((event.loaded / event.total) * 100);
    bar.value = percent;
    label.textContent = t('attach.uploading', { name: file.name, percent });
  });
  xhr.addEventListener('loadend', () => {
    li.remove();
    if (xhr.status === 201) return; // its bubble comes with the `attachment` event
    let code = xhr.status ? `http_${xhr.status}` : 'network';
    try { code = JSON.parse(xhr.responseText).error.code || code; } catch (_) { /* not JSON */ }
    showFailure(conversationId, file.name, code);
  });
  xhr.send(file);
}

/** Send files to a conversation, one request each. */
export function uploadFiles(conversationId, files) {
  for (const file of files) send(conversationId, file);
}

/**
 * The clip button (with its hidden file input) and the list of uploads, for a conversation's
 * composer; null when the desk takes no files.
 */
export function attachControls(conversationId) {
  const limits = access.limits();
  if (!limits || !limits.enabled) return null;
  const inputId = `attach-${conversationId.replace(/[^\w-]/g, '_')}`;
  const label = t('attach.button');
  return h('div', { class: 'attach', dataset: { conversationId } },
    h('button', {
      type: 'button', class: 'icon-button attach-button', 'data-action': 'attach',
      'aria-label': label, title: `${label} (${t('attach.limit', { size: formatSize(limits.max_bytes) })})`,
    }, clipIcon()),
    h('input', {
      type: 'file', id: inputId, class: 'visually-hidden', tabindex: '-1', multiple: true,
      accept: limits.accept || false, 'data-attach-input': 'true', 'aria-hidden': 'true',
    }),
    tray(conversationId));
}

/** Put the clip button (and the list of uploads) into a composer `form`, once. */
export function addToComposer(form, conversationId) {
  if (form.querySelector('.attach')) return;
  const controls = attachControls(conversationId);
  if (!controls) return;
  form.classList.add('composer--files');
  form.prepend(controls);
}

async function saveFile(button) {
  const li = button.closest('[data-attachment-id]');
  const { attachmentId, conversationId, name } = li.dataset;
  try {
    const blob = await fetchBlob(conversationId, attachmentId);
    const url = URL.createObjectURL(blob);
    const link = h('a', { href: url, download: name, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  } catch (err) {
    const text = err instanceof ApiError && err.code !== 'network' ? errorText(err.code) : t('attach.download_failed');
    li.querySelector('.file-error')?.remove();
    li.querySelector('.file').append(h('p', { class: 'file-error', role: 'alert', text }));
  }
}

/**
 * Listen for the clip button, the file picker, downloads, and files dropped on a chat (once, at
 * start), and draw `attachment` events.
 * @param {HTMLElement} root
 * @param {{zoneFor: (target: Element) => ({element: HTMLElement, id: string}|null)}} options
 *   the conversation a drop on `target` goes to (null: not a place to drop files now)
 */
export function installAttachments(root, { zoneFor }) {
  registerRenderer('attachment', renderAttachment);
  registerRenderer('attachment_ok', (event) => {
    setStatus((event.data || {}).attachment_id, { status: 'ok' });
    return null;
  });
  registerRenderer('attachment_bad', (event) => {
    const data = event.data || {};
    setStatus(data.attachment_id, { status: 'refused', reason: data.reason });
    return null;
  });
  root.addEventListener('click', (event) => {
    const target = event.target.closest('[data-action]');
    if (!target) return;
    if (target.dataset.action === 'attach') {
      target.closest('.attach')?.querySelector('[data-attach-input]')?.click();
    } else if (target.dataset.action === 'attachment-download') {
      saveFile(target);
    } else if (target.dataset.action === 'upload-dismiss') {
      target.closest('li')?.remove();
    }
  });
  root.addEventListener('change', (event) => {
    const input = event.target.closest('[data-attach-input]');
    if (!input) return;
    const id = input.closest('.attach')?.dataset.conversationId;
    if (id && input.files.length) uploadFiles(id, [...input.files]);
    input.value = '';
  });
  const carriesFiles = (event) => event.dataTransfer && [...event.dataTransfer.types].includes('Files');
  let over = null;
  const leave = () => {
    over?.classList.remove('drop-target');
    over = null;
  };
  root.addEventListener('dragover', (event) => {
    const limits = access.limits();
    const zone = carriesFiles(event) && limits && limits.enabled ? zoneFor(event.target) : null;
    if (!zone) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = 'copy';
    if (over !== zone.element) {
      leave();
      over = zone.element;
      over.classList.add('drop-target');
      over.dataset.dropHint = t('attach.drop');
    }
  });
  root.addEventListener('dragleave', (event) => {
    if (over && !over.contains(event.relatedTarget)) leave();
  });
  root.addEventListener('drop', (event) => {
    const limits = access.limits();
    const zone = carriesFiles(event) && limits && limits.enabled ? zoneFor(event.target) : null;
    leave();
    if (!zone) return;
    event.preventDefault();
    uploadFiles(zone.id, [...event.dataTransfer.files]);
  });
}
