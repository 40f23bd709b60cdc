// Telling an administrator of new tickets and replies while the panel is in the background
// (issue 14 item 4): a title badge "(3) …" counting the tickets with new conversation messages,
// and, when the administrator switched them on, browser notifications (the Notification API).
// Both come from the panel's live event stream, whose events carry no content; notifications
// say only "a new ticket" or "a new reply": a subject or a name would reach the operating
// system's notification centre, outside the page's encryption.

import { $, announce } from "../lib/dom.js";
import { kvGet, kvSet } from "../lib/store.js";

const CHOICE = "admin-notifications";
const BADGE = /^\(\d+\) /;

/** Tickets with new messages since the panel went to the background. */
const unseen = new Set();
/** Whether the administrator asked for notifications (and the browser allows them). */
let wanted = false;

function supported() {
  return typeof Notification !== "undefined";
}

/** Writes the badge in front of whatever the page's title is. */
function showBadge() {
  const base = document.title.replace(BADGE, "");
  document.title = unseen.size ? `(${unseen.size}) ${base}` : base;
}

/** Whether the panel is out of sight (another tab, a minimised window). */
function inBackground() {
  return document.visibilityState === "hidden";
}

/**
 * Counts a live event: a conversation message of a ticket while the panel is in the background.
 * `seq` 1 is a ticket's first message (a new ticket).
 * @param {import("../../pkg/admin/sealdesk_client.js").LiveEvent} event
 */
export function noticeEvent(event) {
  if (event.event !== "message" || event.chain !== 0 || !inBackground()) return;
  const fresh = !unseen.has(event.ticket);
  unseen.add(event.ticket);
  showBadge();
  if (fresh && wanted && supported() && Notification.permission === "granted") {
    try {
      // One notification per ticket (its tag replaces an older one), without any content.
      const notification = new Notification(event.seq === 1 ? "New ticket" : "New reply", {
        body: "Open the support panel to read it.",
        tag: `sealdesk-${event.ticket}`,
        icon: "/favicon.svg",
      });
      notification.onclick = () => {
        window.focus();
        notification.close();
      };
    } catch {
      // Some browsers only show notifications from a service worker: the badge stays.
    }
  }
}

/** Clears the badge: the administrator is looking. */
function seen() {
  if (inBackground()) return;
  unseen.clear();
  showBadge();
}

/** Keeps the badge on the title after the page changes its title (a ticket opened). */
export function keepBadge() {
  showBadge();
}

/** Wires the opt-in toggle (#notify-toggle) and the badge's reset. */
export async function setupAlerts() {
  document.addEventListener("visibilitychange", seen);
  const toggle = /** @type {HTMLInputElement} */ ($("#notify-toggle"));
  const hint = $("#notify-hint");
  if (!supported()) {
    toggle.disabled = true;
    hint.textContent = "This browser cannot show notifications; the tab's title still counts new tickets and replies.";
    return;
  }
  wanted = (await kvGet(CHOICE).catch(() => false)) === true && Notification.permission === "granted";
  toggle.checked = wanted;
  toggle.addEventListener("change", async () => {
    if (toggle.checked) {
      const permission = Notification.permission === "granted" ? "granted" : await Notification.requestPermission();
      wanted = permission === "granted";
      toggle.checked = wanted;
      hint.textContent = wanted ? "On: a notification for each new ticket or reply while the panel is in the background, without its content." : "The browser refused: allow notifications for this site in its settings, then try again.";
    } else {
      wanted = false;
      hint.textContent = "Off: the tab's title still counts new tickets and replies.";
    }
    await kvSet(CHOICE, wanted).catch(() => {});
    announce(wanted ? "Notifications on." : "Notifications off.");
  });
}
