// Mail in the pages: the new-ticket page offers "Email me when support answers" only when the
// instance sends mail (smtp_url set); ticking it sends the confirmation to the address typed
// in the form (a real SMTP server, aiosmtpd); the mail's unsubscribe link opens the unsubscribe
// page, which unsubscribes at once, and a damaged link says so without offering a retry.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Recorder, joinAsFirstAdmin, launchBrowser, newPerson, startServer, startSmtpSink } from "./lib/harness.mjs";

const ADMIN = { username: "mara", password: "mara correct horse" };

let browser;
let recorder;
let sink;
let plain;
let mailing;

before(async () => {
  sink = await startSmtpSink();
  plain = await startServer();
  mailing = await startServer({
    env: {
      SEALDESK_SMTP_URL: sink.url,
      SEALDESK_MAIL_FROM: "Support <support@example.org>",
      SEALDESK_PUBLIC_URL: "http://placeholder.invalid",
      SEALDESK_INSTANCE_NAME: "Acme Help",
    },
  });
  recorder = new Recorder(mailing.base);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await plain?.stop();
  await mailing?.stop();
  sink?.stop();
});

/** Opens the new-ticket page of `base` and waits until its settings were applied. */
async function newTicketPage(context, base) {
  const page = await context.newPage();
  await page.goto(`${base}/help/ticket/new`);
  await page.waitForResponse((r) => r.url().endsWith("/api/v1/settings")).catch(() => {});
  await page.waitForLoadState("networkidle");
  return page;
}

describe("mail", () => {
  test("without smtp_url the new-ticket page does not offer mail", async () => {
    const context = await browser.newContext();
    const page = await newTicketPage(context, plain.base);
    assert.equal(await page.locator("#notify-field").isHidden(), true);
    await context.close();
  });

  test("with smtp_url the choice is offered, the confirmation arrives, and its unsubscribe link works", async () => {
    const admin = await newPerson(browser, recorder, "mara");
    const panel = await admin.newPage();
    // The printed invite starts with public_url; the server itself is on its loopback port.
    const invite = mailing.invite.replace("http://placeholder.invalid", mailing.base);
    await joinAsFirstAdmin(panel, invite, ADMIN.username, ADMIN.password);

    const reporter = await newPerson(browser, recorder, "reporter");
    const page = await reporter.newPage();
    await page.goto("/help/ticket/new");
    await page.locator("#notify-field:not([hidden])").waitFor();
    assert.equal(await page.isChecked("#notify"), false, "off by default");
    assert.match(await page.textContent("#notify-hint"), /server will know this address/);
    // Ticked without an address: the form says what is missing and sends nothing.
    await page.fill("#subject", "Printer on fire");
    await page.fill("#message", "It smells of toner.");
    await page.check("#notify");
    await page.click("#send");
    assert.match(await page.textContent("#ticket-form"), /Enter the address to be emailed at/);
    assert.equal(sink.mails().length, 0);

    await page.fill("#email", "robin@example.org");
    await page.click("#send");
    await page.locator("#created:not([hidden])").waitFor();
    const [mail] = await sink.waitFor(1);
    assert.deepEqual(mail.rcpt_tos, ["robin@example.org"]);
    assert.doesNotMatch(mail.data, /Printer on fire|toner/i);
    // The body may be quoted-printable: undo its soft line breaks before reading the link.
    const token = /\/help\/unsubscribe\/([A-Za-z0-9_-]+)/.exec(mail.data.replace(/=\r\n/g, ""))?.[1];
    assert.ok(token, "an unsubscribe link");

    await page.goto(`/help/unsubscribe/${token}`);
    await page.locator("#unsubscribe-status", { hasText: "You are unsubscribed" }).waitFor();
    assert.equal(await page.locator("#unsubscribe-retry").isHidden(), true);

    await page.goto("/help/unsubscribe/damaged");
    await page.locator("#unsubscribe-status", { hasText: "damaged" }).waitFor();
    assert.equal(await page.locator("#unsubscribe-retry").isHidden(), true);
    assert.deepEqual(recorder.problems.filter((p) => !/Failed to load resource/.test(p)), []);
  });
});
