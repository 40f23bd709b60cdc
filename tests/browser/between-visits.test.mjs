// Verified state kept between visits (PROTOCOL.md §10.4): a reporter who saved the ticket
// link in this browser opens the ticket again, and the server now answers without the last
// message (a rollback between two visits). The reopened page shows the tampering warning, and
// the state kept in IndexedDB is not replaced by the shorter one. The hostile server is staged
// by rewriting its /messages answers in the browser (as flows.test.mjs does for an altered
// message); the native suite (tests/tests/between_visits.rs) stages it in the server's data.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Recorder, anonymousTicket, joinAsFirstAdmin, launchBrowser, newPerson, startServer } from "./lib/harness.mjs";

let server;
let browser;
let recorder;

before(async () => {
  server = await startServer();
  recorder = new Recorder(server.base);
  browser = await launchBrowser();
  // Tickets are encrypted to the administrators: the desk needs one.
  const alice = await newPerson(browser, recorder, "alice");
  await joinAsFirstAdmin(await alice.newPage(), server.invite, "alice", "alice correct horse");
  await alice.close();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** The saved ticket record of `ticketId` in this browser's IndexedDB, or null. */
function savedRecord(page, ticketId) {
  return page.evaluate(
    (id) =>
      new Promise((resolve, reject) => {
        const request = indexedDB.open("sealdesk");
        request.onerror = () => reject(request.error);
        request.onsuccess = () => {
          const get = request.result.transaction("tickets", "readonly").objectStore("tickets").get(id);
          get.onsuccess = () => resolve(get.result || null);
          get.onerror = () => reject(get.error);
        };
      }),
    ticketId,
  );
}

describe("between visits", () => {
  test("a saved ticket whose last message the server dropped since the last visit shows the warning", async () => {
    const bob = await newPerson(browser, recorder, "bob");
    const page = await bob.newPage();
    const link = await anonymousTicket(page, { subject: "Kept between visits", message: "First message." });
    const ticketId = new URL(link).pathname.split("/").pop();
    await page.click("#created button:has-text('Save in this browser')");
    await page.locator("#created button", { hasText: "Remove from this browser" }).waitFor();

    // The first visit of the ticket page keeps the verified state with the saved link.
    await page.goto(link);
    await page.locator("#thread .chat li", { hasText: "First message." }).waitFor();
    await page.fill("#thread form.composer textarea", "Second message, the last one.");
    await page.click('#thread form.composer button[type="submit"]');
    await page.locator("#thread .chat li", { hasText: "the last one" }).waitFor();
    let kept = null;
    for (let i = 0; i < 50 && !(kept && kept.kept); i += 1) {
      await page.waitForTimeout(100);
      kept = await savedRecord(page, ticketId);
    }
    assert.ok(kept && typeof kept.kept === "string", "the verified state is kept with the saved link");
    const keptBefore = kept.kept;
    await page.close();

    // The next visit: the server answers without the last message.
    const again = await bob.newPage();
    let dropped = 0;
    await again.route(new RegExp(`/api/v1/tickets/${ticketId}/messages(\\?.*)?$`), async (route) => {
      if (route.request().method() !== "GET") return route.continue();
      const response = await route.fetch();
      const body = await response.json();
      const last = Math.max(0, ...(body.messages || []).map((m) => m.seq));
      const kept = (body.messages || []).filter((m) => m.seq !== last || last < 2);
      dropped += (body.messages || []).length - kept.length;
      await route.fulfill({ response, json: { ...body, messages: kept } });
    });
    await again.goto(link);
    await again.locator("#alerts .notice.alarm").first().waitFor();
    assert.ok(dropped > 0, "the last message was withheld");
    assert.match(await again.innerText("main"), /Security warning/);
    assert.equal(await again.title(), "Ticket could not be opened – Sealdesk");
    assert.equal(await again.locator(".chat li").count(), 0, "nothing of the shorter conversation is shown");
    assert.equal((await savedRecord(again, ticketId)).kept, keptBefore, "the kept state is not replaced by the shorter one");
    await again.close();

    // The honest server's conversation still extends the kept state.
    const honest = await bob.newPage();
    await honest.goto(link);
    await honest.locator("#thread .chat li", { hasText: "the last one" }).waitFor();
    assert.equal(await honest.locator(".notice.alarm").count(), 0);
    await honest.close();
    await bob.close();
  });
});
