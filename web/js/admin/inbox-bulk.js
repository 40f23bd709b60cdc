// Bulk actions on the inbox's ticked tickets (issue 14 item 4): close, reopen and assign, done
// ticket by ticket by this browser, each a signed transcript message (close, reopen) or the
// assign route, exactly as from the ticket's own page. Failures are listed, the rest done.

import { h, $, replace, announce } from "../lib/dom.js";
import { describe } from "../lib/errors.js";
import { plural } from "../lib/format.js";

/** @typedef {import("../lib/wasm.js").TicketHandle} TicketHandle */

/**
 * @typedef {object} BulkContext
 * @property {() => string[]} selected ticked ticket ids, in the inbox's order
 * @property {(id: string) => string} subjectOf a ticket's subject for messages
 * @property {<T>(id: string, work: (handle: TicketHandle) => Promise<T>) => Promise<T>} withTicket
 *   opens a verified handle of the ticket, runs `work`, keeps the verified state and frees it
 * @property {{close: (h: TicketHandle) => Promise<unknown>, reopen: (h: TicketHandle) => Promise<unknown>, assign: (h: TicketHandle, keyId: string | null) => Promise<unknown>}} client
 * @property {() => {value: string, label: string}[]} assignees "" for nobody, then key ids
 * @property {() => Promise<void>} done reloads the inbox and clears the ticks
 * @property {(error: unknown) => boolean} fatal handles a signed-out error (true: stop)
 * @property {(id: string, action: "close" | "reopen") => boolean} needs whether the ticket needs
 *   the action (a closed ticket is not closed again, an open one not reopened)
 */

/**
 * Wires the bulk bar (#inbox-bulk): its buttons act on the ticked tickets.
 * @param {BulkContext} context
 * @returns {(count: number) => void} shows the bar for `count` ticked tickets
 */
export function bulkActions(context) {
  const bar = $("#inbox-bulk");
  const status = $("#inbox-bulk-status");
  const assign = /** @type {HTMLSelectElement} */ ($("#bulk-assignee"));

  /**
   * @param {string} verb "Closing"
   * @param {string} past "closed"
   * @param {(handle: TicketHandle) => Promise<unknown>} work
   * @param {"close" | "reopen"} [action] skips the tickets that do not need it
   */
  async function run(verb, past, work, action) {
    const chosen = context.selected();
    const ids = action ? chosen.filter((id) => context.needs(id, action)) : chosen;
    const skipped = chosen.length - ids.length;
    if (!chosen.length) return;
    /** @type {string[]} */
    const failures = [];
    let done = 0;
    for (const button of bar.querySelectorAll("button, select")) /** @type {HTMLButtonElement} */ (button).disabled = true;
    try {
      for (const id of ids) {
        replace(status, h("p", { class: "status-line", text: `${verb} ${done + failures.length + 1} of ${ids.length}…` }));
        try {
          await context.withTicket(id, work);
          done += 1;
        } catch (error) {
          if (context.fatal(error)) return;
          failures.push(`${context.subjectOf(id)}: ${describe(/** @type {any} */ (error)).text}`);
        }
      }
    } finally {
      for (const button of bar.querySelectorAll("button, select")) /** @type {HTMLButtonElement} */ (button).disabled = false;
    }
    const summary = `${plural(done, "ticket", "tickets")} ${past}.${skipped ? ` ${plural(skipped, "ticket was", "tickets were")} ${action === "close" ? "closed" : "open"} already.` : ""}`;
    replace(
      status,
      h(
        "div",
        { class: failures.length ? "notice warn" : "notice ok" },
        h("p", { text: failures.length ? `${summary} ${plural(failures.length, "ticket was", "tickets were")} not:` : summary }),
        failures.length ? h("ul", null, failures.map((f) => h("li", { text: f }))) : null,
      ),
    );
    announce(summary);
    await context.done();
  }

  $("#bulk-close").addEventListener("click", () => {
    const count = context.selected().length;
    if (!count || !window.confirm(`Close ${plural(count, "ticket", "tickets")}?`)) return;
    run("Closing", "closed", (handle) => context.client.close(handle), "close");
  });
  $("#bulk-reopen").addEventListener("click", () => run("Reopening", "reopened", (handle) => context.client.reopen(handle), "reopen"));
  $("#bulk-assign").addEventListener("click", () => {
    const keyId = assign.value || null;
    const label = assign.selectedOptions[0] ? assign.selectedOptions[0].textContent : "nobody";
    run("Assigning", `assigned to ${label}`, (handle) => context.client.assign(handle, keyId));
  });

  return (count) => {
    bar.hidden = count === 0;
    $("#inbox-bulk-count").textContent = `${plural(count, "ticket", "tickets")} selected`;
    const chosen = assign.value;
    replace(assign, context.assignees().map((a) => h("option", { value: a.value, text: a.label })));
    assign.value = [...assign.options].some((o) => o.value === chosen) ? chosen : "";
  };
}
