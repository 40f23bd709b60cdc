// The support tab embedded in a host application (spec/API.md, "Embedding the support tab").
// The sample host page (web/embed/) is served by a tiny static server on a second loopback
// origin that the instance lists in `embed_origins`, and by a third, unlisted one. The listed
// host frames the tab and passes a display name and debug fields: the person sees them on the
// Debug data tab, removes one, sends, and the administrator reads the rest. A frame of the
// unlisted origin inside the host page posts its own fields to the tab: they are ignored. The
// unlisted origin cannot frame the tab at all (frame-ancestors), and pages other than the
// support tab stay unframeable.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import {
  ROOT,
  Recorder,
  adminOpenTicket,
  joinAsFirstAdmin,
  launchBrowser,
  newPerson,
  screenshots,
  startServer,
} from "./lib/harness.mjs";

const ALICE = { username: "alice", password: "alice correct horse" };
const DANA = { username: "dana", password: "dana correct horse" };
const EMBED_DIR = path.join(ROOT, "web", "embed");
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css" };

/** A page of another origin that posts a context message to the support tab beside it. */
const ROGUE = `<!doctype html><meta charset="utf-8"><title>Rogue</title><script>
  // The support tab is the host page's first frame.
  window.parent.frames[0].postMessage({ protocol: "sealdesk-embed", version: 1, type: "context",
    display_name: "Mallory", debug: { user_id: "rogue-666", plan: "stolen" } }, "*");
  document.title = "posted";
</script>`;

/**
 * Serves web/embed/ (and /rogue.html) on a free loopback port.
 * @returns {Promise<{origin: string, close: () => Promise<void>}>}
 */
