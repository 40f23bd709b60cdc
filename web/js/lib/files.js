// Attachments: choosing files (with previews and a size check against the instance's
// limit, before anything is encrypted or sent), uploading with progress, downloading. The size
// rules (how large a file's encrypted stream is) are the module's: encryptedLen and
// largestAttachment.

import { h, replace, announce, uid, downloadBlob, objectUrl, revokeObjectUrl } from "./dom.js";
import { formatSize } from "./format.js";
import { imageFormat, removeMetadata } from "./metadata.js";

/** @typedef {import("./wasm.js").ReporterClient} Client any module (the reporter's exports suffice) */
/** @typedef {import("./wasm.js").TicketHandle} TicketHandle */
/** @typedef {import("./wasm.js").TicketView} TicketView */
/** @typedef {Pick<Client, "encryptedLen" | "largestAttachment">} SizeRules */

/**
 * "Up to 24.9 MB per file.": the largest file whose encrypted stream fits in the instance's
 * `max_attachment_bytes`.
 * @param {SizeRules} rules the module
 * @param {number} maxEncrypted the instance's limit, bytes of the encrypted stream
 * @returns {string}
 */
export function fileLimitText(rules, maxEncrypted) {
  return `Up to ${formatSize(rules.largestAttachment(maxEncrypted))} per file.`;
}

const PREVIEWABLE = new Set(["image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/bmp"]);

/**
 * One chosen file.
 * @typedef {object} ChosenFile
 * @property {string} id the stable id of its row's controls
 * @property {File} file as chosen
 * @property {string | null} url its preview (images under the limit)
 * @property {string | null} error why it will not be sent (too large)
 * @property {import("./metadata.js").Cleaned | null} cleaned a JPEG or PNG image without its metadata
 * @property {string | null} unreadable why a JPEG or PNG image's metadata could not be removed
 * @property {boolean} strip whether its metadata is removed before it is encrypted (on by default)
 */

/**
 * A file chooser: an <input type="file" multiple> and a list of the chosen files with
 * previews of images, sizes, a warning for files over the limit and a Remove button each.
 * From JPEG and PNG images the location, camera and other metadata are removed before they
 * are encrypted (lib/metadata.js), unless the person unticks "Remove location and camera
 * data" next to the file.
 */
export class FilePicker {
  /**
   * @param {object} options
   * @param {HTMLInputElement} options.input
   * @param {HTMLElement} options.list
   * @param {() => number} options.maxBytes encrypted bytes the server accepts
   * @param {SizeRules | Promise<SizeRules>} options.rules the module (or its loading)
   */
  constructor({ input, list, maxBytes, rules }) {
    this.input = input;
    this.list = list;
    this.maxBytes = maxBytes;
    this.rules = rules;
    /** @type {ChosenFile[]} */
    this.items = [];
    input.addEventListener("change", async () => {
      const chosen = [...(input.files || [])];
      input.value = "";
      const rules = await this.rules;
      const added = await Promise.all(chosen.map((file) => this.item(file, rules)));
      this.items.push(...added);
      this.render();
      const bad = added.filter((i) => i.error).length;
      const cleaned = added.filter((i) => i.cleaned && i.cleaned.found.length).length;
      announce(
        `${added.length} file${added.length === 1 ? "" : "s"} added` +
          (bad ? `; ${bad} too large and will not be sent` : "") +
          (cleaned ? `; location and camera data will be removed from ${cleaned} image${cleaned === 1 ? "" : "s"}.` : "."),
      );
    });
  }

  /**
   * @param {File} file
   * @param {SizeRules} rules
   * @returns {Promise<ChosenFile>}
   */
  async item(file, rules) {
    const limit = this.maxBytes();
    const tooLarge = rules.encryptedLen(file.size) > limit;
    /** @type {ChosenFile} */
    const item = {
      id: uid("file"),
      file,
      url: PREVIEWABLE.has(file.type) && !tooLarge ? objectUrl(file) : null,
      error: tooLarge
        ? `Too large: ${formatSize(file.size)}. With encryption, this support desk accepts files up to ${formatSize(rules.largestAttachment(limit))}.`
        : null,
      cleaned: null,
      unreadable: null,
      strip: true,
    };
    if (!tooLarge) await cleanImage(item);
    return item;
  }

