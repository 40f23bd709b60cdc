// Keyboard shortcuts of the panel (issue 14 item 4): j / k next and previous ticket, Enter or o
// open, r reply, c close, x select, ? this help. Never while typing in a field or with a
// modifier held, so they do not take letters from what an administrator writes.

import { h, $ } from "../lib/dom.js";

/** What each key does, as the help overlay lists it. */
export const SHORTCUTS = [
  ["j", "Next ticket"],
  ["k", "Previous ticket"],
  ["Enter or o", "Open the ticket"],
  ["r", "Reply to the ticket"],
  ["c", "Close the ticket"],
  ["x", "Select the ticket (for a bulk action)"],
  ["?", "Show or hide these shortcuts"],
  ["Escape", "Hide these shortcuts"],
];

/**
 * @typedef {object} ShortcutActions
 * @property {() => string} view the panel's current view ("inbox", "ticket", ...)
 * @property {(step: number) => void} move next (1) or previous (-1) ticket
 * @property {() => void} open opens the current ticket
 * @property {() => void} reply opens the current ticket's reply composer
 * @property {() => void} close closes the current ticket (after a confirmation)
 * @property {() => void} select ticks or unticks the current ticket
 */

/**
 * Whether a key press belongs to a field (or has a modifier) and is no shortcut.
 * @param {KeyboardEvent} event
 */
function typing(event) {
  if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return true;
  const target = /** @type {HTMLElement | null} */ (event.target instanceof HTMLElement ? event.target : null);
  if (!target) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag === "INPUT") {
    const type = /** @type {HTMLInputElement} */ (target).type;
    return !["checkbox", "radio", "button", "submit", "reset"].includes(type);
  }
  return false;
}

/** The help overlay: a modal dialog listing the shortcuts. */
function helpDialog() {
  let dialog = /** @type {HTMLDialogElement | null} */ ($("#shortcuts-help"));
  if (dialog) return dialog;
  dialog = /** @type {HTMLDialogElement} */ (
    h(
      "dialog",
      { id: "shortcuts-help", class: "shortcuts", "aria-labelledby": "shortcuts-title" },
      h("h2", { id: "shortcuts-title", text: "Keyboard shortcuts" }),
      h("p", { class: "small muted", text: "In the inbox and a ticket, when no field has the focus." }),
      h(
        "dl",
        { class: "fields" },
        SHORTCUTS.map(([keys, what]) => [
          h("dt", null, keys.split(" or ").map((key, i) => [i ? " or " : null, h("kbd", { text: key })])),
          h("dd", { text: what }),
        ]),
      ),
      h("div", { class: "actions" }, h("button", { type: "button", class: "secondary", text: "Close", onclick: () => dialog && dialog.close() })),
    )
  );
  document.body.append(dialog);
  return dialog;
}

/**
 * Listens for the shortcuts on the whole page.
 * @param {ShortcutActions} actions
 */
export function keyboardShortcuts(actions) {
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || typing(event)) return;
    const help = /** @type {HTMLDialogElement | null} */ ($("#shortcuts-help"));
    if (help && help.open) {
      if (event.key === "?") {
        event.preventDefault();
        help.close();
      }
      return; // the dialog handles Escape itself
    }
    const view = actions.view();
    if (view !== "inbox" && view !== "ticket") return;
    // Enter on a focused control is that control's own (a button, a link).
    const onControl = event.target instanceof HTMLElement && event.target.closest("button, a, input, summary");
    /** @type {Record<string, () => void>} */
    const keys = {
      "?": () => helpDialog().showModal(),
      j: () => actions.move(1),
      k: () => actions.move(-1),
      o: () => actions.open(),
      r: () => actions.reply(),
      c: () => actions.close(),
      x: () => actions.select(),
    };
    if (event.key === "Enter" && !onControl) keys.Enter = () => actions.open();
    const run = keys[event.key];
    if (!run) return;
    event.preventDefault();
    run();
  });
}
