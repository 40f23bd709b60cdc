// The conversation as a chat: the viewer's own side on the right, the other on the left.
// Everything shown here was verified by the module (signature, sequence, hash link,
// membership); content that could not be read is shown as a warning in its place. Text goes
// through textContent only.

import { h, replace, announce } from "./dom.js";
import { formatTime, isoTime } from "./format.js";
import { describe, errorNotice } from "./errors.js";
import { debugList } from "./debug.js";
import { attachmentCard } from "./files.js";

/** @typedef {import("./wasm.js").MessageView} MessageView */

/**
 * perspective: "reporter" (support on the left) or "support" (the reporter on the left).
 * names: { reporter: display name of the reporter, sender: (keyId) => label of an
 * administrator key or null }.
 */
export class Conversation {
  /**
   * @param {HTMLElement} container
   * @param {object} options
   * @param {Pick<import("./wasm.js").ReporterClient, "downloadAttachment">} options.client
   * @param {() => import("./wasm.js").TicketHandle} options.getHandle
   * @param {"reporter" | "support"} [options.perspective]
   * @param {{reporter?: string, sender?: (keyId: string) => string | null}} [options.names]
   * @param {string} [options.label]
   * @param {boolean} [options.notes]
   */
  constructor(container, { client, getHandle, perspective = "reporter", names = {}, label = "Conversation", notes = false }) {
    this.container = container;
    this.client = client;
    this.getHandle = getHandle;
    this.perspective = perspective;
    this.names = names;
    this.notes = notes;
    this.lastSeq = 0;
    this.list = h("ol", { class: "chat", "aria-label": label });
    this.empty = h("p", { class: "muted", text: notes ? "No internal notes yet." : "No messages yet." });
    replace(container, this.empty, this.list);
  }

  /**
   * Shows the view's messages after those already shown; announces new ones when asked.
   * @param {MessageView[]} messages
   * @param {{announceNew?: boolean}} [options]
   */
  render(messages, { announceNew = false } = {}) {
    if (messages.length && messages[messages.length - 1].seq < this.lastSeq) this.reset();
    const added = [];
    for (const message of messages) {
      if (message.seq <= this.lastSeq) continue;
      this.list.append(this.item(message));
      this.lastSeq = message.seq;
      added.push(message);
    }
    this.empty.hidden = this.list.children.length > 0;
    if (announceNew) {
      const theirs = added.filter((m) => !this.isMine(m) && m.kind !== "rotate" && m.kind !== "endorse");
      if (theirs.length) {
        const last = theirs[theirs.length - 1];
        const text = last.content && typeof last.content.text === "string" ? `: ${last.content.text.slice(0, 140)}` : "";
        announce(`New ${this.notes ? "note" : "message"} from ${this.who(last)}${text}`);
      }
    }
    return added;
  }

  reset() {
    this.list.replaceChildren();
    this.lastSeq = 0;
  }

  /**
   * Takes everything down after a verification failure: nothing of it is shown as trusted.
   * The page shows the warning in its alert region.
   */
  untrusted() {
    this.reset();
    replace(this.container, h("p", { class: "notice alarm", text: `${this.notes ? "The internal notes are" : "The conversation is"} hidden because ${this.notes ? "they do" : "it does"} not verify.` }));
  }

  /** @param {MessageView} message */
  isMine(message) {
    return this.perspective === "reporter" ? !message.from_support : message.from_support;
  }

  /** @param {MessageView} message */
  who(message) {
    const author = message.content && typeof message.content.author === "string" && message.content.author.trim();
    if (message.from_support) return author || "Support team";
    if (this.perspective === "reporter") return "You";
    return this.names.reporter || "Reporter";
  }

  /** @param {MessageView} message */
  signedBy(message) {
    if (this.perspective !== "support" || !message.from_support || !this.names.sender) return null;
    const label = this.names.sender(message.sender);
    // Reads as a name: "Support team (you)", "Support team (signed by bob)".
    if (label === "you") return "(you)";
    return label ? `(signed by ${label})` : null;
  }

