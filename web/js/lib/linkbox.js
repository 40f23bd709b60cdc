// The private ticket link, with copy, save-in-this-browser and download actions and a plain
// explanation. The link's secret (after #) never reaches the server; the pages store it only
// when the person chooses to save it, but the browser's history keeps the address of every
// page opened, this link with its secret included, which the explanation says.

import { h, copyText, downloadText, announce } from "./dom.js";
import { saveTicket, forgetTicket, savedTicket } from "./store.js";

export function absoluteLink(link) {
  return new URL(link, window.location.origin).href;
}

/**
 * link: the path /help/ticket/{id}#{secret}; ticketId; subject (kept with a saved link so
 * the list can show it). Returns the element.
 */
export function linkBox({ link, ticketId, subject, heading = "Your private ticket link", headingLevel = "h2", showOpen = true }) {
  const url = absoluteLink(link);
  const status = h("p", { class: "small", role: "status" });
  const input = h("input", { type: "text", readonly: true, value: url, id: `link-${ticketId}`, "aria-describedby": `link-help-${ticketId}` });
  input.addEventListener("focus", () => input.select());

  const saveButton = h("button", { type: "button", class: "secondary", text: "Save in this browser" });
  const setSaved = (saved) => {
    saveButton.textContent = saved ? "Remove from this browser" : "Save in this browser";
    saveButton.dataset.saved = saved ? "1" : "";
  };
  savedTicket(ticketId).then((r) => setSaved(Boolean(r))).catch(() => {});
  saveButton.addEventListener("click", async () => {
    try {
      if (saveButton.dataset.saved) {
        await forgetTicket(ticketId);
        setSaved(false);
        status.textContent = "Removed from this browser. Keep the link somewhere else, or you cannot come back.";
      } else {
        await saveTicket({ ticket_id: ticketId, link, subject: subject || "", saved_at: Date.now(), last_seen: 0 });
        setSaved(true);
        status.textContent = "Saved in this browser. It is listed on the new-ticket page on this device.";
      }
      document.dispatchEvent(new CustomEvent("sealdesk:saved-tickets"));
    } catch {
      status.textContent = "This browser does not allow saving. Copy the link or download it instead.";
    }
  });

  const box = h(
    "section",
    { class: "link-box", "aria-labelledby": `link-title-${ticketId}` },
    h(headingLevel, { id: `link-title-${ticketId}`, text: heading }),
    h(
      "div",
      { id: `link-help-${ticketId}` },
      h("p", null,
        h("strong", { text: "This link is the key to your conversation." }),
        " It holds a secret that is never sent to the server. Anyone who has the link can read and answer this ticket, and without it nobody, not even the support team, can let you back in. Keep it private, like a password.",
      ),
    ),
    h("div", { class: "field" }, h("label", { for: `link-${ticketId}`, text: "Ticket link" }), input),
    h(
      "div",
      { class: "actions" },
      h("button", {
        type: "button",
        text: "Copy link",
        onclick: async () => {
          const ok = await copyText(url, input);
          status.textContent = ok ? "Link copied." : "Copying was refused: select the link and copy it yourself.";
        },
      }),
      saveButton,
      h("button", {
        type: "button",
        class: "secondary",
        text: "Download as a file",
        onclick: () => {
          downloadText(
            `Sealdesk ticket${subject ? `: ${subject}` : ""}\n\n${url}\n\nThis link is the key to the conversation. Keep it private.\n`,
            `ticket-${ticketId.slice(0, 8)}.txt`,
          );
          announce("Download started.");
        },
      }),
      showOpen ? h("a", { class: "button secondary", href: link, text: "Open the conversation" }) : null,
    ),
    h("p", { class: "small muted", text: "“Save in this browser” keeps the link in this browser's storage on this device, so the ticket is listed here next time. Anyone who uses this browser profile could open it. Without it, these pages store nothing of the ticket; but like every address you open, the link with its secret stays in this browser's history once you open the conversation. On a shared computer, use a private window and close it when you are done." }),
    status,
  );
  return box;
}
