// Hours and languages in the visitor's own terms: UTC instants from the server shown in the
// browser's time zone, grouped by the visitor's local day, languages by their own names. Every
// format comes from Intl; nothing here builds a date or a list by hand.
import { t, lang, LANGUAGES } from '../common/i18n.js';
import { minutes } from './waiting.js';

/** A language by its own name ("日本語", "Deutsch"), whatever the UI language. */
export function languageName(code) {
  const known = LANGUAGES.find((l) => l.code === code);
  if (known) return known.name;
  try {
    return new Intl.DisplayNames([code], { type: 'language' }).of(code) || code;
  } catch (_) {
    return code;
  }
}

/** Several languages as one phrase of the UI language ("日本語 and English"). */
export function languageList(codes) {
  const names = codes.map(languageName);
  try {
    return new Intl.ListFormat(lang(), { type: 'conjunction' }).format(names);
  } catch (_) {
    return names.join(', ');
  }
}

/** A day and time for "opens …": weekday, date and time in the browser's time zone. */
export function formatWhen(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  return new Intl.DateTimeFormat(lang(), {
    weekday: 'short', month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit',
  }).format(date);
}

/** The browser's time zone as the visitor knows it: "Central European Time (Europe/Berlin)". */
export function zoneName(atIso) {
  const id = Intl.DateTimeFormat().resolvedOptions().timeZone || '';
  let generic = '';
  try {
    const parts = new Intl.DateTimeFormat(lang(), { timeZoneName: 'longGeneric' }).formatToParts(new Date(atIso));
    generic = (parts.find((p) => p.type === 'timeZoneName') || {}).value || '';
  } catch (_) { /* an engine without longGeneric: the id alone */ }
  return generic && generic !== id ? t('hours.zone_name', { name: generic, id }) : id;
}

function startOfDay(date) {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate());
}

function nextDay(day) {
  // Built from the calendar date, not by adding 24 h, so that a DST change cannot skip a day.
  return new Date(day.getFullYear(), day.getMonth(), day.getDate() + 1);
}

/**
 * Open intervals grouped by the visitor's local day: cut at local midnights into whole days
 * ("all day") and parts; a part running to midnight and the part after it are one evening span
 * ending the next day ("21:00 – 5:00 next day"), as people say shop hours.
 * @param {Array<[string, string]>} intervals UTC instants, as the availability answer gives them
 * @returns {Array<{day: Date, spans: Array<{start: Date, end: Date, allDay: boolean, nextDay: boolean}>}>}
 */
export function localDays(intervals) {
  const pieces = [];
  for (const [from, to] of intervals || []) {
    let cursor = new Date(from);
    const end = new Date(to);
    if (Number.isNaN(cursor.getTime()) || Number.isNaN(end.getTime())) continue;
    while (cursor < end) {
      const day = startOfDay(cursor);
      const midnight = nextDay(day);
      const stop = end < midnight ? end : midnight;
      const allDay = cursor.getTime() === day.getTime() && stop.getTime() === midnight.getTime();
      const last = pieces[pieces.length - 1];
      if (last && !allDay && !last.allDay && !last.nextDay && last.end.getTime() === cursor.getTime()
          && cursor.getTime() === day.getTime()) {
        Object.assign(last, { end: stop, nextDay: true });
      } else {
        pieces.push({ day, start: cursor, end: stop, allDay, nextDay: false });
      }
      cursor = stop;
    }
  }
  const days = new Map();
  for (const { day, ...span } of pieces) {
    if (!days.has(day.getTime())) days.set(day.getTime(), { day, spans: [] });
    days.get(day.getTime()).spans.push(span);
  }
  return [...days.values()].sort((a, b) => a.day - b.day);
}

/** A local day's heading: "Thursday, April 2". */
export function formatDay(day) {
  return new Intl.DateTimeFormat(lang(), { weekday: 'long', month: 'long', day: 'numeric' }).format(day);
}

/** One open span of a day: "3:00 – 11:00"; a span up to midnight ends at 24:00 where clocks have it. */
function formatSpan(span) {
  if (span.allDay) return t('hours.all_day');
  const time = new Intl.DateTimeFormat(lang(), { hour: 'numeric', minute: '2-digit' });
  const start = time.format(span.start);
  let end = time.format(span.end);
  if (span.nextDay) return t('hours.span_next_day', { start, end });
  const cycle = time.resolvedOptions().hourCycle;
  if ((cycle === 'h23' || cycle === 'h24') && span.end.getHours() === 0 && span.end.getMinutes() === 0) {
    // "9:00 – 0:00" reads as a span that ends before it starts; 24-hour clocks write 24:00.
    end = new Intl.DateTimeFormat(lang(), { hour: 'numeric', minute: '2-digit', hourCycle: 'h24' }).format(span.end);
  }
  return t('hours.span', { start, end });
}

/** A day's open spans as one phrase of the UI language ("9:00 – 12:00, 13:00 – 18:00"). */
export function formatSpans(spans) {
  const texts = spans.map(formatSpan);
  try {
    return new Intl.ListFormat(lang(), { type: 'unit', style: 'short' }).format(texts);
  } catch (_) {
    return texts.join(', ');
  }
}

/** "We usually reply in about N minutes" (SPEC R2), or null when the desk has too little data. */
export function typicalReply(seconds) {
  if (seconds === null || seconds === undefined) return null;
  return t('topics.typical', { count: minutes(seconds) });
}
