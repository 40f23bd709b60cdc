// Leaving a signed-in page (the person signs out, or the session ended): nothing decrypted may
// stay readable in the tab. A hidden view, a cached list, a closure holding a decrypted file or
// an object URL would otherwise keep subjects, messages, addresses and attachments after
// sign-out. So the page empties <main> (every view, list and form field), revokes every object
// URL it made, puts back its generic title and loads itself again, which drops everything the
// page held; the module's logout has dropped the keys before. Only why the session ended crosses
// the reload: a fixed code in this tab's sessionStorage, read once by the next page.

import { h, revokeObjectUrls } from "./dom.js";

/** The page's title as its HTML names it (never decrypted text), read when the page starts. */
export const PAGE_TITLE = document.title;

const REASON_KEY = "sealdesk:signed-out";
/** The reason of a sign-out the person chose. */
export const SIGNED_OUT = "signed_out";

/**
 * Empties the page and loads it again (see above).
 * @param {{code?: string}} [options] `code`: the error code that ended the session (for
 *   example "server.unauthorized"); none when the person signed out
 */
export function leaveSignedIn({ code } = {}) {
  revokeObjectUrls();
  const main = document.getElementById("main");
  if (main) main.replaceChildren(h("p", { class: "status-line", role: "status", text: "Signing out…" }));
  for (const id of ["user-box", "panel-nav"]) {
    const element = document.getElementById(id);
    if (element) element.hidden = true;
  }
  const announcer = document.getElementById("announcer");
  if (announcer) announcer.replaceChildren();
  document.title = PAGE_TITLE;
  try {
    sessionStorage.setItem(REASON_KEY, code || SIGNED_OUT);
  } catch {
    // No storage: the next page says nothing about the sign-out.
  }
  window.location.reload();
}

/**
 * Why the previous page of this tab left its signed-in state (SIGNED_OUT or an error code), or
 * null; forgotten once read.
 * @returns {string | null}
 */
export function takeSignOutReason() {
  try {
    const reason = sessionStorage.getItem(REASON_KEY);
    sessionStorage.removeItem(REASON_KEY);
    return reason;
  } catch {
    return null;
  }
}
