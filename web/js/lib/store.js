// Local storage in IndexedDB (this browser, this instance's origin only).
//
// - "tickets": anonymous ticket links, kept ONLY when the person chooses "Save in this
//   browser" ({ticket_id, link, subject, saved_at, last_seen, kept}); `kept` is the verified
//   conversation state (keptState(), base64url) the next visit must extend (PROTOCOL.md §10.4).
// - "kv": small public or local state: the pinned administrator-directory head of this
//   instance, the last seen message per account ticket, the closed tickets an account holder
//   removed from the list, names the panel learned for administrator keys, and the verified
//   state of each ticket an account holder or administrator opened (keptKey()), and the key a
//   recovery made in this browser for a ticket (recoveredKey(): {ticket_id, fingerprint, seed,
//   reader, kept}; the seed and reader token are its access, kept as a saved link would be).

const DB_NAME = "sealdesk";
const DB_VERSION = 1;
let opening = null;

function open() {
  if (!opening) {
    opening = new Promise((resolve, reject) => {
      if (!("indexedDB" in globalThis)) {
        reject(new Error("This browser has no local storage (IndexedDB)."));
        return;
      }
      const request = indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = () => {
        const db = request.result;
        if (!db.objectStoreNames.contains("tickets")) {
          db.createObjectStore("tickets", { keyPath: "ticket_id" });
        }
        if (!db.objectStoreNames.contains("kv")) db.createObjectStore("kv");
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error || new Error("IndexedDB cannot be opened."));
      request.onblocked = () => reject(new Error("IndexedDB is blocked by another tab."));
    });
    opening.catch(() => {
      opening = null;
    });
  }
  return opening;
}

async function run(storeName, mode, action) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(storeName, mode);
    const request = action(tx.objectStore(storeName));
    tx.oncomplete = () => resolve(request ? request.result : undefined);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error("The storage transaction was aborted."));
  });
}

export function kvGet(key) {
  return run("kv", "readonly", (s) => s.get(key));
}

export function kvSet(key, value) {
  return run("kv", "readwrite", (s) => s.put(value, key));
}

export function kvDelete(key) {
  return run("kv", "readwrite", (s) => s.delete(key));
}

/** Saved anonymous tickets, newest first. */
export async function savedTickets() {
  const all = await run("tickets", "readonly", (s) => s.getAll());
  return (all || []).sort((a, b) => (b.saved_at || 0) - (a.saved_at || 0));
}

export function savedTicket(ticketId) {
  return run("tickets", "readonly", (s) => s.get(ticketId));
}

export function saveTicket(record) {
  return run("tickets", "readwrite", (s) => s.put(record));
}

export function forgetTicket(ticketId) {
  return run("tickets", "readwrite", (s) => s.delete(ticketId));
}

/** Updates fields of a saved ticket, if it is saved. */
export async function updateSavedTicket(ticketId, changes) {
  const record = await savedTicket(ticketId);
  if (!record) return false;
  await saveTicket({ ...record, ...changes });
  return true;
}

/**
 * The "kv" key of the verified state kept for a ticket (PROTOCOL.md §10.4): per account id or
 * administrator key id (`owner`), so that two people on one browser keep apart.
 * @param {"account" | "admin"} role
 * @param {string} owner
 * @param {string} ticketId
 */
export function keptKey(role, owner, ticketId) {
  return `kept:${role}:${owner}:${ticketId}`;
}

/**
 * The "kv" key of the key a recovery ("resend access link") made in this browser for a ticket.
 * @param {string} ticketId
 */
export function recoveredKey(ticketId) {
  return `recovered:${ticketId.toLowerCase()}`;
}
