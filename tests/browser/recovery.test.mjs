// "Resend access link" as recovery in the pages, against a real SMTP server (aiosmtpd): a
// reporter writes with "Email me when support answers" and loses the link; in a fresh browser
// context the ticket's address without its secret offers a recovery mail; the mailed link makes
// a new key there and shows its fingerprint; the administrator, in another context, sees the
// pending recovery (badge, list, the address check) and approves it; the new context then opens
// the conversation, with the endorsement visible, and answers; the administrator reads the
// answer as the reporter's.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Recorder, adminOpenTicket, inboxShowAll, joinAsFirstAdmin, launchBrowser, newPerson, startServer, startSmtpSink } from "./lib/harness.mjs";

const ADMIN = { username: "mara", password: "mara correct horse" };
const PLACEHOLDER = "http://placeholder.invalid";
const REPORTER = {
  email: "robin@example.org",
  subject: "Cannot reach the archive",
  message: "The archive share times out since this morning.",
  answer: "Still broken, writing from my new laptop.",
};

let browser;
let recorder;
let sink;
let server;

before(async () => {
  sink = await startSmtpSink();
  server = await startServer({
    env: {
      SEALDESK_SMTP_URL: sink.url,
      SEALDESK_MAIL_FROM: "Support <support@example.org>",
      SEALDESK_PUBLIC_URL: PLACEHOLDER,
      SEALDESK_INSTANCE_NAME: "Acme Help",
    },
  });
  recorder = new Recorder(server.base);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  sink?.stop();
});

/**
 * A mail's body with quoted-printable undone (soft line breaks and =XX).
 * @param {{data: string}} mail
 */
function body(mail) {
  const [head, ...rest] = mail.data.split("\r\n\r\n");
  const text = rest.join("\r\n\r\n");
  if (!/content-transfer-encoding:\s*quoted-printable/i.test(head)) return text;
  const bytes = [];
  const joined = text.replace(/=\r\n/g, "");
  for (let i = 0; i < joined.length; i++) {
    const hex = joined[i] === "=" ? joined.slice(i + 1, i + 3) : "";
    if (/^[0-9A-F]{2}$/i.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(joined[i], "utf8"));
    }
  }
  return Buffer.from(bytes).toString("utf8");
}

describe("recovery", () => {
  test("a fresh browser follows the mailed recovery link, an administrator approves, and the new browser reads and answers", async () => {
    const admin = await newPerson(browser, recorder, "mara");
    const panel = await admin.newPage();
    await joinAsFirstAdmin(panel, server.invite.replace(PLACEHOLDER, server.base), ADMIN.username, ADMIN.password);

    // The reporter writes, asks to be emailed, and then loses the link with the browser.
    const first = await newPerson(browser, recorder, "robin-first");
    const writer = await first.newPage();
    await writer.goto("/help/ticket/new");
    await writer.locator("#notify-field:not([hidden])").waitFor();
    await writer.fill("#email", REPORTER.email);
    await writer.check("#notify");
    await writer.fill("#subject", REPORTER.subject);
    await writer.fill("#message", REPORTER.message);
    await writer.click("#send");
    await writer.locator("#created:not([hidden])").waitFor();
    const link = await writer.inputValue("#created .link-box input");
    const ticketId = new URL(link, server.base).pathname.split("/").pop();
    await sink.waitFor(1); // the confirmation
    await first.close();

    // A fresh browser opens the ticket's address without its secret and asks for a recovery.
    const second = await newPerson(browser, recorder, "robin-second");
    const page = await second.newPage();
    await page.goto(`/help/ticket/${ticketId}`);
    await page.getByRole("heading", { name: "This link has no secret" }).waitFor();
    await page.fill("#link-actions input[type=email]", REPORTER.email);
    await page.click("#link-actions button[type=submit]");
    await page.locator("#link-actions [role=status]", { hasText: "a mail with a recovery link is on its way" }).waitFor();
    const mails = await sink.waitFor(2);
    const mail = mails.find((m) => body(m).includes("/help/recover#"));
    assert.ok(mail, "a recovery mail");
    assert.deepEqual(mail.rcpt_tos, [REPORTER.email]);
    for (const secret of [REPORTER.subject, REPORTER.message, new URL(link, server.base).hash.slice(1)]) {
      assert.ok(!mail.data.includes(secret) && !body(mail).includes(secret), `the mail carries no ${secret}`);
    }
    const mailed = body(mail)
      .split("\n")
      .map((line) => line.trim())
      .find((line) => line.startsWith(`${PLACEHOLDER}/help/recover#`));
    assert.ok(mailed, body(mail));

    // Following it makes a key in this browser and shows its fingerprint; the token leaves the
    // address bar at once.
    await page.goto(mailed.replace(PLACEHOLDER, server.base));
    await page.getByRole("heading", { name: "Support will confirm this browser" }).waitFor();
    assert.equal(new URL(page.url()).hash, "", "the token is not kept in the address bar");
    const fingerprint = (await page.locator("#recovery code.fingerprint").innerText()).trim();
    assert.match(fingerprint, /^\d{5}( \d{5}){5}$/);

    // The administrator sees it (badge, list, the address matches the first message) and approves.
    await panel.click('#panel-nav [data-view="inbox"]');
    await panel.locator("#recoveries:not([hidden])").waitFor();
    assert.equal((await panel.locator("#recoveries-badge").innerText()).trim(), "1");
    const item = panel.locator("#recoveries-list li", { hasText: fingerprint });
    await item.locator(".chip", { hasText: "Address matches the first message" }).waitFor();
    await item.getByRole("button", { name: /^Approve the recovery/ }).click();
    await panel.locator("#recoveries-status", { hasText: "The key was added" }).waitFor({ timeout: 60_000 });
    await panel.locator("#recoveries").waitFor({ state: "hidden" });

    // The new browser opens the conversation (the page polls), sees the endorsement, answers.
    await page.waitForURL(`**/help/ticket/${ticketId}`, { timeout: 30_000 });
    await page.locator("#thread .chat li", { hasText: REPORTER.message }).waitFor({ timeout: 30_000 });
    const endorsement = page.locator("#thread .chat li.system.endorse");
    await endorsement.waitFor();
    assert.match(await endorsement.innerText(), new RegExp(`fingerprint ${fingerprint}`));
    await page.fill("#thread form.composer textarea", REPORTER.answer);
    await page.click('#thread form.composer button[type="submit"]');
    await page.locator("#thread .chat li.mine", { hasText: REPORTER.answer }).waitFor();

    // The administrator reads the answer as the reporter's, after the endorsement.
    await inboxShowAll(panel, REPORTER.subject);
    await adminOpenTicket(panel, REPORTER.subject);
    await panel.locator("#ticket-conversation .chat li.system.endorse").waitFor();
    await panel.locator("#ticket-conversation .chat li.theirs", { hasText: REPORTER.answer }).waitFor({ timeout: 10_000 });

    // Opened again later, the page finds this browser's key without any link.
    await page.reload();
    await page.locator("#thread .chat li.mine", { hasText: REPORTER.answer }).waitFor({ timeout: 30_000 });
    await second.close();
    await admin.close();
  });

  test("every request went to the page's own origin; no console error, exception or CSP violation", () => {
    assert.ok(recorder.requests > 20, `requests were recorded (${recorder.requests})`);
    assert.deepEqual(recorder.problems, []);
  });
});
