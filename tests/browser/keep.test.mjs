// "Keep this ticket in my account" and links into the panel, in the pages: an account holder
// signed in on the support tab (this device remembered) writes without an account, opens the
// ticket's link, presses "Keep this ticket in my account"; the conversation shows the line in
// the reporter's words; the support tab lists the ticket and opens it with the account's key.
// The administrators' mails link to `/admin#ticket=<id>`: the panel opens that ticket after
// sign-in, and on a hash change while signed in.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Recorder, anonymousTicket, joinAsFirstAdmin, launchBrowser, newPerson, startServer } from "./lib/harness.mjs";

const ADMIN = { username: "mara", password: "mara correct horse" };
const ROBIN = { username: "robin", password: "robin correct horse" };
const TICKET = { subject: "Printer queue stuck", message: "Nothing prints since the update." };
const KEPT_LINE = "This ticket was added to an account by the reporter";

let browser;
let recorder;
let server;

before(async () => {
  server = await startServer();
  recorder = new Recorder(server.base);
  browser = await launchBrowser();
  const mara = await newPerson(browser, recorder, "mara");
  await joinAsFirstAdmin(await mara.newPage(), server.invite, ADMIN.username, ADMIN.password);
  await mara.close();
  const robin = await newPerson(browser, recorder, "robin (registers)");
  const page = await robin.newPage();
  await page.goto("/help");
  await page.locator("#signed-out:not([hidden])").waitFor();
  await page.fill("#register-username", ROBIN.username);
  await page.fill("#register-password", ROBIN.password);
  await page.fill("#register-password2", ROBIN.password);
  await page.click("#register-form button[type=submit]");
  await page.locator("#signed-in:not([hidden])").waitFor({ timeout: 60_000 });
  await robin.close();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  assert.deepEqual(recorder?.problems ?? [], [], "no request elsewhere, console error, exception or CSP violation");
});

/** The ticket id (32 hex digits) of a ticket link. */
function idOf(link) {
  const match = /\/help\/ticket\/([0-9a-f]{32})#/.exec(link);
  assert.ok(match, `a ticket link: ${link}`);
  return match[1];
}

describe("keeping an anonymous ticket in an account", () => {
  let ticketId;

  test("the ticket page's button adds the account's key; the support tab lists and opens the ticket", async () => {
    const robin = await newPerson(browser, recorder, "robin");
    const page = await robin.newPage();
    // Signed in on the support tab with this device remembered.
    await page.goto("/help");
    await page.locator("#signed-out:not([hidden])").waitFor();
    await page.fill("#login-username", ROBIN.username);
    await page.fill("#login-password", ROBIN.password);
    await page.check("#login-remember");
    await page.click("#login-form button[type=submit]");
    await page.locator("#signed-in:not([hidden])").waitFor({ timeout: 60_000 });
    await page.locator("#tickets-empty:not([hidden])").waitFor();

    // Written without the account, then kept from the ticket's page.
    const link = await anonymousTicket(page, TICKET);
    ticketId = idOf(link);
    await page.goto(link);
    await page.locator("#thread .chat li", { hasText: TICKET.message }).waitFor({ timeout: 60_000 });
    const keep = page.getByRole("button", { name: "Keep this ticket in my account" });
    await keep.waitFor();
    await keep.click();
    await page.locator("#keep-actions .notice.ok", { hasText: `the account ${ROBIN.username}` }).waitFor({ timeout: 60_000 });
    await page.reload();
    await page.locator("#thread .chat li.endorse", { hasText: KEPT_LINE }).waitFor({ timeout: 60_000 });

    // The support tab lists it and opens it with the account's key, the line included.
    await page.goto("/help");
    await page.locator("#signed-in:not([hidden])").waitFor({ timeout: 60_000 });
    const item = page.locator("#ticket-list button.link", { hasText: TICKET.subject });
    await item.waitFor({ timeout: 60_000 });
    await item.click();
    await page.locator("#ticket-view .chat li", { hasText: TICKET.message }).waitFor({ timeout: 60_000 });
    await page.locator("#ticket-view .chat li.endorse", { hasText: KEPT_LINE }).waitFor();
    await robin.close();
  });

  test("/admin#ticket=<id> opens that ticket after sign-in, and on a hash change", async () => {
    assert.ok(ticketId, "the first test made the ticket");
    const mara = await newPerson(browser, recorder, "mara (link)");
    const page = await mara.newPage();
    await page.goto(`/admin#ticket=${ticketId}`);
    await page.locator("#view-signin:not([hidden])").waitFor();
    await page.fill("#signin-username", ADMIN.username);
    await page.fill("#signin-password", ADMIN.password);
    await page.click("#signin-form button[type=submit]");
    await page.locator("#view-ticket:not([hidden])").waitFor({ timeout: 60_000 });
    await page.waitForFunction((s) => document.querySelector("#ticket-title")?.textContent === s, TICKET.subject);
    await page.locator("#ticket-conversation .chat li.endorse", { hasText: KEPT_LINE }).waitFor({ timeout: 60_000 });

    // Back to the inbox, then another link followed in the same tab.
    await page.click('#panel-nav [data-view="inbox"]');
    await page.locator("#view-inbox:not([hidden])").waitFor();
    const other = await anonymousTicket(await (await newPerson(browser, recorder, "sam")).newPage(), {
      subject: "Second ticket",
      message: "Another one.",
    });
    await page.evaluate((id) => {
      window.location.hash = `ticket=${id}`;
    }, idOf(other));
    await page.locator("#view-ticket:not([hidden])").waitFor({ timeout: 60_000 });
    await page.waitForFunction(() => document.querySelector("#ticket-title")?.textContent === "Second ticket");
    await mara.close();
  });
});
