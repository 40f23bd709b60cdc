// Canned replies, issue 14 item 5 (PROTOCOL.md §18): an administrator writes canned replies in
// the panel ("Canned replies": create, edit, delete), opens a reporter's ticket, inserts one
// from the composer's "Insert canned reply" picker at the cursor, with the reporter's name
// (from the decrypted first message), the ticket's reference and the administrator's name
// filled in, and sends it; the reporter sees it. The server never receives the text in clear.
// axe and screenshots of the view and the open picker at desktop and phone widths.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import {
  Recorder,
  adminOpenTicket,
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
const TICKET = { subject: "The export stops halfway", message: "Every export stops at 50%.", name: "Dana Reporter" };
const GREETING = {
  title: "Greeting",
  body: "Hello {reporter_name},\n\nthanks for writing (ticket {ticket_ref}). We are on it.\n\n{admin_name}",
};

let server;
let browser;
let recorder;

before(async () => {
  server = await startServer();
  recorder = new Recorder(server.base);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  assert.deepEqual(recorder?.problems ?? [], [], "no request elsewhere, console error, exception or CSP violation");
});

test("a canned reply is written, inserted with the reporter's name filled in, sent and seen by the reporter", async () => {
  const alice = await newPerson(browser, recorder, "alice");
  const page = await alice.newPage();
  await joinAsFirstAdmin(page, server.invite, ALICE.username, ALICE.password);
  // Tickets are encrypted to the administrators: the reporter writes once there is one.
  const reporter = await newPerson(browser, recorder, "reporter");
  const rep = await reporter.newPage();
  const link = await anonymousTicket(rep, TICKET);
  const ticketId = new URL(link).pathname.split("/").pop();
  /** The confirmations the page asked for (the harness accepts every dialog). */
  const confirmations = [];
  page.on("dialog", (dialog) => confirmations.push(dialog.message()));
  /** Every request body the panel sends, to check that no canned text leaves in clear. */
  const sent = [];
  page.on("request", (request) => {
    const body = request.postData();
    if (body) sent.push(body);
  });

  // The view: empty at first, then a reply created, one created and deleted, one edited.
  await page.click('#panel-nav [data-view="canned"]');
  await page.locator("#view-canned:not([hidden])").waitFor();
  await page.locator("#canned-list", { hasText: "None yet" }).waitFor();
  // An empty form is refused in the page.
  await page.click("#canned-save");
  assert.equal(await page.getAttribute("#canned-title-input", "aria-invalid"), "true");
  await page.fill("#canned-title-input", "Temporary");
  await page.fill("#canned-body", "To be deleted");
  await page.click("#canned-save");
  await page.locator("#canned-list h3", { hasText: "Temporary" }).waitFor();
  await page.fill("#canned-title-input", "Greetng");
  await page.fill("#canned-body", GREETING.body);
  await page.click("#canned-save");
  await page.locator("#canned-list h3", { hasText: "Greetng" }).waitFor();
  await page.click('#canned-list button[aria-label="Edit “Greetng”"]');
  assert.equal(await page.inputValue("#canned-title-input"), "Greetng");
  await page.fill("#canned-title-input", GREETING.title);
  await page.click("#canned-save");
  await page.locator("#canned-list h3", { hasText: /^Greeting$/ }).waitFor();
  await page.click('#canned-list button[aria-label="Delete “Temporary”"]');
  await page.locator("#canned-list h3", { hasText: "Temporary" }).waitFor({ state: "detached" });
  assert.deepEqual(confirmations, ["Delete “Temporary” for the whole team?"]);
  assert.deepEqual(await page.locator("#canned-list h3").allInnerTexts(), ["Greeting"]);
  assert.deepEqual(await axeViolations(page), [], "axe on the canned replies view");
  await screenshots(page, "canned-replies");
  // Reloaded from the server, verified and decrypted again: the same list.
  await page.click('#panel-nav [data-view="inbox"]');
  await page.click('#panel-nav [data-view="canned"]');
  await page.locator("#canned-list h3", { hasText: /^Greeting$/ }).waitFor();
  assert.equal(await page.locator("#canned-list h3").count(), 1);

  // The ticket: the reply is inserted at the cursor, between what the administrator typed.
  await page.click('#panel-nav [data-view="inbox"]');
  await inboxShowAll(page, TICKET.subject);
  await adminOpenTicket(page, TICKET.subject);
  await page.fill("#composer-text", "Before.\nAfter.");
  await page.evaluate(() => {
    const area = /** @type {HTMLTextAreaElement} */ (document.querySelector("#composer-text"));
    area.setSelectionRange("Before.\n".length, "Before.\n".length);
  });
  await page.click("#canned-insert");
  await page.locator("#canned-choices button", { hasText: GREETING.title }).waitFor();
  assert.equal(await page.getAttribute("#canned-insert", "aria-expanded"), "true");
  assert.deepEqual(await axeViolations(page), [], "axe on the open picker");
  await screenshots(page, "canned-picker");
  await page.fill("#canned-filter", "nothing like this");
  await page.locator("#canned-choices", { hasText: "No canned reply matches." }).waitFor();
  await page.fill("#canned-filter", "greet");
  await page.click("#canned-choices button");
  const expected =
    `Before.\nHello ${TICKET.name},\n\nthanks for writing (ticket ${ticketId.slice(0, 8)}). We are on it.\n\n${ALICE.username}After.`;
  assert.equal(await page.inputValue("#composer-text"), expected);
  assert.equal(await page.evaluate(() => document.activeElement && document.activeElement.id), "composer-text");
  assert.ok(await page.isHidden("#canned-choices-box"));

  const [posted] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === "POST" && /\/api\/v1\/tickets\/[0-9a-f]+\/messages$/.test(r.url())),
    page.click("#composer-send"),
  ]);
  assert.equal(posted.status(), 201);
  await page.locator("#ticket-conversation .chat li.mine", { hasText: `Hello ${TICKET.name},` }).waitFor();

  // The reporter reads it.
  await rep.goto(link);
  await rep.locator("#thread .chat li.theirs", { hasText: `Hello ${TICKET.name},` }).waitFor({ timeout: 30_000 });
  assert.match(await rep.locator("#thread .chat li.theirs").last().innerText(), /thanks for writing/);

  // Nothing the panel sent carried the canned text in clear.
  for (const body of sent) {
    assert.ok(!body.includes("thanks for writing") && !body.includes("Greeting") && !body.includes("Temporary"), "no canned text in a request body");
  }
  await reporter.close();
  await alice.close();
});
