// The sign-in and registration forms of the support tab (/help) and the panel (/admin): the
// checks, the busy line with its progress bar while Argon2id derives the keys (in a worker:
// lib/device.js), the "Remember this device" choice, clearing the password fields, and the
// error notice.

import { whileBusy } from "./dom.js";
import { showError, clearErrors } from "./errors.js";
import { validate, registrationChecks, required, withFormDisabled, enableForm } from "./forms.js";

/**
 * Wires a form that signs in or registers. Its elements are named by `prefix`:
 * `#<prefix>-form`, `#<prefix>-username`, `#<prefix>-password`, `#<prefix>-status` (the busy
 * line), if the form has it `#<prefix>-remember` (the "Remember this device" checkbox) and, for
 * a registration (`register: true`), `#<prefix>-password2` (the repeated password). On submit:
 * clears `alerts`, checks the fields (registration: lib/forms.js registrationChecks), then runs
 * `submit(username, password, remember)` with the form disabled and
 * `busyText` shown, empties the password fields and hands the result and the status element
 * to `done`. Errors of either are shown in `alerts` with `context` ("not signed in"). The
 * form is switched on (lib/forms.js enableForm) once this handler is attached.
 * @template T
 * @param {object} options
 * @param {string} options.prefix
 * @param {boolean} [options.register]
 * @param {HTMLElement} options.alerts
 * @param {string} options.busyText
 * @param {string} options.context
 * @param {(username: string, password: string, remember: boolean) => Promise<T>} options.submit
 * @param {(result: T, status: HTMLElement) => Promise<void> | void} options.done
 */
export function accountForm({ prefix, register = false, alerts, busyText, context, submit, done }) {
  const form = /** @type {HTMLFormElement} */ (element(prefix, "form"));
  const username = /** @type {HTMLInputElement} */ (element(prefix, "username"));
  const password = /** @type {HTMLInputElement} */ (element(prefix, "password"));
  const again = register ? /** @type {HTMLInputElement} */ (element(prefix, "password2")) : null;
  const status = element(prefix, "status");
  const remember = /** @type {HTMLInputElement | null} */ (document.getElementById(`${prefix}-remember`));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(alerts);
    /** @type {import("./forms.js").Check[]} */
    const checks = again
      ? registrationChecks(username, password, again)
      : [
          [username, required("your username")],
          [password, required("your password")],
        ];
    if (!validate(checks)) return;
    await withFormDisabled(form, async () => {
      try {
        const result = await whileBusy(status, busyText, () => submit(username.value.trim(), password.value, Boolean(remember && remember.checked)));
        password.value = "";
        if (again) again.value = "";
        await done(result, status);
      } catch (error) {
        showError(alerts, error, { context });
      }
    });
  });
  enableForm(/** @type {HTMLFormElement} */ (form));
}

/**
 * @param {string} prefix
 * @param {string} name
 * @returns {HTMLElement}
 */
function element(prefix, name) {
  return /** @type {HTMLElement} */ (document.getElementById(`${prefix}-${name}`));
}
