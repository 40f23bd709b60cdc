// Web Workers for what is heavy (js/worker/keys.js: Argon2id; js/worker/pow.js: the proof of
// work), so the page keeps painting, scrolling and answering while they run. A worker is a
// module worker from this origin (the CSP's `script-src 'self'` covers it, and
// `'wasm-unsafe-eval'` its module); it answers one request with `{result}` or
// `{error: {code, message}}` and is ended after it, so nothing it held stays in memory.

/**
 * A worker started now (its module starts loading at once) for one later request.
 * @param {URL} url
 * @returns {{run: (request: unknown, transfer?: Transferable[]) => Promise<any>, end: () => void}}
 */
export function startWorker(url) {
  const worker = new Worker(url, { type: "module" });
  /** @type {Promise<any> | null} */
  let running = null;
  return {
    run(request) {
      if (running) return Promise.reject(new Error("A background task runs one request."));
      running = new Promise((resolve, reject) => {
        worker.onmessage = (event) => {
          worker.terminate();
          const data = event.data || {};
          if (data.error) reject(Object.assign(new Error(data.error.message || "The background task failed."), { code: data.error.code || "worker.failed" }));
          else resolve(data.result);
        };
        worker.onerror = (event) => {
          worker.terminate();
          event.preventDefault();
          reject(Object.assign(new Error("The encryption module could not start in the background. Reload the page."), { code: "module.unavailable" }));
        };
        worker.postMessage(request);
      });
      return running;
    },
    end() {
      worker.terminate();
    },
  };
}

/**
 * Runs one request in a new worker.
 * @param {URL} url
 * @param {unknown} request
 * @returns {Promise<any>}
 */
export function inWorker(url, request) {
  return startWorker(url).run(request);
}

/**
 * The answer of a worker script: posts `{result}` or `{error: {code, message}}` for each
 * request `work` handles.
 * @param {(request: any) => Promise<unknown>} work
 */
export function answerRequests(work) {
  const scope = /** @type {any} */ (globalThis);
  scope.onmessage = async (/** @type {MessageEvent} */ event) => {
    try {
      scope.postMessage({ result: await work(event.data) });
    } catch (error) {
      const coded = /** @type {{code?: string, message?: string}} */ (error || {});
      scope.postMessage({ error: { code: coded.code || "worker.failed", message: coded.message || String(error) } });
    }
  };
}
