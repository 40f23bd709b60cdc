// A ticket's status (PROTOCOL.md §10.3) in the reader's words, and its chip.

import { h } from "./dom.js";

/** @typedef {"open" | "closed" | "waiting" | "on_hold"} Status */

const SUPPORT_WORDS = { open: "Open", closed: "Closed", waiting: "Waiting for the reporter", on_hold: "On hold" };
const REPORTER_WORDS = { open: "Open", closed: "Closed", waiting: "Waiting for your reply", on_hold: "On hold" };

/**
 * The status as `reader` reads it: the support team waits "for the reporter", the reporter is
 * asked for "your reply".
 * @param {string | undefined} status a view's `status` ("open" when missing)
 * @param {"support" | "reporter"} reader
 */
export function statusWords(status, reader) {
  const words = reader === "reporter" ? REPORTER_WORDS : SUPPORT_WORDS;
  return words[/** @type {Status} */ (status)] || words.open;
}

/**
 * A chip showing the status (class `chip <status>`, on hold as `on-hold`).
 * @param {string | undefined} status
 * @param {"support" | "reporter"} reader
 */
export function statusChip(status, reader) {
  const name = status && status in SUPPORT_WORDS ? status : "open";
  return h("span", { class: `chip ${name.replace("_", "-")}`, "data-status": name, text: statusWords(name, reader) });
}
