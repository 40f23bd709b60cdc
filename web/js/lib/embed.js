// The support tab inside a host application's page (spec/API.md, "Embedding the support
// tab"). When the tab runs in a frame, it tells the framing page it is ready (posted to each
// origin of the instance's `embed_origins`, so a page of any other origin hears nothing), then
// takes "context" messages from the framing window only, and only when they come from one of
// those origins: a display name and debug-data fields, which the tab shows on its Debug data
// tab before anything is sent. Everything else is ignored. Nothing leaves the tab through
// this channel but the ready message and the acknowledgement of what was taken.

/** The `protocol` member of every message, both ways. */
export const EMBED_PROTOCOL = "sealdesk-embed";
/** The version of the messages this page speaks. */
export const EMBED_VERSION = 1;
/** Most debug-data fields one context message may carry. */
export const MAX_HOST_FIELDS = 20;
/** Longest display name, in characters. */
export const MAX_DISPLAY_NAME = 200;
/** Longest field value, in characters. */
export const MAX_FIELD_VALUE = 500;
/** A field name: a lower-case letter, then up to 39 lower-case letters, digits or underscores. */
const FIELD_NAME = /^[a-z][a-z0-9_]{0,39}$/;
/** The prefix of the host's fields among the debug data (`app.user_id`). */
export const HOST_FIELD_PREFIX = "app.";

/**
 * What a host page passed, once checked.
 * @typedef {object} HostContext
 * @property {string} origin the host page's origin
 * @property {string | null} displayName the name to show to the support team
 * @property {[string, string][]} fields debug-data fields, named `app.<name>`
 */

/**
 * Checks a context message's members. Unknown members are refused, so that a host written for
 * a later version learns it was not understood.
 * @param {unknown} data the message's data
 * @returns {{context: {displayName: string | null, fields: [string, string][]}} | {error: string}}
 */
export function readContext(data) {
  if (!data || typeof data !== "object") return { error: "not an object" };
  const message = /** @type {Record<string, unknown>} */ (data);
  for (const key of Object.keys(message)) {
    if (!["protocol", "version", "type", "display_name", "debug"].includes(key)) return { error: `unknown member ${key}` };
  }
  if (message.version !== EMBED_VERSION) return { error: `version must be ${EMBED_VERSION}` };
  let displayName = null;
  if (message.display_name !== undefined) {
    if (typeof message.display_name !== "string" || message.display_name.trim().length > MAX_DISPLAY_NAME) {
      return { error: `display_name must be a string of at most ${MAX_DISPLAY_NAME} characters` };
    }
    displayName = message.display_name.trim() || null;
  }
  /** @type {[string, string][]} */
  const fields = [];
  if (message.debug !== undefined) {
    const debug = message.debug;
    if (!debug || typeof debug !== "object" || Array.isArray(debug)) return { error: "debug must be an object" };
    const entries = Object.entries(debug);
    if (entries.length > MAX_HOST_FIELDS) return { error: `debug holds at most ${MAX_HOST_FIELDS} fields` };
    for (const [name, value] of entries) {
      if (!FIELD_NAME.test(name)) return { error: `debug field name ${JSON.stringify(name.slice(0, 40))} is not lower-case letters, digits and underscores` };
      if (!["string", "number", "boolean"].includes(typeof value)) return { error: `debug field ${name} must be a string, number or boolean` };
      const text = String(value).trim();
      if (text.length > MAX_FIELD_VALUE) return { error: `debug field ${name} is longer than ${MAX_FIELD_VALUE} characters` };
      if (text) fields.push([`${HOST_FIELD_PREFIX}${name}`, text]);
    }
  }
  return { context: { displayName, fields } };
}

/**
 * Starts listening to the framing page, when the tab runs in a frame and the instance lists
 * origins that may frame it. Returns a function that stops listening.
 * @param {object} options
 * @param {string[]} options.allowed the instance's `embed_origins`
 * @param {(context: HostContext) => void} options.onContext called with each accepted context
 * @param {Window} [options.self] this window (tests may pass another)
 * @returns {() => void}
 */
export function listenToHost({ allowed, onContext, self = window }) {
  const parent = self.parent;
  if (!parent || parent === self || !allowed.length) return () => {};
  const origins = new Set(allowed);
  /** @param {MessageEvent} event */
  const onMessage = (event) => {
    // Only the framing window, and only from a listed origin: anything else is ignored
    // without an answer (an unlisted page learns nothing, not even that the tab is here).
    if (event.source !== parent || !origins.has(event.origin)) return;
    const data = event.data;
    if (!data || typeof data !== "object" || data.protocol !== EMBED_PROTOCOL || data.type !== "context") return;
    const read = readContext(data);
    if ("error" in read) {
      parent.postMessage({ protocol: EMBED_PROTOCOL, version: EMBED_VERSION, type: "refused", reason: read.error }, event.origin);
      return;
    }
    onContext({ origin: event.origin, ...read.context });
    parent.postMessage(
      { protocol: EMBED_PROTOCOL, version: EMBED_VERSION, type: "accepted", fields: read.context.fields.map(([key]) => key.slice(HOST_FIELD_PREFIX.length)) },
      event.origin,
    );
  };
  self.addEventListener("message", onMessage);
  // "ready" goes to a listed origin only: postMessage drops a message whose target origin is
  // not the framing page's. Where the browser names the framing origin (Chromium, WebKit:
  // location.ancestorOrigins), only that one is tried, if listed; elsewhere each listed one.
  const ancestors = /** @type {{ancestorOrigins?: DOMStringList}} */ (self.location).ancestorOrigins;
  const targets = ancestors ? (ancestors.length && origins.has(ancestors[0]) ? [ancestors[0]] : []) : [...origins];
  for (const origin of targets) {
    parent.postMessage({ protocol: EMBED_PROTOCOL, version: EMBED_VERSION, type: "ready" }, origin);
  }
  return () => self.removeEventListener("message", onMessage);
}

/**
 * The debug-data fields of a host context: its fields and the host's origin (`app.origin`),
 * so that the support team knows which application passed them.
 * @param {HostContext | null} context
 * @returns {[string, string][]}
 */
export function hostDebugFields(context) {
  if (!context) return [];
  return [[`${HOST_FIELD_PREFIX}origin`, context.origin], ...context.fields.filter(([key]) => key !== `${HOST_FIELD_PREFIX}origin`)];
}