  /** The files that will be sent: JPEG and PNG images without their metadata unless unticked. */
  files() {
    return this.items
      .filter((i) => !i.error)
      .map((i) =>
        i.strip && i.cleaned
          ? new File([/** @type {Uint8Array<ArrayBuffer>} */ (i.cleaned.bytes)], i.file.name, { type: i.file.type, lastModified: i.file.lastModified })
          : i.file,
      );
  }

  hasTooLarge() {
    return this.items.some((i) => i.error);
  }

  /**
   * Why the chosen files cannot be sent as they are, or null: a file over the limit, or an
   * image whose metadata could not be removed while "Remove location and camera data" is
   * ticked.
   * @returns {string | null}
   */
  problem() {
    if (this.hasTooLarge()) return "Some files are too large. Remove them (or choose smaller ones) before sending.";
    if (this.items.some((i) => i.strip && i.unreadable)) {
      return "The location and camera data of an image could not be removed. Remove the image, or untick “Remove location and camera data” to send it as it is.";
    }
    return null;
  }

  clear() {
    for (const i of this.items) if (i.url) revokeObjectUrl(i.url);
    this.items = [];
    this.render();
  }

  /**
   * The opt-out next to a JPEG or PNG image: "Remove location and camera data" (ticked by
   * default) and what the image holds.
   * @param {ChosenFile} item
   * @returns {HTMLElement | null}
   */
  metadataChoice(item) {
    if (!item.cleaned && !item.unreadable) return null;
    const boxId = `${item.id}-strip`;
    const hintId = `${item.id}-strip-hint`;
    const box = h("input", {
      type: "checkbox",
      id: boxId,
      class: "strip-metadata",
      checked: item.strip,
      "aria-describedby": hintId,
      onchange: (/** @type {Event} */ event) => {
        item.strip = /** @type {HTMLInputElement} */ (event.target).checked;
        this.render();
        announce(item.strip ? `Location and camera data will be removed from ${item.file.name}.` : `${item.file.name} will be sent with its metadata.`);
        const again = document.getElementById(boxId);
        if (again) again.focus();
      },
    });
    return h(
      "div",
      { class: "metadata-choice" },
      h("div", { class: "check" }, box, h("label", { for: boxId, text: "Remove location and camera data" })),
      h("p", { class: item.unreadable && item.strip ? "field-error" : "hint after", id: hintId, text: metadataSummary(item) }),
    );
  }

  render() {
    replace(
      this.list,
      this.items.map((item, index) => {
        const name = item.file.name || "file";
        const errorId = item.error ? uid("file-error") : null;
        return h(
          "li",
          { class: item.error ? "too-large" : null },
          item.url ? h("img", { class: "thumb", src: item.url, alt: `Preview of ${name}` }) : null,
          h(
            "div",
            { class: "file-info" },
            h("span", { class: "file-name", text: name }),
            h("span", { class: "small muted", text: ` ${formatSize(item.file.size)}` }),
            item.error ? h("div", { class: "field-error", id: errorId, text: item.error }) : null,
            this.metadataChoice(item),
          ),
          h("button", {
            type: "button",
            class: "secondary small",
            text: "Remove",
            "aria-label": `Remove ${name}`,
            "aria-describedby": errorId,
            onclick: () => {
              const [removed] = this.items.splice(index, 1);
              if (removed.url) revokeObjectUrl(removed.url);
              this.render();
              announce(`${name} removed.`);
              this.input.focus();
            },
          }),
        );
      }),
    );
  }
}

/**
 * Reads a chosen file's first bytes and, for a JPEG or PNG image, removes its metadata into
 * `item.cleaned` (or says in `item.unreadable` why it could not).
 * @param {ChosenFile} item
 */
async function cleanImage(item) {
  try {
    const head = new Uint8Array(await item.file.slice(0, 8).arrayBuffer());
    if (!imageFormat(head)) return;
    item.cleaned = removeMetadata(new Uint8Array(await item.file.arrayBuffer()));
  } catch (error) {
    item.unreadable = error instanceof Error ? error.message : "This image could not be read.";
  }
}

/**
 * What a cleaned image held, in a sentence.
 * @param {ChosenFile} item
 * @returns {string}
 */
