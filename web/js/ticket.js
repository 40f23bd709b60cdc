// /help/ticket/{id}#{secret}: the conversation of an anonymous ticket. The secret stays in
// the fragment (never sent to the server); the module derives the keys and the access token
// from it.

import { $, h, replace, initPage, whileBusy, focusTarget } from "./lib/dom.js";
import { loadClient } from "./lib/wasm.js";
import { showInstance } from "./lib/verify.js";
import { showError, errorNotice, isVerificationError, codeOf } from "./lib/errors.js";
import { loadSettings } from "./lib/settings.js";
import { loadHead, rememberHead, forgetHead } from "./lib/heads.js";
import { mountThread } from "./lib/thread.js";
import { statusChip } from "./lib/status.js";
import { linkBox } from "./lib/linkbox.js";
import { updateSavedTicket, savedTicket, kvGet, kvSet, kvDelete, recoveredKey } from "./lib/store.js";
import { recoveryRequestForm, mailEnabled, noRecoveryNotice } from "./lib/recovery.js";
import { rememberedDevice, resumeRemembered } from "./lib/device.js";

initPage();

const alerts = $("#alerts");

async function main() {
  // Opened without its secret (a mailed /help/ticket/{id}, a bookmark): the link saved in this
  // browser, if any, supplies it; the fragment never reaches the server either way.
  /** @type {RecoveredRecord | null} */
  let recovered = null;
  if (window.location.hash.length < 2 && !(await restoreSavedLink())) {
    recovered = await recoveredHere();
    if (!recovered) {
      offerRecovery();
      return;
    }
  }
  const link = window.location.pathname + window.location.hash;
  let client;
  let handle;
  let view;
  try {
    client = await loadClient("reporter");
    const pinned = await loadHead();
    // A saved ticket keeps its verified state between visits (PROTOCOL.md §10.4): the server's
    // conversation must extend it, or the page shows the tampering warning.
    const kept = recovered ? recovered.kept || null : await keptState(window.location.pathname);
    const key = recovered;
    handle = key
      ? await whileBusy($("#loading"), "Verifying the conversation with the key support added for this browser…", () =>
          client.openRecoveredTicket(key.ticket_id, key.seed, key.reader, pinned, kept),
        )
      : await whileBusy($("#loading"), "Deriving the ticket's keys from the link and verifying the conversation…", () =>
          client.openTicket(window.location.href, pinned, kept),
        );
    await rememberHead(handle);
    view = await client.view(handle);
    showInstance($("#instance-info"), Promise.resolve(client));
  } catch (error) {
    // One sentence: the heading says what happened, the notice why (no "warning: …: …" chain).
    const verification = isVerificationError(error);
    showError(alerts, error, verification ? { title: "Security warning", scroll: false } : { context: "the ticket could not be opened", scroll: false });
    if (/^directory\.(rollback|fork)$/.test(codeOf(error))) offerForget();
    document.title = "Ticket could not be opened – Sealdesk";
    $("#page-title").textContent = verification ? "This ticket could not be opened because it did not verify" : "This ticket could not be opened";
    focusTarget($("#page-title"));
    return;
  }

  const ticketId = view.ticket_id;
  const first = view.messages[0];
  const subject = (first && first.content && first.content.subject) || `Ticket ${ticketId.slice(0, 8)}`;
  $("#page-title").textContent = subject;
  // The title stays the HTML's ("Your ticket"): titles reach the browser's history, next to
  // this page's address with its secret.
  const opening = (first && first.content) || {};
  const meta = $("#ticket-meta");
  const renderMeta = (v) =>
    replace(
      meta,
      h(
        "p",
        { class: "muted small" },
        statusChip(v.status, "reporter"),
        opening.category ? ` Category: ${opening.category}.` : "",
        opening.urgent ? " " : "",
        opening.urgent ? h("span", { class: "chip urgent", text: "Urgent" }) : "",
      ),
    );


  const settings = await loadSettings();
  mountThread($("#thread"), {
    client,
    handle,
    view,
    settings,
    onBroken: () => {
      meta.replaceChildren();
      $("#page-title").textContent = "This ticket does not verify";
      document.title = "Ticket does not verify – Sealdesk";
    },
    onView: (v) => {
      renderMeta(v);
      // Only a ticket the person saved keeps anything in this browser: what was last seen and
      // the verified state the next visit must extend.
      client
        .keptState(handle)
        .then((state) =>
          recovered
            ? kvSet(recoveredKey(ticketId), { ...recovered, kept: state })
            : updateSavedTicket(ticketId, { last_seen: (v.messages[v.messages.length - 1] || { seq: 0 }).seq, subject, kept: state }),
        )
        .catch(() => {});
    },
  });

  if (recovered) {
    // This browser has no link (it never had the secret): its key is what opens the ticket.
    replace(
      $("#link-actions"),
      h("p", { class: "muted small", text: `This browser opens the ticket with the key support added for it (fingerprint ${recovered.fingerprint}), kept in this browser only. Open it again at this page's address.` }),
    );
    return;
  }
  replace(
    $("#link-actions"),
    h(
      "details",
      { class: "card" },
      h("summary", { text: "Your private link: copy, save or download" }),
      linkBox({ link, ticketId, subject, heading: "Keep this link", headingLevel: "h2", showOpen: false }),
    ),
  );
  await offerKeep(ticketId);
}

/**
 * "Keep this ticket in my account" (PROTOCOL.md §8.2 grounds 0x02): for an account signed in
 * on this browser's support tab (a remembered device), this link's key adds the account's key
 * to the conversation, so the ticket appears in the account's list. The support tab's module
 * is loaded only when the button is used.
 * @param {string} ticketId
 */
