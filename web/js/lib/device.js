// Signing in off the page's thread, and remembering this device (spec/THREAT-MODEL.md,
// "Remembered devices").
//
// Every sign-in, registration and password change runs Argon2id in a module worker
// (js/worker/keys.js), which hands the account back wrapped by an AES-GCM key made here with
// `extractable: false`: the page opens it with the module's resumeAccount, so neither the
// derived keys nor the session token cross in the clear, and the page keeps animating while
// the worker derives.
//
// When the person ticks "Remember this device", that key (a CryptoKey object: IndexedDB stores
// it, nobody can read its bytes) and the wrapped account are kept in IndexedDB ("kv",
// `device:<page>`), so a reload or a new browser start reopens the page signed in. "Sign out"
// and the idle lock delete them; after a lock only the username and "locked" stay, so the next
// page asks for the password.

import { kvGet, kvSet, kvDelete } from "./store.js";
import { loadClient } from "./wasm.js";
import { inWorker } from "./background.js";

/** @typedef {import("./wasm.js").AccountHandle} AccountHandle */
/** @typedef {"help" | "admin"} DevicePage the page a record belongs to */

/** The module each page loads (lib/wasm.js), in the page and in its keys worker. */
const MODULE_OF_PAGE = /** @type {const} */ ({ help: "account", admin: "admin" });

/**
 * The module of `page`, initialised.
 * @param {DevicePage} page
 */
function pageClient(page) {
  return page === "admin" ? loadClient(MODULE_OF_PAGE.admin) : loadClient(MODULE_OF_PAGE.help);
}
/**
 * What a page keeps in IndexedDB.
 * @typedef {object} DeviceRecord
 * @property {string} username
 * @property {CryptoKey} [key] the non-extractable wrapping key (absent once locked)
 * @property {Uint8Array} [wrapped] the account, wrapped (absent once locked)
 * @property {boolean} [locked] the idle lock ended the sign-in: ask for the password
 */
/**
 * A sign-in in this page: its handle, and the account wrapped for the next worker (a password
 * change) with the key that opens it.
 * @typedef {object} SignIn
 * @property {AccountHandle} handle
 * @property {CryptoKey} key
 * @property {Uint8Array} wrapped
 * @property {boolean} remembered whether IndexedDB keeps it
 */

const recordKey = (/** @type {DevicePage} */ page) => `device:${page}`;

/** A new AES-256-GCM key whose bytes nobody can export. */
function newWrappingKey() {
  return crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
}

/**
 * Runs one request in a new keys worker, with `page`'s module (`?module=`: the one the page
 * has loaded, so the browser fetches it once).
 * @param {DevicePage} page
 * @param {import("../worker/keys.js").KeysRequest} request
 * @returns {Promise<Uint8Array>}
 */
function keysInWorker(page, request) {
  const url = new URL("../worker/keys.js", import.meta.url);
  url.searchParams.set("module", MODULE_OF_PAGE[page]);
  return inWorker(url, request);
}

/**
 * Signs in (`op: "login"`) or registers (`"register"`) in a worker and opens the account in
 * this page; with `remember`, keeps it in IndexedDB for `page`.
 * @param {object} options
 * @param {"login" | "register"} options.op
 * @param {string} options.username
 * @param {string} options.password
 * @param {boolean} options.remember
 * @param {DevicePage} options.page
 * @returns {Promise<SignIn>}
 */
export async function signInOffThread({ op, username, password, remember, page }) {
  const key = await newWrappingKey();
  const wrapped = await keysInWorker(page, { op, username, password, key });
  const handle = await (await pageClient(page)).resumeAccount(wrapped, key);
  if (remember) await kvSet(recordKey(page), { username: handle.username, key, wrapped });
  else await kvDelete(recordKey(page)).catch(() => {});
  return { handle, key, wrapped, remembered: remember };
}

/**
 * Changes the password in a worker (which opens `signIn`'s wrapped account, proves the current
 * password and re-seals the keyring under the new one); the page's handle stays signed in and
 * `signIn.wrapped` (and the remembered copy) carry the new salt for the next change.
 * @param {SignIn} signIn
 * @param {DevicePage} page
 * @param {string} current
 * @param {string} next
 */
