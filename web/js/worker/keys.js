// A module worker that runs what is heavy off the page's thread: Argon2id (sign-in,
// registration, password change) inside its own instance of the client module. It gets the
// password and a non-extractable AES-GCM key (a CryptoKey: structured-cloneable, its bytes
// never readable), and answers with the signed-in account wrapped by that key
// (rememberAccount), which the page opens with resumeAccount: no key, token or derived secret
// crosses to the page in the clear. Its URL names the page's module (`?module=account` or
// `admin`, lib/device.js): both have these exports and the same wrapped format, and the
// browser's cache already holds the page's. The page starts one worker per request and ends it after
// the answer, so the worker's memory (the 64 MiB of Argon2id, the keys) goes with it.
//
// Request: {op: "login" | "register", username, password, key}
//          {op: "change", wrapped, key, password, newPassword}
// Answer:  {result: Uint8Array} (the wrapped account) or {error: {code, message}}
//          (lib/background.js).

import { answerRequests } from "../lib/background.js";
import { MODULES } from "../lib/wasm.js";

/** @typedef {Pick<import("../lib/wasm.js").AccountClient, "login" | "register" | "changePassword" | "rememberAccount" | "resumeAccount">} KeysModule */

/** @returns {Promise<KeysModule>} the module named by this worker's URL, initialised */
async function loadKeysModule() {
  const name = new URL(import.meta.url).searchParams.get("module");
  if (name !== "account" && name !== "admin") {
    throw Object.assign(new Error(`No keys module named ${name}.`), { code: "module.unavailable" });
  }
  try {
    const mod = await import(MODULES[name]);
    await mod.default();
    return mod;
  } catch (cause) {
    throw Object.assign(new Error("The encryption module could not start in the background. Reload the page."), { code: "module.unavailable", cause });
  }
}

const ready = loadKeysModule();
// Reported with the first request (lib/background.js), not as an unhandled rejection.
ready.catch(() => {});

/**
 * @typedef {object} KeysRequest
 * @property {"login" | "register" | "change"} op
 * @property {string} [username]
 * @property {string} password the password (login, register) or the current one (change)
 * @property {string} [newPassword] change only
 * @property {Uint8Array} [wrapped] change only: the signed-in account, wrapped
 * @property {CryptoKey} key the wrapping key
 */

/** @param {KeysRequest} request */
async function run(request) {
  const { login, register, changePassword, rememberAccount, resumeAccount } = await ready;
  const account =
    request.op === "login"
      ? await login(request.username || "", request.password)
      : request.op === "register"
        ? await register(request.username || "", request.password)
        : await resumeAccount(request.wrapped || new Uint8Array(), request.key);
  try {
    if (request.op === "change") await changePassword(account, request.password, request.newPassword || "");
    return await rememberAccount(account, request.key);
  } finally {
    // Drops the keys in this instance; the session stays for the page.
    account.free();
  }
}

answerRequests(run);
