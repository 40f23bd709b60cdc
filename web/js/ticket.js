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
import { updateSavedTicket, savedTicket } from "./lib/store.js";

initPage();

const alerts = $("#alerts");

async function main() {
  const link = window.location.pathname + window.location.hash;
  if (window.location.hash.length < 2) {
    replace(
      alerts,
      h(
        "div",
        { class: "notice error" },
        h("p", { class: "title", text: "This link is incomplete" }),
        h("p", { text: "A ticket link ends with a # and a long secret. Without it the ticket cannot be opened. Copy the whole link again." }),
      ),
    );
    return;
  }
  let client;
  let handle;
  let view;
  try {
    client = await loadClient("reporter");
    const pinned = await loadHead();
    // A saved ticket keeps its verified state between visits (PROTOCOL.md §10.4): the server's
    // conversation must extend it, or the page shows the tampering warning.
    const kept = await keptState(window.location.pathname);
    handle = await whileBusy($("#loading"), "Deriving the ticket's keys from the link and verifying the conversation…", () =>
      client.openTicket(window.location.href, pinned, kept),
    );
    await rememberHead(handle);
    view = await client.view(handle);
    showInstance($("#instance-info"), Promise.resolve(client));
  } catch (error) {
    showError(alerts, error, { context: "the ticket could not be opened", scroll: false });
    if (/^directory\.(rollback|fork)$/.test(codeOf(error))) offerForget();
    document.title = "Ticket could not be opened – Sealdesk";
    $("#page-title").textContent = "This ticket could not be opened";
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
        .then((state) => updateSavedTicket(ticketId, { last_seen: (v.messages[v.messages.length - 1] || { seq: 0 }).seq, subject, kept: state }))
        .catch(() => {});
    },
  });

  replace(
    $("#link-actions"),
    h(
      "details",
      { class: "card" },
      h("summary", { text: "Your private link: copy, save or download" }),
      linkBox({ link, ticketId, subject, heading: "Keep this link", headingLevel: "h2", showOpen: false }),
    ),
  );
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
