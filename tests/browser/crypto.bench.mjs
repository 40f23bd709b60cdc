// Crypto in the browser, Sealdesk's compiled module against tweetnacl, in one Chromium page
// (BENCHMARKS.md, "Crypto in the browser"). Not a test: `node --test tests/browser/` runs
// *.test.mjs only; run it with
//   scripts/build-web.sh --bench && node tests/browser/crypto.bench.mjs
// The module is `$CARGO_TARGET_DIR/web-bench` (default target/web-bench): the panel's module
// (`admin`) plus the `CryptoBench` export (client-wasm's `bench` feature), built with the
// shipped profile and flags. tweetnacl (tests/browser/package.json) is the JavaScript library
// CryptPad's support tickets use. Both run the same work, interleaved, on the same page:
// - a message, 1 KiB and 64 KiB of content: Sealdesk seals and signs it (HKDF message key,
//   padding to its bucket, ChaCha20-Poly1305, Ed25519 over the signed bytes); tweetnacl
//   encrypts it with `nacl.box.after` (XSalsa20-Poly1305 under an already agreed key, as the
//   ticket key is) and signs the box with `nacl.sign.detached`;
// - a ticket key's wrap: Sealdesk's HPKE seal (ephemeral X25519 key, DH, key schedule,
//   ChaCha20-Poly1305) signed with Ed25519; tweetnacl's `nacl.box.keyPair` + `nacl.box` of
//   the 32-byte key, signed with `nacl.sign.detached`.
// Prints the median time of one operation per library and the ratio. Rounds:
// SEALDESK_BENCH_ROUNDS (default 15). SEALDESK_BENCH_BASELINE=DIR adds another build of the
// module (a folder holding its sealdesk_client.js and _bg.wasm, for example one built with
// other opt-levels) as a third contender in the same page.

import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";
import { CHROMIUM, CHROMIUM_ARGS, ROOT } from "./lib/harness.mjs";

const ROUNDS = Number(process.env.SEALDESK_BENCH_ROUNDS || 15);
const target = process.env.CARGO_TARGET_DIR ? path.resolve(ROOT, process.env.CARGO_TARGET_DIR) : path.join(ROOT, "target");
const moduleDir = path.join(target, "web-bench");
const nacl = createRequire(import.meta.url).resolve("tweetnacl/nacl-fast.min.js");
if (!fs.existsSync(path.join(moduleDir, "sealdesk_client_bg.wasm"))) {
  console.error(`${moduleDir} holds no module: run scripts/build-web.sh --bench first`);
  process.exit(1);
}

// A made-up loopback origin that Playwright answers itself: nothing listens, nothing is sent.
const ORIGIN = "http://127.0.0.1:9";
const baselineDir = process.env.SEALDESK_BENCH_BASELINE;
const FILES = {
  "/": ["text/html", "<!doctype html><title>crypto bench</title><script src=/nacl.js></script>"],
  "/nacl.js": ["text/javascript", fs.readFileSync(nacl)],
  "/pkg/sealdesk_client.js": ["text/javascript", fs.readFileSync(path.join(moduleDir, "sealdesk_client.js"))],
  "/pkg/sealdesk_client_bg.wasm": ["application/wasm", fs.readFileSync(path.join(moduleDir, "sealdesk_client_bg.wasm"))],
};
if (baselineDir) {
  FILES["/baseline/sealdesk_client.js"] = ["text/javascript", fs.readFileSync(path.join(baselineDir, "sealdesk_client.js"))];
  FILES["/baseline/sealdesk_client_bg.wasm"] = ["application/wasm", fs.readFileSync(path.join(baselineDir, "sealdesk_client_bg.wasm"))];
}

