/*! madoguchi widget loader: <script src="https://chat.example.com/widget.js" async></script> */
// Plain ES5 so that it runs on any page. It draws the launcher and asks nothing of the server
// until the visitor opens the chat; the chat itself runs in a frame on the chat origin.
(function () {
  'use strict';
  var script = document.currentScript;
  if (!script || document.querySelector('[data-madoguchi]')) return;
  var parser = document.createElement('a');
  parser.href = script.src;
  var origin = parser.protocol + '//' + parser.host;
  var dataLang = script.getAttribute('data-lang') || '';
  var siteLang = document.documentElement.lang || '';
  // 'open|close|frame title': the same texts as widget.* in /locales/*.json, which this loader
  // must not fetch before the visitor asks for the chat (tests/e2e/test_languages.py checks them).
  var LABELS = {
    ja: 'チャットで問い合わせる|チャットを閉じる|サポートチャット',
    en: 'Chat with us|Close chat|Support chat',
    it: 'Chat con l’assistenza|Chiudi la chat|Chat di assistenza',
    pt: 'Fale conosco|Fechar o chat|Chat de suporte',
    fr: 'Discuter avec nous|Fermer le chat|Chat d’assistance',
    de: 'Chatten Sie mit uns|Chat schließen|Support-Chat',
    nl: 'Chat met ons|Chat sluiten|Supportchat',
    es: 'Hable con nosotros|Cerrar el chat|Chat de soporte',
    sv: 'Chatta med oss|Stäng chatten|Supportchatt',
    da: 'Chat med os|Luk chatten|Supportchat'
  };
  var uiLang = pick([dataLang].concat(navigator.languages || [navigator.language], siteLang));
  var CSS = ':host{all:initial}' +
    '.b{position:fixed;right:20px;bottom:20px;z-index:2147483647;width:56px;height:56px;' +
    'border:0;border-radius:50%;padding:0;margin:0;background:#1f5f8b;color:#fff;cursor:pointer;' +
    'display:flex;align-items:center;justify-content:center;box-shadow:0 4px 14px rgba(0,0,0,.25)}' +
    '.b:hover{background:#174a6d}.b:focus{outline:none}' +
    '.b:focus-visible{outline:3px solid #f5b700;outline-offset:3px}' +
    '.b svg{width:28px;height:28px;fill:none;stroke:currentColor;stroke-width:2;' +
    'stroke-linecap:round;stroke-linejoin:round}' +
    '.f{position:fixed;right:20px;bottom:88px;z-index:2147483646;width:380px;height:600px;' +
    'max-width:calc(100vw - 40px);max-height:calc(100vh - 108px);border:0;border-radius:12px;' +
    'background:#fff;box-shadow:0 8px 32px rgba(0,0,0,.28)}' +
    '.f[hidden]{display:none}' +
    '@media (max-width:479px){.f{top:0;left:0;right:0;bottom:0;width:100%;height:100%;' +
    'max-width:none;max-height:none;border-radius:0;box-shadow:none}' +
    '.b.o{top:6px;right:6px;bottom:auto;width:44px;height:44px;background:transparent;box-shadow:none}}';
  var host = document.createElement('div');
  host.setAttribute('data-madoguchi', '');
  var root = host.attachShadow ? host.attachShadow({ mode: 'open' }) : host;
  if (root.adoptedStyleSheets && window.CSSStyleSheet && CSSStyleSheet.prototype.replaceSync) {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS); // not an inline <style>, so a strict style-src on the host is fine
    root.adoptedStyleSheets = [sheet];
  } else {
    var style = document.createElement('style');
    style.textContent = CSS;
    root.appendChild(style);
  }
  var button = document.createElement('button');
  button.type = 'button';
  button.className = 'b';
  button.setAttribute('aria-expanded', 'false');
  root.appendChild(button);
  var frame = null;
  var loaded = false;
  var isOpen = false;
  var phone = window.matchMedia ? window.matchMedia('(max-width: 479px)') : null;

  function pick(tags) {
    for (var i = 0; i < tags.length; i++) {
      var tag = String(tags[i] || '').toLowerCase();
      if (LABELS[tag]) return tag;
      if (LABELS[tag.split('-')[0]]) return tag.split('-')[0];
    }
    return 'ja';
  }

  function icon(d) {
    var ns = 'http://www.w3.org/2000/svg';
    var svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    var path = document.createElementNS(ns, 'path');
    path.setAttribute('d', d);
    svg.appendChild(path);
    return svg;
  }

  function draw() {
    var label = LABELS[uiLang].split('|');
    button.setAttribute('aria-label', label[isOpen ? 1 : 0]);
    button.setAttribute('title', label[isOpen ? 1 : 0]);
    button.setAttribute('aria-expanded', isOpen ? 'true' : 'false');
    button.className = isOpen ? 'b o' : 'b';
    while (button.firstChild) button.removeChild(button.firstChild);
    button.appendChild(icon(isOpen ? 'M6 6l12 12M18 6L6 18'
      : 'M21 12a8 8 0 0 1-11.6 7.1L4 20l1.1-4.5A8 8 0 1 1 21 12z'));
    if (frame) frame.title = label[2];
  }

  function post(message) {
    if (loaded) frame.contentWindow.postMessage(message, origin);
  }

  // The host's identity token (docs/identity.md), re-read at each opening; by postMessage only.
  function identity() {
    return script.getAttribute('data-identity') || '';
  }

  function tellFrame() {
    if (identity()) post({ type: 'madoguchi:identity', token: identity() });
    post({ type: 'madoguchi:layout', fullscreen: !!(phone && phone.matches) });
    post({ type: 'madoguchi:opened' });
  }

  function open() {
    if (!frame) {
      frame = document.createElement('iframe');
      frame.className = 'f';
      frame.id = 'madoguchi-frame';
      frame.setAttribute('allow', 'clipboard-write');
      // lang: a language the host pins; site_lang: the page's own, for the "also in …" notice.
      frame.src = origin + '/chat?page=' + encodeURIComponent(location.href) +
        (dataLang ? '&lang=' + encodeURIComponent(dataLang) : '') +
        (siteLang ? '&site_lang=' + encodeURIComponent(siteLang) : '') +
        (identity() ? '&identity=1' : ''); // a flag: the frame waits for the token
      frame.onload = function () {
        loaded = true;
        if (isOpen) { frame.focus(); tellFrame(); }
      };
      root.insertBefore(frame, button);
      button.setAttribute('aria-controls', frame.id);
    }
    frame.hidden = false;
    isOpen = true;
    draw();
    frame.focus();
    tellFrame();
  }

  function close() {
    if (!frame) return;
    frame.hidden = true;
    isOpen = false;
    draw();
    button.focus();
  }

  button.addEventListener('click', function () { if (isOpen) close(); else open(); });
  window.addEventListener('message', function (event) {
    if (!frame || event.source !== frame.contentWindow || event.origin !== origin) return;
    var data = event.data || {};
    if (data.type === 'madoguchi:close') close();
    if (data.type === 'madoguchi:lang' && LABELS[data.lang]) {
      uiLang = data.lang;
      draw();
    }
  });
  if (phone) {
    var relayout = function () { if (isOpen) post({ type: 'madoguchi:layout', fullscreen: phone.matches }); };
    if (phone.addEventListener) phone.addEventListener('change', relayout);
    else if (phone.addListener) phone.addListener(relayout);
  }
  draw();
  function mount() { document.body.appendChild(host); }
  if (document.body) mount();
  else document.addEventListener('DOMContentLoaded', mount);
})();
