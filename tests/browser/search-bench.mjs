// Benchmark of the panel's search (BENCHMARKS.md, "Search over every ticket"): in Debian's
// Chromium, the admin module's SearchIndex (client-wasm/src/search.rs) filled with 10,000
// generated tickets (a subject of 6 words, a name, an email, 3 messages of 40 words, a note of
// 15 words, 0 to 3 tags, from a vocabulary of 5,000 made-up words with a Zipf-like
// frequency), then 500 queries timed one by one with performance.now() (each the call from
// JavaScript, the search and the hits as JavaScript objects): one word, two words, and two
// words whose last is a 3-letter prefix. Prints the build time, the sealed size kept in
// IndexedDB, and the median and p99 query times of each kind. Not part of the suite:
//
//   node tests/browser/search-bench.mjs [TICKETS]
//
// (needs web/pkg from scripts/build-web.sh and the sealdesk binary, as the suite does.)

import { Recorder, launchBrowser, newPerson, startServer } from "./lib/harness.mjs";

const TICKETS = Number(process.argv[2] || 10_000);

const server = await startServer();
const recorder = new Recorder(server.base);
const browser = await launchBrowser();
try {
  const context = await newPerson(browser, recorder, "bench");
  const page = await context.newPage();
  await page.goto("/help");
  const figures = await page.evaluate(async (count) => {
    const m = await import("/pkg/admin/sealdesk_client.js");
    await m.default();
    // A deterministic generator (mulberry32), so every run indexes the same texts.
    let seed = 0x5ea1de5c;
    const random = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "vo", "shi", "an", "el", "or", "us", "bri", "dex", "fon", "gal", "hup", "jin", "qua", "zor"];
    const vocabulary = [];
    while (vocabulary.length < 5000) {
      let w = "";
      const n = 2 + Math.floor(random() * 3);
      for (let i = 0; i < n; i += 1) w += syllables[Math.floor(random() * syllables.length)];
      vocabulary.push(w);
    }
    // Zipf-like: low ranks far more often.
    const word = () => vocabulary[Math.floor(vocabulary.length * random() ** 3)];
    const words = (n) => Array.from({ length: n }, word).join(" ");
    const tagPool = ["billing", "vip", "bug", "printer", "vpn", "refund", "legal", "mobile", "urgent-call", "follow_up"];

    const index = new m.SearchIndex();
    const buildStart = performance.now();
    for (let i = 0; i < count; i += 1) {
      const id = i.toString(16).padStart(32, "0");
      index.put(
        id,
        1_700_000_000 + i,
        [words(6), `${word()} ${word()}`, `${word()}${i}@example.org`, ["Billing", "Network", "Other"][i % 3]],
        tagPool.filter(() => random() < 0.1).sort(),
        [words(40), words(40), words(40), words(15)],
      );
    }
    const buildMs = performance.now() - buildStart;
    const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
    const sealStart = performance.now();
    const sealed = await index.seal(key, "bench");
    const sealMs = performance.now() - sealStart;
    const openStart = performance.now();
    const reopened = await m.SearchIndex.open(sealed, key, "bench");
    const openMs = performance.now() - openStart;
    reopened.free();

    const kinds = {
      "one word": () => word(),
      "two words": () => `${word()} ${word()}`,
      "two words, the last a 3-letter prefix": () => `${word()} ${word().slice(0, 3)}`,
    };
    const results = {};
    for (const [kind, make] of Object.entries(kinds)) {
      const times = [];
      let hits = 0;
      for (let q = 0; q < 500; q += 1) {
        const query = make();
        const t0 = performance.now();
        const found = index.search(query, 20);
        times.push(performance.now() - t0);
        hits += found.length;
      }
      times.sort((a, b) => a - b);
      results[kind] = { median: times[Math.floor(times.length / 2)], p99: times[Math.floor(times.length * 0.99)], max: times[times.length - 1], meanHits: hits / 500 };
    }
    return { count, words: index.wordCount, buildMs, sealMs, openMs, sealedBytes: sealed.length, results };
  }, TICKETS);
  const f = (x) => `${x.toFixed(2)} ms`;
  console.log(`tickets: ${figures.count}, distinct words: ${figures.words}`);
  console.log(`build (put of every ticket): ${Math.round(figures.buildMs)} ms; seal: ${Math.round(figures.sealMs)} ms; open (decrypt and rebuild): ${Math.round(figures.openMs)} ms`);
  console.log(`kept in IndexedDB (sealed): ${(figures.sealedBytes / 1e6).toFixed(1)} MB`);
  for (const [kind, r] of Object.entries(figures.results)) {
    console.log(`${kind}: median ${f(r.median)}, p99 ${f(r.p99)}, max ${f(r.max)} (mean ${r.meanHits.toFixed(1)} hits of at most 20)`);
  }
  await context.close();
} finally {
  await browser.close();
  await server.stop();
}
