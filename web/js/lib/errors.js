// Errors from the client module (Error with a stable `code`) turned into warnings for people.
// Verification failures mean the server (or someone between) sent something that does not
// check out: the affected content must not be shown as trusted.

import { h } from "./dom.js";

const VERIFICATION = [
  /^transcript\./,
  /^directory\./,
  /^wrap\./,
  /^endorsement\./,
  /^link\.wrong_reporter$/,
  /^account\.(wrong_reporter|bad_keyring|identity_mismatch)$/,
  /^attachment\.(truncated|trailing_data|bad_reference|too_large)$/,
  /^decryption_failed$/,
  /^bad_response$/,
  /^bad_signature$/,
  /^malformed$/,
  /^invalid_public_key$/,
  /^hpke$/,
  /^bad_padding$/,
];

/** Whether an error says that something failed verification (not just a refusal). */
export function isVerificationError(error) {
  const code = codeOf(error);
  return code !== "directory.empty" && VERIFICATION.some((re) => re.test(code));
}

/**
 * The error's stable code ("unknown" when it has none).
 * @param {any} error a thrown value: the module's Errors carry `code`
 * @returns {string}
 */
export function codeOf(error) {
  return (error && typeof error.code === "string" && error.code) || "unknown";
}

/** @type {Record<string, string | null>} */
const SENTENCES = {
  "module.unavailable": null, // the error's own message says it
  network: "The server could not be reached. Check your connection and try again.",
  "input.invalid": null,
  "link.malformed": "This is not a ticket link. A ticket link looks like /help/ticket/…#… .",
  "link.mismatch":
    "This ticket link is damaged or mistyped: its two parts do not belong together. " +
    "Copy the whole link again.",
  "account.weak_parameters":
    "The server asked for a weaker password protection than this page accepts. Your " +
    "password was not used.",
  "account.signed_out": "You are signed out. Sign in again.",
  "device.locked": "This page locked itself after a while without activity. Enter your password to continue.",
  "device.expired": "The session this browser remembered has expired. Sign in again.",
  "device.malformed": "What this browser remembered of your sign-in cannot be opened any more. Sign in again.",
  "device.crypto": "This browser refused to protect the keys it would remember. Sign in without “Remember this device”.",
  "worker.failed": "The background task that protects your password failed. Reload the page and try again.",
  "account.bad_app_data": "The data stored with your account was written by another program.",
  "admin.not_an_administrator": "This account is not an administrator of this instance.",
  "admin.not_pending": "This key is not waiting for approval any more.",
  "admin.bad_assignee": "Tickets can only be assigned to current administrators.",
  "admin.remove_self": "You cannot remove yourself; another administrator has to.",
  "admin.unknown_administrator": "That key is not an administrator.",
  "server.rate_limited": "Too many requests just now. Wait a moment and try again.",
  "server.not_found":
    "The server does not know this ticket, or the link no longer opens it.",
  "server.conflict": "Something changed at the same time. Try again.",
  "server.bad_credentials": "The username or password is wrong.",
  "server.username_taken": "This username is taken. Choose another one.",
  "server.bad_username": "A username is 1 to 64 letters, digits, dots, hyphens or underscores.",
  "server.unauthorized": "Your session ended (perhaps the password was changed elsewhere). Sign in again.",
  "server.invalid_invite": "This invite is unknown, used or expired. Ask for a new one.",
  "server.already_pending": "This account already waits for approval.",
  "server.already_administrator":
    "This account is or was an administrator. A removed administrator returns with a new account.",
  "server.not_an_administrator": "Only administrators may do this.",
  "server.quota_exceeded": "This ticket has no room left for more files or messages.",
  "server.attachment_too_large": "The file is larger than this instance accepts.",
  "server.body_too_large": "This is larger than the server accepts.",
  "server.no_administrators":
    "This support desk has no administrator yet, so nobody could read a ticket. Try again later.",
  "server.pow_required": "The server asked for a proof of work this page did not send. Reload the page and try again.",
  "server.pow_invalid": "The server did not accept the proof of work (it may have expired). Send again.",
  "server.shutting_down": "The server is restarting. Try again in a moment.",
  "server.storage": "The server could not store or read data. Nothing was changed.",
  "server.bad_settings": null,
  "directory.empty": "This support desk has no administrator yet. Try again later.",
  "content.too_long": "The message is too long (at most 65,536 characters; a subject at most 200).",
  "live.unsupported": "This browser cannot receive live updates; the page checks every few seconds.",
  too_large: "This is too large to store.",
  key_derivation: "The password protection parameters were refused.",
};

