// The pinned administrator-directory head of this instance (public: {"seq", "hash"}).
// Every page gives it to the module so the server cannot roll the directory back or fork
// it between visits, and keeps the newest one the module verified.

import { kvGet, kvSet, kvDelete } from "./store.js";

const KEY = "directory-head";

function seqOf(json) {
  try {
    const head = JSON.parse(json);
    return Number.isInteger(head.seq) ? head.seq : -1;
  } catch {
    return -1;
  }
}

/** The stored head as a JSON string, or undefined. */
export async function loadHead() {
  try {
    const head = await kvGet(KEY);
    return typeof head === "string" && seqOf(head) >= 0 ? head : undefined;
  } catch {
    return undefined;
  }
}

/** Keeps the handle's head if it is newer than the stored one. */
export async function rememberHead(handle) {
  let head;
  try {
    head = handle && handle.pinnedHead();
  } catch {
    return;
  }
  if (typeof head !== "string") return;
  try {
    const stored = await kvGet(KEY);
    if (typeof stored !== "string" || seqOf(head) > seqOf(stored)) await kvSet(KEY, head);
  } catch {
    // No storage: the pin lasts for this page only.
  }
}

/** Gives a handle the stored head (a head that does not parse is dropped). */
export async function applyHead(handle) {
  const head = await loadHead();
  if (!head) return;
  try {
    handle.setPinnedHead(head);
  } catch (error) {
    if (error && error.code === "input.invalid") await forgetHead();
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
