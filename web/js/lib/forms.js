// Accessible form validation: a message under the field, aria-invalid, aria-describedby,
// and focus on the first field in error.

import { h } from "./dom.js";

export function setFieldError(input, message) {
  clearFieldError(input);
  const id = `${input.id}-error`;
  const error = h("p", { class: "field-error", id, text: message });
  input.setAttribute("aria-invalid", "true");
  const describedBy = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
  input.setAttribute("aria-describedby", [...describedBy, id].join(" "));
  input.insertAdjacentElement("afterend", error);
}

export function clearFieldError(input) {
  const id = `${input.id}-error`;
  const existing = document.getElementById(id);
  if (existing) existing.remove();
  input.removeAttribute("aria-invalid");
  const describedBy = (input.getAttribute("aria-describedby") || "").split(" ").filter((x) => x && x !== id);
  if (describedBy.length) input.setAttribute("aria-describedby", describedBy.join(" "));
  else input.removeAttribute("aria-describedby");
}

/** @typedef {[HTMLInputElement, (value: any) => string | null]} Check */

/**
 * Runs checks [[input, test(value) -> message or null], ...]; shows the messages, focuses
 * the first field in error, and returns whether everything passed.
 * @param {Check[]} checks
 * @returns {boolean}
 */
export function validate(checks) {
  let first = null;
  for (const [input, test] of checks) {
    const message = test(input.type === "checkbox" ? input.checked : input.value);
    if (message) {
      setFieldError(input, message);
      if (!first) first = input;
    } else {
      clearFieldError(input);
    }
  }
  if (first) first.focus();
  return !first;
}

/** @type {(what: string) => (value: unknown) => string | null} */
export const required = (what) => (value) => (String(value).trim() ? null : `Enter ${what}.`);

/**
 * @param {unknown} value
 * @returns {string | null}
 */
export function emailCheck(value) {
  const v = String(value).trim();
  if (!v) return null;
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v) ? null : "Enter an email address like name@example.org, or leave it empty.";
}

/**
 * The checks of a registration form (for `validate`): a username the server accepts (1 to 64
 * of A-Z, a-z, 0-9, `.`, `_`, `-`; spec/API.md), a password of at least 10 characters, and the
 * same password typed twice.
 */
/**
 * @param {HTMLInputElement} username
 * @param {HTMLInputElement} password
 * @param {HTMLInputElement} again
 * @returns {Check[]}
 */
export function registrationChecks(username, password, again) {
  return [
    [username, (v) => (/^[A-Za-z0-9._-]{1,64}$/.test(v.trim()) ? null : "Choose a username of 1 to 64 letters, digits, dots, hyphens or underscores.")],
    [password, (v) => (v.length >= 10 ? null : "Choose a password of at least 10 characters.")],
    [again, (v) => (v === password.value ? null : "The two passwords differ.")],
  ];
}

/**
 * Switches on a form the page's HTML ships switched off (`<fieldset class="form-gate"
 * disabled>` around its controls). Call it once the form's submit handler is attached: without
 * the page's module (JavaScript off, a module that did not load) the form stays off, so the
 * browser never submits what was typed natively, unencrypted (the CSP's `form-action 'none'`
 * refuses that too).
 * @param {HTMLFormElement} form
 */
export function enableForm(form) {
  for (const gate of form.querySelectorAll("fieldset.form-gate")) /** @type {HTMLFieldSetElement} */ (gate).disabled = false;
}

/**
 * Disables every control of a form while work runs (and restores them).
 * @template T
 * @param {HTMLFormElement} form
 * @param {() => Promise<T>} work
 * @returns {Promise<T>}
 */
export async function withFormDisabled(form, work) {
  const controls = /** @type {HTMLInputElement[]} */ ([...form.elements]).filter((el) => !el.disabled);
  for (const el of controls) el.disabled = true;
  form.setAttribute("aria-busy", "true");
  try {
    return await work();
  } finally {
    for (const el of controls) el.disabled = false;
    form.removeAttribute("aria-busy");
  }
}
