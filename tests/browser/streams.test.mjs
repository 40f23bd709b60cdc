// Live streams the server ends (issue 12, spec/API.md "Live updates"): with a maximum stream
// lifetime of 2 seconds, an open conversation's page subscribes again about a second after
// each end, keeps showing the conversation, and logs no error.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Recorder, anonymousTicket, joinAsFirstAdmin, launchBrowser, newPerson, startServer } from "./lib/harness.mjs";

let server;
let browser;
let recorder;

before(async () => {
  server = await startServer({ env: { SEALDESK_EVENT_STREAM_MAX_SECONDS: "2" } });
  recorder = new Recorder(server.base);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test("a conversation's page subscribes again each time the server ends its stream", async () => {
  const alice = await newPerson(browser, recorder, "alice");
  await joinAsFirstAdmin(await alice.newPage(), server.invite, "alice", "alice correct horse");
  const bob = await newPerson(browser, recorder, "bob (anonymous)");
  const page = await bob.newPage();
  const link = await anonymousTicket(page, { subject: "Streams end", message: "Hello there" });

  const subscriptions = [];
  page.on("request", (request) => {
    if (/^\/api\/v1\/tickets\/[0-9a-f]{32}\/events$/.test(new URL(request.url()).pathname)) {
      subscriptions.push(Date.now());
    }
  });
  await page.goto(link);
  await page.locator("#thread .chat li.mine", { hasText: "Hello there" }).waitFor();
  // Each stream lives 2 s and the page subscribes again 1 s after its end: 7 s hold at least
  // three subscriptions (a page that waited 30 s, as after a failure, would hold one).
  await page.waitForTimeout(7_000);
  assert.ok(subscriptions.length >= 3, `${subscriptions.length} subscriptions in 7 s`);
  await page.locator("#thread .chat li.mine", { hasText: "Hello there" }).waitFor();
  assert.deepEqual(recorder.problems, []);
});
