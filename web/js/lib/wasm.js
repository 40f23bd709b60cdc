// Loads the client module (web/pkg, produced by wasm-bindgen) once per page.
// Every key stays inside it; pages get views, links, ids and fingerprints.
//
// Three builds of it (scripts/build-web.sh), one per kind of page, each with only the exports
// that page calls: "reporter" (createTicket, openTicket and the ticket handle's) for
// /help/ticket/new and /help/ticket/{id}; "account" (those, the sign-in and the account's
// tickets) for the support tab /help; "admin" (those, the sign-in and the panel's) for /admin.
// A page names the one it loads: loadClient("account"). The keys worker (js/worker/keys.js)
// loads its page's one, so the browser fetches one module per page.
//
// The types below come from the modules' TypeScript declarations (web/pkg/*/sealdesk_client.d.ts,
// generated from the Rust views and inputs); `tsc --checkJs` checks the pages against them. The
// views and the ticket handle are the same in every module: their types come from the reporter's.

/** @typedef {typeof import("../../pkg/account/sealdesk_client.js")} AccountClient the support tab's module */
/** @typedef {typeof import("../../pkg/admin/sealdesk_client.js")} AdminClient the panel's module */
/** @typedef {typeof import("../../pkg/reporter/sealdesk_client.js")} ReporterClient the reporter's module */
/** @typedef {"account" | "admin" | "reporter"} ModuleName */
/**
 * What every module has: the ticket handle's exports (shared libraries take this).
 * @typedef {Pick<ReporterClient, "view" | "refresh" | "reply" | "close" | "uploadAttachment" | "downloadAttachment" | "listen" | "stopListening" | "unreadAnswers" | "keptState" | "encryptedLen" | "largestAttachment" | "verifiedDirectory">} TicketClient
 */
/** @typedef {import("../../pkg/reporter/sealdesk_client.js").TicketHandle} TicketHandle */
/** @typedef {import("../../pkg/account/sealdesk_client.js").AccountHandle} AccountHandle */
/** @typedef {import("../../pkg/admin/sealdesk_client.js").AdminHandle} AdminHandle */
/** @typedef {import("../../pkg/reporter/sealdesk_client.js").TicketView} TicketView */
/** @typedef {import("../../pkg/reporter/sealdesk_client.js").MessageView} MessageView */
/** @typedef {import("../../pkg/reporter/sealdesk_client.js").ContentView} ContentView */
/** @typedef {import("../../pkg/reporter/sealdesk_client.js").PinnedHead} PinnedHead */
/** @typedef {import("../../pkg/admin/sealdesk_client.js").Settings} Settings */
/** @typedef {import("../../pkg/admin/sealdesk_client.js").SettingsAnswer} SettingsAnswer */
/** @typedef {import("../../pkg/admin/sealdesk_client.js").AdminMailPreferences} AdminMailPreferences */
/** @typedef {import("../../pkg/reporter/sealdesk_client.js").OpeningInput} OpeningInput */
/** @typedef {import("../../pkg/reporter/sealdesk_client.js").LiveEvent} LiveEvent */
/** @typedef {import("../../pkg/reporter/sealdesk_client.js").DownloadedAttachment} DownloadedAttachment */
/** @typedef {Error & {code?: string, cause?: unknown}} CodedError an Error with a stable `code` */

/** The path of each module's script (web/pkg/NAME/, served under /pkg/NAME/). */
export const MODULES = {
  account: "/pkg/account/sealdesk_client.js",
  admin: "/pkg/admin/sealdesk_client.js",
  reporter: "/pkg/reporter/sealdesk_client.js",
};

/** @type {Map<string, Promise<any>>} */
const loading = new Map();

/**
 * The initialised module's exports. Rejects with an Error whose code is "module.unavailable".
 * @overload
 * @param {"reporter"} which
 * @returns {Promise<ReporterClient>}
 */
/**
 * @overload
 * @param {"account"} which
 * @returns {Promise<AccountClient>}
 */
/**
 * @overload
 * @param {"admin"} which
 * @returns {Promise<AdminClient>}
 */
/**
 * @param {ModuleName} which
 * @returns {Promise<AccountClient | AdminClient | ReporterClient>}
 */
export function loadClient(which) {
  const path = MODULES[which];
  if (!path) throw new Error(`No client module named ${which}.`);
  let module = loading.get(which);
  if (!module) {
    module = (async () => {
      try {
        const mod = await import(path);
        await mod.default();
        return mod;
      } catch (cause) {
        /** @type {CodedError} */
        const error = new Error(
          "The encryption module could not be loaded. Reload the page; if it keeps failing, " +
            "this browser may not support WebAssembly.",
        );
        error.code = "module.unavailable";
        error.cause = cause;
        throw error;
      }
    })();
    loading.set(which, module);
  }
  return module;
}
