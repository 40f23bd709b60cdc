// Relative times for the inbox ("3 min. ago", "in 2 hr."), with the exact local time in a
// title; refreshed every 30 seconds while shown.

import { formatTime, isoTime } from "../lib/format.js";
import { h, $$ } from "../lib/dom.js";

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto", style: "short" });

/** @type {[Intl.RelativeTimeFormatUnit, number][]} unit and its length in seconds */
const UNITS = [
  ["year", 365 * 24 * 3600],
  ["month", 30 * 24 * 3600],
  ["week", 7 * 24 * 3600],
  ["day", 24 * 3600],
  ["hour", 3600],
  ["minute", 60],
];

/**
 * A Unix time relative to `now` ("3 min. ago", "in 2 hr.", "now" under a minute).
 * @param {number} seconds
 * @param {number} [now] Unix seconds
 */
export function relativeTime(seconds, now = Math.floor(Date.now() / 1000)) {
  const delta = seconds - now;
  for (const [unit, length] of UNITS) {
    if (Math.abs(delta) >= length) return relative.format(Math.trunc(delta / length), unit);
  }
  return relative.format(0, "second");
}

/**
 * A <time> that shows `seconds` relative to now and the exact time in its title.
 * @param {number} seconds
 * @param {string} [prefix] words before it ("last activity")
 */
export function relativeTimeElement(seconds, prefix = "") {
  return h("time", { class: "relative", datetime: isoTime(seconds), title: formatTime(seconds), dataset: { at: String(seconds), prefix } }, `${prefix ? `${prefix} ` : ""}${relativeTime(seconds)}`);
}

/** Refreshes every relative time under `root` (the due chips too). */
export function refreshRelativeTimes(root = document.body) {
  const now = Math.floor(Date.now() / 1000);
  for (const el of $$("time.relative", root)) {
    const at = Number(el.dataset.at);
    el.textContent = `${el.dataset.prefix ? `${el.dataset.prefix} ` : ""}${relativeTime(at, now)}`;
  }
  for (const el of $$("time[data-due]", root)) {
    const due = Number(el.dataset.due);
    const overdue = due <= now;
    el.classList.toggle("overdue", overdue);
    el.classList.toggle("due", !overdue);
    el.textContent = overdue ? `Overdue · due ${relativeTime(due, now)}` : `Reply due ${relativeTime(due, now)}`;
  }
}

setInterval(() => refreshRelativeTimes(), 30_000);
