// A reporter's view of one ticket (anonymous link or account): the conversation as a chat,
// a reply box with attachments, closing, and live updates. Shared by /help/ticket/{id} and
// the support tab.

import { h, replace, uid, announce, whileBusy } from "./dom.js";
import { Conversation } from "./conversation.js";
import { showError, clearErrors, isVerificationError } from "./errors.js";
import { FilePicker, uploadFiles, fileLimitText } from "./files.js";
import { follow } from "./live.js";
import { rememberHead } from "./heads.js";
import { setFieldError, clearFieldError, withFormDisabled } from "./forms.js";

/** @typedef {import("./wasm.js").TicketView} TicketView */

/**
 * Mounts the thread in `container`. Options: client, handle, view (the first view),
 * settings, headingLevel ("h2"), onView(view) after every change, onBroken(error) after a
 * verification failure (the page takes down what it showed of the ticket). Returns
 * {stop(), view()}.
 * @param {HTMLElement} container
 * @param {object} options
 * @param {import("./wasm.js").TicketClient} options.client any module (the ticket handle's exports suffice)
 * @param {import("./wasm.js").TicketHandle} options.handle
 * @param {TicketView} options.view
 * @param {{max_attachment_bytes: number}} options.settings
 * @param {string} [options.headingLevel]
 * @param {(view: TicketView) => void} [options.onView]
 * @param {(error: unknown) => void} [options.onBroken]
 * @returns {{stop: () => void, view: () => TicketView}}
 */
export function mountThread(container, { client, handle, view, settings, headingLevel = "h2", onView, onBroken }) {
  const id = uid("thread");
  const alerts = h("div", { class: "alerts", role: "alert" });
  const closedBanner = h("div", { role: "status" });
  const conversationBox = h("div", { class: "conversation" });
  const conversationSection = h(
    "section",
    { "aria-labelledby": `${id}-conv` },
    h(headingLevel, { id: `${id}-conv`, class: "visually-hidden", text: "Conversation" }),
    conversationBox,
  );

  const textarea = h("textarea", { id: `${id}-text`, rows: 4, maxlength: 65536 });
  const fileInput = h("input", { id: `${id}-files`, type: "file", multiple: true, "aria-describedby": `${id}-files-hint` });
  const fileList = h("ul", { class: "file-list", "aria-label": "Files to send" });
  const progress = h("div", { class: "status-line" });
  const sendButton = h("button", { type: "submit", text: "Send" });
  const closedHint = h("p", { class: "small muted", hidden: true, text: "This ticket is closed. Writing again reopens it." });
  const composer = h(
    "form",
    { class: "composer", novalidate: true, "aria-labelledby": `${id}-reply` },
    h(headingLevel, { id: `${id}-reply`, text: "Reply" }),
    closedHint,
    h("div", { class: "field" }, h("label", { for: textarea.id, text: "Your message" }), textarea),
    h(
      "div",
      { class: "field" },
      h("label", { for: fileInput.id, text: "Attach files" }, " ", h("span", { class: "optional", text: "(optional)" })),
      h("span", { class: "hint", id: `${id}-files-hint`, text: `Encrypted before upload. ${fileLimitText(client, settings.max_attachment_bytes)}` }),
      fileInput,
      fileList,
    ),
    progress,
    h("div", { class: "actions" }, sendButton),
  );
  const picker = new FilePicker({ input: fileInput, list: fileList, maxBytes: () => settings.max_attachment_bytes, rules: client });

  const closeButton = h("button", { type: "button", class: "secondary", text: "Close this ticket" });
  const closeRow = h("div", { class: "actions" }, closeButton);

  replace(container, alerts, closedBanner, conversationSection, composer, closeRow);

  const conversation = new Conversation(conversationBox, { client, getHandle: () => handle, perspective: "reporter" });
  let current = view;
  let broken = false;
  let stop = () => {};

  /**
   * @param {TicketView} next
   * @param {{announceNew?: boolean}} [options]
   */
  function show(next, { announceNew = false } = {}) {
    current = next;
    conversation.render(next.messages, { announceNew });
    replace(
      closedBanner,
      next.closed ? h("p", { class: "notice closed-banner", text: "This ticket is closed." }) : null,
      // PROTOCOL.md §10.3: the reporter's reply returns the ticket to open.
      next.status === "waiting" ? h("p", { class: "notice waiting-banner", text: "The support team is waiting for your reply. Writing returns the ticket to open." }) : null,
      next.status === "on_hold" ? h("p", { class: "notice hold-banner", text: "The support team has put this ticket on hold. You can still write." }) : null,
    );
    closedHint.hidden = !next.closed;
    closeRow.hidden = next.closed;
    rememberHead(handle);
    if (onView) onView(next);
  }

  /**
   * @param {unknown} error
   * @param {string} [context]
   */
  function fail(error, context) {
    if (isVerificationError(error)) {
      broken = true;
      stop();
      conversation.untrusted();
      composer.hidden = true;
      closeRow.hidden = true;
      closedBanner.replaceChildren();
      showError(alerts, error, { context: "this conversation" });
      if (onBroken) onBroken(error);
      return;
    }
    showError(alerts, error, { context });
  }

  composer.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (broken) return;
    clearErrors(alerts);
    const text = textarea.value;
    const files = picker.files();
    if (!text.trim() && !files.length) {
      setFieldError(textarea, "Write a message or attach a file.");
      textarea.focus();
      return;
    }
    const problem = picker.problem();
    if (problem) {
      setFieldError(fileInput, problem);
      fileInput.focus();
      return;
    }
    clearFieldError(textarea);
    clearFieldError(fileInput);
    await withFormDisabled(composer, async () => {
      try {
        if (text.trim()) {
          const next = await whileBusy(progress, "Encrypting and sending…", () => client.reply(handle, text));
          textarea.value = "";
          show(next);
        }
        if (files.length) {
          const next = await uploadFiles(client, handle, files, progress);
          picker.clear();
          if (next) show(next);
        }
        announce("Sent.");
      } catch (error) {
        fail(error, "your message was not sent");
      }
    });
    if (!broken) textarea.focus();
  });

  closeButton.addEventListener("click", async () => {
    if (!window.confirm("Close this ticket? You can write again later to reopen it.")) return;
    clearErrors(alerts);
    closeButton.disabled = true;
    try {
      show(await client.close(handle));
      announce("The ticket is closed.");
      textarea.focus();
    } catch (error) {
      fail(error, "the ticket was not closed");
    } finally {
      closeButton.disabled = false;
    }
  });

  show(view);
  stop = follow({
    client,
    subscribe: (onEvent) => client.listen(handle, onEvent),
    unsubscribe: () => client.stopListening(handle),
    update: async () => {
      if (broken) return;
      const next = await client.refresh(handle);
      if (next.added) show(next, { announceNew: true });
      else if (next.closed !== current.closed) show(next);
    },
    onError: (error) => {
      if (isVerificationError(error)) fail(error);
      // Network failures while following are retried by the schedule; not shown each time.
    },
  });

  return {
    stop: () => stop(),
    view: () => current,
  };
}
