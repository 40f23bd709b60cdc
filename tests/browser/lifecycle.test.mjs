// A ticket's life beyond open and closed, issue 14 item 9: the panel sets "waiting for the
// reporter" and "on hold" (signed messages, PROTOCOL.md §10.3), filters the inbox by them and
// shows them; the reporter's page shows them in the reporter's words, and the reporter writing
// returns the ticket to open. Item 10: "Delete" on a closed ticket, with a confirmation, removes
// it from the inbox and the server. axe and screenshots of the new states at desktop and phone
// widths.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  Recorder,
  adminOpenTicket,
  adminSignIn,
  anonymousTicket,
  axeViolations,
  inboxShowAll,
  joinAsFirstAdmin,
  launchBrowser,
  newPerson,
  screenshots,
  startServer,
} from "./lib/harness.mjs";

const ALICE = { username: "alice", password: "alice correct horse" };
const SUBJECT = "Printer jams on page two";

let server;
let browser;
let recorder;

before(async () => {
  server = await startServer();
  recorder = new Recorder(server.base);
  browser = await launchBrowser();
  const alice = await newPerson(browser, recorder, "alice");
  await joinAsFirstAdmin(await alice.newPage(), server.invite, ALICE.username, ALICE.password);
  await alice.close();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  assert.deepEqual(recorder?.problems ?? [], [], "no request elsewhere, console error, exception or CSP violation");
});

async function noSeriousViolations(page, what) {
  assert.deepEqual(await axeViolations(page), [], `axe on ${what}`);
}

/** The subjects the panel's inbox lists under the filter `status`. */
async function listedUnder(page, status) {
  await page.click(`#inbox-filter [data-status="${status}"]`);
  await page.waitForFunction(() => !/Loading/.test(document.querySelector("#inbox-count").textContent));
  return page.locator("#inbox-list button.link").allTextContents();
}

