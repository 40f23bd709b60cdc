// The panel's search over every ticket, and the tags of each (issue 14 items 6 and 7).
//
// The index (the module's SearchIndex, client-wasm/src/search.rs) lives in this page: it is
// built by reading every ticket the administrator can read (the inbox with no status filter,
// page after page; each ticket verified and decrypted like an opened one), kept up to date
// from the inbox's live events (a message on either chain re-reads that ticket), and, on a
// remembered device, kept in IndexedDB ("kv", `search:<key id>`) sealed with AES-256-GCM under
// the device's non-extractable wrapping key (lib/device.js), so a reload reads only what
// changed since. Without "Remember this device" it is rebuilt at each sign-in and never
// stored. Sign out, the idle lock and "Sign out everywhere" delete it. The query never leaves
// this page: nothing here sends it anywhere.

import { h, replace } from "../lib/dom.js";
import { kvGet, kvSet, kvDelete, keptKey } from "../lib/store.js";
import { codeOf } from "../lib/errors.js";
import { plural } from "../lib/format.js";

/** @typedef {import("../lib/wasm.js").AdminClient} AdminClient */
/** @typedef {import("../lib/wasm.js").AdminHandle} AdminHandle */
/** @typedef {import("../lib/wasm.js").TicketView} TicketView */
/** @typedef {import("../../pkg/admin/sealdesk_client.js").SearchIndex} Index */
/**
 * What the index keeps of a ticket (SearchIndex.put's arguments).
 * @typedef {object} SearchDocument
 * @property {string} ticket_id
 * @property {number} stamp
 * @property {string[]} fields subject, name, email, category
 * @property {string[]} tags
 * @property {string[]} texts
 */
/** @typedef {import("../../pkg/admin/sealdesk_client.js").SearchHit} SearchHit */

/** Results shown for a query. */
const RESULT_LIMIT = 20;
/** Quiet time before the index is sealed and stored again after a change, milliseconds. */
const SAVE_DELAY_MS = 2_000;
/** Wait after the server's rate limit refused a read, milliseconds. */
const RATE_LIMIT_WAIT_MS = 10_000;

/** The "kv" key of the sealed index of the administrator `keyId`. */
const storeKey = (/** @type {string} */ keyId) => `search:${keyId}`;

/**
 * The document the index keeps of a ticket: what an administrator can read of it. `stamp` is
 * the server's time of its newest message on either chain (received_at), comparable with the
 * inbox's `last_activity`.
 * @param {TicketView} view an administrator's view
 * @returns {SearchDocument}
 */
export function documentOf(view) {
  const o = view.opening || {};
  /** @type {string[]} */
  const texts = [];
  let stamp = 0;
  for (const m of [...view.messages, ...(view.notes || [])]) {
    stamp = Math.max(stamp, m.received_at || 0);
    const c = m.content;
    if (!c) continue;
    if ((m.kind === "message" || m.kind === "internal_note") && c.text) texts.push(c.text);
    else if (m.kind === "attachment" && c.name) texts.push(c.name);
  }
  return {
    ticket_id: view.ticket_id,
    stamp,
    fields: [o.subject || "", o.name || "", o.email || "", o.category || ""],
    tags: view.tags || [],
    texts,
  };
}

/**
 * Puts `doc` into `index`.
 * @param {Index} index
 * @param {SearchDocument} doc
 */
function put(index, doc) {
  index.put(doc.ticket_id, doc.stamp, doc.fields, doc.tags, doc.texts);
}

/**
 * The search and the tags of every ticket, for the signed-in administrator.
 */
export class DeskIndex {
  /**
   * @param {object} options
   * @param {AdminClient} options.client
   * @param {AdminHandle} options.admin
   * @param {CryptoKey | null} options.deviceKey the remembered device's wrapping key; null:
   *   the index stays in this page only
   * @param {() => void} options.onChange called after documents change (tags, counts)
   */
  constructor({ client, admin, deviceKey, onChange }) {
    this.client = client;
    this.admin = admin;
    this.deviceKey = deviceKey;
    this.onChange = onChange;
    /** @type {Index} */
    this.index = new client.SearchIndex();
    /** Ticket ids waiting to be read again (live events). */
    this.queue = new Set();
    this.reading = false;
    this.building = false;
    this.stopped = false;
    /** @type {{done: number, total: number} | null} the build's progress */
    this.progress = null;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.saveTimer = undefined;
  }

