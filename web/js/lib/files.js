// Attachments: choosing files (with previews and a size check against the instance's
// limit, before anything is encrypted or sent), uploading with progress, downloading. The size
// rules (how large a file's encrypted stream is) are the module's: encryptedLen and
// largestAttachment.

import { h, replace, announce, uid, downloadBlob, objectUrl, revokeObjectUrl } from "./dom.js";
import { formatSize } from "./format.js";

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
 * A file chooser: an <input type="file" multiple> and a list of the chosen files with
 * previews of images, sizes, a warning for files over the limit and a Remove button each.
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
    /** @type {{file: File, url: string | null, error: string | null}[]} */
    this.items = [];
    input.addEventListener("change", async () => {
      const chosen = [...(input.files || [])];
      const rules = await this.rules;
      const added = chosen.map((file) => this.item(file, rules));
      this.items.push(...added);
      input.value = "";
      this.render();
      const bad = added.filter((i) => i.error).length;
      announce(
        `${added.length} file${added.length === 1 ? "" : "s"} added` +
          (bad ? `; ${bad} too large and will not be sent.` : "."),
      );
    });
  }

  /**
   * @param {File} file
   * @param {SizeRules} rules
   */
  item(file, rules) {
    const limit = this.maxBytes();
    const tooLarge = rules.encryptedLen(file.size) > limit;
    return {
      file,
      url: PREVIEWABLE.has(file.type) && !tooLarge ? objectUrl(file) : null,
      error: tooLarge
        ? `Too large: ${formatSize(file.size)}. With encryption, this support desk accepts files up to ${formatSize(rules.largestAttachment(limit))}.`
        : null,
    };
  }

  /** The files that will be sent. */
  files() {
    return this.items.filter((i) => !i.error).map((i) => i.file);
  }

  hasTooLarge() {
    return this.items.some((i) => i.error);
  }

  clear() {
    for (const i of this.items) if (i.url) revokeObjectUrl(i.url);
    this.items = [];
    this.render();
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