describe("statuses beyond open and closed", () => {
  test("waiting for the reporter, the reporter's reply reopens, on hold; filters and words", async () => {
    const reporter = await newPerson(browser, recorder, "reporter");
    const rep = await reporter.newPage();
    const link = await anonymousTicket(rep, { subject: SUBJECT, message: "It jams every time." });
    await rep.goto(link);
    await rep.locator("#thread .chat li").first().waitFor({ timeout: 60_000 });

    const team = await newPerson(browser, recorder, "alice");
    const admin = await team.newPage();
    await adminSignIn(admin, ALICE.username, ALICE.password);
    await inboxShowAll(admin, SUBJECT);
    await adminOpenTicket(admin, SUBJECT);
    assert.ok(await admin.isHidden("#reopen-ticket"), "an open ticket has nothing to reopen");

    // Waiting for the reporter: a signed message; the panel and the reporter's page say so.
    await admin.click("#wait-ticket");
    await admin.locator("#ticket-details dd", { hasText: "Waiting for the reporter" }).waitFor();
    await admin.locator("#ticket-conversation .chat li.system", { hasText: "waiting for the reporter" }).waitFor();
    assert.ok(await admin.isHidden("#wait-ticket"));
    assert.equal((await admin.textContent("#reopen-ticket")).trim(), "Mark as open");
    await rep.locator("#thread .waiting-banner").waitFor({ timeout: 10_000 });
    await rep.locator("#ticket-meta .chip.waiting", { hasText: "Waiting for your reply" }).waitFor();
    await rep.locator("#thread .chat li.system", { hasText: "is waiting for your reply" }).waitFor();
    await noSeriousViolations(rep, "the reporter's page of a waiting ticket");
    await screenshots(rep, "lifecycle-reporter-waiting");

    await admin.click("#back-to-inbox");
    assert.deepEqual(await listedUnder(admin, "waiting"), [SUBJECT]);
    assert.deepEqual(await listedUnder(admin, "unanswered"), [], "a waiting ticket is not unanswered");
    await listedUnder(admin, "all");
    await admin.locator("#inbox-list .chip.waiting", { hasText: "Waiting for the reporter" }).waitFor();
    await noSeriousViolations(admin, "the inbox with a waiting ticket");
    await screenshots(admin, "lifecycle-inbox-waiting");

    // The reporter writes: open again, without a status message of the reporter's.
    await rep.fill("#thread form.composer textarea", "It still jams with new paper.");
    await rep.click('#thread form.composer button[type="submit"]');
    await rep.locator("#thread .chat li.mine", { hasText: "new paper" }).waitFor();
    await rep.locator("#ticket-meta .chip.open").waitFor();
    assert.equal(await rep.locator("#thread .waiting-banner").count(), 0);
    assert.deepEqual(await listedUnder(admin, "waiting"), []);
    assert.deepEqual(await listedUnder(admin, "unanswered"), [SUBJECT]);

    // On hold.
    await adminOpenTicket(admin, SUBJECT);
    await admin.locator("#ticket-details dd", { hasText: /^Open$/ }).waitFor();
    await admin.click("#hold-ticket");
    await admin.locator("#ticket-details dd", { hasText: "On hold" }).waitFor();
    await admin.locator("#ticket-conversation .chat li.system", { hasText: "put the ticket on hold" }).waitFor();
    await noSeriousViolations(admin, "an on-hold ticket in the panel");
    await screenshots(admin, "lifecycle-ticket-on-hold");
    await rep.locator("#thread .hold-banner").waitFor({ timeout: 10_000 });
    await rep.locator("#ticket-meta .chip.on-hold", { hasText: "On hold" }).waitFor();
    await admin.click("#back-to-inbox");
    assert.deepEqual(await listedUnder(admin, "on_hold"), [SUBJECT]);
    assert.deepEqual(await listedUnder(admin, "answered"), [], "an on-hold ticket is not open");

    // Mark as open.
    await listedUnder(admin, "on_hold");
    await adminOpenTicket(admin, SUBJECT);
    await admin.click("#reopen-ticket");
    await admin.locator("#ticket-details dd", { hasText: /^Open$/ }).waitFor();
    await rep.locator("#ticket-meta .chip.open").waitFor({ timeout: 10_000 });
    await reporter.close();
    await team.close();
  });

  test("a closed ticket is deleted from the panel, after a confirmation", async () => {
    const subject = "Old toner question";
    const reporter = await newPerson(browser, recorder, "reporter");
    const rep = await reporter.newPage();
    await anonymousTicket(rep, { subject, message: "Which toner fits?" });
    await reporter.close();
    const team = await newPerson(browser, recorder, "alice");
    const admin = await team.newPage();
    const confirmations = [];
    admin.on("dialog", (dialog) => confirmations.push(dialog.message()));
    await adminSignIn(admin, ALICE.username, ALICE.password);
    await inboxShowAll(admin, subject);
    await adminOpenTicket(admin, subject);
    assert.ok(await admin.isHidden("#delete-ticket"), "an open ticket cannot be deleted");
    await admin.click("#close-ticket");
    await admin.locator("#delete-ticket:not([hidden])").waitFor();
    await noSeriousViolations(admin, "a closed ticket with Delete");
    await screenshots(admin, "lifecycle-ticket-closed-delete");
    const [deleted] = await Promise.all([
      admin.waitForResponse((r) => r.request().method() === "DELETE" && /\/api\/v1\/tickets\/[0-9a-f]{32}$/.test(r.url())),
      admin.click("#delete-ticket"),
    ]);
    assert.equal(deleted.status(), 204);
    assert.equal(confirmations.length, 2, "closing and deleting each asked first");
    assert.match(confirmations[1], /Delete this ticket for good/);
    await admin.locator("#view-inbox:not([hidden])").waitFor();
    await listedUnder(admin, "all");
    assert.ok(!(await admin.locator("#inbox-list button.link").allTextContents()).includes(subject), "gone from the inbox");
    assert.ok((await admin.locator("#inbox-list button.link").allTextContents()).includes(SUBJECT), "the other ticket stays");
    await team.close();
  });
});
