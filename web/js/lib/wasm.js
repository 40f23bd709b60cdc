// Loads the client module (web/pkg, produced by wasm-bindgen) once per page.
// Every key stays inside it; pages get views, links, ids and fingerprints.

let loading = null;

/** The initialised module's exports. Rejects with an Error whose code is "module.unavailable". */
export function loadClient() {
  if (!loading) {
    loading = (async () => {
      try {
        const mod = await import("/pkg/sealdesk_client.js");
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
    })();
  }
  return loading;
}
