// The new-ticket form of the anonymous page (/help/ticket/new) and the support tab (/help):
// its checks and its values as the module takes them (OpeningInput).

import { h, replace, announce } from "./dom.js";
import { validate, required, emailCheck } from "./forms.js";

/** @typedef {import("./wasm.js").OpeningInput} OpeningInput */
/** @typedef {import("./debug.js").DebugEditor} DebugEditor */
/** @typedef {import("./files.js").FilePicker} FilePicker */

/**
 * Checks the form (an email address if the form has one, a subject, a message) and that the
 * chosen files can be sent (none over the limit, no image whose metadata could not be removed
 * while its removal is ticked); shows what is wrong (the file warning in `status`).
 * @param {FilePicker} picker
 * @param {HTMLElement} status
 * @returns {boolean} whether the form can be sent
 */
export function checkOpening(picker, status) {
  const email = /** @type {HTMLInputElement | null} */ (document.querySelector("#email"));
  const ok = validate([
    ...(email ? [/** @type {import("./forms.js").Check} */ ([email, notifyNeedsAddress(emailCheck)])] : []),
    [field("#subject"), required("a subject")],
    [field("#message"), required("your message")],
  ]);
  if (!ok) return false;
  const problem = picker.problem();
  if (problem) {
    field("#files").focus();
    announce(problem);
    replace(status, h("p", { class: "field-error", text: problem }));
    return false;
  }
  status.replaceChildren();
  return true;
}

/**
 * The form's values: subject, message, category, name, email (where the form has one),
 * urgency, and the debug fields the person left in when "include" is ticked. Empty optional
 * fields are left out.
 * @param {DebugEditor} debugEditor
 * @returns {OpeningInput}
 */
export function readOpening(debugEditor) {
  const email = /** @type {HTMLInputElement | null} */ (document.querySelector("#email"));
  /** @type {OpeningInput} */
  const opening = {
    subject: field("#subject").value.trim(),
    text: field("#message").value,
    category: field("#category").value || undefined,
    name: field("#name").value.trim() || undefined,
    email: (email && email.value.trim()) || undefined,
    urgent: field("#urgent").checked,
  };
  // "Email me when support answers": the address field, sent once more for the server to keep.
  if (wantsNotification() && opening.email) opening.notify_email = opening.email;
  if (field("#debug-include").checked) {
    const debug = debugEditor.values();
    if (debug) opening.debug = debug;
  }
  return opening;
}

/**
 * Whether "Email me when support answers" is offered (mail is on) and ticked.
 * @returns {boolean}
 */
function wantsNotification() {
  const box = /** @type {HTMLInputElement | null} */ (document.querySelector("#notify"));
  const offered = document.querySelector("#notify-field");
  return Boolean(box && offered && !offered.hasAttribute("hidden") && box.checked);
}

/**
 * The email check, plus: an address is required when notification is ticked.
 * @param {import("./forms.js").Check[1]} check
 * @returns {import("./forms.js").Check[1]}
 */
function notifyNeedsAddress(check) {
  return (value) => (wantsNotification() && !String(value).trim() ? "Enter the address to be emailed at, or untick “Email me when support answers”." : check(value));
}

/**
 * A field of the form.
 * @param {string} selector
 * @returns {HTMLInputElement}
 */
function field(selector) {
  return /** @type {HTMLInputElement} */ (document.querySelector(selector));
}
