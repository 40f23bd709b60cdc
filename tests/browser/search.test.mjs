// The panel's tags and search (issue 14 items 6 and 7): a tag added to a ticket (a tags
// message on the notes chain, PROTOCOL.md §14) shows in the inbox row, and the inbox filtered
// by it; the search finds a word of a message body of a ticket that is not on the first inbox
// page (52 tickets, 50 a page), as a prefix while typing; the index is kept in IndexedDB only
// sealed (no plaintext word in it), reopens after a reload of a remembered device, follows live
// events (a reporter's reply becomes searchable), and is deleted at sign-out. axe and
// screenshots of the search results and the tag editor.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Recorder, axeViolations, joinAsFirstAdmin, launchBrowser, newPerson, screenshots, startServer } from "./lib/harness.mjs";

const ALICE = { username: "alice", password: "alice correct horse" };
/** More than one inbox page (50 tickets). */
const TICKETS = 52;
/** A word only in the body of the oldest ticket (on the inbox's second page). */
const DEEP_WORD = "zanzibarquokka";

let server;
let browser;
let recorder;
/** The page that created the tickets, holding their handles (`window.__tickets`). */
let reporterPage;

before(async () => {
  // The tickets come from one address, faster than its hourly allowance of anonymous tickets.
  server = await startServer({ env: { SEALDESK_ANONYMOUS_TICKETS_PER_HOUR: "1000" } });
  recorder = new Recorder(server.base);
  browser = await launchBrowser();
  const alice = await newPerson(browser, recorder, "alice");
  await joinAsFirstAdmin(await alice.newPage(), server.invite, ALICE.username, ALICE.password);
  await alice.close();
  // The tickets, created with the reporter's module in one page (no proof of work in tests):
  // the oldest carries DEEP_WORD in its body only.
  const reporter = await newPerson(browser, recorder, "reporters");
  reporterPage = await reporter.newPage();
  await reporterPage.goto("/help/ticket/new");
  await reporterPage.evaluate(
    async ({ count, word }) => {
      const m = await import("/pkg/reporter/sealdesk_client.js");
      await m.default();
      window.__tickets = [];
      for (let i = 0; i < count; i += 1) {
        const text = i === 0 ? `The printer shows ${word} on its display.` : `Plain question number ${i}.`;
        const created = await m.createTicket({ subject: `Question ${i}`, text, name: `Reporter ${i}`, email: `r${i}@example.org` }, null, null);
        window.__tickets.push(created.handle);
        // The inbox orders by last activity, in seconds: the first is older than every other.
        if (i === 0) await new Promise((resolve) => setTimeout(resolve, 1_100));
      }
    },
    { count: TICKETS, word: DEEP_WORD },
  );
});

after(async () => {
  await browser?.close();
  await server?.stop();
  assert.deepEqual(recorder?.problems ?? [], [], "no request elsewhere, console error, exception or CSP violation");
});

/** What IndexedDB's "kv" holds under `key`, described: its type and bytes. */
function kvEntry(page, key) {
  return page.evaluate(
    (k) =>
      new Promise((resolve, reject) => {
        const request = indexedDB.open("sealdesk");
        request.onerror = () => reject(request.error);
        request.onsuccess = () => {
          const get = request.result.transaction("kv", "readonly").objectStore("kv").getAllKeys();
          get.onsuccess = () => {
            const keys = /** @type {string[]} */ (get.result).filter((x) => typeof x === "string" && x.startsWith(k));
            if (!keys.length) return resolve(null);
            const one = request.result.transaction("kv", "readonly").objectStore("kv").get(keys[0]);
            one.onsuccess = () => {
              const v = one.result;
              resolve({ key: keys[0], bytes: v instanceof Uint8Array ? Array.from(v) : null });
            };
          };
          get.onerror = () => reject(get.error);
        };
      }),
    key,
  );
}

/** Signs in on /admin with "Remember this device"; resolves in the inbox. */
async function rememberedSignIn(page) {
  await page.goto("/admin");
  await page.locator("#view-signin:not([hidden])").waitFor();
  await page.fill("#signin-username", ALICE.username);
  await page.fill("#signin-password", ALICE.password);
  await page.check("#signin-remember");
  await page.click("#signin-form button[type=submit]");
  await page.locator("#view-inbox:not([hidden])").waitFor({ timeout: 60_000 });
}

/** Waits until the index holds every ticket. */
async function indexed(page, count) {
  await page.waitForFunction((n) => document.querySelector("#desk-search-status").textContent === `${n} tickets searchable in this browser.`, count, { timeout: 120_000 });
}