  /** Opens the index this device keeps (a damaged or foreign one is dropped and rebuilt). */
  async load() {
    if (!this.deviceKey) return;
    const sealed = await kvGet(storeKey(this.admin.keyId)).catch(() => null);
    if (!(sealed instanceof Uint8Array)) return;
    try {
      const opened = await this.client.SearchIndex.open(sealed, this.deviceKey, this.admin.keyId);
      this.index.free();
      this.index = opened;
    } catch {
      await kvDelete(storeKey(this.admin.keyId)).catch(() => {});
    }
  }

  /** Seals and stores the index soon (remembered devices only). */
  scheduleSave() {
    if (!this.deviceKey || this.stopped) return;
    clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(() => this.save(), SAVE_DELAY_MS);
  }

  /** Seals and stores the index now (remembered devices only). */
  async save() {
    clearTimeout(this.saveTimer);
    if (!this.deviceKey || this.stopped) return;
    const sealed = await this.index.seal(this.deviceKey, this.admin.keyId);
    if (!this.stopped) await kvSet(storeKey(this.admin.keyId), sealed).catch(() => {});
  }

  /**
   * Reads one ticket (verified from the state kept for it, which it then extends, as the
   * ticket view does) and puts its document. A ticket that no longer exists leaves the index.
   * @param {string} ticketId
   * @returns {Promise<TicketView | null>}
   */
  async read(ticketId) {
    const keptAt = keptKey("admin", this.admin.keyId, ticketId);
    for (;;) {
      let handle;
      try {
        const kept = await kvGet(keptAt).catch(() => null);
        handle = await this.client.openAdminTicket(this.admin, ticketId, typeof kept === "string" ? kept : null);
        await kvSet(keptAt, await this.client.keptState(handle)).catch(() => {});
        const view = await this.client.view(handle);
        if (!this.stopped) put(this.index, documentOf(view));
        return view;
      } catch (error) {
        const code = codeOf(error);
        if (code === "server.rate_limited" && !this.stopped) {
          await new Promise((resolve) => setTimeout(resolve, RATE_LIMIT_WAIT_MS));
          continue;
        }
        if (code === "server.not_found") this.index.remove(ticketId);
        // A ticket that does not verify is not searched; the inbox shows its warning.
        return null;
      } finally {
        if (handle) handle.free();
      }
    }
  }

  /**
   * Brings the index up to date with every ticket the inbox lists (no status filter, every
   * page): reads those it lacks or that changed since (`last_activity` after its stamp),
   * drops those no longer listed. `onProgress` gets the count done and the total.
   * @param {(done: number, total: number) => void} [onProgress]
   */
  async catchUp(onProgress) {
    if (this.building) return;
    this.building = true;
    try {
      /** @type {Map<string, number>} */
      const listed = new Map();
      // Every ticket, page after page by the server's cursor (spec/API.md, "Inbox"), so tickets
      // that move while the pages are read are neither skipped nor read twice.
      /** @type {string | undefined} */
      let cursor;
      for (;;) {
        const answer = await this.client.inbox(this.admin, "all", 0, "any", "newest", cursor);
        for (const t of answer.tickets) listed.set(t.ticket_id, t.last_activity);
        if (!answer.more || !answer.next_cursor || this.stopped) break;
        cursor = answer.next_cursor;
      }
      const stale = [...listed].filter(([id, activity]) => {
        const stamp = this.index.stampOf(id);
        return stamp === undefined || activity > stamp;
      });
      let removed = 0;
      for (const id of this.index.ticketIds()) {
        if (!listed.has(id) && this.index.remove(id)) removed += 1;
      }
      this.progress = { done: 0, total: stale.length };
      if (onProgress) onProgress(0, stale.length);
      for (const [id] of stale) {
        if (this.stopped) return;
        await this.read(id);
        this.progress.done += 1;
        if (onProgress) onProgress(this.progress.done, stale.length);
        if (this.progress.done % 10 === 0) this.onChange();
      }
      if (stale.length || removed) {
        this.onChange();
        await this.save();
      }
    } finally {
      this.building = false;
      this.progress = null;
    }
  }

