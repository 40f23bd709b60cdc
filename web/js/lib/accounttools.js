// The account's own tools, the same in the support tab (/help, its "Account" tab) and the panel
// (/admin, its "Account" view): change the password (Argon2id twice, in a worker:
// lib/device.js), what this browser keeps of the sign-in, and "Sign out everywhere".
//
// Elements: #password-form with #password-current, #password-new, #password-new2,
// #password-status; #device-state; #sign-out-everywhere.

import { $, h, replace, whileBusy, announce } from "./dom.js";
import { showError, clearErrors } from "./errors.js";
import { validate, required, withFormDisabled, enableForm } from "./forms.js";
import { changePasswordOffThread } from "./device.js";

/**
 * @param {object} options
 * @param {HTMLElement} options.alerts where errors show
 * @param {import("./device.js").DevicePage} options.page
 * @param {() => import("./device.js").SignIn | null} options.signIn the current sign-in
 * @param {(error: unknown, context: string) => void} options.onError errors of a session that
 *   may have ended (the page signs out on `server.unauthorized`)
 * @param {() => Promise<void>} options.everywhere signs out everywhere and leaves the page
 */
export function accountTools({ alerts, page, signIn, onError, everywhere }) {
  const form = /** @type {HTMLFormElement} */ ($("#password-form"));
  const current = /** @type {HTMLInputElement} */ ($("#password-current"));
  const next = /** @type {HTMLInputElement} */ ($("#password-new"));
  const again = /** @type {HTMLInputElement} */ ($("#password-new2"));
  const status = $("#password-status");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(alerts);
    replace(status);
    const ok = validate([
      [current, required("your current password")],
      [next, (v) => (v.length >= 10 ? null : "Choose a password of at least 10 characters.")],
      [again, (v) => (v === next.value ? null : "The two new passwords differ.")],
    ]);
    if (!ok) return;
    const active = signIn();
    if (!active) return;
    await withFormDisabled(form, async () => {
      try {
        await whileBusy(status, "Deriving keys from both passwords and protecting your keys with the new one…", () =>
          changePasswordOffThread(active, page, current.value, next.value),
        );
        for (const input of [current, next, again]) input.value = "";
        replace(status, h("p", { class: "notice ok", text: "Your password was changed. Your other sessions were signed out; this one stays." }));
        announce("Your password was changed.");
      } catch (error) {
        current.value = "";
        if (/** @type {{code?: string}} */ (error)?.code === "server.bad_credentials") {
          showError(alerts, { code: "server.bad_credentials", message: "The current password is wrong." }, { context: "the password was not changed" });
          current.focus();
        } else {
          onError(error, "the password was not changed");
        }
      }
    });
  });
  enableForm(form);

  $("#sign-out-everywhere").addEventListener("click", async (event) => {
    const button = /** @type {HTMLButtonElement} */ (event.currentTarget);
    button.disabled = true;
    try {
      await everywhere();
    } finally {
      button.disabled = false;
    }
  });
}

/**
 * Says what this browser keeps of the sign-in.
 * @param {boolean} remembered
 */
export function showDeviceState(remembered) {
  $("#device-state").textContent = remembered
    ? "This browser remembers you: the page opens signed in after a reload or a restart, until you sign out, the idle lock asks for your password, or the session expires. Your keys are kept encrypted by a key this browser cannot export."
    : "This browser forgets your sign-in when you sign out or close the tab.";
}
