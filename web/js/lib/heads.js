// The pinned administrator-directory head of this instance (public: {seq, hash}).
// Every page gives it to the module so the server cannot roll the directory back or fork
// it between visits, and keeps the newest one the module verified.

import { kvGet, kvSet, kvDelete } from "./store.js";

/** @typedef {import("./wasm.js").PinnedHead} PinnedHead */
/** @typedef {{pinnedHead(): PinnedHead | undefined, setPinnedHead(head: PinnedHead): void}} Pinned */

const KEY = "directory-head";

/**
 * A stored head: an object, or the JSON text earlier versions of the pages stored.
 * @param {unknown} stored
 * @returns {PinnedHead | undefined}
 */
function headOf(stored) {
  let head = stored;
  if (typeof stored === "string") {
    try {
      head = JSON.parse(stored);
    } catch {
      return undefined;
    }
  }
  if (!head || typeof head !== "object") return undefined;
  const { seq, hash } = /** @type {{seq?: unknown, hash?: unknown}} */ (head);
  return Number.isInteger(seq) && typeof hash === "string" ? { seq: /** @type {number} */ (seq), hash } : undefined;
}

/**
 * The stored head, or undefined.
 * @returns {Promise<PinnedHead | undefined>}
 */
export async function loadHead() {
  try {
    return headOf(await kvGet(KEY));
  } catch {
    return undefined;
  }
}

/**
 * Keeps the handle's head if it is newer than the stored one.
 * @param {Pinned | null | undefined} handle
 */
export async function rememberHead(handle) {
  let head;
  try {
    head = handle && handle.pinnedHead();
  } catch {
    return;
  }
  if (!head) return;
  try {
    const stored = headOf(await kvGet(KEY));
    if (!stored || head.seq > stored.seq) await kvSet(KEY, head);
  } catch {
    // No storage: the pin lasts for this page only.
  }
}

/**
 * Gives a handle the stored head (a head that does not parse is dropped).
 * @param {Pinned} handle
 */
export async function applyHead(handle) {
  const head = await loadHead();
  if (!head) return;
  try {
    handle.setPinnedHead(head);
  } catch (error) {
    if (error && /** @type {{code?: string}} */ (error).code === "input.invalid") await forgetHead();
    else throw error;
  }
}

/** Forgets the stored head (only when the person asks, after a reinstall of the instance). */
export async function forgetHead() {
  try {
    await kvDelete(KEY);
  } catch {
    // nothing stored
  }
}
