// /help/ticket/new: an anonymous ticket. After sending, the private link is shown with copy,
// save and download actions; the tickets this browser holds are listed. The proof of work the
// instance may ask for is solved in a worker (js/worker/pow.js), started with the page so its
// module is ready by the time the form is sent.

import { $, h, replace, initPage, focusTarget, announce, whileBusy } from "./lib/dom.js";
import { loadClient } from "./lib/wasm.js";
import { showInstance } from "./lib/verify.js";
import { showError, clearErrors } from "./lib/errors.js";
import { loadSettings, renderSupportInfo, setupCategory } from "./lib/settings.js";
import { DebugEditor, collectDebug, debugChoiceText } from "./lib/debug.js";
import { FilePicker, uploadFiles, fileLimitText } from "./lib/files.js";
import { formatTime } from "./lib/format.js";
import { withFormDisabled, setFieldError, clearFieldError, enableForm } from "./lib/forms.js";
import { checkOpening, readOpening } from "./lib/opening.js";
import { loadHead, rememberHead } from "./lib/heads.js";
import { linkBox } from "./lib/linkbox.js";
import { savedTickets, forgetTicket } from "./lib/store.js";
import { startWorker } from "./lib/background.js";

initPage();

const alerts = $("#alerts");
const POW_WORKER = new URL("./worker/pow.js", import.meta.url);
/**
 * The worker for the next ticket's proof of work (one per ticket), started once the page's own
 * module is ready so that it does not delay the form.
 * @type {ReturnType<typeof startWorker> | null}
 */
let powWorker = null;
const form = $("#ticket-form");
/** @type {import("./lib/settings.js").PageSettings} */
let settings = { max_attachment_bytes: 25 * 1024 * 1024, categories: [], languages: [], support_hours: "", response_time: "", idle_lock_minutes: 30, version: "", mail_enabled: false, embed_origins: [] };
/** @type {{ticket_id: string, link: string, subject: string, created_at: number}[]} this page only, not stored */
const createdHere = [];

// The module loads while the person writes.
const clientReady = loadClient("reporter");
clientReady.catch((error) => showError(alerts, error));
clientReady.then(
  () => {
    if (!powWorker) powWorker = startWorker(POW_WORKER);
  },
  () => {},
);
showInstance($("#instance-info"), clientReady);

const picker = new FilePicker({
  input: $("#files"),
  list: $("#file-list"),
  maxBytes: () => settings.max_attachment_bytes,
  rules: clientReady,
});

const debugEditor = new DebugEditor($("#debug-editor"), { caption: "Technical details that will be sent if you tick the box", onChange: updateDebugCount });
const refreshDebug = () => {
  debugEditor.set(collectDebug({ version: settings.version }));
  updateDebugCount();
};
function updateDebugCount() {
  $("#debug-count").textContent = debugChoiceText(debugEditor, $("#debug-include").checked);
}
$("#debug-include").addEventListener("change", (event) => {
  debugEditor.setEnabled(event.target.checked);
  updateDebugCount();
});
debugEditor.setEnabled($("#debug-include").checked);
$("#debug-recollect").addEventListener("click", () => {
  refreshDebug();
  announce("Technical details collected again.");
});

