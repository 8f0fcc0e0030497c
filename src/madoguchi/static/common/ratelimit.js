// What a client says when a rate limit refused it (SPEC P11, docs/security.md): how long to wait.
// A refused message needs no words from the visitor: socket.js keeps it and sends it again.
import { t, errorText } from './i18n.js';

/**
 * The text for a refusal: for `rate_limited`, with the seconds to wait; else the code's own.
 * @param {{code: string, details?: {retry_after?: number}|null, retry_after?: number}} refusal
 *   an ApiError or a socket error frame
 * @param {'retry_in'|'resending'} [kind] "try again in N s", or "sending again in N s"
 */
export function waitText(refusal, kind = 'retry_in') {
  if (refusal.code !== 'rate_limited') return errorText(refusal.code);
  const seconds = Number(refusal.retry_after ?? (refusal.details && refusal.details.retry_after));
  if (!(seconds > 0)) return errorText(refusal.code);
  return t(`ratelimit.${kind}`, { count: Math.ceil(seconds) });
}
