// The ticket page's timeline (issue 14 item 11): the internal notes stand between the
// conversation's messages, in the order they were received, in their own style; debug data
// is shown once, in the "Debug data" card beside the conversation, with a line in the timeline.

import { h, $, focusTarget } from "../lib/dom.js";
import { formatTime, isoTime } from "../lib/format.js";

/** @typedef {import("../lib/wasm.js").MessageView} MessageView */

/**
 * Marks the items a Conversation just appended (its list's last `added.length` children) with
 * their chain, receipt time and seq, and turns debug data into a line pointing at the card.
 * @param {HTMLElement} list the Conversation's <ol>
 * @param {MessageView[]} added what its render() returned
 * @param {"conversation" | "notes"} chain
 */
/** Counts the items in the order they reached this page: the tie-break within one second. */
let arrival = 0;

function stamp(list, added, chain) {
  const items = [...list.children].slice(list.children.length - added.length);
  items.forEach((li, i) => {
    const message = added[i];
    const item = /** @type {HTMLElement} */ (li);
    item.dataset.chain = chain;
    // A message this browser just sent has no receipt time yet: its own clock stands in.
    const sentAt = message.content && typeof message.content.sent_at === "number" ? message.content.sent_at : 0;
    item.dataset.at = String(message.received_at || sentAt || Math.floor(Date.now() / 1000));
    item.dataset.seq = String(message.seq);
    arrival += 1;
    item.dataset.arrival = String(arrival);
    if (chain === "notes") item.classList.add("note-item");
    if (message.kind === "debug_data" && message.content) {
      const line = h(
        "li",
        { class: "system", dataset: { ...item.dataset } },
        h(
          "p",
          { class: "system-line" },
          "The reporter sent debug data · ",
          h("time", { datetime: isoTime(message.received_at), text: formatTime(message.received_at) }),
          " · ",
          h("button", { type: "button", class: "link", text: "Show it", onclick: () => focusTarget($("#debug-title")) }),
        ),
      );
      item.replaceWith(line);
    }
  });
}

/**
 * Renders both chains into the conversation's list, merged by receipt time (within one second,
 * in the order they reached this page).
 * @param {{conversation: import("../lib/conversation.js").Conversation, notes: import("../lib/conversation.js").Conversation}} chains
 * @param {{messages: MessageView[], notes: MessageView[]}} view
 * @param {{announceNew?: boolean}} options
 */
export function renderTimeline(chains, view, options) {
  const { conversation, notes } = chains;
  // A conversation that went back (re-read from scratch) takes the notes with it: both again.
  if (view.messages.length && view.messages[view.messages.length - 1].seq < conversation.lastSeq) {
    conversation.reset();
    notes.reset();
  }
  stamp(conversation.list, conversation.render(view.messages, options), "conversation");
  stamp(notes.list, notes.render(view.notes, options), "notes");
  const list = conversation.list;
  const all = [...list.children, ...notes.list.children].map((li) => /** @type {HTMLElement} */ (li));
  const order = (/** @type {HTMLElement} */ li) => [Number(li.dataset.at || 0), Number(li.dataset.arrival || 0)];
  all.sort((a, b) => {
    const [x, y] = [order(a), order(b)];
    return x[0] - y[0] || x[1] - y[1];
  });
  // Moves only what is out of place, so focus and open <details> stay.
  all.forEach((li, i) => {
    if (list.children[i] !== li) list.insertBefore(li, list.children[i] || null);
  });
  conversation.empty.hidden = list.children.length > 0;
}