async function offerKeep(ticketId) {
  const box = $("#keep-actions");
  const record = await rememberedDevice("help");
  if (!record || !record.key || !record.wrapped) {
    replace(
      box,
      h("p", { class: "muted small" }, "Have an account? Sign in on the ", h("a", { href: "/help", text: "support tab" }), " with “Remember this device”, then open this link again to keep this ticket in your account."),
    );
    return;
  }
  const status = h("div", { class: "status-line" });
  const button = h("button", { type: "button", class: "button", text: "Keep this ticket in my account" });
  button.addEventListener("click", async () => {
    button.disabled = true;
    let signIn = null;
    try {
      signIn = await resumeRemembered("help", record);
      const account = await loadClient("account");
      const handle = signIn.handle;
      await whileBusy(status, "Adding your account's key to this ticket…", () => account.keepTicket(handle, window.location.href));
      replace(
        box,
        h(
          "div",
          { class: "notice ok", role: "status" },
          h("p", { text: `This ticket is now in the list of the account ${record.username}. Everyone in the conversation sees that the reporter added it to an account.` }),
          h("p", null, h("a", { href: "/help", text: "Open the support tab" })),
        ),
      );
    } catch (error) {
      button.disabled = false;
      showError(alerts, error, { context: "the ticket could not be kept in your account" });
    } finally {
      if (signIn) signIn.handle.free();
    }
  });
  replace(
    box,
    h(
      "section",
      { class: "card", "aria-labelledby": "keep-heading" },
      h("h2", { id: "keep-heading", text: "Keep this ticket in your account" }),
      h("p", { class: "muted small", text: `Signed in on this browser as ${record.username}. This link's key adds your account's key to the conversation, so the ticket appears in your account's list and opens there without the link. Everyone in the conversation sees that line, and the server learns that this account holds this ticket.` }),
      button,
      status,
    ),
  );
}

/**
 * Puts the link saved in this browser for this page's ticket into the address bar (without
 * loading the page again), if there is one.
 * @returns {Promise<boolean>} whether a saved link was found
 */
async function restoreSavedLink() {
  const id = (window.location.pathname.split("/").pop() || "").toLowerCase();
  let record;
  try {
    record = await savedTicket(id);
  } catch {
    return false;
  }
  if (!record || typeof record.link !== "string") return false;
  const saved = new URL(record.link, window.location.href);
  if (saved.pathname.toLowerCase() !== window.location.pathname.toLowerCase() || saved.hash.length < 2) return false;
  history.replaceState(null, "", saved.pathname + saved.hash);
  return true;
}

/**
 * @typedef {{ ticket_id: string, fingerprint: string, seed: string, reader: string, kept?: string }} RecoveredRecord
 */

/**
 * The key a recovery made in this browser for this page's ticket, once support approved it;
 * while the claim waits, says so (with the fingerprint) and returns null, as when there is
 * none or it was declined.
 * @returns {Promise<RecoveredRecord | null>}
 */
async function recoveredHere() {
  const id = (window.location.pathname.split("/").pop() || "").toLowerCase();
  /** @type {RecoveredRecord | undefined} */
  let record;
  try {
    record = await kvGet(recoveredKey(id));
  } catch {
    return null;
  }
  if (!record) return null;
  const client = await loadClient("reporter");
  const state = await client.recoveryState(record.ticket_id, record.seed, record.reader);
  if (state === "approved") return record;
  if (state === "pending") {
    $("#page-title").textContent = "Waiting for support to confirm this browser";
    replace(
      alerts,
      h(
        "div",
        { class: "notice" },
        h("p", { class: "title", text: "Support has not confirmed this browser's key yet" }),
        h("p", { text: `The key made in this browser has the fingerprint ${record.fingerprint}. Once support adds it to the ticket, this page opens the conversation.` }),
      ),
    );
    return new Promise(() => setTimeout(() => window.location.reload(), 15000));
  }
  await kvDelete(recoveredKey(id)).catch(() => {});
  return null;
}

/** Says why the ticket cannot open here and offers recovery by mail. */
function offerRecovery() {
  $("#page-title").textContent = "This link has no secret";
  replace(
    alerts,
    h(
      "div",
      { class: "notice" },
      h("p", { class: "title", text: "This ticket is not saved in this browser" }),
      h("p", { text: "A ticket link ends with a # and a long secret, and this one does not. If you kept the whole link (in a file, a password manager or another browser), open that one instead." }),
    ),
  );
  mailEnabled().then((on) => replace($("#link-actions"), on ? recoveryRequestForm() : noRecoveryNotice()));
  focusTarget($("#page-title"));
}

/**
 * The verified state kept for the saved ticket at `path` (`/help/ticket/{id}`), if any.
 * @param {string} path
 * @returns {Promise<string | null>}
 */
async function keptState(path) {
  const id = path.split("/").pop() || "";
  try {
    const record = await savedTicket(id);
    return (record && typeof record.kept === "string" && record.kept) || null;
  } catch {
    return null;
  }
}

function offerForget() {
  alerts.append(
    h(
      "details",
      { class: "card" },
      h("summary", { text: "The administrators told me the support desk was set up again" }),
      h("p", { text: "Only if you know for certain that the support desk was reinstalled: this browser can forget the list of administrators it remembered, and trust the one the server sends now. If you are not sure, do not do this: ask the administrators through another channel first." }),
      h("button", {
        type: "button",
        class: "danger",
        text: "Forget the remembered administrators",
        onclick: async () => {
          await forgetHead();
          window.location.reload();
        },
      }),
    ),
  );
}

main().catch((error) => {
  alerts.replaceChildren(errorNotice(error));
  if (isVerificationError(error)) $("#thread").replaceChildren();
});
