// Sealdesk's support tab inside your application's page: a small script for the host page
// (spec/API.md, "Embedding the support tab"). Copy it into your application and serve it from
// your own origin: the instance sends no CORS headers, so a browser will not run it as a module
// loaded from the instance (it is served at /embed/host.js to be downloaded). The instance must
// list your page's origin in its `embed_origins` option, or the browser refuses to show the
// tab in a frame.
//
//   import { embedSupportTab } from "./sealdesk-host.js"; // your copy of host.js
//   const support = embedSupportTab({
//     container: document.querySelector("#support"),
//     supportUrl: "https://support.example.org/help",
//     displayName: "Dana Example",
//     debug: { user_id: "u-1234", plan: "team", version: "4.2.0" },
//   });
//   support.onAnswer((answer) => console.log(answer.type, answer.fields || answer.reason));
//
// The display name and the fields are shown to the person on the tab's Debug data tab before
// anything is sent; they decide what goes, and what goes is encrypted in their browser like
// the rest of the ticket. The tab never sends your page anything about the person or their
// tickets: only "ready", and "accepted" (the field names it took) or "refused" (why not).

/** The `protocol` member of every message, both ways. */
export const PROTOCOL = "sealdesk-embed";
/** The version of the messages this script speaks. */
export const VERSION = 1;

/**
 * What the host passes: a display name and debug-data fields (at most 20; names of lower-case
 * letters, digits and underscores, up to 40 characters, starting with a letter; values are
 * strings, numbers or booleans of at most 500 characters).
 * @typedef {object} HostContext
 * @property {string} [displayName] the name shown to the support team (at most 200 characters)
 * @property {Record<string, string | number | boolean>} [debug] the fields, such as user_id, plan, version
 */

/**
 * An answer of the support tab to a context message.
 * @typedef {{protocol: string, version: number, type: "accepted", fields: string[]} | {protocol: string, version: number, type: "refused", reason: string}} Answer
 */

/**
 * Puts the support tab in `container` as an iframe and passes it `displayName` and `debug`
 * each time it (re)loads and says it is ready.
 * @param {HostContext & {container: HTMLElement, supportUrl: string, title?: string}} options
 *   `supportUrl`: the support tab's address (`https://support.example.org/help`)
 * @returns {{frame: HTMLIFrameElement, update: (context: HostContext) => void, onAnswer: (listener: (answer: Answer) => void) => void, remove: () => void}}
 */
export function embedSupportTab({ container, supportUrl, title = "Support", displayName, debug }) {
  const url = new URL(supportUrl, window.location.href);
  const origin = url.origin;
  const frame = document.createElement("iframe");
  frame.src = url.href;
  frame.title = title;
  frame.className = "sealdesk-support";
  /** @type {HostContext} */
  let context = { displayName, debug };
  /** @type {((answer: Answer) => void)[]} */
  const listeners = [];

  function send() {
    if (!frame.contentWindow) return;
    /** @type {Record<string, unknown>} */
    const message = { protocol: PROTOCOL, version: VERSION, type: "context" };
    if (context.displayName !== undefined) message.display_name = context.displayName;
    if (context.debug !== undefined) message.debug = context.debug;
    // The target origin: only the support tab's page can receive it.
    frame.contentWindow.postMessage(message, origin);
  }

  /** @param {MessageEvent} event */
  function onMessage(event) {
    if (event.source !== frame.contentWindow || event.origin !== origin) return;
    const data = event.data;
    if (!data || typeof data !== "object" || data.protocol !== PROTOCOL) return;
    if (data.type === "ready") send();
    else if (data.type === "accepted" || data.type === "refused") for (const listener of listeners) listener(data);
  }

  window.addEventListener("message", onMessage);
  container.append(frame);
  return {
    frame,
    update(next) {
      context = next;
      send();
    },
    onAnswer(listener) {
      listeners.push(listener);
    },
    remove() {
      window.removeEventListener("message", onMessage);
      frame.remove();
    },
  };
}
