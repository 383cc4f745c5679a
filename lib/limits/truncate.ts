/**
 * The API server's length limits on the text an operator writes, and truncation to them.
 * Limits count UTF-8 bytes, as Go's `len()` does in the API server's validation.
 */

/**
 * Length limits (UTF-8 bytes) of fields an operator writes, from the Kubernetes API:
 * - `eventMessage`: core/v1 Event `message` and events.k8s.io `note` (`NoteLengthLimit`,
 *   1024); client-go's recorders and the scheduler truncate to it.
 * - `eventReason`: Event `reason` (`ReasonLengthLimit`, 128).
 * - `conditionMessage`: `metav1.Condition.message` (`+kubebuilder:validation:MaxLength=32768`).
 * - `conditionReason`: `metav1.Condition.reason` (MaxLength 1024).
 * - `conditionType`: `metav1.Condition.type` (MaxLength 316).
 */
export const API_LIMITS = Object.freeze({
  eventMessage: 1024,
  eventReason: 128,
  conditionMessage: 32_768,
  conditionReason: 1024,
  conditionType: 316,
});

/** What {@link truncate} appends to text it shortened (as the scheduler's `truncateMessage`). */
export const TRUNCATION_SUFFIX = ' ...';

/**
 * Shortens `text` to at most `maxBytes` UTF-8 bytes, never splitting a character, and marks
 * the cut with `suffix` (counted in the limit). Text within the limit is returned as is.
 *
 * @param maxBytes - the limit in UTF-8 bytes, e.g. {@link API_LIMITS}`.eventMessage`.
 * @param suffix - appended when cut (default `' ...'`); dropped if it alone exceeds the limit.
 * @example
 * ```ts
 * truncate('x'.repeat(2000), API_LIMITS.eventMessage).length; // 1024
 * ```
 */
export function truncate(text: string, maxBytes: number, suffix: string = TRUNCATION_SUFFIX): string {
  // A UTF-16 unit takes 1 to 3 UTF-8 bytes: only text of maxBytes/3 to maxBytes units needs
  // counting, so the cost is bounded by the limit, not by the text.
  if (text.length * 3 <= maxBytes || (text.length <= maxBytes && Buffer.byteLength(text, 'utf8') <= maxBytes)) return text;
  const limit = Math.max(0, Math.floor(maxBytes));
  const suffixBytes = Buffer.byteLength(suffix, 'utf8');
  const tail = suffixBytes <= limit ? suffix : '';
  // Encode only a bounded prefix: a multi-megabyte message costs no more than a short one.
  const bytes = Buffer.from(text.slice(0, limit), 'utf8');
  let cut = Math.min(bytes.length, limit - Buffer.byteLength(tail, 'utf8'));
  // Back off to the start of a UTF-8 sequence (continuation bytes are 0b10xxxxxx).
  while (cut > 0 && cut < bytes.length && ((bytes[cut] ?? 0) & 0xc0) === 0x80) cut--;
  return bytes.subarray(0, cut).toString('utf8') + tail;
}

/**
 * An Event message within the API's limit (1024 bytes).
 *
 * @example
 * ```ts
 * recorder.event(obj, 'Warning', 'Failed', truncateEventMessage(describeError(err)));
 * ```
 */
export function truncateEventMessage(message: string): string {
  return truncate(message, API_LIMITS.eventMessage);
}

/**
 * A condition message within the API's limit (32 KiB), for the status writer.
 *
 * @example
 * ```ts
 * const condition = { ...c, message: truncateConditionMessage(c.message ?? '') };
 * ```
 */
export function truncateConditionMessage(message: string): string {
  return truncate(message, API_LIMITS.conditionMessage);
}
