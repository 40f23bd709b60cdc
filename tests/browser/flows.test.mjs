// The people's flows end to end, in one server and one browser, each person in their own
// browser context: the first administrator joins through the invite link; an anonymous
// reporter writes with an image and debug data, the administrator reads and answers, the
// answer appears live; an account holder writes from the support tab, sees the answer badge,
// closes and removes the ticket; a second administrator is invited, approved and reads the
// history; a server that alters a stored message is caught. Every page's requests, console
// errors and CSP violations are recorded throughout and checked at the end. The server asks
// anonymous tickets for a proof of work (spec/API.md), as a self-hoster may configure it, so
// these flows show the browser solving it; the pages suite runs with it off (the default).

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  Recorder,
  adminOpenTicket,
  adminSignIn,
  inboxShowAll,
  joinAsFirstAdmin,
  launchBrowser,
  newPerson,
  pngImage,
  runSealdesk,
  startServer,
} from "./lib/harness.mjs";

const ALICE = { username: "alice", password: "alice correct horse" };
const CAROL = { username: "carol", password: "carol battery staple" };
const DAVE = { username: "dave", password: "dave purple monkey" };

/** Leading zero bits of the proof of work this suite's server asks for. */
const POW_BITS = 14;

const ANON = {
  name: "Bob Reporter",
  email: "bob@example.org",
  subject: "VPN drops every five minutes",
  message: "Since Monday the VPN disconnects every five minutes.\nI restarted the router.",
  reply: "Thanks Bob, which VPN client do you use?",
  answer: "WireGuard 1.0.2, on the laptop.",
};
const ACCOUNT = {
  subject: "Invoice shows the wrong address",
  message: "My November invoice still shows my old address.",
  reply: "Fixed: the next invoice uses the new address.",
};

let server;
let browser;
let recorder;
const people = {};
const state = {}; // what later tests need of earlier ones

