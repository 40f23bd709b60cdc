// Canned replies in the panel (PROTOCOL.md §18): the "Canned replies" view (create, edit,
// delete the team's snippets) and the composer's "Insert canned reply" picker, which fills the
// placeholders from the open ticket and inserts the text at the cursor. The snippets are
// verified and decrypted by the module (cannedReplies); this page only shows them, through
// textContent.

import { $, h, replace, whileBusy, announce, focusTarget } from "../lib/dom.js";
import { errorNotice, clearErrors } from "../lib/errors.js";
import { formatTime } from "../lib/format.js";
import { validate, withFormDisabled, enableForm } from "../lib/forms.js";

/** @typedef {import("../lib/wasm.js").AdminClient} AdminClient */
/** @typedef {import("../lib/wasm.js").AdminHandle} AdminHandle */
/** @typedef {import("../../pkg/admin/sealdesk_client.js").CannedReplyView} CannedReplyView */

/**
 * What the panel gives this module.
 * @typedef {object} CannedHooks
 * @property {() => Promise<AdminClient>} client the panel's module
 * @property {() => AdminHandle} admin the signed-in administrator (throws when signed out)
 * @property {(name: string) => void} showView shows a view of the panel by name
 * @property {(error: unknown, context: string, region?: Element) => void} handleError
 * @property {(keyId: string) => string} nameOf an administrator's name for people
 * @property {() => ({ticketId: string, reporterName: string | null} | null)} ticket the open ticket
 */

/** The longest title and text, in characters (PROTOCOL.md §18.3). */
const MAX_TITLE = 200;
const MAX_BODY = 8192;

/**
 * Sets up the view and the picker; returns `open` (shows the view) and `forget` (drops what
 * was decrypted, at sign-out).
 * @param {CannedHooks} hooks
 */
