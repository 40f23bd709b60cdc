// A module worker that runs what is heavy off the page's thread: Argon2id (sign-in,
// registration, password change) inside its own instance of the client module. It gets the
// password and a non-extractable AES-GCM key (a CryptoKey: structured-cloneable, its bytes
// never readable), and answers with the signed-in account wrapped by that key
// (rememberAccount), which the page opens with resumeAccount: no key, token or derived secret
// crosses to the page in the clear. The page starts one worker per request and ends it after
// the answer, so the worker's memory (the 64 MiB of Argon2id, the keys) goes with it.
//
// Request: {op: "login" | "register", username, password, key}
//          {op: "change", wrapped, key, password, newPassword}
// Answer:  {result: Uint8Array} (the wrapped account) or {error: {code, message}}
//          (lib/background.js).

import init, { login, register, changePassword, rememberAccount, resumeAccount } from "../../pkg/full/sealdesk_client.js";
import { answerRequests } from "../lib/background.js";

const ready = init();

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
  await ready;
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