before(async () => {
  // Account tickets need the proof of work too: the account holder's page solves it after the
  // server's `pow_required` (spec/API.md, `POST /api/v1/tickets/account`).
  server = await startServer({
    env: {
      SEALDESK_PROOF_OF_WORK_BITS: String(POW_BITS),
      SEALDESK_PROOF_OF_WORK_FOR_ACCOUNT_TICKETS: "true",
    },
  });
  recorder = new Recorder(server.base);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

describe("people's flows", () => {
  test("the first administrator joins through the invite link (register and redeem)", async () => {
    people.alice = await newPerson(browser, recorder, "alice");
    const page = await people.alice.newPage();
    await joinAsFirstAdmin(page, server.invite, ALICE.username, ALICE.password);
    assert.equal(new URL(page.url()).pathname, "/admin", "the invite token leaves the address bar");
    await page.locator("#user-name", { hasText: "Signed in as alice" }).waitFor();
    // The team lists one administrator: alice, with her fingerprint.
    await page.click('#panel-nav [data-view="team"]');
    await page.locator("#team-admins td", { hasText: "You (alice)" }).waitFor();
    assert.match(await page.textContent("#my-fingerprint"), /^\d{5}( \d{5})+$/);
    await page.close();
  });

  test("an anonymous reporter writes with an image and debug data; the administrator reads it and answers; the answer appears live; the reporter answers and closes", async () => {
    people.bob = await newPerson(browser, recorder, "bob (anonymous)");
    const rep = await people.bob.newPage();
    await rep.goto("/help/ticket/new");
    const image = await pngImage(rep);
    await rep.fill("#name", ANON.name);
    await rep.fill("#email", ANON.email);
    await rep.fill("#subject", ANON.subject);
    await rep.fill("#message", ANON.message);
    await rep.check("#urgent");
    await rep.setInputFiles("#files", { name: "screenshot.png", mimeType: "image/png", buffer: image });
    await rep.locator("#file-list img.thumb").waitFor();
    // Debug data: shown in full before sending, one field removed.
    await rep.click("#debug-details > summary");
    await rep.check("#debug-include");
    const userAgent = await rep.evaluate(() => navigator.userAgent);
    await rep.locator("#debug-editor td", { hasText: userAgent }).waitFor();
    await rep.click('#debug-editor button[aria-label="Remove Viewport"]');
    await rep.locator('#debug-editor button[aria-label="Put back Viewport"]').waitFor();
    const challenge = rep.waitForResponse((r) => new URL(r.url()).pathname === "/api/v1/pow/challenge");
    await rep.click("#send");
    await rep.locator("#created:not([hidden])").waitFor();
    // The challenge was asked for by the page's proof-of-work worker (whose answers playwright
    // does not keep); the ticket was accepted, so the worker solved it, and the instance asks
    // for POW_BITS bits.
    assert.equal((await challenge).status(), 200, "the browser asked for a challenge");
    const issued = await (await fetch(`${server.base}/api/v1/pow/challenge`)).json();
    assert.equal(issued.bits, POW_BITS, "the browser solved the proof of work");
    await rep.locator("#created", { hasText: "1 file attached." }).waitFor();
    const link = await rep.inputValue("#created .link-box input");
    assert.match(link, new RegExp(`^${server.base}/help/ticket/[0-9a-f]{32}#.+`));
    state.anonLink = link;

    // The reporter keeps the conversation open.
    await rep.goto(link);
    await rep.locator("#thread .chat li.mine", { hasText: ANON.message.split("\n")[0] }).waitFor();
    await rep.locator("#page-title", { hasText: ANON.subject }).waitFor();
    await rep.evaluate(() => {
      window.__notReloaded = true;
    });

    // The administrator signs in and reads it, decrypted in her browser.
    const admin = await people.alice.newPage();
    state.alicePage = admin;
    await adminSignIn(admin, ALICE.username, ALICE.password);
    const item = admin.locator("#inbox-list li", { hasText: ANON.subject });
    await item.waitFor();
    assert.match(await item.innerText(), /Urgent/);
    assert.match(await item.innerText(), new RegExp(`from ${ANON.name}`));
    await adminOpenTicket(admin, ANON.subject);
    const details = await admin.innerText("#ticket-details");
    assert.match(details, new RegExp(ANON.email.replace(".", "\\.")));
    assert.match(details, /Urgent/);
    await admin.locator("#ticket-conversation .chat li", { hasText: "I restarted the router." }).waitFor();
    // The debug data: what was sent, without the removed field.
    const debug = await admin.innerText("#ticket-debug");
    assert.ok(debug.includes(userAgent), `the user agent is in the debug data: ${debug}`);
    assert.match(debug, /Time zone/);
    assert.doesNotMatch(debug, /Viewport/, "the field the reporter removed was not sent");
    // The attachment: shown as an image and downloaded byte for byte.
    await admin.locator("#ticket-files .file-name", { hasText: "screenshot.png" }).waitFor();
    await admin.click('#ticket-files button[aria-label="Show image screenshot.png"]');
    const preview = admin.locator("#ticket-files img.file-preview");
    await preview.waitFor();
    await admin.waitForFunction(() => document.querySelector("#ticket-files img.file-preview").complete);
    assert.equal(await preview.evaluate((img) => img.naturalWidth), 160);
    const [download] = await Promise.all([
      admin.waitForEvent("download"),
      admin.click('#ticket-files button[aria-label="Download screenshot.png"]'),
    ]);
    assert.equal(download.suggestedFilename(), "screenshot.png");
    const saved = await download.createReadStream();
    const chunks = [];
    for await (const chunk of saved) chunks.push(chunk);
    assert.ok(Buffer.concat(chunks).equals(image), "the downloaded file is the uploaded one");

    // The reply, as the support team, appears on the reporter's page within 2 seconds.
    assert.ok(await admin.isChecked("#sign-team"), "replies are signed by the support team by default");
    await rep.evaluate((text) => {
      window.__replySeenAt = null;
      const check = () => {
        if (!window.__replySeenAt && document.querySelector("#thread")?.innerText.includes(text)) window.__replySeenAt = Date.now();
      };
      new MutationObserver(check).observe(document.body, { childList: true, subtree: true, characterData: true });
    }, ANON.reply);
    await admin.fill("#composer-text", ANON.reply);
    const clickedAt = Date.now();
    const [posted] = await Promise.all([
      admin.waitForResponse((r) => r.request().method() === "POST" && /\/api\/v1\/tickets\/[0-9a-f]+\/messages$/.test(r.url())),
      admin.click("#composer-send"),
    ]);
    assert.equal(posted.status(), 201);
    state.replySeq = (await posted.json()).seq;
    // When the administrator's browser got the server's 201: the reply is stored (the page and
    // this process share the machine's clock).
    const timing = posted.request().timing();
    const storedAt = timing.startTime + timing.responseStart;
    await admin.locator("#ticket-conversation .chat li.mine", { hasText: ANON.reply }).waitFor();
    await rep.waitForFunction(() => window.__replySeenAt !== null, null, { timeout: 5_000 });
    const seenAt = await rep.evaluate(() => window.__replySeenAt);
    const delay = seenAt - storedAt;
    console.log(`live update: the reply appeared on the reporter's page ${Math.round(delay)} ms after the server stored it (${seenAt - clickedAt} ms after the administrator clicked Send)`);
    assert.ok(delay <= 2_000, `the reply appeared ${Math.round(delay)} ms after it was stored (at most 2,000)`);
    assert.ok(await rep.evaluate(() => window.__notReloaded === true), "the reporter's page was not reloaded");
    const theirs = rep.locator("#thread .chat li.theirs", { hasText: ANON.reply });
    assert.match(await theirs.innerText(), /Support team/);

    // The reporter answers and closes; the administrator's open ticket follows live.
    await rep.fill("#thread form.composer textarea", ANON.answer);
    await rep.click('#thread form.composer button[type="submit"]');
    await rep.locator("#thread .chat li.mine", { hasText: ANON.answer }).waitFor();
    await admin.locator("#ticket-conversation .chat li.theirs", { hasText: ANON.answer }).waitFor({ timeout: 10_000 });
    await rep.click("#thread button:text('Close this ticket')");
    await rep.locator("#thread .closed-banner").waitFor();
    await rep.locator("#thread .chat li.system", { hasText: "You closed the ticket" }).waitFor();
    await rep.locator("#ticket-meta .chip.closed").waitFor();
    await admin.locator("#ticket-conversation .chat li.system", { hasText: "closed the ticket" }).waitFor({ timeout: 10_000 });
    await admin.locator("#reopen-ticket:not([hidden])").waitFor();
    state.reporterPage = rep;
  });

  test("an account holder registers, writes from the support tab, sees the answer badge, closes the ticket and removes it from the list", async () => {
    people.carol = await newPerson(browser, recorder, "carol (account)");
    const page = await people.carol.newPage();
    await page.goto("/help");
    await page.locator("#signed-out:not([hidden])").waitFor();
    await page.fill("#register-username", CAROL.username);
    await page.fill("#register-password", CAROL.password);
    await page.fill("#register-password2", CAROL.password);
    await page.click("#register-form button[type=submit]");
    await page.locator("#signed-in:not([hidden])").waitFor({ timeout: 60_000 });
    await page.locator("#user-name", { hasText: "Signed in as carol" }).waitFor();
    await page.locator("#tickets-empty:not([hidden])").waitFor();

    // New ticket tab.
    await page.click("#tab-new");
    await page.locator("#panel-new:not([hidden])").waitFor();
    assert.equal(await page.inputValue("#name"), CAROL.username);
    await page.fill("#subject", ACCOUNT.subject);
    await page.fill("#message", ACCOUNT.message);
    await page.click("#new-send");
    await page.locator("#ticket-view:not([hidden])").waitFor();
    await page.locator("#ticket-thread .chat li.mine", { hasText: ACCOUNT.message }).waitFor();
    await page.click("#back-to-list");
    const listed = page.locator("#ticket-list button.link", { hasText: ACCOUNT.subject });
    await listed.waitFor();
    assert.ok(await page.isHidden("#unread-badge"), "no badge before an answer");

    // The administrator answers.
    const admin = state.alicePage;
    await admin.click('#panel-nav [data-view="inbox"]');
    await inboxShowAll(admin, ACCOUNT.subject);
    await adminOpenTicket(admin, ACCOUNT.subject);
    await admin.fill("#composer-text", ACCOUNT.reply);
    await admin.click("#composer-send");
    await admin.locator("#ticket-conversation .chat li.mine", { hasText: ACCOUNT.reply }).waitFor();

    // The support tab's list polls every 15 seconds: the badge appears without a reload.
    const started = Date.now();
    await page.locator("#unread-badge:not([hidden])").waitFor({ timeout: 25_000 });
    console.log(`answer badge: shown ${Date.now() - started} ms after the answer (the list polls every 15 s)`);
    assert.equal(await page.textContent("#unread-badge"), "1");
    assert.match(await page.textContent("#unread-text"), /1 new answer/);
    const item = page.locator("#ticket-list li", { hasText: ACCOUNT.subject });
    assert.match(await item.innerText(), /1 new answer/);
    assert.match(await page.title(), /^\(1\) /);

    // Reading it clears the badge.
    await listed.click();
    await page.locator("#ticket-thread .chat li.theirs", { hasText: ACCOUNT.reply }).waitFor();
    await page.locator("#unread-badge[hidden]").waitFor({ state: "attached" });
    await page.click("#back-to-list");
    await listed.waitFor();

    // Close from the list, then remove the closed ticket from the list.
    await page.click(`#ticket-list button[aria-label="Close ${ACCOUNT.subject}"]`);
    await item.locator(".chip.closed").waitFor();
    await page.click(`#ticket-list button[aria-label="Remove ${ACCOUNT.subject} from the list"]`);
    await listed.waitFor({ state: "detached" });
    await page.locator("#show-removed:not([hidden])", { hasText: "Show 1 removed ticket" }).waitFor();

    // The removal is kept in this browser for this account: still removed after signing in again.
    await page.click("#sign-out");
    await page.locator("#signed-out:not([hidden])").waitFor();
    await page.reload();
    await page.fill("#login-username", CAROL.username);
    await page.fill("#login-password", CAROL.password);
    await page.click("#login-form button[type=submit]");
    await page.locator("#signed-in:not([hidden])").waitFor({ timeout: 60_000 });
    await page.locator("#show-removed:not([hidden])", { hasText: "Show 1 removed ticket" }).waitFor();
    assert.equal(await listed.count(), 0, "the removed ticket stays off the list");
    await page.click("#show-removed");
    await page.locator("#ticket-list li", { hasText: "Removed from the list" }).waitFor();
    await page.close();
  });

  test("a second administrator is invited and approved, and reads the earlier tickets", async () => {
    const alice = state.alicePage;
    await alice.click('#panel-nav [data-view="team"]');
    await alice.click("#create-invite");
    const invite = await alice.inputValue("#invite-link");
    assert.match(invite, new RegExp(`^${server.base}/admin/invite#.+`));

    people.dave = await newPerson(browser, recorder, "dave");
    const dave = await people.dave.newPage();
    await dave.goto(invite);
    await dave.locator("#invite-title", { hasText: "Join the support team" }).waitFor();
    await dave.fill("#register-username", DAVE.username);
    await dave.fill("#register-password", DAVE.password);
    await dave.fill("#register-password2", DAVE.password);
    await dave.click("#register-submit");
    await dave.getByRole("heading", { name: "Waiting for approval" }).waitFor({ timeout: 60_000 });
    const fingerprint = (await dave.textContent("#invite-result .fingerprint")).trim();
    assert.ok(fingerprint.length > 16);
    // Not an administrator before the approval.
    await dave.click("#invite-result button:text('Check again')");
    await dave.locator("#invite-result [role=status]", { hasText: "Not approved yet" }).waitFor();

    // Alice compares the fingerprint and approves; the history is shared with dave.
    await alice.click('#panel-nav [data-view="team"]');
    const pending = alice.locator("#team-pending li", { hasText: "dave" });
    await pending.waitFor();
    assert.equal((await pending.locator(".fingerprint").textContent()).trim(), fingerprint);
    await alice.click('#team-pending button[aria-label="Approve dave"]');
    const status = alice.locator("#team-status", { hasText: "dave is an administrator" });
    await status.waitFor({ timeout: 60_000 });
    assert.match(await status.innerText(), /History shared: 2 tickets/);
    await alice.locator("#team-admins td", { hasText: "dave" }).waitFor();

    await dave.click("#invite-result button:text('Check again')");
    await dave.locator("#view-inbox:not([hidden])").waitFor({ timeout: 60_000 });
    await inboxShowAll(dave, ANON.subject);
    await dave.locator("#inbox-list button.link", { hasText: ACCOUNT.subject }).waitFor();
    await adminOpenTicket(dave, ANON.subject);
    for (const text of ["I restarted the router.", ANON.reply, ANON.answer]) {
      await dave.locator("#ticket-conversation .chat li", { hasText: text }).waitFor();
    }
    assert.match(await dave.innerText("#ticket-debug"), /User agent/);
    await dave.click('#ticket-files button[aria-label="Show image screenshot.png"]');
    await dave.locator("#ticket-files img.file-preview").waitFor();
    await dave.click("#back-to-inbox");
    await adminOpenTicket(dave, ACCOUNT.subject);
    await dave.locator("#ticket-conversation .chat li", { hasText: ACCOUNT.reply }).waitFor();
    state.davePage = dave;
  });

  test("an administrator adds a device for the reporter from the command line; both open conversations show it", async () => {
    // A fresh public identity (PROTOCOL.md §4.2: Ed25519 key || X25519 key), as a reporter's
    // new device would hold after email recovery.
    const raw = (type) => Buffer.from(crypto.generateKeyPairSync(type).publicKey.export({ format: "jwk" }).x, "base64url");
    const key = Buffer.concat([raw("ed25519"), raw("x25519")]).toString("base64url");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sealdesk-cli-"));
    const env = { SEALDESK_PASSPHRASE: "cli passphrase", SEALDESK_PASSWORD: ALICE.password, SEALDESK_KEYRING: path.join(dir, "alice.keyring") };
    try {
      await runSealdesk(["admin", "login", "--server", server.base, "--username", ALICE.username], env);
      const ticketId = new URL(state.anonLink).pathname.split("/").pop();
      const out = await runSealdesk(["admin", "endorse", ticketId, "--key", key], env);
      const fingerprint = /fingerprint (\d{5}(?: \d{5}){5})/.exec(out)?.[1];
      assert.ok(fingerprint, out);
      const line = `A new device was added for the reporter by`;
      // The reporter's open conversation and the administrator's, live.
      const rep = state.reporterPage;
      const shown = rep.locator("#thread .chat li.system.endorse", { hasText: line });
      await shown.waitFor({ timeout: 10_000 });
      assert.match(await shown.innerText(), new RegExp(`fingerprint ${fingerprint}`));
      const alice = state.alicePage;
      await alice.click('#panel-nav [data-view="inbox"]');
      await inboxShowAll(alice, ANON.subject);
      await adminOpenTicket(alice, ANON.subject);
      const seen = alice.locator("#ticket-conversation .chat li.system.endorse", { hasText: line });
      await seen.waitFor({ timeout: 10_000 });
      assert.match(await seen.innerText(), new RegExp(`fingerprint ${fingerprint}`));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a ticket whose stored data was altered shows the warning and not the altered content", async () => {
    // A server that flips one byte of the stored administrator's reply in its /messages answer.
    const tamper = async (page) => {
      let altered = 0;
      const ticketId = new URL(state.anonLink).pathname.split("/").pop();
      await page.route(new RegExp(`/api/v1/tickets/${ticketId}/messages(\\?.*)?$`), async (route) => {
        if (route.request().method() !== "GET") return route.continue();
        const response = await route.fetch();
        const body = await response.json();
        for (const m of body.messages || []) {
          if (m.seq !== state.replySeq) continue;
          const bytes = Buffer.from(m.message, "base64url");
          bytes[Math.floor(bytes.length / 2)] ^= 0x01;
          m.message = bytes.toString("base64url");
          altered += 1;
        }
        await route.fulfill({ response, json: body });
      });
      return () => altered;
    };

    // The reporter opens the link in a new tab.
    const rep = await people.bob.newPage();
    const alteredForReporter = await tamper(rep);
    await rep.goto(state.anonLink);
    await rep.locator("#alerts .notice.alarm, #thread .notice.alarm").first().waitFor();
    assert.ok(alteredForReporter() > 0, "the altered message was served");
    const main = await rep.innerText("main");
    assert.match(main, /Security warning/);
    // The heading says what happened in one sentence; the notice below says why.
    assert.match(await rep.innerText("#page-title"), /could not be opened because it did not verify/);
    assert.equal(await rep.title(), "Ticket could not be opened – Sealdesk");
    assert.ok(!main.includes(ANON.reply), "the altered reply is not shown");
    assert.ok(!main.includes(ANON.message.split("\n")[0]), "nothing of the conversation is shown as trusted");
    assert.equal(await rep.locator(".chat li").count(), 0);
    assert.equal(await rep.locator("form.composer:visible").count(), 0, "no reply box on a ticket that does not verify");
    await rep.close();

    // An administrator opening it sees the same.
    const admin = await people.dave.newPage();
    await adminSignIn(admin, DAVE.username, DAVE.password);
    const alteredForAdmin = await tamper(admin);
    // The inbox verifies each ticket's conversation: this one is listed as unverified.
    const ticketId = new URL(state.anonLink).pathname.split("/").pop();
    await admin.click('#inbox-filter [data-status="all"]');
    const unverified = admin.locator("#inbox-list li.untrusted", { hasText: `Unverified ticket ${ticketId.slice(0, 8)}` });
    await unverified.waitFor();
    assert.match(await unverified.innerText(), /Security warning/);
    assert.equal(await admin.locator("#inbox-list li", { hasText: ANON.subject }).count(), 0, "its subject is not shown");
    await admin.locator("#inbox-list li", { hasText: ACCOUNT.subject }).waitFor();
    await unverified.locator("button.link").click();
    await admin.locator("#ticket-alerts .notice.alarm").waitFor();
    assert.ok(alteredForAdmin() > 0);
    assert.match(await admin.textContent("#ticket-title"), /could not be opened|does not verify/);
    assert.match(await admin.innerText("#ticket-alerts"), /Security warning/);
    const shown = await admin.innerText("main");
    assert.ok(!shown.includes(ANON.reply), "the altered reply is not shown");
    assert.ok(await admin.isHidden("#composer"));
    await admin.close();

    // A conversation already open: an altered message arriving live takes it all down.
    const open = await people.bob.newPage();
    await open.goto(state.anonLink);
    await open.locator("#thread .chat li", { hasText: ANON.reply }).waitFor();
    let alteredLive = 0;
    await open.route(/\/api\/v1\/tickets\/[0-9a-f]+\/messages(\?.*)?$/, async (route) => {
      if (route.request().method() !== "GET") return route.continue();
      const response = await route.fetch();
      const body = await response.json();
      for (const m of body.messages || []) {
        const bytes = Buffer.from(m.message, "base64url");
        bytes[bytes.length - 10] ^= 0x01;
        m.message = bytes.toString("base64url");
        alteredLive += 1;
      }
      await route.fulfill({ response, json: body });
    });
    const alice = state.alicePage;
    await alice.bringToFront();
    await alice.click('#panel-nav [data-view="inbox"]');
    await inboxShowAll(alice, ANON.subject);
    await adminOpenTicket(alice, ANON.subject);
    await alice.fill("#composer-text", "One more question: since when exactly?");
    await alice.click("#composer-send");
    await alice.locator("#ticket-conversation .chat li.mine", { hasText: "since when exactly" }).waitFor();
    await open.locator("#thread .notice.alarm").first().waitFor({ timeout: 10_000 });
    assert.ok(alteredLive > 0);
    const after = await open.innerText("main");
    assert.match(after, /Security warning/);
    assert.match(after, /The conversation is hidden because it does not verify/);
    for (const text of [ANON.reply, ANON.answer, "since when exactly"]) assert.ok(!after.includes(text), `${text} is not shown any more`);
    assert.equal(await open.locator(".chat li").count(), 0);
    await open.close();
  });

  test("the support page shows the instance fingerprint serve printed, and a new link carries the directory head", async () => {
    const printed = /Instance fingerprint: (\d{5}(?: \d{5}){5})/.exec(server.stdout());
    assert.ok(printed, `serve printed the instance fingerprint:\n${server.stdout()}`);
    const context = await newPerson(browser, recorder, "eve (checks the instance)");
    const page = await context.newPage();
    await page.goto("/help/ticket/new");
    await page.locator("#instance-fingerprint").waitFor();
    assert.equal(await page.textContent("#instance-fingerprint"), printed[1]);
    // The "Verify" disclosure lists the administrators' key fingerprints: alice's and dave's.
    await page.click("#instance-info details summary");
    const listed = await page.locator("#administrator-fingerprints li").allTextContents();
    assert.equal(listed.length, 2);
    for (const fingerprint of listed) assert.match(fingerprint, /^\d{5}( \d{5}){5}$/);
    await page.fill("#subject", "Which instance is this?");
    await page.fill("#message", "Checking the fingerprint.");
    await page.click("#send");
    await page.locator("#created:not([hidden])").waitFor();
    const link = await page.inputValue("#created .link-box input");
    assert.match(link, /\/help\/ticket\/[0-9a-f]{32}#[A-Za-z0-9_-]{43}\.1\.[A-Za-z0-9_-]{43}$/, "the link carries head 1 (dave's add)");
    // The ticket page opens it (pinning the head) and shows the same fingerprint.
    await page.goto(link);
    await page.locator("#instance-info #instance-fingerprint").waitFor();
    assert.equal(await page.textContent("#instance-fingerprint"), printed[1]);
    await context.close();
  });

  test("every request went to the page's own origin; no console error, exception or CSP violation", () => {
    assert.ok(recorder.requests > 50, `requests were recorded (${recorder.requests})`);
    assert.deepEqual(recorder.problems, []);
  });
});