async function staticServer() {
  const server = http.createServer((request, response) => {
    const name = new URL(request.url, "http://x").pathname.slice(1);
    if (name === "favicon.ico") {
      response.writeHead(204);
      response.end();
      return;
    }
    if (name === "rogue.html") {
      response.writeHead(200, { "content-type": "text/html" });
      response.end(ROGUE);
      return;
    }
    if (!/^[a-z-]+\.(html|js|css)$/.test(name) || !fs.existsSync(path.join(EMBED_DIR, name))) {
      response.writeHead(404);
      response.end();
      return;
    }
    response.writeHead(200, { "content-type": TYPES[path.extname(name)] });
    response.end(fs.readFileSync(path.join(EMBED_DIR, name)));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { origin: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((resolve) => server.close(resolve)) };
}

let server;
let host; // listed in embed_origins
let stranger; // not listed
let browser;
let recorder;
let alice;

before(async () => {
  host = await staticServer();
  stranger = await staticServer();
  server = await startServer({ env: { SEALDESK_EMBED_ORIGINS: `https://app.example.org, ${host.origin}` } });
  recorder = new Recorder(server.base);
  browser = await launchBrowser();
  alice = await (await newPerson(browser, recorder, "alice")).newPage();
  await joinAsFirstAdmin(alice, server.invite, ALICE.username, ALICE.password);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await host?.close();
  await stranger?.close();
});

describe("embedding", () => {
  test("the support tab lists exactly the configured origins in frame-ancestors; other pages refuse framing; the settings publish the origins", async () => {
    const help = await fetch(`${server.base}/help`);
    assert.match(help.headers.get("content-security-policy"), new RegExp(`frame-ancestors https://app\\.example\\.org ${host.origin.replace(/[.:/]/g, "\\$&")}$`));
    assert.equal(help.headers.get("x-frame-options"), null);
    for (const other of ["/help/ticket/new", "/admin", "/js/help.js"]) {
      const response = await fetch(`${server.base}${other}`);
      assert.match(response.headers.get("content-security-policy"), /frame-ancestors 'none'$/, other);
      assert.equal(response.headers.get("x-frame-options"), "DENY", other);
    }
    const settings = await (await fetch(`${server.base}/api/v1/settings`)).json();
    assert.deepEqual(settings.embed_origins, ["https://app.example.org", host.origin]);
  });

  test("the sample host passes a name and debug fields: shown on the Debug data tab, one removed, the rest reach the administrator; a frame of an unlisted origin is ignored", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    context.setDefaultTimeout(30_000);
    const problems = [];
    context.on("console", (m) => m.type() === "error" && problems.push(m.text()));
    const page = await context.newPage();
    page.on("pageerror", (e) => problems.push(e.message));
    await page.goto(`${host.origin}/sample-host.html?support=${encodeURIComponent(`${server.base}/help`)}`);
    await page.locator("#support-status", { hasText: "The support tab took: user_id, plan, version." }).waitFor();
    const tab = page.frameLocator("iframe.sealdesk-support");

    // A page of an unlisted origin, framed beside the tab, posts its own context.
    await page.evaluate((src) => {
      const rogue = document.createElement("iframe");
      rogue.src = src;
      document.body.append(rogue);
      return new Promise((resolve) => rogue.addEventListener("load", resolve));
    }, `${stranger.origin}/rogue.html`);

    // Sign up inside the frame.
    await tab.locator("#register-username").fill(DANA.username);
    await tab.locator("#register-password").fill(DANA.password);
    await tab.locator("#register-password2").fill(DANA.password);
    await tab.locator("#register-form button[type=submit]").click();
    await tab.locator("#signed-in:not([hidden])").waitFor({ timeout: 60_000 });

    await tab.locator("#tab-debug").click();
    const editor = tab.locator("#debug-editor");
    for (const [label, value] of [["Application: user id", "u-1234"], ["Application: plan", "team"], ["Application: version", "4.2.0"], ["Application (embedded in)", host.origin]]) {
      await editor.locator("tr", { hasText: label }).locator("td", { hasText: value }).waitFor();
    }
    await screenshots(page, "embed-host-debug");
    const shown = await editor.innerText();
    assert.doesNotMatch(shown, /rogue-666|stolen/, "the unlisted origin's fields were ignored");
    await editor.getByRole("button", { name: "Remove Application: plan" }).click();

    await tab.locator("#tab-new").click();
    assert.equal(await tab.locator("#name").inputValue(), "Dana Example", "the host's display name fills the name");
    assert.equal(await tab.locator("#debug-include").isChecked(), false, "technical details are off until ticked");
    await tab.locator("#debug-include").check();
    await tab.locator("#subject").fill("Sync stopped in Acme Notes");
    await tab.locator("#message").fill("My notes stopped syncing this morning.");
    await tab.locator("#new-send").click();
    await tab.locator("#ticket-thread .chat li.mine").first().waitFor();
    assert.deepEqual(problems, [], "no console error or exception in the host page or the tab");

    // The administrator reads the fields the person kept, under the host's display name.
    await alice.click('#panel-nav [data-view="inbox"]');
    const item = alice.locator("#inbox-list li", { hasText: "Sync stopped in Acme Notes" });
    await item.waitFor();
    assert.match(await item.innerText(), /Dana Example/);
    await adminOpenTicket(alice, "Sync stopped in Acme Notes");
    const debug = await alice.innerText("#ticket-debug");
    for (const expected of ["u-1234", "4.2.0", host.origin]) assert.ok(debug.includes(expected), `${expected} in ${debug}`);
    assert.doesNotMatch(debug, /Application: plan|team/, "the removed field was not sent");
    assert.doesNotMatch(debug, /rogue-666|Mallory/);
    await context.close();
  });

  test("a host whose context is malformed is told why; an unlisted origin cannot frame the support tab", async () => {
    const context = await browser.newContext();
    context.setDefaultTimeout(30_000);
    const page = await context.newPage();
    await page.goto(`${host.origin}/sample-host.html?support=${encodeURIComponent(`${server.base}/help`)}`);
    await page.locator("#support-status", { hasText: "took" }).waitFor();
    const answer = await page.evaluate((origin) => {
      const frame = document.querySelector("iframe.sealdesk-support");
      return new Promise((resolve) => {
        window.addEventListener("message", (event) => {
          if (event.source === frame.contentWindow && event.data.type === "refused") resolve(event.data.reason);
        });
        frame.contentWindow.postMessage({ protocol: "sealdesk-embed", version: 1, type: "context", debug: { "User Id": "x" } }, origin);
      });
    }, new URL(server.base).origin);
    assert.match(answer, /User Id/);

    const refused = [];
    const elsewhere = await context.newPage();
    elsewhere.on("console", (m) => refused.push(m.text()));
    await elsewhere.goto(`${stranger.origin}/sample-host.html?support=${encodeURIComponent(`${server.base}/help`)}`);
    await elsewhere.waitForTimeout(2000);
    assert.ok(refused.some((text) => /frame-ancestors/.test(text)), `the browser refused to frame the tab: ${refused.join(" | ")}`);
    assert.match(await elsewhere.innerText("#support-status"), /loading/, "no answer from a tab that never loaded");
    await context.close();
  });

  test("the instance's own pages made no request to another origin; no console error, exception or CSP violation", () => {
    assert.deepEqual(recorder.problems, []);
  });
});
