// Loads the client module (web/pkg, produced by wasm-bindgen) once per page.
// Every key stays inside it; pages get views, links, ids and fingerprints.
//
// Two builds of it (scripts/build-web.sh): "full", every export (the support tab and the
// panel), and "reporter", the anonymous reporter's exports only (createTicket, openTicket and
// the ticket handle's), less to download for /help/ticket/new and /help/ticket/{id}. A page
// names the one it needs: loadClient("reporter"); loadClient() is the full one.

const MODULES = {
  full: "/pkg/full/sealdesk_client.js",
  reporter: "/pkg/reporter/sealdesk_client.js",
};

const loading = new Map();

/** The initialised module's exports. Rejects with an Error whose code is "module.unavailable". */
export function loadClient(which = "full") {
  const path = MODULES[which];
  if (!path) throw new Error(`No client module named ${which}.`);
  if (!loading.has(which)) {
    loading.set(
      which,
      (async () => {
        try {
          const mod = await import(path);
          await mod.default();
          return mod;
        } catch (cause) {
          const error = new Error(
            "The encryption module could not be loaded. Reload the page; if it keeps failing, " +
              "this browser may not support WebAssembly.",
          );
          error.code = "module.unavailable";
          error.cause = cause;
          throw error;
        }
      })(),
    );
  }
  return loading.get(which);
}
