// Debug data: collected in this browser, shown in full before it is sent, each field
// removable (and restorable). Sent encrypted, as its own message, with a new ticket.

import { h, replace, announce } from "./dom.js";

export const DEBUG_LABELS = {
  user_agent: "User agent",
  platform: "Platform",
  languages: "Languages",
  time_zone: "Time zone",
  screen: "Screen",
  viewport: "Viewport",
  app_version: "App version",
  account_id: "Account id",
  key_id: "Key id",
  time: "Time",
};

export function debugLabel(key) {
  // Fields an embedding application passed (lib/embed.js): "app.user_id".
  if (key.startsWith("app.")) return key === "app.origin" ? "Application (embedded in)" : `Application: ${key.slice(4).replaceAll("_", " ")}`;
  return DEBUG_LABELS[key] || key;
}

/**
 * The fields this browser can tell, as [key, value] pairs (empty values left out).
 * @param {{version?: string, account?: {accountId: string, keyId: string} | null}} [options]
 * @returns {[string, string][]}
 */
export function collectDebug({ version, account } = {}) {
  const pairs = [];
  const add = (key, value) => {
    if (value !== undefined && value !== null && String(value).trim() !== "") {
      pairs.push([key, String(value)]);
    }
  };
  add("user_agent", navigator.userAgent);
  // navigator.userAgentData: Chromium's User-Agent Client Hints (not in every browser).
  const hints = /** @type {{userAgentData?: {platform?: string}}} */ (navigator).userAgentData;
  add("platform", (hints && hints.platform) || navigator.platform);
  add("languages", (navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language]).join(", "));
  try {
    add("time_zone", Intl.DateTimeFormat().resolvedOptions().timeZone);
  } catch {
    // unknown
  }
  add("screen", `${screen.width} × ${screen.height}, pixel ratio ${window.devicePixelRatio || 1}`);
  add("viewport", `${window.innerWidth} × ${window.innerHeight}`);
  add("app_version", version ? `Sealdesk ${version}` : "");
  if (account) {
    add("account_id", account.accountId);
    add("key_id", account.keyId);
  }
  add("time", new Date().toISOString());
  return pairs;
}

/**
 * A table of debug fields with a Remove / Put back button per field. `values()` gives
 * exactly what will be sent.
 */
export class DebugEditor {
  /**
   * @param {HTMLElement} container
   * @param {{caption?: string, onChange?: () => void}} [options]
   */
  constructor(container, { caption = "Debug data that will be sent", onChange } = {}) {
    this.container = container;
    this.caption = caption;
    this.onChange = onChange;
    this.fields = [];
    this.enabled = true;
  }

  /** Whether the fields will be sent at all (a page may let the person opt out as a whole). */
  setEnabled(enabled) {
    this.enabled = enabled;
    this.render();
  }

  /** Sets the fields, keeping the removals the person made for keys that stay. */
  set(pairs) {
    const removed = new Set(this.fields.filter((f) => f.removed).map((f) => f.key));
    this.fields = pairs.map(([key, value]) => ({ key, value, removed: removed.has(key) }));
    this.render();
  }

  /** The fields that will be sent, as an object (undefined when none). */
  values() {
    const kept = this.fields.filter((f) => !f.removed);
    if (!kept.length) return undefined;
    return Object.fromEntries(kept.map((f) => [f.key, f.value]));
  }

  count() {
    return this.fields.filter((f) => !f.removed).length;
  }

  render() {
    const rows = this.fields.map((field) => {
      const label = debugLabel(field.key);
      const button = h("button", {
        type: "button",
        class: field.removed ? "secondary small" : "danger small",
        text: field.removed ? "Put back" : "Remove",
        "aria-label": field.removed ? `Put back ${label}` : `Remove ${label}`,
        onclick: () => {
          field.removed = !field.removed;
          this.render();
          announce(field.removed ? `${label} removed; it will not be sent.` : `${label} put back; it will be sent.`);
          const again = /** @type {HTMLElement | null} */ (this.container.querySelector(`[data-key="${CSS.escape(field.key)}"] button`));
          if (again) again.focus();
          if (this.onChange) this.onChange();
        },
      });
      return h(
        "tr",
        { class: field.removed ? "removed" : null, "data-key": field.key },
        h("th", { scope: "row", text: label }),
        h("td", { class: "value mono", "data-label": "Value" },
          field.value,
          field.removed ? h("span", { class: "visually-hidden", text: " (removed, will not be sent)" }) : null),
        h("td", null, button),
      );
    });
    replace(
      this.container,
      h("div", { class: "table-wrap" },
        h("table", { class: "stack" },
          h("caption", { class: "visually-hidden", text: this.caption }),
          h("thead", null, h("tr", null, h("th", { scope: "col", text: "Field" }), h("th", { scope: "col", text: "Value" }), h("th", { scope: "col", text: "Action" }))),
          h("tbody", null, rows),
        ),
      ),
      h("p", {
        class: "small muted",
        text: this.enabled
          ? `${this.count()} of ${this.fields.length} fields will be sent.`
          : "Nothing will be sent unless you tick “Send technical details with my ticket”.",
      }),
    );
  }
}

/**
 * The sentence after "Send technical details with my ticket" on both new-ticket pages: how
 * many fields go when it is ticked (the hint before it gives the reason and the default, off).
 * @param {DebugEditor} editor
 * @param {boolean} included whether the box is ticked
 * @returns {string}
 */
export function debugChoiceText(editor, included) {
  const count = editor.count();
  const fields = `${count} field${count === 1 ? "" : "s"}`;
  return included ? `${fields} will be sent.` : `${fields} collected.`;
}

/** A read-only list of received debug fields (the panel, the conversation). */
export function debugList(fields) {
  const entries = Object.entries(fields || {});
  if (!entries.length) return h("p", { class: "muted", text: "No fields." });
  return h("dl", { class: "fields" }, entries.map(([key, value]) => [h("dt", { text: debugLabel(key) }), h("dd", { class: "mono", text: value })]));
}