loadSettings().then(async (loaded) => {
  settings = loaded;
  renderSupportInfo($("#support-info"), settings);
  setupCategory($("#category-field"), $("#category"), $("#category-guidance"), settings);
  // Offered only when this instance sends mail.
  $("#notify-field").hidden = !settings.mail_enabled;
  refreshDebug();
  $("#files-limit").textContent = fileLimitText(await clientReady, settings.max_attachment_bytes);
});
refreshDebug();

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(alerts);
  if (!checkOpening(picker, $("#send-status"))) return;
  const opening = readOpening(debugEditor);
  const files = picker.files();

  /** @type {Awaited<ReturnType<import("./lib/wasm.js").ReporterClient["createTicket"]>> | undefined} */
  let created;
  await withFormDisabled(form, async () => {
    try {
      const client = await clientReady;
      const pinned = await loadHead();
      const worker = powWorker || startWorker(POW_WORKER);
      powWorker = null;
      /** @type {import("../pkg/reporter/sealdesk_client.js").ProofInput | null} */
      const proof = await whileBusy($("#send-status"), "Proving this is not spam (a few seconds at most)…", () => worker.run({}));
      created = await whileBusy($("#send-status"), "Checking the administrators' keys, encrypting and sending…", () =>
        client.createTicket(opening, pinned, proof || undefined),
      );
      await rememberHead(created.handle);
    } catch (error) {
      showError(alerts, error, { context: "the ticket was not sent" });
    } finally {
      // The next ticket's worker, once this one is sent.
      powWorker = startWorker(POW_WORKER);
    }
  });
  if (!created) return;

  // The link comes first: it must not be lost if an upload fails afterwards.
  const record = { ticket_id: created.ticket_id, link: created.link, subject: opening.subject, created_at: Date.now() };
  createdHere.push(record);
  form.hidden = true;
  // The confirmation comes first (on a phone the introduction and "About support" sat above it).
  $("#intro").hidden = true;
  $("#about").hidden = true;
  const body = $("#created-body");
  const uploads = h("div");
  replace(
    body,
    h("p", { class: "notice ok", text: "Your ticket is encrypted and stored. The support team sees it in their inbox." }),
    linkBox({ link: created.link, ticketId: created.ticket_id, subject: opening.subject }),
    uploads,
    h("p", null, h("a", { href: "/help/ticket/new", text: "Write another ticket" })),
  );
  $("#created").hidden = false;
  focusTarget($("#created-title"));
  renderSaved();

  if (files.length) {
    const client = await clientReady;
    try {
      await uploadFiles(client, created.handle, files, uploads);
      uploads.append(h("p", { class: "notice ok", role: "status", text: `${files.length} file${files.length === 1 ? "" : "s"} attached.` }));
    } catch (error) {
      const region = h("div", { role: "alert" });
      uploads.append(region);
      showError(region, error, { context: "a file was not attached; you can attach it again in the conversation" });
    }
    picker.clear();
  }
  created.handle.free();
});
enableForm(form);

// ---- the tickets this browser holds ----

async function renderSaved() {
  let saved = [];
  try {
    saved = await savedTickets();
  } catch {
    saved = [];
  }
  const savedIds = new Set(saved.map((t) => t.ticket_id));
  const unsaved = createdHere.filter((t) => !savedIds.has(t.ticket_id));
  const list = $("#saved-list");
  const items = [
    ...unsaved.map((t) => ({ ...t, saved: false })),
    ...saved.map((t) => ({ ...t, saved: true })),
  ];
  replace(
    list,
    items.map((t) => {
      const title = t.subject || `Ticket ${t.ticket_id.slice(0, 8)}`;
      return h(
        "li",
        null,
        h(
          "div",
          { class: "summary" },
          h("div", { class: "title" }, h("a", { href: t.link, text: title })),
          h(
            "div",
            { class: "meta" },
            t.saved
              ? h("span", { text: `Saved ${formatTime(Math.floor(t.saved_at / 1000))}` })
              : h("span", { class: "chip", text: "Not saved: copy or save its link" }),
          ),
        ),
        t.saved
          ? h(
              "div",
              { class: "item-actions" },
              h("button", {
                type: "button",
                class: "secondary small",
                text: "Forget",
                "aria-label": `Forget ${title} in this browser`,
                onclick: async () => {
                  if (!window.confirm(`Forget “${title}” in this browser? Without its link you cannot open it again.`)) return;
                  await forgetTicket(t.ticket_id).catch(() => {});
                  announce(`${title} forgotten in this browser.`);
                  await renderSaved();
                  $("#saved-title").focus();
                },
              }),
            )
          : null,
      );
    }),
  );
  $("#saved-empty").hidden = items.length > 0;
}
$("#saved-title").setAttribute("tabindex", "-1");
document.addEventListener("sealdesk:saved-tickets", renderSaved);
renderSaved();

// ---- open a ticket from a pasted link (this instance's links only) ----

function openPasted() {
  const input = $("#open-link");
  const value = input.value.trim();
  let url;
  try {
    url = new URL(value, window.location.origin);
  } catch {
    url = null;
  }
  const valid =
    url !== null &&
    url.origin === window.location.origin &&
    /^\/help\/ticket\/[0-9a-fA-F]{32}\/?$/.test(url.pathname) &&
    url.hash.length > 1;
  if (!valid || !url) {
    announce("That is not a ticket link of this support desk.");
    setFieldError(input, "Paste the whole link of a ticket of this support desk, including the part after #.");
    input.focus();
    return;
  }
  clearFieldError(input);
  window.location.assign(url.pathname + url.hash);
}
$("#open-link-go").addEventListener("click", openPasted);
$("#open-link").addEventListener("keydown", (event) => {
  if (event.key === "Enter") {
    event.preventDefault();
    openPasted();
  }
});
