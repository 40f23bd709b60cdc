// DOM helpers. Untrusted text only ever goes through textContent / text nodes
// (never innerHTML), and attribute values are set with setAttribute.

/**
 * Creates an element. props: "class", "text" (textContent), "on<event>" (listeners),
 * "dataset", booleans (true sets an empty attribute, false/null/undefined are skipped),
 * anything else through setAttribute. Children: nodes or strings (as text).
 * Typed `any`: the caller knows which element its tag makes (an input, a button...).
 * @param {string} tag
 * @param {Record<string, any> | null} [props]
 * @param {...any} children
 * @returns {any}
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = String(value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

/**
 * @param {Element} el
 * @param {any[]} children
 */
function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/**
 * Replaces an element's children.
 * @param {Element} el
 * @param {...any} children
 */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/**
 * The element of the page's own markup that `selector` names. Typed `any`: the page knows
 * which element it is (an input, a select...).
 * @type {(selector: string, root?: ParentNode) => any}
 */
export const $ = (selector, root = document) => root.querySelector(selector);
/** @type {(selector: string, root?: ParentNode) => any[]} */
export const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

let idCounter = 0;
/** A unique id for labels and aria references. */
export function uid(prefix = "id") {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/** Moves focus to an element that is not normally focusable (headings, regions). */
export function focusTarget(el) {
  if (!el) return;
  if (!el.hasAttribute("tabindex")) el.setAttribute("tabindex", "-1");
  el.focus({ preventScroll: false });
}

/** Says something to screen readers through the page's polite live region. */
export function announce(text) {
  const region = document.getElementById("announcer");
  if (!region) return;
  region.textContent = "";
  // A separate task, so that repeating the same sentence is announced again.
  setTimeout(() => {
    region.textContent = text;
  }, 50);
}

/** Lets the browser paint (before work that blocks the main thread, like Argon2id). */
export function paint() {
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
}

/**
 * Common page setup: the skip link focuses <main> without touching the URL fragment
 * (which holds ticket secrets and invite tokens on some pages).
 */
export function initPage() {
  const skip = document.querySelector(".skip-link");
  const main = document.getElementById("main");
  if (skip && main) {
    skip.addEventListener("click", (event) => {
      event.preventDefault();
      focusTarget(main);
    });
  }
}

/**
 * Tabs (WAI-ARIA pattern): buttons with role="tab" inside role="tablist", each with
 * aria-controls naming its panel. Arrow keys, Home and End move between tabs.
 * Returns select(tabId, {focus}).
 */
export function setupTabs(tablist, onChange) {
  const tabs = $$('[role="tab"]', tablist);
  function select(tab, { focus = false } = {}) {
    for (const t of tabs) {
      const selected = t === tab;
      t.setAttribute("aria-selected", String(selected));
      t.tabIndex = selected ? 0 : -1;
      const panel = document.getElementById(t.getAttribute("aria-controls"));
      if (panel) panel.hidden = !selected;
    }
    if (focus) tab.focus();
    if (onChange) onChange(tab.id);
  }
  tablist.addEventListener("click", (event) => {
    const tab = event.target.closest('[role="tab"]');
    if (tab) select(tab);
  });
  tablist.addEventListener("keydown", (event) => {
    const index = tabs.indexOf(document.activeElement);
    if (index < 0) return;
    let next = null;
    if (event.key === "ArrowRight") next = tabs[(index + 1) % tabs.length];
    else if (event.key === "ArrowLeft") next = tabs[(index - 1 + tabs.length) % tabs.length];
    else if (event.key === "Home") next = tabs[0];
    else if (event.key === "End") next = tabs[tabs.length - 1];
    if (next) {
      event.preventDefault();
      select(next, { focus: true });
    }
  });
  const initial = tabs.find((t) => t.getAttribute("aria-selected") === "true") || tabs[0];
  select(initial);
  return (id, options) => {
    const tab = tabs.find((t) => t.id === id);
    if (tab) select(tab, options);
  };
}

/**
 * Shows a busy line (text and an indeterminate progress bar) in `container` while `work`
 * runs, after letting the browser paint it: Argon2id blocks the main thread.
 * @template T
 * @param {Element} container
 * @param {string} text
 * @param {() => Promise<T>} work
 * @returns {Promise<T>}
 */
export async function whileBusy(container, text, work) {
  const line = h(
    "div",
    { class: "busy", role: "status" },
    h("span", { text }),
    h("progress", { "aria-label": text }),
  );
  container.append(line);
  await paint();
  try {
    return await work();
  } finally {
    line.remove();
  }
}

/** Copies text to the clipboard; falls back to selecting an input's text. */
export async function copyText(text, input) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    if (input) {
      input.focus();
      input.select();
      try {
        return document.execCommand("copy");
      } catch {
        return false;
      }
    }
    return false;
  }
}

/** Offers text as a downloaded file. */
export function downloadText(text, filename) {
  downloadBlob(new Blob([text], { type: "text/plain;charset=utf-8" }), filename);
}

/** Offers a Blob as a download (never navigates to it). */
export function downloadBlob(blob, filename) {
  const url = objectUrl(blob);
  const a = h("a", { href: url, download: filename || "download" });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => revokeObjectUrl(url), 60_000);
}

/** @type {Set<string>} the object URLs this page made and has not revoked yet */
const objectUrls = new Set();

/**
 * An object URL for a Blob (a decrypted file, a chosen file's preview), remembered so that
 * sign-out can revoke it with the others (revokeObjectUrls).
 * @param {Blob} blob
 * @returns {string}
 */
export function objectUrl(blob) {
  const url = URL.createObjectURL(blob);
  objectUrls.add(url);
  return url;
}

/** @param {string} url an objectUrl */
export function revokeObjectUrl(url) {
  URL.revokeObjectURL(url);
  objectUrls.delete(url);
}

/** Revokes every object URL the page made: the Blobs behind them can no longer be read. */
export function revokeObjectUrls() {
  for (const url of objectUrls) URL.revokeObjectURL(url);
  objectUrls.clear();
}