  /** @param {MessageView} message */
  when(message) {
    const sent = message.content && message.content.sent_at;
    const seconds = sent || message.received_at;
    if (!seconds) return h("span", { class: "when pending-mark", text: "just now" });
    return h("time", { class: "when", datetime: isoTime(seconds), title: "Time as given by the sender", text: formatTime(seconds) });
  }

  /** @param {MessageView} message */
  item(message) {
    const mine = this.isMine(message);
    const who = this.who(message);
    if (message.error || message.content === null) {
      const d = describe(message.error || {});
      return h(
        "li",
        { class: mine ? "mine" : "theirs" },
        h(
          "article",
          { class: "bubble unreadable", "aria-label": `Message from ${who} that could not be read` },
          h("header", null, h("span", { class: "who", text: who }), this.when(message)),
          h("p", { class: "title", text: "⚠ This message could not be read." }),
          h("p", { class: "small", text: d.text }),
          h("p", { class: "small muted", text: `Error code: ${d.code}` }),
        ),
      );
    }
    const content = message.content || {};
    const system = (text) =>
      h("li", { class: "system" }, h("p", { class: "system-line" }, text, " · ", this.when(message)));
    switch (message.kind) {
      case "close":
        return system(`${mine && this.perspective === "reporter" ? "You" : who} closed the ticket`);
      case "reopen":
        return system(`${mine && this.perspective === "reporter" ? "You" : who} reopened the ticket`);
      case "waiting":
        // PROTOCOL.md §10.3: only the support team sets it; the reporter's next message reopens.
        return system(this.perspective === "reporter" ? `${who} is waiting for your reply` : `${who} set the ticket to waiting for the reporter`);
      case "on_hold":
        return system(`${who} put the ticket on hold`);
      case "tags": {
        // PROTOCOL.md §14: each tags message carries the whole set after the change.
        const set = Array.isArray(content.tags) ? content.tags : [];
        return system(set.length ? `${who} set the tags to ${set.join(", ")}` : `${who} removed every tag`);
      }
      case "rotate":
        return h("li", { class: "system" }, h("p", { class: "system-line", text: "The ticket's key was renewed after a change in the support team." }));
      case "endorse": {
        // PROTOCOL.md §8.2: shown to everyone in the conversation, with both fingerprints.
        if (content.grounds === "reporter") {
          // Grounds 0x02: the reporter's own link added its account's key.
          return h(
            "li",
            { class: "system endorse" },
            h("p", { class: "system-line" }, `This ticket was added to an account by the reporter, fingerprint ${content.fingerprint || ""}`, " · ", this.when(message)),
          );
        }
        const by = this.perspective === "support" && this.names.sender ? this.names.sender(message.sender) : null;
        const endorser = by || `the support team (administrator key ${content.endorser_fingerprint || ""})`;
        return h(
          "li",
          { class: "system endorse" },
          h("p", { class: "system-line" }, `A new device was added for the reporter by ${endorser}, fingerprint ${content.fingerprint || ""}`, " · ", this.when(message)),
        );
      }
      default:
        break;
    }
    const signed = this.signedBy(message);
    const header = h(
      "header",
      null,
      message.kind === "internal_note" ? h("span", { class: "note-label", text: "Internal note" }) : null,
      h("span", { class: "who", text: who }),
      signed ? h("span", { class: "small muted", text: signed }) : null,
      this.when(message),
    );
    let body;
    if (message.kind === "debug_data") {
      body = h("details", null, h("summary", { text: `Debug data (${Object.keys(content.fields || {}).length} fields)` }), debugList(content.fields));
    } else if (message.kind === "attachment") {
      body = attachmentCard(this.client, this.getHandle, message, (error, where) => where.replaceChildren(errorNotice(error, { context: content.name || "attachment" })));
    } else {
      body = h("p", { class: "text", text: typeof content.text === "string" ? content.text : "" });
    }
    return h(
      "li",
      { class: mine ? "mine" : "theirs" },
      h("article", { class: message.kind === "internal_note" ? "bubble note" : "bubble", "aria-label": `${message.kind === "internal_note" ? "Internal note" : "Message"} from ${who}` }, header, body),
    );
  }
}
