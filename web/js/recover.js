// /help/recover: "resend access link" as recovery (spec/API.md "Recovery", PROTOCOL.md §11.1).
// Without a fragment: the form that asks for a recovery mail. With the mailed fragment
// ({ticket id}.{token}): a new key is made in this browser and claims the ticket; support
// confirms it, then /help/ticket/{id} opens the conversation with it.

import { $, h, replace, initPage, whileBusy, focusTarget, announce } from "./lib/dom.js";
import { loadClient } from "./lib/wasm.js";
import { showError } from "./lib/errors.js";
import { kvSet, recoveredKey } from "./lib/store.js";
import { recoveryRequestForm, mailEnabled, noRecoveryNotice } from "./lib/recovery.js";

initPage();

const alerts = $("#alerts");
const area = $("#recovery");

async function main() {
  const fragment = window.location.hash.slice(1);
  if (!fragment) {
    replace(area, (await mailEnabled()) ? recoveryRequestForm() : noRecoveryNotice());
    return;
  }
  // The token is single use: keep it out of the history and the address bar from now on.
  history.replaceState(null, "", window.location.pathname);
  let key;
  try {
    const client = await loadClient("reporter");
    key = await whileBusy($("#loading"), "Making a new key in this browser and asking support to confirm it…", () =>
      client.claimRecovery(fragment),
    );
    await kvSet(recoveredKey(key.ticket_id), key);
  } catch (error) {
    showError(alerts, error, { context: "the recovery link could not be used" });
    replace(area, recoveryRequestForm());
    return;
  }
  const ticketPath = `/help/ticket/${key.ticket_id}`;
  $("#page-title").textContent = "Support will confirm this browser";
  const status = h("p", { role: "status", text: "Waiting for support to confirm the key…" });
  replace(
    area,
    h(
      "section",
      { class: "card" },
      h("h2", { text: "Your new key" }),
      h("p", { text: "This browser made a new key for your ticket. Support will check your request and add the key to the conversation; everyone in it will see that a key was added, with its fingerprint." }),
      h("p", {}, "Fingerprint: ", h("code", { class: "fingerprint", text: key.fingerprint })),
      h("p", { text: "If support contacts you another way, they may ask you to read this fingerprint to them. Keep this browser: the key lives only here." }),
      status,
      h("p", {}, h("a", { href: ticketPath, text: "Open the ticket" })),
    ),
  );
  focusTarget($("#page-title"));
  const client = await loadClient("reporter");
  const poll = async () => {
    let state;
    try {
      state = await client.recoveryState(key.ticket_id, key.seed, key.reader);
    } catch {
      state = "pending";
    }
    if (state === "approved") {
      status.textContent = "Support confirmed the key: opening the conversation…";
      announce(status.textContent);
      window.location.assign(ticketPath);
      return;
    }
    if (state === "gone") {
      status.textContent = "Support declined this request, or it expired. Ask for a new recovery link if you still need the ticket.";
      announce(status.textContent);
      area.append(recoveryRequestForm());
      return;
    }
    setTimeout(poll, 5000);
  };
  setTimeout(poll, 5000);
}

main().catch((error) => showError(alerts, error, { context: "the page could not start" }));
