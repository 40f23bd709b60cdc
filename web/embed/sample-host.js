// The sample host page's script (sample-host.html): the support tab from `?support=` (by
// default this origin's /help), passed the signed-in user's name and details.

import { embedSupportTab } from "./host.js";

const query = new URLSearchParams(window.location.search);
const supportUrl = query.get("support") || new URL("/help", window.location.href).href;
const status = /** @type {HTMLElement} */ (document.querySelector("#support-status"));

const support = embedSupportTab({
  container: /** @type {HTMLElement} */ (document.querySelector("#support")),
  supportUrl,
  displayName: "Dana Example",
  debug: { user_id: "u-1234", plan: "team", version: "4.2.0" },
});
support.onAnswer((answer) => {
  status.textContent =
    answer.type === "accepted"
      ? `The support tab took: ${answer.fields.join(", ")}.`
      : `The support tab refused the details: ${answer.reason}.`;
});