  /**
   * A live event of the inbox stream: a message on either chain of a ticket makes it be read
   * again; a "resync" (missed events) catches up with the whole inbox.
   * @param {import("../lib/wasm.js").LiveEvent} event
   */
  noteEvent(event) {
    if (this.stopped || !event) return;
    if (event.event === "message" && event.ticket) {
      this.queue.add(event.ticket);
      this.drain();
    } else if (event.event === "resync") {
      this.catchUp().catch(() => {});
    }
  }

  /** Reads the queued tickets, one at a time. */
  async drain() {
    if (this.reading) return;
    this.reading = true;
    try {
      while (this.queue.size && !this.stopped) {
        const [id] = this.queue;
        this.queue.delete(id);
        await this.read(id);
        this.onChange();
        this.scheduleSave();
      }
    } finally {
      this.reading = false;
    }
  }

  /**
   * Puts what the panel just saw of a ticket (after a reply, a note or a tags change).
   * @param {TicketView} view
   */
  update(view) {
    if (this.stopped) return;
    put(this.index, documentOf(view));
    this.onChange();
    this.scheduleSave();
  }

  /**
   * A ticket was deleted.
   * @param {string} ticketId
   */
  forgetTicket(ticketId) {
    if (this.index.remove(ticketId)) this.scheduleSave();
  }

  /**
   * @param {string} query
   * @returns {SearchHit[]}
   */
  search(query) {
    return this.index.search(query, RESULT_LIMIT);
  }

  /**
   * The tags of a ticket, as last read ([] when not indexed).
   * @param {string} ticketId
   * @returns {string[]}
   */
  tagsOf(ticketId) {
    return this.index.tagsOf(ticketId);
  }

  /** Every tag in use, sorted, with how many tickets carry it. */
  allTags() {
    /** @type {Map<string, number>} */
    const counts = new Map();
    for (const id of this.index.ticketIds()) {
      for (const tag of this.tagsOf(id)) counts.set(tag, (counts.get(tag) || 0) + 1);
    }
    return [...counts].sort(([a], [b]) => (a < b ? -1 : 1));
  }

  /** Stops reading and drops the index from this page (not from IndexedDB). */
  stop() {
    this.stopped = true;
    clearTimeout(this.saveTimer);
    this.queue.clear();
    try {
      this.index.free();
    } catch {
      // freed already
    }
  }
}

/**
 * Deletes every index this browser keeps (Sign out, the idle lock, Sign out everywhere).
 * @param {string | null | undefined} keyId the administrator's key id
 */
export async function forgetIndex(keyId) {
  if (keyId) await kvDelete(storeKey(keyId)).catch(() => {});
}

/**
 * The search box's results: each ticket with the field and snippet that matched.
 * @param {HTMLElement} list
 * @param {SearchHit[]} hits
 * @param {(ticketId: string) => void} open
 */
export function renderHits(list, hits, open) {
  const FIELD = { subject: "Subject", tags: "Tag", name: "Name", email: "Email", category: "Category", text: "Message or note" };
  replace(
    list,
    hits.map((hit) =>
      h(
        "li",
        null,
        h(
          "div",
          { class: "summary" },
          h("div", { class: "title" }, h("button", { type: "button", class: "link", "data-ticket": hit.ticket_id, text: hit.subject || "(no subject)", onclick: () => open(hit.ticket_id) })),
          h("p", { class: "small search-snippet" }, h("span", { class: "muted", text: `${FIELD[hit.field] || "Text"}: ` }), hit.snippet),
        ),
      ),
    ),
  );
}

/**
 * The index's state in words.
 * @param {DeskIndex} desk
 */
export function indexState(desk) {
  if (desk.progress && desk.progress.total) return `Reading tickets for the search: ${desk.progress.done} of ${desk.progress.total}…`;
  return `${plural(desk.index.size, "ticket", "tickets")} searchable in this browser.`;
}
