// Tags of a ticket (PROTOCOL.md §14, *Tags*): the ticket view's editor, the chips of the inbox
// rows, and the inbox's tag filter. Tags are a tags message on the notes chain: only
// administrators read them, and each change carries the whole set.

import { h, replace, announce } from "../lib/dom.js";

/** What a tag may be (PROTOCOL.md §14), after lowercasing. */
export const TAG_PATTERN = /^[a-z0-9_-]{1,32}$/;
/** Most tags on a ticket (PROTOCOL.md §14). */
export const MAX_TAGS = 20;

/**
 * The chips of `tags` (for an inbox row or the ticket view), or null when there are none.
 * @param {string[]} tags
 */
export function tagChips(tags) {
  if (!tags.length) return null;
  return h(
    "span",
    { class: "tag-list", "aria-label": `Tags: ${tags.join(", ")}` },
    tags.map((tag) => h("span", { class: "chip tag", text: tag })),
  );
}

/**
 * The ticket view's tag editor: the chips with a remove button each, and a field to add tags
 * (several separated by spaces or commas).
 * @param {object} options
 * @param {HTMLElement} options.container
 * @param {(tags: string[]) => Promise<boolean>} options.save sends the whole new set; shows
 *   its own errors and resolves to whether it was saved
 * @param {(message: string) => void} options.invalid shows why a tag was refused
 */
export function tagEditor({ container, save, invalid }) {
  /** @type {string[]} */
  let current = [];
  const input = /** @type {HTMLInputElement} */ (h("input", { type: "text", id: "tag-input", autocomplete: "off", autocapitalize: "none", spellcheck: "false", maxlength: 200, "aria-describedby": "tag-hint" }));
  const list = h("ul", { class: "tag-editor", "aria-label": "Tags of this ticket" });
  const status = h("p", { class: "small", role: "status", id: "tag-status" });
  const form = h(
    "form",
    { class: "tag-form", novalidate: true },
    h("label", { for: "tag-input", text: "Add tags" }),
    h("span", { class: "hint", id: "tag-hint", text: "Lowercase letters, digits, - and _; up to 32 characters each, 20 per ticket. Only administrators see them." }),
    h("div", { class: "inline-field" }, input, h("button", { type: "submit", class: "secondary small", id: "tag-add", text: "Add" })),
  );

  /**
   * @param {string[]} next
   * @param {string} done what to announce once saved
   */
  async function change(next, done) {
    status.textContent = "Encrypting and saving the tags…";
    const saved = await save(next);
    status.textContent = "";
    if (saved) announce(done);
    return saved;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const typed = input.value.split(/[\s,]+/).map((t) => t.trim().toLowerCase()).filter(Boolean);
    if (!typed.length) return;
    const bad = typed.find((t) => !TAG_PATTERN.test(t));
    if (bad) {
      invalid(`"${bad}" is not a tag: use 1 to 32 lowercase letters, digits, - or _.`);
      input.focus();
      return;
    }
    const next = [...new Set([...current, ...typed])].sort();
    if (next.length > MAX_TAGS) {
      invalid(`A ticket has at most ${MAX_TAGS} tags.`);
      return;
    }
    if (await change(next, `Tags: ${next.join(", ")}.`)) input.value = "";
    input.focus();
  });

  replace(container, list, form, status);

  return {
    /** @param {string[]} tags the ticket's tags (the view's) */
    render(tags) {
      current = [...tags];
      replace(
        list,
        tags.length
          ? tags.map((tag) =>
              h(
                "li",
                null,
                h("span", { class: "chip tag", text: tag }),
                h("button", {
                  type: "button",
                  class: "link small",
                  text: "×",
                  "aria-label": `Remove the tag ${tag}`,
                  onclick: () => change(current.filter((t) => t !== tag), `Tag ${tag} removed.`).then(() => input.focus()),
                }),
              ),
            )
          : h("li", { class: "muted small", text: "No tags." }),
      );
    },
    /** @param {boolean} disabled */
    disable(disabled) {
      for (const el of form.querySelectorAll("input, button")) /** @type {HTMLInputElement} */ (el).disabled = disabled;
    },
  };
}

/**
 * Fills the inbox's tag filter with the tags in use, keeping the choice.
 * @param {HTMLSelectElement} select
 * @param {[string, number][]} tags each tag and how many tickets carry it
 */
export function renderTagFilter(select, tags) {
  const chosen = select.value;
  replace(
    select,
    h("option", { value: "", text: "Any tag" }),
    tags.map(([tag, count]) => h("option", { value: tag, text: `${tag} (${count})` })),
  );
  select.value = [...select.options].some((o) => o.value === chosen) ? chosen : "";
}
