// The chat frame's screens before and after a conversation: pure builders returning elements.
// Actions are data-action / data-form attributes handled by app.js's delegated listeners.
import { h, localized } from '../common/dom.js';
import { t, tNodes, lang } from '../common/i18n.js';
import { formatWhen, languageList, typicalReply } from './when.js';

/** The UI-language label of a topic id, from the config. */
export function topicLabel(config, id) {
  const topic = (config.topics || []).find((x) => x.id === id);
  return topic ? localized(topic.label, lang(), config.default_language) : (id || '');
}

/**
 * What a topic can do now, as one short line (null when it is open): closed until when, busy, or
 * served in other languages. `found` is the topic's entry of the availability answer.
 */
function stateLine(found) {
  if (!found) return null;
  switch (found.state) {
    case 'closed':
      return found.next_change ? t('topics.closed', { when: formatWhen(found.next_change) }) : t('topics.closed_plain');
    case 'busy':
      return t('topics.busy');
    case 'not_served':
      return t('topics.not_served', { languages: languageList(found.languages || []) });
    default:
      return null;
  }
}

/**
 * The typical reply time once for the whole list when every open topic is one department's,
 * else per topic (SPEC R2); nothing without data.
 */
function replyTimes(availability) {
  const open = (availability && availability.topics || []).filter((x) => x.state === 'open');
  const departments = new Set(open.map((x) => x.department));
  const textOf = (department) => typicalReply(((availability.departments || {})[department] || {}).typical_reply_seconds);
  if (departments.size === 1) return { all: textOf([...departments][0]), each: () => null };
  return { all: null, each: (found) => (found && found.state === 'open' ? textOf(found.department) : null) };
}

/**
 * (1) "Send us a message": one button per topic, each with what it can do now.
 * @param {object} config
 * @param {object|null} availability the answer of GET /api/v1/visitor/availability, once loaded
 */
export function topicsScreen(config, availability = null) {
  const found = (id) => (availability ? availability.topics.find((x) => x.id === id) : null);
  const replies = replyTimes(availability);
  return h('section', { class: 'screen screen--topics', 'aria-labelledby': 'topics-title' },
    h('h1', { id: 'topics-title', tabindex: '-1', text: t('topics.title') }),
    h('p', { class: 'lead', text: t('topics.lead') }),
    replies.all ? h('p', { class: 'typical', id: 'topics-typical', text: replies.all }) : null,
    h('ul', { class: 'topics' },
      (config.topics || []).map((topic) => {
        const info = found(topic.id);
        const line = stateLine(info) || replies.each(info);
        const id = `topic-${topic.id}`;
        return h('li', {},
          h('button', {
            type: 'button', id, class: `topic${info ? ` topic--${info.state}` : ''}`,
            'data-action': 'topic', 'data-topic': topic.id,
            'aria-labelledby': `${id}-label`, 'aria-describedby': line ? `${id}-state` : false,
          },
          h('span', { class: 'topic-label', id: `${id}-label`, text: localized(topic.label, lang(), config.default_language) }),
          line ? h('span', { class: 'topic-state', id: `${id}-state`, text: line }) : null));
      })));
}

/** "Topic: X (Change)", at the top of every screen about one topic. */
export function chosenTopic(config, topicId) {
  return h('p', { class: 'chosen' },
    h('span', { class: 'chosen-label', text: t('prechat.topic') }), ' ',
    h('strong', { text: topicLabel(config, topicId) }), ' ',
    h('button', { type: 'button', class: 'link', 'data-action': 'change-topic', text: t('prechat.change_topic') }));
}

function optionalField(name, labelKey, values, hintKey = null) {
  const id = `prechat-${name}`;
  return h('div', { class: 'field' },
    h('label', { for: id },
      t(labelKey), ' ', h('span', { class: 'optional', text: t('prechat.optional') })),
    hintKey ? h('p', { class: 'field-hint', id: `${id}-hint`, text: t(hintKey) }) : null,
    h('input', {
      id, name, type: 'text', autocomplete: 'off', maxlength: '200', value: values[name] || '',
      'aria-describedby': hintKey ? `${id}-hint` : false,
    }));
}

/** The pre-chat form's optional address, with the hint of what it is for (SPEC V9). */
function emailField(values) {
  return h('div', { class: 'field' },
    h('label', { for: 'prechat-email' },
      t('prechat.email'), ' ', h('span', { class: 'optional', text: t('prechat.optional') })),
    h('p', { class: 'field-hint', id: 'prechat-email-hint', text: t('prechat.email_hint') }),
    h('input', {
      id: 'prechat-email', name: 'email', type: 'email', autocomplete: 'email', maxlength: '200',
      value: values.email || '', 'aria-describedby': 'prechat-email-hint',
    }));
}

/** A policy's link (a new tab), or its name alone when the desk gives no URL. */
function policyLink(url, key) {
  if (!url) return h('span', { text: t(key) });
  return h('a', { href: url, target: '_blank', rel: 'noopener', text: t(key) });
}

/**
 * The required "I agree to the chat and privacy policies" box of a form, with its error if any.
 * @param {string} form the id prefix: `prechat`, `leave`
 * @param {object} company the config's company (the policies' URLs)
 * @param {boolean} checked
 * @param {string|null} error the text to show under it
 */
