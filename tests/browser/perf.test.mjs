// Figures for BENCHMARKS.md ("# Web"), printed as the suite runs, on localhost:
// - navigation to an interactive new-ticket form (the form rendered with the instance's
//   settings, and the encryption module fetched, compiled and instantiated), cold (a new
//   browser context: nothing cached) and warm (a reload);
// - sealing and sending a ticket with a 1 MiB attachment, from the click on Send to the
//   private link being shown, and to the attachment being stored;
// - the sizes of the WebAssembly packages in web/pkg, raw and gzipped (gzip -9), and that a
//   browser receives the gzip copy.
// The bounds asserted are loose: they catch a broken page, not a slow machine.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { ROOT, Recorder, joinAsFirstAdmin, launchBrowser, newPerson, startServer, wasmPackages } from "./lib/harness.mjs";

const RUNS = 5;
const SEND_RUNS = 3;

let server;
let browser;
let recorder;

before(async () => {
  server = await startServer();
  recorder = new Recorder(server.base);
  browser = await launchBrowser();
  const context = await newPerson(browser, recorder, "alice");
  await joinAsFirstAdmin(await context.newPage(), server.invite, "alice", "alice correct horse");
  await context.close();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const ms = (value) => `${Math.round(value)} ms`;

// Records, in the page's own clock (ms since navigation start), when the WebAssembly module
// was instantiated and when the form showed the instance's settings.
const PROBE = () => {
  window.__probe = {};
  for (const name of ["instantiateStreaming", "instantiate"]) {
    const original = WebAssembly[name];
    WebAssembly[name] = async function (...args) {
      const result = await original.apply(WebAssembly, args);
      window.__probe.wasm = performance.now();
      return result;
    };
  }
  document.addEventListener("DOMContentLoaded", () => {
    const info = document.getElementById("support-info");
    if (!info) return;
    const check = () => {
      if (!window.__probe.form && !/Loading/.test(info.textContent) && document.querySelector("#debug-editor table")) {
        window.__probe.form = performance.now();
      }
    };
    new MutationObserver(check).observe(document.body, { childList: true, subtree: true });
    check();
  });
};

/** Navigates (or reloads) and returns the page's figures once the form is interactive. */
async function interactive(page, navigate) {
  await navigate();
  await page.waitForFunction(() => window.__probe && window.__probe.wasm && window.__probe.form);
  return page.evaluate(() => {
    const nav = performance.getEntriesByType("navigation")[0];
    const wasm = performance.getEntriesByType("resource").find((e) => e.name.endsWith("_bg.wasm"));
    return {
      domContentLoaded: nav.domContentLoadedEventEnd,
      form: window.__probe.form,
      wasmFetched: wasm ? wasm.responseEnd : NaN,
      wasmReady: window.__probe.wasm,
      interactive: Math.max(window.__probe.form, window.__probe.wasm),
      module: wasm ? wasm.name.replace(location.origin, "") : "?",
      // Bytes over the wire and after decoding (0 and the size when served from the cache).
      wasmEncoded: wasm ? wasm.encodedBodySize : NaN,
      wasmDecoded: wasm ? wasm.decodedBodySize : NaN,
    };
  });
}

describe("web performance on localhost", () => {
  test("navigation to an interactive new-ticket form", async () => {
    const cold = [];
    const warm = [];
    for (let i = 0; i < RUNS; i += 1) {
      const context = await newPerson(browser, recorder, `visitor ${i}`);
      await context.addInitScript(PROBE);
      const page = await context.newPage();
      cold.push(await interactive(page, () => page.goto("/help/ticket/new")));
      warm.push(await interactive(page, () => page.reload()));
      await context.close();
    }
    for (const [label, runs] of [["cold (new context, nothing cached)", cold], ["warm (reload)", warm]]) {
      const m = (key) => median(runs.map((r) => r[key]));
      console.log(
        `new-ticket form, ${label}, median of ${RUNS}: interactive ${ms(m("interactive"))} ` +
          `(DOMContentLoaded ${ms(m("domContentLoaded"))}, form with settings ${ms(m("form"))}, ` +
          `${runs[0].module} fetched ${ms(m("wasmFetched"))}, instantiated ${ms(m("wasmReady"))})`,
      );
    }
    // The server sent the module's gzip copy (scripts/build-web.sh) and the browser ran it.
    console.log(`${cold[0].module}: ${cold[0].wasmEncoded.toLocaleString("en")} bytes transferred, ${cold[0].wasmDecoded.toLocaleString("en")} decoded`);
    assert.ok(cold.every((r) => r.wasmEncoded > 0 && r.wasmEncoded < 0.6 * r.wasmDecoded), "the module travels gzipped");
    assert.ok(median(cold.map((r) => r.interactive)) < 10_000);
  });

  test("sealing and sending a ticket with a 1 MiB attachment", async () => {
    const toLink = [];
    const toStored = [];
    for (let i = 0; i < SEND_RUNS; i += 1) {
      const context = await newPerson(browser, recorder, `sender ${i}`);
      await context.addInitScript(PROBE);
      const page = await context.newPage();
      await interactive(page, () => page.goto("/help/ticket/new"));
      await page.fill("#subject", `Large log ${i}`);
      await page.fill("#message", "The log of last night is attached.");
      await page.setInputFiles("#files", { name: "trace.bin", mimeType: "application/octet-stream", buffer: crypto.randomBytes(1024 * 1024) });
      await page.locator("#file-list li").waitFor();
      const clicked = Date.now();
      await page.click("#send");
      await page.locator("#created .link-box input").waitFor();
      toLink.push(Date.now() - clicked);
      await page.locator("#created", { hasText: "1 file attached." }).waitFor({ timeout: 60_000 });
      toStored.push(Date.now() - clicked);
      await context.close();
    }
    console.log(
      `ticket with a 1 MiB attachment, median of ${SEND_RUNS}: click on Send to the link shown ${ms(median(toLink))}, ` +
        `to the attachment stored ${ms(median(toStored))} (runs: ${toStored.map(ms).join(", ")})`,
    );
    assert.ok(median(toStored) < 30_000);
  });

  test("sizes of the WebAssembly packages (web/pkg), raw and gzipped", () => {
    const packages = wasmPackages();
    assert.ok(packages.length > 0);
    for (const dir of packages) {
      for (const file of ["sealdesk_client_bg.wasm", "sealdesk_client.js"]) {
        const bytes = fs.readFileSync(path.join(dir, file));
        // gzip -9, as scripts/build-web.sh measures.
        const gzip = execFileSync("gzip", ["-9", "-c", path.join(dir, file)], { maxBuffer: 64 << 20 }).length;
        console.log(`${path.relative(ROOT, path.join(dir, file))}: ${bytes.length.toLocaleString("en")} bytes, ${gzip.toLocaleString("en")} gzipped`);
      }
    }
  });

  test("no request to another origin, console error, exception or CSP violation while measuring", () => {
    assert.deepEqual(recorder.problems, []);
  });
});
