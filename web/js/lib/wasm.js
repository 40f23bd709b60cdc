// Loads the client module (web/pkg, produced by wasm-bindgen) once per page.
// Every key stays inside it; pages get views, links, ids and fingerprints.
//
// Two builds of it (scripts/build-web.sh): "full", every export (the support tab and the
// panel), and "reporter", the anonymous reporter's exports only (createTicket, openTicket and
// the ticket handle's), less to download for /help/ticket/new and /help/ticket/{id}. A page
// names the one it needs: loadClient("reporter"); loadClient() is the full one.
//
// The types below come from the module's TypeScript declarations (web/pkg/*/sealdesk_client.d.ts,
// generated from the Rust views and inputs); `tsc --checkJs` checks the pages against them.

/** @typedef {typeof import("../../pkg/full/sealdesk_client.js")} Client the full module */
/** @typedef {typeof import("../../pkg/reporter/sealdesk_client.js")} ReporterClient the reporter's module */
/** @typedef {import("../../pkg/full/sealdesk_client.js").TicketHandle} TicketHandle */
/** @typedef {import("../../pkg/full/sealdesk_client.js").AccountHandle} AccountHandle */
/** @typedef {import("../../pkg/full/sealdesk_client.js").AdminHandle} AdminHandle */
/** @typedef {import("../../pkg/full/sealdesk_client.js").TicketView} TicketView */
/** @typedef {import("../../pkg/full/sealdesk_client.js").MessageView} MessageView */
/** @typedef {import("../../pkg/full/sealdesk_client.js").ContentView} ContentView */
/** @typedef {import("../../pkg/full/sealdesk_client.js").PinnedHead} PinnedHead */
/** @typedef {import("../../pkg/full/sealdesk_client.js").Settings} Settings */
/** @typedef {import("../../pkg/full/sealdesk_client.js").SettingsAnswer} SettingsAnswer */
/** @typedef {import("../../pkg/full/sealdesk_client.js").AdminMailPreferences} AdminMailPreferences */
/** @typedef {import("../../pkg/full/sealdesk_client.js").OpeningInput} OpeningInput */
/** @typedef {import("../../pkg/full/sealdesk_client.js").LiveEvent} LiveEvent */
/** @typedef {import("../../pkg/full/sealdesk_client.js").DownloadedAttachment} DownloadedAttachment */
/** @typedef {Error & {code?: string, cause?: unknown}} CodedError an Error with a stable `code` */

const MODULES = {
  full: "/pkg/full/sealdesk_client.js",
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
 * @param {"full"} [which]
 * @returns {Promise<Client>}
 */
/**
 * @param {"full" | "reporter"} [which]
 * @returns {Promise<Client | ReporterClient>}
 */
export function loadClient(which = "full") {
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