export function consentField(form, company, checked, error) {
  const id = `${form}-consent`;
  return h('div', { class: `consent${error ? ' consent--error' : ''}` },
    h('input', {
      type: 'checkbox', id, name: 'consent', checked: Boolean(checked),
      'aria-required': 'true', 'aria-invalid': error ? 'true' : false,
      'aria-describedby': error ? `${id}-error` : false,
    }),
    h('label', { for: id },
      tNodes('prechat.consent', {
        chat_policy: policyLink(company.chat_policy_url, 'prechat.chat_policy'),
        privacy_policy: policyLink(company.privacy_policy_url, 'prechat.privacy_policy'),
      }), ' ', h('span', { class: 'required', text: t('prechat.required') })),
    error ? h('p', { class: 'field-error', id: `${id}-error`, text: error }) : null);
}

/**
 * (2) The pre-chat form for `topicId`, refilled from `values` (kept across language switches).
 * @param {object} config
 * @param {string} topicId
 * @param {object} values
 * @param {{error?: string, consentError?: boolean, busy?: boolean}} status
 * @param {object|null} identity what the host page's token vouches for (identity.js)
 */
export function prechatScreen(config, topicId, values, status = {}, identity = null) {
  const company = config.company || {};
  const max = config.limits && config.limits.message_max_chars;
  return h('section', { class: 'screen screen--prechat', 'aria-labelledby': 'prechat-title' },
    h('h1', { id: 'prechat-title', tabindex: '-1', text: t('prechat.title') }),
    chosenTopic(config, topicId),
    h('form', { class: 'prechat', 'data-form': 'prechat', novalidate: true, 'aria-busy': status.busy ? 'true' : 'false' },
      h('fieldset', { class: 'customer' },
        h('legend', { text: t('prechat.customer_legend') }),
        h('p', { class: 'field-hint', text: t('prechat.customer_hint') }),
        // A member the host page vouched for is not asked who they are (SPEC V4).
        identity && identity.verified
          ? h('p', { class: 'verified-member', id: 'prechat-verified', text: t('prechat.verified_member', { member: identity.member_id }) })
          : optionalField('member_id', 'prechat.member_id', values),
        optionalField('contract_name', 'prechat.contract_name', values),
        optionalField('contact_person', 'prechat.contact_person', values, 'prechat.contact_person_hint')),
      // Where replies go once the visitor has left (SPEC V9), when the desk mails them.
      config.email && config.email.continuation ? emailField(values) : null,
      h('div', { class: 'field' },
        h('label', { for: 'prechat-message', text: t('prechat.message') }),
        h('textarea', {
          id: 'prechat-message', name: 'message', rows: '4', maxlength: max ? String(max) : false,
          placeholder: t('prechat.message_placeholder'),
        }, values.message || '')),
      consentField('prechat', company, values.consent,
        status.consentError ? t('error.consent_required') : null),
      status.error ? h('p', { class: 'form-error', role: 'alert', text: status.error }) : null,
      h('button', {
        type: 'submit', class: 'primary', disabled: status.busy ? true : false,
        text: status.busy ? t('prechat.starting') : t('prechat.start'),
      })));
}

/** A screen for when the chat cannot be used (configuration unreachable …), with a retry. */
export function errorScreen(message) {
  return h('section', { class: 'screen screen--error', 'aria-labelledby': 'error-title' },
    h('h1', { id: 'error-title', tabindex: '-1', text: t('chat.unavailable') }),
    h('p', { role: 'alert', text: message }),
    h('button', { type: 'button', class: 'primary', 'data-action': 'retry', text: t('chat.retry') }));
}

/**
 * (4) Where the composer was, once the conversation is over: the way to a new one. Why it ended is
 * not repeated here: the visitor reads that once, as the last line of the transcript (`ended.<reason>`).
 */
export function endedPanel() {
  return h('div', { class: 'ended', id: 'chat-ended' },
    h('h2', { class: 'ended-title', text: t('chat.ended_title') }),
    h('button', { type: 'button', class: 'primary', id: 'chat-ended-button', 'data-action': 'new', text: t('chat.new_conversation') }));
}

/** The confirmation asked before the visitor ends the chat. */
export function endDialog() {
  return h('dialog', { class: 'confirm', id: 'end-dialog', 'aria-labelledby': 'end-dialog-title' },
    h('form', { method: 'dialog', 'data-form': 'end' },
      h('h2', { id: 'end-dialog-title', text: t('chat.end_confirm_title') }),
      h('p', { text: t('chat.end_confirm_text') }),
      h('div', { class: 'actions' },
        h('button', { type: 'submit', value: 'cancel', class: 'secondary', 'data-action': 'end-cancel', text: t('chat.cancel') }),
        h('button', { type: 'submit', value: 'end', class: 'danger', 'data-action': 'end-confirm', text: t('chat.end') }))));
}

/** The page URL and browser facts sent with a new conversation (SPEC A4). */
export function collectContext() {
  const page = new URLSearchParams(location.search).get('page');
  let timeZone = null;
  try { timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (_) { /* old engine */ }
  return {
    page_url: page || null,
    user_agent: navigator.userAgent,
    language: navigator.language || null,
    time_zone: timeZone,
    screen: `${screen.width}x${screen.height}`,
  };
}