describe("tags and search", () => {
  test("the search finds a body word of a ticket on the second inbox page, kept sealed", async () => {
    const context = await newPerson(browser, recorder, "alice-search");
    const page = await context.newPage();
    await rememberedSignIn(page);
    await indexed(page, TICKETS);
    // The oldest ticket is not among the first page's rows.
    await page.click('#inbox-filter [data-status="all"]');
    await page.locator("#inbox-list li").nth(49).waitFor();
    assert.equal(await page.locator("#inbox-list button.link", { hasText: /^Question 0$/ }).count(), 0, "Question 0 is not on the first page");

    // Typing a prefix of the word finds it, with the snippet of the body.
    await page.fill("#desk-search-input", DEEP_WORD.slice(0, 8));
    const hit = page.locator("#desk-search-results li");
    await hit.first().waitFor();
    assert.equal(await hit.count(), 1);
    assert.equal(await hit.locator("button.link").textContent(), "Question 0");
    assert.match(await hit.locator(".search-snippet").textContent(), new RegExp(`Message or note: The printer shows ${DEEP_WORD}`));
    // Every word must match: a word no ticket has finds nothing.
    await page.fill("#desk-search-input", `${DEEP_WORD} elephant`);
    await page.waitForFunction(() => document.querySelector("#desk-search-status").textContent === "Nothing found.");
    await page.fill("#desk-search-input", "r17@example");
    await page.locator("#desk-search-results button.link", { hasText: /^Question 17$/ }).waitFor();
    assert.deepEqual(await axeViolations(page), []);
    await screenshots(page, "search-results");

    // At rest: a sealed blob under the device key, without the word in it.
    const kept = await kvEntry(page, "search:");
    assert.ok(kept && kept.bytes && kept.bytes.length > 100, "the index is kept as bytes");
    const text = Buffer.from(kept.bytes).toString("latin1");
    assert.ok(!text.includes(DEEP_WORD) && !text.includes("Question") && !text.includes("example.org"), "no plaintext in the kept index");

    // A reload of the remembered device opens it again (no rebuild needed to answer).
    await page.reload();
    await page.locator("#view-inbox:not([hidden])").waitFor({ timeout: 60_000 });
    await indexed(page, TICKETS);
    await page.fill("#desk-search-input", DEEP_WORD);
    await page.locator("#desk-search-results button.link", { hasText: /^Question 0$/ }).waitFor();

    // Live: the reporter of Question 3 replies; the new word becomes searchable.
    await reporterPage.evaluate(async () => {
      const m = await import("/pkg/reporter/sealdesk_client.js");
      await m.reply(window.__tickets[3], "Also the wombatlive error appears.");
    });
    await page.fill("#desk-search-input", "wombatlive");
    await page.waitForFunction(() => {
      const input = /** @type {HTMLInputElement} */ (document.querySelector("#desk-search-input"));
      input.dispatchEvent(new Event("input"));
      return [...document.querySelectorAll("#desk-search-results button.link")].some((b) => b.textContent === "Question 3");
    }, null, { timeout: 30_000, polling: 500 });

    // A result opens its ticket.
    await page.fill("#desk-search-input", DEEP_WORD);
    await page.locator("#desk-search-results button.link", { hasText: /^Question 0$/ }).click();
    await page.waitForFunction(() => document.querySelector("#ticket-title").textContent === "Question 0");

    // Sign out deletes the kept index.
    await page.click("#sign-out");
    await page.locator("#view-signin:not([hidden])").waitFor();
    assert.equal(await kvEntry(page, "search:"), null, "sign-out deletes the index");
    await context.close();
  });

  test("a tag is added, shown in the inbox and filters it, and is searchable", async () => {
    const context = await newPerson(browser, recorder, "alice-tags");
    const page = await context.newPage();
    await rememberedSignIn(page);
    await indexed(page, TICKETS);
    const subject = `Question ${TICKETS - 1}`;
    await page.click('#inbox-filter [data-status="all"]');
    await page.locator("#inbox-list button.link", { hasText: new RegExp(`^${subject}$`) }).click();
    await page.waitForFunction((s) => document.querySelector("#ticket-title").textContent === s, subject);

    // A tag that is no tag is refused before anything is sent.
    await page.fill("#tag-input", "Not/A-Tag");
    await page.click("#tag-add");
    await page.locator("#ticket-alerts", { hasText: "is not a tag" }).waitFor();

    await page.fill("#tag-input", "Billing vip");
    await page.click("#tag-add");
    await page.locator("#ticket-tags .tag-editor .chip", { hasText: "vip" }).waitFor();
    assert.deepEqual(await page.locator("#ticket-tags .tag-editor .chip").allTextContents(), ["billing", "vip"]);
    // The tags message shows in the timeline, as an internal note (js/admin/ticket-timeline.js).
    await page.locator("#ticket-conversation .note-item", { hasText: "set the tags to billing, vip" }).waitFor();
    // Removing one sends the whole set again.
    await page.click('#ticket-tags button[aria-label="Remove the tag vip"]');
    await page.waitForFunction(() => [...document.querySelectorAll("#ticket-tags .tag-editor .chip")].map((c) => c.textContent).join() === "billing");
    assert.deepEqual(await axeViolations(page), []);
    await screenshots(page, "ticket-tags");

    // The inbox shows the tag and filters by it.
    await page.click("#back-to-inbox");
    await page.click('#inbox-filter [data-status="all"]');
    await page.locator("#inbox-list li").nth(10).waitFor();
    await page.locator("#inbox-list .chip.tag", { hasText: "billing" }).waitFor();
    await page.selectOption("#inbox-tag", "billing");
    await page.waitForFunction(() => document.querySelectorAll("#inbox-list li").length === 1);
    assert.equal(await page.locator("#inbox-list button.link").textContent(), subject);
    await page.selectOption("#inbox-tag", "");
    await page.locator("#inbox-list li").nth(10).waitFor();

    // The tag is searchable, and a reload keeps it (the notes chain, read again).
    await page.fill("#desk-search-input", "billing");
    await page.locator("#desk-search-results button.link", { hasText: new RegExp(`^${subject}$`) }).waitFor();
    assert.match(await page.locator("#desk-search-results .search-snippet").first().textContent(), /^Tag: billing/);
    await context.close();
  });
});