export function setupCanned(hooks) {
  /** @type {CannedReplyView[]} the verified, decrypted replies last read */
  let replies = [];
  /** @type {string | null} the id being edited */
  let editing = null;

  const form = /** @type {HTMLFormElement} */ ($("#canned-form"));
  const titleInput = /** @type {HTMLInputElement} */ ($("#canned-title-input"));
  // forms.js's checks take inputs; a textarea has the same value and validity API.
  const bodyInput = /** @type {HTMLInputElement} */ (/** @type {unknown} */ ($("#canned-body")));

  async function load() {
    const client = await hooks.client();
    // By title in the reader's collation; the ones that failed verification last.
    replies = (await client.cannedReplies(hooks.admin())).sort(
      (a, b) => Number(Boolean(a.error)) - Number(Boolean(b.error)) || a.title.localeCompare(b.title),
    );
    return replies;
  }

  async function open() {
    hooks.showView("canned");
    clearErrors($("#canned-status"));
    replace($("#canned-list"), h("p", { class: "muted", text: "Loading…" }));
    try {
      await whileBusy($("#canned-status"), "Verifying and decrypting the canned replies…", load);
      render();
    } catch (error) {
      replace($("#canned-list"));
      hooks.handleError(error, "the canned replies could not be read", $("#canned-status"));
    }
  }

  function render() {
    if (!replies.length) {
      replace($("#canned-list"), h("p", { class: "muted", text: "None yet. Write the first one above." }));
      return;
    }
    replace(
      $("#canned-list"),
      h(
        "ul",
        { class: "canned-list" },
        replies.map((r) =>
          r.error
            ? h(
                "li",
                { dataset: { canned: r.id } },
                errorNotice(Object.assign(new Error("This canned reply could not be verified."), { code: r.error }), {
                  context: `a canned reply last changed by ${hooks.nameOf(r.signer)} on ${formatTime(r.updated_at)}`,
                }),
                h("div", { class: "actions" }, h("button", { type: "button", class: "danger small", text: "Delete", onclick: () => remove(r, "this unverified canned reply") })),
              )
            : h(
                "li",
                { dataset: { canned: r.id } },
                h("h3", { text: r.title }),
                h("p", { class: "canned-text", text: r.body }),
                h("p", { class: "small muted", text: `Last changed by ${hooks.nameOf(r.signer)}, ${formatTime(r.updated_at)}` }),
                h(
                  "div",
                  { class: "actions" },
                  h("button", { type: "button", class: "secondary small", text: "Edit", "aria-label": `Edit “${r.title}”`, onclick: () => edit(r) }),
                  h("button", { type: "button", class: "danger small", text: "Delete", "aria-label": `Delete “${r.title}”`, onclick: () => remove(r, `“${r.title}”`) }),
                ),
              ),
        ),
      ),
    );
  }

  /** @param {CannedReplyView} reply */
  function edit(reply) {
    editing = reply.id;
    titleInput.value = reply.title;
    bodyInput.value = reply.body;
    $("#canned-form-title").textContent = "Edit canned reply";
    $("#canned-save").textContent = "Save changes";
    $("#canned-cancel").hidden = false;
    titleInput.focus();
  }

  function resetForm() {
    editing = null;
    form.reset();
    $("#canned-form-title").textContent = "New canned reply";
    $("#canned-save").textContent = "Save canned reply";
    $("#canned-cancel").hidden = true;
  }

  /**
   * @param {CannedReplyView} reply
   * @param {string} label
   */
  async function remove(reply, label) {
    if (!window.confirm(`Delete ${label} for the whole team?`)) return;
    try {
      const client = await hooks.client();
      await client.deleteCannedReply(hooks.admin(), reply.id);
      if (editing === reply.id) resetForm();
      replies = replies.filter((r) => r.id !== reply.id);
      render();
      announce("Canned reply deleted.");
      focusTarget($("#canned-list-title"));
    } catch (error) {
      hooks.handleError(error, "the canned reply was not deleted", $("#canned-status"));
    }
  }

  $("#canned-cancel").addEventListener("click", () => {
    resetForm();
    titleInput.focus();
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors($("#canned-form-status"));
    const ok = validate([
      [titleInput, (v) => (v.trim() ? ([...v.trim()].length <= MAX_TITLE ? null : `At most ${MAX_TITLE} characters.`) : "Give the canned reply a title.")],
      [bodyInput, (v) => (v.trim() ? ([...v].length <= MAX_BODY ? null : `At most ${MAX_BODY} characters.`) : "Write the text of the canned reply.")],
    ]);
    if (!ok) return;
    await withFormDisabled(form, async () => {
      try {
        const client = await hooks.client();
        const id = await whileBusy($("#canned-form-status"), "Encrypting for the team…", () =>
          client.saveCannedReply(hooks.admin(), editing, titleInput.value.trim(), bodyInput.value),
        );
        const updated = editing !== null;
        resetForm();
        await load();
        render();
        replace($("#canned-form-status"), h("p", { class: "notice ok", role: "status", text: updated ? "Changes saved." : "Canned reply saved." }));
        const item = $(`#canned-list [data-canned="${id}"]`);
        if (item) item.scrollIntoView({ block: "nearest" });
      } catch (error) {
        hooks.handleError(error, "the canned reply was not saved", $("#canned-form-status"));
      }
    });
  });
  enableForm(form);

  // ---------------------------------------------------------------- the composer's picker

  const picker = $("#canned-picker");
  const toggle = h("button", { type: "button", class: "secondary small", id: "canned-insert", "aria-expanded": "false", "aria-controls": "canned-choices-box", text: "Insert canned reply" });
  const filter = h("input", { type: "search", id: "canned-filter", autocomplete: "off", "aria-label": "Filter canned replies", placeholder: "Filter by title or text" });
  const choices = h("ul", { class: "canned-choices", id: "canned-choices", "aria-label": "Canned replies" });
  const box = h("div", { id: "canned-choices-box", hidden: true }, filter, choices);
  const status = h("div", { class: "status-line", role: "status" });
  replace(picker, toggle, box, status);
  /** Where the cursor was in the composer when the picker opened. */
  let selection = { start: 0, end: 0 };

  function composer() {
    return /** @type {HTMLTextAreaElement} */ ($("#composer-text"));
  }

  function closePicker({ focusComposer = false } = {}) {
    box.hidden = true;
    toggle.setAttribute("aria-expanded", "false");
    if (focusComposer) composer().focus();
  }

  function renderChoices() {
    const words = filter.value.trim().toLowerCase();
    const shown = replies.filter((r) => !r.error && (!words || r.title.toLowerCase().includes(words) || r.body.toLowerCase().includes(words)));
    replace(
      choices,
      shown.length
        ? shown.map((r) => h("li", null, h("button", { type: "button", class: "link", text: r.title, dataset: { canned: r.id }, onclick: () => insert(r) })))
        : h("li", { class: "muted small", text: replies.length ? "No canned reply matches." : "No canned replies yet: write them under Canned replies." }),
    );
  }

  /** @param {CannedReplyView} reply */
  async function insert(reply) {
    const client = await hooks.client();
    const open = hooks.ticket();
    let admin;
    try {
      admin = hooks.admin();
    } catch (error) {
      hooks.handleError(error, "no canned reply was inserted");
      return;
    }
    const text = client.fillPlaceholders(reply.body, {
      reporter_name: open && open.reporterName ? open.reporterName : undefined,
      ticket_ref: open ? open.ticketId.slice(0, 8) : undefined,
      admin_name: admin.username,
    });
    const area = composer();
    const { start, end } = selection;
    area.setRangeText(text, Math.min(start, area.value.length), Math.min(end, area.value.length), "end");
    area.dispatchEvent(new Event("input", { bubbles: true }));
    closePicker({ focusComposer: true });
    const left = /\{(reporter_name|ticket_ref|admin_name)\}/.test(text);
    announce(left ? `Inserted “${reply.title}”. Some placeholders could not be filled: check the text.` : `Inserted “${reply.title}”.`);
  }

  toggle.addEventListener("click", async () => {
    if (!box.hidden) {
      closePicker({ focusComposer: true });
      return;
    }
    const area = composer();
    selection = { start: area.selectionStart, end: area.selectionEnd };
    replace(status);
    try {
      await whileBusy(status, "Decrypting the canned replies…", load);
    } catch (error) {
      replace(status, errorNotice(error, { context: "the canned replies could not be read" }));
      return;
    }
    box.hidden = false;
    toggle.setAttribute("aria-expanded", "true");
    filter.value = "";
    renderChoices();
    filter.focus();
  });
  filter.addEventListener("input", renderChoices);
  // Enter in the filter takes the first match instead of submitting the composer.
  filter.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    const first = /** @type {HTMLButtonElement | null} */ (choices.querySelector("button"));
    if (first) first.click();
  });
  box.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      closePicker({ focusComposer: true });
    }
  });

  return {
    open,
    /** Drops the decrypted replies (sign-out, lock). */
    forget() {
      replies = [];
      resetForm();
      closePicker();
      replace($("#canned-list"));
      replace(choices);
    },
  };
}