const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
try {
  const page = await browser.newPage();
  await page.route(`${ORIGIN}/**`, (route) => {
    const file = FILES[new URL(route.request().url()).pathname];
    return file ? route.fulfill({ contentType: file[0], body: file[1] }) : route.fulfill({ status: 404 });
  });
  await page.goto(`${ORIGIN}/`);
  const results = await page.evaluate(async ([rounds, withBaseline]) => {
    const load = async (url) => {
      const module = await import(url);
      await module.default();
      return new module.CryptoBench();
    };
    const bench = await load("/pkg/sealdesk_client.js");
    const baseline = withBaseline ? await load("/baseline/sealdesk_client.js") : null;
    const nacl = window.nacl;
    const filler = (n) => Uint8Array.from({ length: n }, (_, i) => (i * 2654435761) >>> 24);
    const signer = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(1));
    const recipient = nacl.box.keyPair.fromSecretKey(new Uint8Array(32).fill(2));
    const sender = nacl.box.keyPair.fromSecretKey(new Uint8Array(32).fill(3));
    const shared = nacl.box.before(recipient.publicKey, sender.secretKey);
    const nonce = new Uint8Array(24).fill(4);
    const ticketKey = new Uint8Array(32).fill(0x22);
    let sink = 0;
    const work = {};
    for (const [label, size] of [["1 KiB", 1024], ["64 KiB", 65536]]) {
      const content = filler(size);
      work[`message ${label}`] = {
        sealdesk: () => {
          sink += bench.sealSign(content);
        },
        ...(baseline && {
          baseline: () => {
            sink += baseline.sealSign(content);
          },
        }),
        tweetnacl: () => {
          const box = nacl.box.after(content, nonce, shared);
          sink += nacl.sign.detached(box, signer.secretKey)[0] + box.length;
        },
      };
    }
    work["ticket key wrap"] = {
      sealdesk: () => {
        sink += bench.wrapTicketKey();
      },
      ...(baseline && {
        baseline: () => {
          sink += baseline.wrapTicketKey();
        },
      }),
      tweetnacl: () => {
        const ephemeral = nacl.box.keyPair();
        const box = nacl.box(ticketKey, nonce, recipient.publicKey, ephemeral.secretKey);
        sink += nacl.sign.detached(box, signer.secretKey)[0] + box.length;
      },
    };
    // Where a 64 KiB message's time goes: its primitives alone over its 128 KiB padded
    // content (one AEAD pass, two SHA-512 passes inside the Ed25519 signature).
    const padded = filler(131072);
    work["parts: ChaCha20-Poly1305 128 KiB"] = { sealdesk: () => (sink += bench.chacha20Poly1305(padded)) };
    work["parts: SHA-512 128 KiB"] = { sealdesk: () => (sink += bench.sha512(padded) + 1) };
    work["parts: Ed25519 sign 128 KiB"] = { sealdesk: () => (sink += bench.ed25519Sign(padded) + 1) };
    if (baseline?.sha512) {
      work["parts: ChaCha20-Poly1305 128 KiB"].baseline = () => (sink += baseline.chacha20Poly1305(padded));
      work["parts: SHA-512 128 KiB"].baseline = () => (sink += baseline.sha512(padded) + 1);
      work["parts: Ed25519 sign 128 KiB"].baseline = () => (sink += baseline.ed25519Sign(padded) + 1);
    }
    // Each batch lasts about 20 ms, sized from a warm-up, so the clock's resolution does not matter.
    const batch = {};
    for (const [name, libraries] of Object.entries(work)) {
      for (const [library, run] of Object.entries(libraries)) {
        run();
        const start = performance.now();
        let n = 0;
        while (performance.now() - start < 20) {
          run();
          n++;
        }
        batch[`${name}/${library}`] = Math.max(1, n);
      }
    }
    const times = {};
    for (let round = 0; round < rounds; round++) {
      for (const [name, libraries] of Object.entries(work)) {
        for (const [library, run] of Object.entries(libraries)) {
          const key = `${name}/${library}`;
          const n = batch[key];
          const start = performance.now();
          for (let i = 0; i < n; i++) run();
          (times[key] ||= []).push(((performance.now() - start) * 1000) / n);
        }
      }
    }
    if (sink === 0) throw new Error("nothing was computed");
    return times;
  }, [ROUNDS, Boolean(baselineDir)]);
  const median = (values) => {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  };
  console.log(`${ROUNDS} interleaved rounds, median µs per operation (Chromium ${browser.version()})`);
  const extra = baselineDir ? ` baseline (${baselineDir}) | baseline / Sealdesk |` : "";
  console.log(`| work | Sealdesk (wasm) | tweetnacl | tweetnacl / Sealdesk |${extra}`);
  console.log(`|---|---|---|---|${baselineDir ? "---|---|" : ""}`);
  for (const name of new Set(Object.keys(results).map((key) => key.split("/")[0]))) {
    const ours = median(results[`${name}/sealdesk`]);
    const nacl = results[`${name}/tweetnacl`];
    const theirs = nacl ? median(nacl) : NaN;
    let line = nacl
      ? `| ${name} | ${ours.toFixed(1)} | ${theirs.toFixed(1)} | ${(theirs / ours).toFixed(1)}× |`
      : `| ${name} | ${ours.toFixed(1)} | | |`;
    if (baselineDir && results[`${name}/baseline`]) {
      const base = median(results[`${name}/baseline`]);
      line += ` ${base.toFixed(1)} | ${(base / ours).toFixed(2)}× |`;
    }
    console.log(line);
  }
} finally {
  await browser.close();
}
