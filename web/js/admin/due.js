// Due times of replies (issue 14 item 8; the rule is spec/API.md's, "Instance settings"): a
// ticket's reply is due at the server's receipt time of its oldest unanswered reporter message
// plus its target, the category's when it has one, else its urgency's. Computed here because
// urgency and category travel encrypted inside the first message.

import { formatTime, isoTime } from "../lib/format.js";
import { h } from "../lib/dom.js";
import { relativeTime } from "./inbox-time.js";

/**
 * @typedef {{urgent_minutes?: number, normal_minutes?: number}} ResponseTargets
 * @typedef {{categories?: {name: string, target_minutes?: number}[], response_targets?: ResponseTargets}} TargetSettings
 * @typedef {{category?: string, urgent?: boolean} | null | undefined} Opening
 */

/**
 * The ticket's response-time target in minutes, or null without one.
 * @param {TargetSettings} settings
 * @param {Opening} opening the decrypted first message
 * @returns {number | null}
 */
export function targetMinutes(settings, opening) {
  if (!opening) return null;
  const category = (settings.categories || []).find((c) => c.name === opening.category);
  if (category && category.target_minutes) return category.target_minutes;
  const targets = settings.response_targets || {};
  const minutes = opening.urgent ? targets.urgent_minutes : targets.normal_minutes;
  return minutes || null;
}

/**
 * When the reply is due, in Unix seconds, or null when nothing is due (no target, the team
 * wrote last, or the status is not open).
 * @param {TargetSettings} settings
 * @param {{opening: Opening, status: string, waiting_since: number | null | undefined}} ticket
 * @returns {number | null}
 */
export function dueAt(settings, ticket) {
  if (ticket.status !== "open" || !ticket.waiting_since) return null;
  const minutes = targetMinutes(settings, ticket.opening);
  return minutes ? ticket.waiting_since + minutes * 60 : null;
}

/**
 * The receipt time of the oldest reporter message after the team's last message or attachment
 * in a verified conversation (the ticket view's messages), or null when the team wrote last.
 * The inbox gets the same from the module (`waiting_since`).
 * @param {{from_support: boolean, kind: string, received_at: number, content: unknown}[]} messages
 * @returns {number | null}
 */
export function waitingSince(messages) {
  /** @type {number | null} */
  let since = null;
  for (const message of messages) {
    if (message.kind !== "message" && message.kind !== "attachment") continue;
    if (message.content === null) continue;
    if (message.from_support) since = null;
    else if (since === null) since = message.received_at || Math.floor(Date.now() / 1000);
  }
  return since;
}

/**
 * A chip for a due time: "Due in 2 hours" or "Overdue by 5 minutes", the exact time in its
 * title; null when nothing is due.
 * @param {number | null} due Unix seconds
 * @param {number} [now] Unix seconds
 */
export function dueChip(due, now = Math.floor(Date.now() / 1000)) {
  if (!due) return null;
  const overdue = due <= now;
  const relative = relativeTime(due, now);
  return h(
    "time",
    {
      class: overdue ? "chip overdue" : "chip due",
      datetime: isoTime(due),
      title: `Reply due ${formatTime(due)}`,
      dataset: { due: String(due) },
    },
    overdue ? `Overdue · due ${relative}` : `Reply due ${relative}`,
  );
}