export async function changePasswordOffThread(signIn, page, current, next) {
  const wrapped = await keysInWorker(page, { op: "change", wrapped: signIn.wrapped, key: signIn.key, password: current, newPassword: next });
  signIn.wrapped = wrapped;
  if (signIn.remembered) await kvSet(recordKey(page), { username: signIn.handle.username, key: signIn.key, wrapped });
}

/**
 * What this device keeps for `page`, or null.
 * @param {DevicePage} page
 * @returns {Promise<DeviceRecord | null>}
 */
export async function rememberedDevice(page) {
  const record = await kvGet(recordKey(page)).catch(() => null);
  return record && typeof record.username === "string" ? record : null;
}

/**
 * Opens the account a remembered device keeps (no password, no request). Rejects with the
 * module's `device.*` codes; the caller then forgets the device.
 * @param {DevicePage} page
 * @param {DeviceRecord} record
 * @returns {Promise<SignIn>}
 */
export async function resumeRemembered(page, record) {
  if (!record.key || !record.wrapped) throw Object.assign(new Error("This device is locked."), { code: "device.locked" });
  const handle = await (await pageClient(page)).resumeAccount(record.wrapped, record.key);
  return { handle, key: record.key, wrapped: record.wrapped, remembered: true };
}

/**
 * Forgets the device for `page` (Sign out): the wrapped keys and the token go.
 * @param {DevicePage} page
 */
export async function forgetDevice(page) {
  await kvDelete(recordKey(page)).catch(() => {});
}

/**
 * The idle lock: the wrapped keys and the token go; only the username and "locked" stay, so
 * the next page asks for the password (and offers to remember the device again).
 * @param {DevicePage} page
 * @param {string} username
 */
export async function lockDevice(page, username) {
  await kvSet(recordKey(page), { username, locked: true }).catch(() => {});
}

/** The idle lock's delay when the instance sets none, minutes (spec/API.md). */
export const DEFAULT_IDLE_LOCK_MINUTES = 30;
/** What counts as activity for the idle lock. */
const ACTIVITY = ["pointerdown", "pointermove", "keydown", "wheel", "touchstart", "scroll"];
/** The channel on which this origin's tabs tell each other of activity. */
const ACTIVITY_CHANNEL = "sealdesk:activity";
/** At most one activity message per this many milliseconds. */
const SHARE_EVERY_MS = 5_000;
/** How often the idle lock looks at the clock, milliseconds. */
const IDLE_CHECK_MS = 5_000;

/**
 * Calls `onLock` once after `minutes` without a key press, click, touch or scroll in this
 * page or another tab of this origin. Returns a function that stops it.
 * @param {number | null | undefined} minutes the instance's setting (absent: 30)
 * @param {() => void} onLock
 * @returns {() => void}
 */
export function startIdleLock(minutes, onLock) {
  const limit = (minutes && minutes > 0 ? minutes : DEFAULT_IDLE_LOCK_MINUTES) * 60_000;
  let lastActive = Date.now();
  // Tabs of one remembered sign-in share its session: activity in any of them keeps all open,
  // so an idle background tab does not end the session of the one in use.
  const channel = "BroadcastChannel" in globalThis ? new BroadcastChannel(ACTIVITY_CHANNEL) : null;
  let lastShared = 0;
  if (channel) {
    channel.onmessage = () => {
      lastActive = Date.now();
    };
  }
  const active = () => {
    lastActive = Date.now();
    if (channel && lastActive - lastShared >= SHARE_EVERY_MS) {
      lastShared = lastActive;
      channel.postMessage("active");
    }
  };
  for (const type of ACTIVITY) window.addEventListener(type, active, { capture: true, passive: true });
  const check = () => {
    if (Date.now() - lastActive >= limit) {
      stop();
      onLock();
    }
  };
  // A laptop that slept for an hour is checked as soon as the page shows again.
  document.addEventListener("visibilitychange", check);
  const timer = setInterval(check, IDLE_CHECK_MS);
  function stop() {
    clearInterval(timer);
    if (channel) channel.close();
    document.removeEventListener("visibilitychange", check);
    for (const type of ACTIVITY) window.removeEventListener(type, active, { capture: true });
  }
  return stop;
}