/** @type {Record<string, string>} */
const VERIFICATION_SENTENCES = {
  "directory.rollback":
    "The server showed an older list of administrators than this browser saw before. " +
    "Someone may be trying to make your messages readable to a removed administrator.",
  "directory.fork":
    "The server showed a list of administrators that contradicts the one this browser saw " +
    "before. Someone may be trying to add an administrator in secret.",
  "link.wrong_reporter":
    "The server names another author for this ticket than your link. It may have been altered.",
  "account.wrong_reporter":
    "The server names another author for this ticket than your account. It may have been altered.",
  "account.bad_keyring":
    "Your account's stored keys do not open with this password, although the server accepted " +
    "it. Treat this as an attack on your account and tell the administrators another way.",
  "account.identity_mismatch":
    "The server returned keys for another identity than your account's. Treat this as an " +
    "attack on your account.",
  "attachment.truncated": "The file arrived cut short. It was not given to you.",
  "attachment.trailing_data": "The file arrived with extra data. It was not given to you.",
  decryption_failed: "Something did not decrypt: it was altered or does not belong here.",
  bad_response: "The server's answer is not what it should be.",
};

/**
 * Title and sentence for an error: {title, text, code, verification}.
 * @param {any} error a thrown value
 */
export function describe(error) {
  const code = codeOf(error);
  const verification = isVerificationError(error);
  if (verification) {
    let text = VERIFICATION_SENTENCES[code];
    if (!text && code.startsWith("transcript.")) {
      text =
        "The conversation the server sent does not verify: a message was dropped, reordered, " +
        "replayed, altered or injected.";
    } else if (!text && code.startsWith("directory.")) {
      text = "The list of administrators the server sent does not verify.";
    } else if (!text && (code.startsWith("wrap.") || code.startsWith("endorsement."))) {
      text = "A key for this ticket was not delivered correctly or does not verify.";
    } else if (!text) {
      text = "Something the server sent does not verify.";
    }
    return {
      title: "Security warning: this could not be verified",
      text,
      detail: error && error.message,
      code,
      verification,
    };
  }
  const known = SENTENCES[code];
  return {
    title: "Something went wrong",
    text: known || (error && error.message) || "An unexpected error happened.",
    detail: known && error && error.message !== known ? error.message : "",
    code,
    verification,
  };
}

/**
 * A notice element for an error (an alarm for verification failures). `title` replaces the
 * notice's first line (a page whose heading already says what failed).
 * @param {unknown} error
 * @param {{context?: string, title?: string}} [options]
 */
export function errorNotice(error, { context, title } = {}) {
  const d = describe(error);
  const notice = h(
    "div",
    { class: d.verification ? "notice alarm" : "notice error" },
    h("p", { class: "title", text: title || (context ? `${d.title}: ${context}` : d.title) }),
    h("p", { text: d.text }),
  );
  if (d.verification) {
    notice.append(
      h("p", {
        text:
          "What was affected is not shown. Do not trust what this page showed about it " +
          "before; tell the administrators through another channel.",
      }),
    );
  }
  if (d.detail && d.detail !== d.text) notice.append(h("p", { class: "small muted", text: d.detail }));
  notice.append(h("p", { class: "code", text: `Error code: ${d.code}` }));
  return notice;
}

/**
 * Shows an error in an alert region (role="alert" is on the region, so it is read out).
 * Replaces what the region showed before.
 */
export function showError(region, error, options) {
  region.replaceChildren(errorNotice(error, options));
  if (!options || options.scroll !== false) {
    region.scrollIntoView({ block: "nearest" });
  }
}

export function clearErrors(region) {
  region.replaceChildren();
}
