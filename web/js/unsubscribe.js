// /help/unsubscribe/{token}: the link at the end of every mail. The token is sent at once
// (POST /api/v1/unsubscribe/{token}); when that fails the page says why and offers a retry.

import { $, initPage, announce } from "./lib/dom.js";

initPage();

const status = $("#unsubscribe-status");
const retry = /** @type {HTMLButtonElement} */ ($("#unsubscribe-retry"));
const token = location.pathname.replace(/^\/help\/unsubscribe\//, "").replace(/\/$/, "");

/** Sends the token and shows the outcome. */
async function unsubscribe() {
  retry.hidden = true;
  status.textContent = "Unsubscribing…";
  /** @type {string} */
  let message;
  let canRetry = false;
  try {
    const response = await fetch(`/api/v1/unsubscribe/${encodeURIComponent(token)}`, { method: "POST" });
    if (response.ok) {
      message = "You are unsubscribed: you will get no more of these mails. If this was your ticket's address, the server has deleted it.";
    } else {
      /** @type {{error?: string, message?: string}} */
      const body = await response.json().catch(() => ({}));
      message = body.message || `The server answered ${response.status}.`;
      // A damaged or unknown link stays so; anything else may pass on a second try.
      canRetry = body.error !== "bad_token" && body.error !== "unknown_token";
    }
  } catch {
    message = "The server could not be reached.";
    canRetry = true;
  }
  status.textContent = canRetry ? `${message} Nothing changed yet; try again.` : message;
  retry.hidden = !canRetry;
  announce(status.textContent);
}

retry.addEventListener("click", () => void unsubscribe());
void unsubscribe();
