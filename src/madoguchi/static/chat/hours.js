// The screens for a topic that cannot chat now (SPEC V7, V8, P7): outside its hours or not in
// the visitor's language (the hours, in the visitor's time zone, per language), or busy (try
// again later); both offer the offline message form, and a thank-you once it is sent.
// Pure builders, like screens.js; app.js handles their data-action / data-form attributes.
import { h } from '../common/dom.js';
import { t, lang } from '../common/i18n.js';
import { chosenTopic, consentField } from './screens.js';
import { formatDay, formatSpans, formatWhen, languageList, languageName, localDays, zoneName } from './when.js';

/** A topic's entry in the availability answer, or null. */
export function topicAvailability(availability, topicId) {
  return (availability && availability.topics.find((x) => x.id === topicId)) || null;
}

function weekOfLanguage(code, intervals) {
  const days = localDays(intervals);
  return h('section', { class: 'hours-language', lang: code, 'aria-labelledby': `hours-${code}` },
    h('h3', { id: `hours-${code}`, text: languageName(code) }),
    days.length
      ? h('dl', { class: 'hours-days', lang: lang() },
        days.map(({ day, spans }) => [
          h('dt', { text: formatDay(day) }),
          h('dd', { text: formatSpans(spans) }),
        ]))
      : h('p', { class: 'empty', lang: lang(), text: t('hours.none') }));
}

/** The next seven days of chat hours, per language the topic is served in, in local time. */
function weekHours(availability, found) {
  const department = (availability.departments || {})[found.department] || { hours: {} };
  const codes = found.languages || [];
  if (!codes.length) return null;
  return h('section', { class: 'hours', 'aria-labelledby': 'hours-week-title' },
    h('h2', { id: 'hours-week-title', text: t('hours.title') }),
    h('p', { class: 'field-hint', text: t('hours.zone', { zone: zoneName(availability.at) }) }),
    codes.map((code) => weekOfLanguage(code, department.hours[code] || [])));
}

function field(name, type, labelKey, values, errors, extra = {}) {
  const id = `leave-${name}`;
  const error = errors[name];
  const input = type === 'textarea'
    ? h('textarea', {
      id, name, rows: '4', 'aria-required': 'true', 'aria-invalid': error ? 'true' : false,
      'aria-describedby': error ? `${id}-error` : false, ...extra,
    }, values[name] || '')
    : h('input', {
      id, name, type, value: values[name] || '', 'aria-required': 'true', maxlength: '200',
      'aria-invalid': error ? 'true' : false, 'aria-describedby': error ? `${id}-error` : false, ...extra,
    });
  return h('div', { class: 'field' },
    h('label', { for: id }, t(labelKey), ' ', h('span', { class: 'required', text: t('prechat.required') })),
    input,
    error ? h('p', { class: 'field-error', id: `${id}-error`, text: error }) : null);
}

/**
 * The offline message form: name, email, message and consent (POST …/offline-messages).
 * @param {object} config
 * @param {{name?: string, email?: string, message?: string, consent?: boolean}} values
 * @param {{errors?: Object<string, string>, error?: string, busy?: boolean}} status
 */
export function leaveForm(config, values, status = {}) {
  const company = config.company || {};
  const errors = status.errors || {};
  const max = config.limits && config.limits.message_max_chars;
  return h('form', {
    class: 'leave', 'data-form': 'leave', novalidate: true, 'aria-labelledby': 'leave-title',
    'aria-busy': status.busy ? 'true' : 'false',
  },
  h('h2', { id: 'leave-title', tabindex: '-1', text: t('leave.title') }),
  h('p', { class: 'field-hint', text: t('leave.lead') }),
  field('name', 'text', 'leave.name', values, errors, { autocomplete: 'name' }),
  field('email', 'email', 'leave.email', values, errors, { autocomplete: 'email', inputmode: 'email' }),
  field('message', 'textarea', 'leave.message', values, errors, { maxlength: max ? String(max) : false }),
  consentField('leave', company, values.consent, errors.consent || null),
  status.error ? h('p', { class: 'form-error', role: 'alert', text: status.error }) : null,
  h('button', {
    type: 'submit', class: 'primary', disabled: status.busy ? true : false,
    text: status.busy ? t('leave.sending') : t('leave.send'),
  }));
}

/**
 * Outside the hours (`gate` "closed") or not in this language ("not_served"): why, the week's
 * hours per language in the visitor's time zone, and the offline message form.
 */
export function hoursScreen(config, availability, topicId, gate, values, status) {
  const found = topicAvailability(availability, topicId);
  const served = (found && found.languages) || [];
  let title;
  let lead;
  if (gate === 'not_served') {
    title = t('hours.not_served_title', { language: languageName(lang()) });
    lead = served.length
      ? t('hours.not_served_lead', { languages: languageList(served) })
      : t('hours.not_served_lead_plain');
  } else {
    title = t('hours.closed_title');
    const opens = found && found.state === 'closed' && found.next_change;
    lead = opens ? t('hours.closed_lead', { when: formatWhen(opens) }) : t('hours.closed_lead_plain');
  }
  return h('section', { class: 'screen screen--hours', 'aria-labelledby': 'hours-screen-title' },
    h('h1', { id: 'hours-screen-title', tabindex: '-1', text: title }),
    chosenTopic(config, topicId),
    h('p', { class: 'lead', text: lead }),
    found ? weekHours(availability, found) : null,
    leaveForm(config, values, status));
}

/** Busy (the queue is full): try again later, or leave a message instead. */
export function busyScreen(config, topicId, values, status, retry = {}) {
  return h('section', { class: 'screen screen--busy', 'aria-labelledby': 'busy-title' },
    h('h1', { id: 'busy-title', tabindex: '-1', text: t('busy.title') }),
    chosenTopic(config, topicId),
    h('p', { class: 'lead', text: t('busy.lead') }),
    h('div', { class: 'busy-retry' },
      h('button', { type: 'button', class: 'primary', id: 'busy-retry', 'data-action': 'busy-retry', text: t('busy.retry') }),
      h('p', { class: 'busy-still', id: 'busy-still', role: 'status', text: retry.still ? t('busy.still') : '' })),
    leaveForm(config, values, status));
}

/** The thank-you once an offline message is stored: the answer comes by email. */
export function leftScreen(email) {
  return h('section', { class: 'screen screen--left', 'aria-labelledby': 'left-title' },
    h('h1', { id: 'left-title', tabindex: '-1', text: t('leave.thanks_title') }),
    h('p', { class: 'lead', text: t('leave.thanks_text', { email }) }),
    h('button', { type: 'button', class: 'primary', id: 'left-back', 'data-action': 'new', text: t('leave.back') }));
}