function metadataSummary(item) {
  if (item.unreadable) return `${item.unreadable} Its metadata cannot be removed.`;
  const found = (item.cleaned && item.cleaned.found) || [];
  if (!found.length) return "No location or camera data found.";
  return `${item.strip ? "Removed before sending" : "Will be sent"}: ${found.join(", ")}.`;
}

/**
 * Encrypts and uploads files one after another on a ticket handle, showing a progress bar
 * per file in `container`. Resolves to the last view (or undefined when there were none).
 * @param {Pick<Client, "uploadAttachment">} client
 * @param {TicketHandle} handle
 * @param {File[]} files
 * @param {HTMLElement} container
 * @returns {Promise<TicketView | undefined>}
 */
export async function uploadFiles(client, handle, files, container) {
  /** @type {TicketView | undefined} */
  let view;
  for (const file of files) {
    const name = file.name || "file";
    const label = h("span", { text: `Encrypting and uploading ${name}…` });
    const bar = h("progress", { max: 1, value: 0, "aria-label": `Upload of ${name}` });
    const row = h("div", { class: "busy" }, label, bar);
    container.append(row);
    announce(`Uploading ${name}.`);
    try {
      const data = new Uint8Array(await file.arrayBuffer());
      view = await client.uploadAttachment(handle, data, name, file.type || "application/octet-stream", (sent, total) => {
        bar.max = total || 1;
        bar.value = sent;
        label.textContent = `Encrypting and uploading ${name}: ${Math.floor((100 * sent) / (total || 1))} %`;
      });
      announce(`${name} uploaded.`);
    } finally {
      row.remove();
    }
  }
  return view;
}

/**
 * A Download button for an attachment (by seq) with progress. Images of common types can be
 * shown in the page after the whole file verified; every file is saved as a download and
 * never opened as a page.
 * @param {Pick<Client, "downloadAttachment">} client
 * @param {() => TicketHandle} getHandle
 * @param {{seq: number, content: {name?: string, type?: string, size?: number} | null}} message
 * @param {(error: unknown, where: HTMLElement) => void} onError
 */
export function attachmentCard(client, getHandle, message, onError) {
  const content = message.content || {};
  const name = content.name || "file";
  const status = h("div", { class: "small", role: "status" });
  const preview = h("div");
  const previewable = PREVIEWABLE.has(content.type || "");
  /** @type {import("./wasm.js").DownloadedAttachment | null} */
  let downloaded = null;

  async function fetchFile() {
    if (downloaded) return downloaded;
    const bar = h("progress", { max: content.size || 1, value: 0, "aria-label": `Download of ${name}` });
    replace(status, h("div", { class: "busy" }, h("span", { text: `Downloading and decrypting ${name}…` }), bar));
    try {
      const file = await client.downloadAttachment(getHandle(), message.seq, (done, size) => {
        bar.max = size || 1;
        bar.value = done;
      });
      downloaded = file;
      status.replaceChildren();
      return file;
    } catch (error) {
      status.replaceChildren();
      onError(error, status);
      return null;
    }
  }

  const save = h("button", {
    type: "button",
    class: "secondary small",
    text: "Download",
    "aria-label": `Download ${name}`,
    onclick: async () => {
      const file = await fetchFile();
      if (!file) return;
      downloadBlob(new Blob([/** @type {Uint8Array<ArrayBuffer>} */ (file.data)], { type: "application/octet-stream" }), file.name || name);
      replace(status, h("span", { text: `${name} verified and saved.` }));
    },
  });
  const show = previewable
    ? h("button", {
        type: "button",
        class: "secondary small",
        text: "Show image",
        "aria-label": `Show image ${name}`,
        onclick: async () => {
          const file = await fetchFile();
          if (!file) return;
          const url = objectUrl(new Blob([/** @type {Uint8Array<ArrayBuffer>} */ (file.data)], { type: content.type }));
          replace(preview, h("img", { class: "file-preview", src: url, alt: `Image ${name}, sent as an attachment` }));
          show.hidden = true;
        },
      })
    : null;
  return h(
    "div",
    null,
    h(
      "div",
      { class: "file-card" },
      h("span", { class: "visually-hidden", text: "Attachment:" }),
      h("span", { class: "file-name", text: name }),
      h("span", { class: "small muted", text: `${formatSize(content.size)}${content.type ? `, ${content.type}` : ""}` }),
      save,
      show,
    ),
    status,
    preview,
  );
}
