// The inbox's rows, order and filters (issue 14 item 4): the last message's first line (from the
// module's verified, decrypted conversation), the assignee column, relative times, the due
// time (./due.js), and the counts per filter when the server's answer has them.

import { h, $$ } from "../lib/dom.js";
import { errorNotice } from "../lib/errors.js";
import { statusChip } from "../lib/status.js";
import { relativeTimeElement } from "./inbox-time.js";
import { dueAt, dueChip } from "./due.js";

/** @typedef {import("../../pkg/admin/sealdesk_client.js").InboxItemView} InboxItemView */
/** @typedef {import("./due.js").TargetSettings} TargetSettings */

/**
 * The orders the inbox offers: newest activity, oldest waiting (the reporter waits longest
 * first), urgency (urgent first, then newest), due (soonest due first).
 * @typedef {"newest" | "oldest" | "urgency" | "due"} InboxOrder
 */

/** Sorts a copy of the loaded tickets. Unreadable tickets keep their place among the newest. */
/**
 * @param {InboxItemView[]} items
 * @param {InboxOrder} order
 * @param {TargetSettings} settings
 */
export function sortTickets(items, order, settings) {
  const newest = (/** @type {InboxItemView} */ a, /** @type {InboxItemView} */ b) => b.last_activity - a.last_activity;
  const never = Number.MAX_SAFE_INTEGER;
  /** @type {(a: InboxItemView, b: InboxItemView) => number} */
  let compare = newest;
  if (order === "oldest") {
    // Waiting since, oldest first; tickets nobody waits on after them, oldest activity first.
    compare = (a, b) => (a.waiting_since || never) - (b.waiting_since || never) || a.last_activity - b.last_activity;
  } else if (order === "urgency") {
    const urgent = (/** @type {InboxItemView} */ t) => (t.opening && t.opening.urgent ? 1 : 0);
    compare = (a, b) => urgent(b) - urgent(a) || newest(a, b);
  } else if (order === "due") {
    compare = (a, b) => (dueAt(settings, a) || never) - (dueAt(settings, b) || never) || newest(a, b);
  }
  return [...items].sort(compare);
}

/**
 * Whether a ticket passes the assignee filter ("" anyone, "me", "none").
 * @param {InboxItemView} t
 * @param {string} assigned
 * @param {string} myKeyId
 */
export function matchesAssigned(t, assigned, myKeyId) {
  if (assigned === "me") return t.assigned_to === myKeyId;
  if (assigned === "none") return !t.assigned_to;
  return true;
}

/**
 * Whether a ticket passes the due filter ("" any, "due": a reply is due, "overdue").
 * @param {InboxItemView} t
 * @param {string} due
 * @param {TargetSettings} settings
 * @param {number} [now] Unix seconds
 */
export function matchesDue(t, due, settings, now = Math.floor(Date.now() / 1000)) {
  if (!due) return true;
  const at = dueAt(settings, t);
  if (at === null) return false;
  return due === "overdue" ? at <= now : true;
}

/**
 * The number each filter button shows, from the answer's `counts` (spec/API.md, "Inbox");
 * nothing when the answer has none. "Answered" is open minus unanswered.
 * @param {Record<string, number> | undefined} counts
 */
export function showCounts(counts) {
  /** @type {Record<string, number | undefined>} */
  const byFilter = counts
    ? {
        unanswered: counts.unanswered,
        answered: counts.open !== undefined && counts.unanswered !== undefined ? Math.max(0, counts.open - counts.unanswered) : undefined,
        waiting: counts.waiting,
        on_hold: counts.on_hold,
        closed: counts.closed,
        all: counts.all,
        me: counts.mine,
        none: counts.unassigned,
      }
    : {};
  for (const button of $$("#inbox-filter button, #inbox-assigned button")) {
    const key = button.dataset.status || button.dataset.assigned || "";
    let badge = button.querySelector(".count");
    const value = byFilter[key];
    if (value === undefined || !Number.isFinite(value)) {
      if (badge) badge.remove();
      continue;
    }
    if (!badge) {
      badge = h("span", { class: "count" });
      button.append(" ", badge);
    }
    badge.textContent = String(value);
  }
}

/**
 * @typedef {object} RowContext
 * @property {(keyId: string | null) => string} nameOf an administrator's label ("you", a name)
 * @property {(id: string) => void} open opens the ticket
 * @property {Set<string>} selected the ticket ids ticked for a bulk action
 * @property {(id: string, on: boolean) => void} onSelect a tick changed
 * @property {TargetSettings} settings the instance's targets
 * @property {(t: InboxItemView) => (Node | null)} [extraMeta] more for the meta line (the tag chips)
 */

/**
 * One inbox row: a tick box, the subject (a button opening the ticket), the last message's
 * first line, chips and meta, the assignee and the due time.
 * @param {InboxItemView} t
 * @param {RowContext} context
 */
export function inboxRow(t, context) {
  const subject = t.opening ? t.opening.subject || "(no subject)" : `Unverified ticket ${t.ticket_id.slice(0, 8)}`;
  const tick = h("input", { type: "checkbox", class: "row-select", "aria-label": `Select ${subject}`, dataset: { ticket: t.ticket_id } });
  tick.checked = context.selected.has(t.ticket_id);
  tick.addEventListener("change", () => context.onSelect(t.ticket_id, tick.checked));
  const open = h("button", { type: "button", class: "link", "data-ticket": t.ticket_id, text: subject, onclick: () => context.open(t.ticket_id) });
  if (!t.opening) {
    return h(
      "li",
      { class: "inbox-row untrusted", dataset: { ticket: t.ticket_id } },
      h("div", { class: "row-tick" }, tick),
      h("div", { class: "summary" }, h("div", { class: "title" }, open), errorNotice(t.error || {}, { context: "this ticket's conversation" })),
    );
  }
  const o = t.opening;
  const last = t.last;
  const preview = last
    ? h("p", { class: "preview" }, h("span", { class: "preview-who", text: last.from_support ? "Team: " : "Reporter: " }), last.preview || "(empty message)")
    : null;
  const due = dueAt(context.settings, t);
  const assignee = t.assigned_to ? context.nameOf(t.assigned_to) : null;
  return h(
    "li",
    { class: `inbox-row${o.urgent ? " urgent" : ""}`, dataset: { ticket: t.ticket_id } },
    h("div", { class: "row-tick" }, tick),
    h(
      "div",
      { class: "summary" },
      h("div", { class: "title" }, open),
      preview,
      h(
        "div",
        { class: "meta" },
        o.urgent ? h("span", { class: "chip urgent", text: "Urgent" }) : null,
        statusChip(t.status, "support"),
        t.answered && !t.closed ? h("span", { class: "chip answered", text: "Answered" }) : null,
        o.category ? h("span", { text: o.category }) : null,
        h("span", { text: `from ${o.name || o.email || "anonymous"}` }),
        h("span", null, relativeTimeElement(t.last_activity, "active")),
        context.extraMeta ? context.extraMeta(t) : null,
      ),
    ),
    h(
      "div",
      { class: "row-assignee" },
      h("span", { class: "row-label", text: "Assigned to " }),
      assignee ? h("span", { text: assignee === "you" ? "You" : assignee }) : h("span", { class: "muted", text: "Nobody" }),
    ),
    h("div", { class: "row-due" }, dueChip(due) || h("span", { class: "muted small", text: "No reply due" })),
  );
}
