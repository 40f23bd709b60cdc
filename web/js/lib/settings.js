// The instance's public settings (GET /api/v1/settings): categories with guidance,
// languages, support hours, response time, the attachment limit and the server version.

import { h, replace } from "./dom.js";

/**
 * The settings as the pages use them: the module's `SettingsAnswer` (the stored settings with
 * the attachment limit and the server version) with every member present, from the defaults
 * below when the server could not be asked; `response_targets` (the panel's due times) stays
 * optional. `embed_origins` (the host origins that may frame the support tab) is named here
 * too, for modules built before it.
 * @typedef {Required<Omit<import("./wasm.js").SettingsAnswer, "response_targets">> & Pick<import("./wasm.js").SettingsAnswer, "response_targets"> & {embed_origins: string[]}} PageSettings
 */

/** @type {PageSettings} */
const EMPTY = {
  categories: [],
  languages: [],
  support_hours: "",
  response_time: "",
  idle_lock_minutes: 30,
  max_attachment_bytes: 25 * 1024 * 1024,
  version: "",
  mail_enabled: false,
  embed_origins: [],
};

/** @type {Promise<PageSettings> | null} */
let loading = null;

/** @returns {Promise<PageSettings>} */
export function loadSettings() {
  if (!loading) {
    loading = fetch("/api/v1/settings", { headers: { Accept: "application/json" } })
      .then((response) => (response.ok ? response.json() : {}))
      .catch(() => ({}))
      .then((data) => ({ ...EMPTY, ...(data && typeof data === "object" ? data : {}) }));
  }
  return loading;
}

/** Fills a <dl> or container with languages, hours and response time (hidden when empty). */
export function renderSupportInfo(container, settings) {
  const items = [];
  if (settings.languages.length) {
    items.push(["Languages", settings.languages.join(", ")]);
  }
  if (settings.support_hours) items.push(["Support hours", settings.support_hours]);
  if (settings.response_time) items.push(["Expected response", settings.response_time]);
  if (!items.length) {
    replace(container, h("p", { class: "muted small", text: "The administrators answer as soon as they can." }));
    return;
  }
  replace(
    container,
    h("dl", { class: "fields" }, items.map(([label, value]) => [h("dt", { text: label }), h("dd", { class: "pre", text: value })])),
  );
}

/**
 * Wires a category <select> and its guidance box: options from the settings (the select is
 * hidden when there are none); the guidance of the chosen category is shown below it.
 */
export function setupCategory(field, select, guidance, settings) {
  const categories = settings.categories || [];
  if (!categories.length) {
    field.hidden = true;
    return;
  }
  field.hidden = false;
  replace(
    select,
    h("option", { value: "", text: "Choose a category (optional)" }),
    categories.map((c) => h("option", { value: c.name, text: c.name })),
  );
  // The guidance container stays in the page (aria-live="polite"), so a new guidance is read.
  const show = () => {
    const chosen = categories.find((c) => c.name === select.value);
    if (chosen && chosen.guidance) {
      replace(
        guidance,
        h("div", { class: "notice" }, h("p", { class: "title", text: `About ${chosen.name}` }), h("p", { class: "pre", text: chosen.guidance })),
      );
    } else {
      guidance.replaceChildren();
    }
  };
  select.addEventListener("change", show);
  show();
}
