// "Resend access link" as recovery (spec/API.md "Recovery"): the form that asks for a recovery
// mail. The server cannot resend a lost link (it never had the secret); it mails a single-use
// link instead, which lets a new key in this browser ask support to add it to the ticket.

import { h, uid, announce, focusTarget } from "./dom.js";
import { validate, required, emailCheck, withFormDisabled } from "./forms.js";
import { loadSettings } from "./settings.js";

/**
 * Whether this instance sends mail (`mail_enabled` of the public settings); recovery by mail
 * exists only then.
 * @returns {Promise<boolean>}
 */
export async function mailEnabled() {
  const settings = /** @type {Record<string, unknown>} */ (await loadSettings());
  return settings.mail_enabled === true;
}

/** What the pages say instead of the form when the instance sends no mail. */
export function noRecoveryNotice() {
  return h(
    "div",
    { class: "notice" },
    h("p", { class: "title", text: "This support desk sends no email" }),
    h("p", { text: "So it cannot send a recovery link. Only your browser ever had the ticket's secret: without the whole link, write a new ticket and mention the old one." }),
  );
}

/**
 * The request form, with what happens next said plainly.
 * @param {{ headingLevel?: string }} [options]
 * @returns {HTMLElement}
 */
export function recoveryRequestForm({ headingLevel = "h2" } = {}) {
  const inputId = uid("recovery-email");
  const input = h("input", { id: inputId, type: "email", name: "email", autocomplete: "email", required: true });
  const result = h("div", { class: "status-line", role: "status" });
  const form = h(
    "form",
    { class: "stack", novalidate: true },
    h("div", { class: "field" }, h("label", { for: inputId, text: "The email address you gave for notifications" }), input),
    h("button", { type: "submit", class: "button primary", text: "Send me a recovery link" }),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!validate([[input, required("the email address")], [input, emailCheck]])) return;
    await withFormDisabled(form, async () => {
      let text;
      try {
        const response = await fetch("/api/v1/recovery/request", {
          method: "POST",
          headers: { "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify({ email: input.value.trim() }),
        });
        const body = await response.json().catch(() => ({}));
        if (response.ok) {
          text = "If this address belongs to an open ticket, a mail with a recovery link is on its way. The link works once, within an hour.";
        } else if (response.status === 429) {
          text = "Too many requests for now. Wait a while and try again.";
        } else {
          text = (body && body.message) || "The request could not be sent. Try again.";
        }
      } catch {
        text = "The server could not be reached. Check the connection and try again.";
      }
      result.textContent = text;
      announce(text);
      focusTarget(result);
    });
  });
  return h(
    "section",
    { class: "card", "aria-labelledby": `${inputId}-heading` },
    h(headingLevel, { id: `${inputId}-heading`, text: "Lost the link? Ask for a recovery link" }),
    h("p", {
      text: "Nobody can send the old link again: only your browser ever had its secret. If you asked to be emailed when support answers, we can mail you a recovery link. Opening it makes a new key in the browser you use then, and support confirms that key before it can read the conversation.",
    }),
    form,
    result,
  );
}
