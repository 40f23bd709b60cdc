// The administrators' inbox and ticket page, issue 14 items 4, 8 and 11: response-time targets
// in the settings (with their bounds), due and overdue badges with sorting and filtering by
// them; the last message's first line, relative times, the assignee column with "Mine" and
// "Unassigned", the orders, keyboard shortcuts and their help, bulk assign, close and reopen,
// the title badge and content-free notifications while the panel is in the background; the
// ticket page's timeline with internal notes, debug data shown once, the reply and note tabs,
// "sign as", the drop zone, the details before the composer on a phone and the current view in
// the navigation. axe and screenshots at desktop and phone widths.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  PHONE,
  Recorder,
  adminOpenTicket,
  adminSignIn,
  axeViolations,
  joinAsFirstAdmin,
  launchBrowser,
  newPerson,
  screenshots,
  startServer,
} from "./lib/harness.mjs";

const ALICE = { username: "alice", password: "alice correct horse" };
const FLOOD = { subject: "Server room is flooding", message: "Water under the racks.\nSince 9:00." };
const TONER = { subject: "Toner for the second floor", message: "We are out of black toner." };
const RESET = { subject: "Password reset question", message: "How do I reset my password?" };

let server;
let browser;
let recorder;
/** The administrator's context and page, shared by the tests in order. */
let team;
let admin;

before(async () => {
  server = await startServer();
  recorder = new Recorder(server.base);
  browser = await launchBrowser();
  team = await newPerson(browser, recorder, "alice");
  // Records the notifications the panel shows (what they say), after letting the real ones run.
  await team.grantPermissions(["notifications"]);
  await team.addInitScript(() => {
    const Real = window.Notification;
    window.__notifications = [];
    class Recorded extends Real {
      constructor(title, options = {}) {
        super(title, options);
        window.__notifications.push({ title, body: options.body, tag: options.tag });
      }
    }
    window.Notification = Recorded;
  });
  admin = await team.newPage();
  await joinAsFirstAdmin(admin, server.invite, ALICE.username, ALICE.password);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  assert.deepEqual(recorder?.problems ?? [], [], "no request elsewhere, console error, exception or CSP violation");
});

async function noSeriousViolations(page, what) {
  assert.deepEqual(await axeViolations(page), [], `axe on ${what}`);
}

/** Writes an anonymous ticket with the form's extra fields; resolves to its link. */
async function ticket(page, { subject, message, urgent = false, category = null, debug = false }) {
  await page.goto("/help/ticket/new");
  if (category) {
    await page.locator("#category-field:not([hidden])").waitFor();
    await page.selectOption("#category", category);
  }
  await page.fill("#subject", subject);
  await page.fill("#message", message);
  if (urgent) await page.check("#urgent");
  if (debug) {
    await page.click("#debug-details > summary");
    await page.check("#debug-include");
  }
  await page.click("#send");
  await page.locator("#created:not([hidden])").waitFor({ timeout: 60_000 });
  return page.inputValue("#created .link-box input");
}

/** Shows every ticket and waits until the inbox finished loading. */
async function showAll(page) {
  await page.click('#panel-nav [data-view="inbox"]');
  await page.click('#inbox-filter [data-status="all"]');
  await page.waitForFunction(() => !/Loading/.test(document.querySelector("#inbox-count").textContent));
}

/** Waits until the inbox finished loading (after a filter or order that asks the server). */
function loaded(page) {
  return page.waitForFunction(() => !/Loading/.test(document.querySelector("#inbox-count").textContent));
}

/** The count a filter button shows ("" when none). */
async function countOf(page, selector) {
  const badge = page.locator(`${selector} .count`);
  return (await badge.count()) ? (await badge.innerText()).trim() : "";
}

/** The subjects listed, in order. */
function subjects(page) {
  return page.locator("#inbox-list button.link").allTextContents();
}

/** The inbox row of `subject`. */
function row(page, subject) {
  return page.locator("#inbox-list > li", { has: page.locator("button.link", { hasText: subject }) });
}

describe("response-time targets, due times and the inbox", () => {
  test("the settings hold response-time targets within their bounds", async () => {
    await admin.click('#panel-nav [data-view="settings"]');
    await admin.click("#add-category");
    await admin.locator(".category-row .cat-name").last().fill("Printers");
    await admin.locator(".category-row .cat-target").last().fill("15");
    // Out of bounds: the form says so next to the field and saves nothing.
    await admin.fill("#target-urgent", "0");
    await admin.click("#settings-save");
    await admin.locator("#target-urgent[aria-invalid=true]").waitFor();
    await admin.fill("#target-urgent", "43201");
    await admin.click("#settings-save");
    await admin.locator("#target-urgent[aria-invalid=true]").waitFor();
    assert.equal((await (await fetch(`${server.base}/api/v1/settings`)).json()).response_targets, undefined, "nothing saved");
    // The test moves the page's clock an hour on: the idle lock must not end the session.
    await admin.fill("#idle-lock", "1440");
    await admin.fill("#target-urgent", "30");
    await admin.fill("#target-normal", "240");
    await noSeriousViolations(admin, "the settings with response-time targets");
    await screenshots(admin, "inbox-settings-targets");
    await admin.click("#settings-save");
    await admin.locator("#settings-status .notice.ok").waitFor();
    const saved = await (await fetch(`${server.base}/api/v1/settings`)).json();
    assert.deepEqual(saved.response_targets, { urgent_minutes: 30, normal_minutes: 240 });
    assert.equal(saved.categories.find((c) => c.name === "Printers").target_minutes, 15);
  });

  test("due and overdue, previews, relative times, orders, filters, assignee, keyboard and bulk actions", async () => {
    const reporters = await newPerson(browser, recorder, "reporters");
    const rep = await reporters.newPage();
    // A second apart: receipt times are whole seconds, and the orders compare them.
    const aSecond = () => new Promise((resolve) => setTimeout(resolve, 1100));
    await ticket(rep, { ...FLOOD, urgent: true });
    await aSecond();
    await ticket(rep, { ...TONER, category: "Printers" });
    await aSecond();
    const resetLink = await ticket(rep, RESET);
    // The panel reads settings at sign-in: sign in again to see the new targets.
    await admin.reload();
    await admin.locator("#view-signin:not([hidden]), #view-inbox:not([hidden])").first().waitFor();
    if (await admin.isVisible("#view-signin")) await adminSignIn(admin, ALICE.username, ALICE.password);
    await showAll(admin);
    await row(admin, RESET.subject).waitFor();

    // Answer the password question: nothing is due on it any more, and its preview is ours.
    await adminOpenTicket(admin, RESET.subject);
    await admin.fill("#composer-text", "Use the link on the sign-in page.\nIt mails you a code.");
    await admin.click("#composer-send");
    await admin.locator("#ticket-conversation .chat li.mine", { hasText: "sign-in page" }).waitFor();
    await admin.click("#back-to-inbox");
    await showAll(admin);

    // The last message's first line, decrypted here.
    assert.equal((await row(admin, FLOOD.subject).locator(".preview").innerText()).trim(), "Reporter: Water under the racks.");
    assert.equal((await row(admin, RESET.subject).locator(".preview").innerText()).trim(), "Team: Use the link on the sign-in page.");
    // Relative times, the exact time in the title.
    const time = row(admin, FLOOD.subject).locator("time.relative");
    assert.match(await time.innerText(), /^active (now|\d+ (sec|min)\.? ago)$/);
    assert.match(await time.getAttribute("title"), /\d/);

    // Due times: the urgent ticket's target (30 min), the category's (15 min) over the normal
    // one (240 min); nothing due on the answered ticket.
    assert.match(await row(admin, FLOOD.subject).locator(".row-due").innerText(), /^Reply due in (29|30) min/);
    assert.match(await row(admin, TONER.subject).locator(".row-due").innerText(), /^Reply due in (14|15) min/);
    assert.equal((await row(admin, RESET.subject).locator(".row-due").innerText()).trim(), "No reply due");
    assert.equal(await admin.locator("#inbox-list .chip.overdue").count(), 0);

    // The counts per filter, from the server's answer: three tickets, two unanswered (so one
    // answered), none mine, three unassigned.
    assert.equal(await countOf(admin, '#inbox-filter [data-status="all"]'), "3");
    assert.equal(await countOf(admin, '#inbox-filter [data-status="unanswered"]'), "2");
    assert.equal(await countOf(admin, '#inbox-filter [data-status="answered"]'), "1");
    assert.equal(await countOf(admin, '#inbox-filter [data-status="closed"]'), "0");
    assert.equal(await countOf(admin, '#inbox-assigned [data-assigned="me"]'), "0");
    assert.equal(await countOf(admin, '#inbox-assigned [data-assigned="none"]'), "3");
    assert.equal(await countOf(admin, '#inbox-assigned [data-assigned=""]'), "", "no count on \"Anyone\"");

    // Orders: newest activity, oldest waiting, urgency, due.
    assert.deepEqual(await subjects(admin), [RESET.subject, TONER.subject, FLOOD.subject]);
    await admin.selectOption("#inbox-order", "oldest");
    await loaded(admin);
    assert.deepEqual(await subjects(admin), [FLOOD.subject, TONER.subject, RESET.subject]);
    await admin.selectOption("#inbox-order", "urgency");
    await loaded(admin);
    assert.equal((await subjects(admin))[0], FLOOD.subject);
    await admin.selectOption("#inbox-order", "due");
    assert.deepEqual(await subjects(admin), [TONER.subject, FLOOD.subject, RESET.subject]);

    // An hour later (the page's clock): both are overdue; the filter shows only them.
    await admin.clock.setSystemTime(Date.now() + 3600_000);
    await admin.selectOption("#inbox-due", "overdue");
    assert.deepEqual(await subjects(admin), [TONER.subject, FLOOD.subject]);
    assert.equal(await admin.locator("#inbox-list .chip.overdue").count(), 2);
    assert.match(await row(admin, FLOOD.subject).locator(".row-due").innerText(), /^Overdue · due \d+ min\.? ago/);
    await noSeriousViolations(admin, "the inbox with overdue tickets");
    await screenshots(admin, "inbox-overdue");
    await admin.selectOption("#inbox-due", "");
    await admin.selectOption("#inbox-order", "newest");
    await loaded(admin);
    await admin.clock.setSystemTime(Date.now());

    // Keyboard: the help overlay, next and previous, select, open.
    await admin.locator("#inbox-list > li.current").waitFor();
    await admin.locator("body").press("?");
    await admin.locator("#shortcuts-help[open]").waitFor();
    await noSeriousViolations(admin, "the keyboard shortcuts");
    await screenshots(admin, "inbox-shortcuts");
    await admin.keyboard.press("Escape");
    await admin.locator("#shortcuts-help[open]").waitFor({ state: "detached" }).catch(() => {});
    assert.equal(await admin.locator("#shortcuts-help[open]").count(), 0);
    const current = () => admin.locator("#inbox-list > li.current button.link").innerText();
    await row(admin, RESET.subject).locator("button.link").focus();
    assert.equal(await current(), RESET.subject);
    await admin.keyboard.press("j");
    assert.equal(await current(), TONER.subject);
    await admin.keyboard.press("j");
    await admin.keyboard.press("k");
    assert.equal(await current(), TONER.subject);
    // Typing in a field is no shortcut: "o" stays in the search field and opens nothing.
    await admin.locator("#inbox-search").press("o");
    assert.equal(await admin.inputValue("#inbox-search"), "o");
    assert.ok(await admin.isVisible("#view-inbox"));
    await admin.fill("#inbox-search", "");
    await row(admin, TONER.subject).locator("button.link").focus();
    await admin.keyboard.press("x");
    assert.ok(await row(admin, TONER.subject).locator("input.row-select").isChecked());
    await admin.keyboard.press("x");
    assert.ok(!(await row(admin, TONER.subject).locator("input.row-select").isChecked()));
    await admin.keyboard.press("o");
    await admin.waitForFunction((s) => document.querySelector("#ticket-title").textContent === s, TONER.subject);
    // In a ticket, j opens the next one; r goes to the reply box.
    await admin.keyboard.press("j");
    await admin.waitForFunction((s) => document.querySelector("#ticket-title").textContent === s, FLOOD.subject);
    await admin.locator("#ticket-conversation .chat li").first().waitFor();
    await admin.keyboard.press("r");
    await admin.waitForFunction(() => document.activeElement === document.querySelector("#composer-text"));
    await admin.click("#back-to-inbox");
    await showAll(admin);

    // Bulk assign to me: "Mine" and "Unassigned" and the assignee column.
    await row(admin, FLOOD.subject).locator("input.row-select").check();
    await admin.locator("#inbox-bulk:not([hidden])").waitFor();
    assert.match(await admin.innerText("#inbox-bulk-count"), /^1 ticket selected/);
    await admin.selectOption("#bulk-assignee", { label: "You (alice)" });
    await admin.click("#bulk-assign");
    await admin.locator("#inbox-bulk-status .notice.ok", { hasText: "1 ticket assigned to You (alice)." }).waitFor();
    await row(admin, FLOOD.subject).locator(".row-assignee", { hasText: "You" }).waitFor();
    assert.equal(await countOf(admin, '#inbox-assigned [data-assigned="me"]'), "1");
    assert.equal(await countOf(admin, '#inbox-assigned [data-assigned="none"]'), "2");
    await admin.click('#inbox-assigned [data-assigned="me"]');
    await loaded(admin);
    assert.deepEqual(await subjects(admin), [FLOOD.subject]);
    await admin.click('#inbox-assigned [data-assigned="none"]');
    await loaded(admin);
    assert.deepEqual(await subjects(admin), [RESET.subject, TONER.subject]);
    await admin.click('#inbox-assigned [data-assigned=""]');
    await loaded(admin);

    // Bulk close two (after a confirmation), then reopen them.
    const confirmations = [];
    const confirm = (dialog) => {
      confirmations.push(dialog.message());
      dialog.accept().catch(() => {});
    };
    admin.on("dialog", confirm);
    await row(admin, TONER.subject).locator("input.row-select").check();
    await row(admin, RESET.subject).locator("input.row-select").check();
    await noSeriousViolations(admin, "the inbox with a selection");
    await screenshots(admin, "inbox-bulk");
    await admin.click("#bulk-close");
    await admin.locator("#inbox-bulk-status .notice.ok", { hasText: "2 tickets closed." }).waitFor();
    assert.deepEqual(confirmations, ["Close 2 tickets?"]);
    await admin.click('#inbox-filter [data-status="closed"]');
    await admin.waitForFunction(() => document.querySelectorAll("#inbox-list > li").length === 2);
    assert.deepEqual((await subjects(admin)).sort(), [RESET.subject, TONER.subject].sort());
    await admin.click("#inbox-select-all");
    await admin.click("#bulk-reopen");
    await admin.locator("#inbox-bulk-status .notice.ok", { hasText: "2 tickets reopened." }).waitFor();
    await admin.waitForFunction(() => document.querySelectorAll("#inbox-list > li").length === 0);
    // Closing an open and a closed one: only the open one gets a close message.
    await admin.click('#inbox-filter [data-status="all"]');
    await row(admin, RESET.subject).locator("input.row-select").check();
    await admin.click("#bulk-close");
    await admin.locator("#inbox-bulk-status .notice.ok", { hasText: "1 ticket closed." }).waitFor();
    await admin.waitForFunction(() => !document.querySelector("#inbox-list input.row-select:checked"));
    await row(admin, RESET.subject).locator("input.row-select").check();
    await row(admin, TONER.subject).locator("input.row-select").check();
    await admin.click("#bulk-reopen");
    await admin.locator("#inbox-bulk-status .notice.ok", { hasText: "1 ticket reopened. 1 ticket was open already." }).waitFor();
    admin.off("dialog", confirm);
    await showAll(admin);
    await row(admin, TONER.subject).locator(".chip.open").waitFor();

    // In the background: a title badge per ticket with new messages, and a notification
    // without content; both end when the panel is seen again.
    await admin.click("#notify-toggle");
    assert.ok(await admin.isChecked("#notify-toggle"));
    const setHidden = (hidden) =>
      admin.evaluate((value) => {
        Object.defineProperty(document, "visibilityState", { value: value ? "hidden" : "visible", configurable: true });
        document.dispatchEvent(new Event("visibilitychange"));
      }, hidden);
    await setHidden(true);
    await ticket(rep, { subject: "Badge check", message: "A new ticket while the panel is away." });
    await rep.goto(resetLink);
    await rep.locator("#thread form.composer textarea").fill("Thanks, and one more thing.");
    await rep.click('#thread form.composer button[type="submit"]');
    await rep.locator("#thread .chat li.mine", { hasText: "one more thing" }).waitFor();
    await admin.waitForFunction(() => document.title.startsWith("(2) "), null, { timeout: 15_000 });
    const shown = await admin.evaluate(() => window.__notifications);
    assert.deepEqual(shown.map((n) => n.title).sort(), ["New reply", "New ticket"]);
    for (const n of shown) {
      assert.equal(n.body, "Open the support panel to read it.", "no content in a notification");
    }
    await setHidden(false);
    await admin.waitForFunction(() => !/^\(\d+\) /.test(document.title));
    await reporters.close();
  });
});

describe("the ticket page", () => {
  test("notes in the timeline, debug data once, tabs, sign as, drop zone, navigation; details before the composer on a phone", async () => {
    const reporters = await newPerson(browser, recorder, "reporter");
    const rep = await reporters.newPage();
    const subject = "Scanner sends blank pages";
    const link = await ticket(rep, { subject, message: "Every scan is blank.", debug: true });
    await showAll(admin);
    await adminOpenTicket(admin, subject);

    // The current view is marked in the navigation.
    assert.equal(await admin.getAttribute('#panel-nav [data-view="inbox"]', "aria-current"), "page");
    assert.equal(await admin.locator('#panel-nav [aria-current="page"]').count(), 1);
    // Debug data: in its card, and only a line in the timeline.
    await admin.locator("#ticket-debug dl").waitFor();
    await admin.locator("#ticket-conversation .chat li.system", { hasText: "The reporter sent debug data" }).waitFor();
    assert.equal(await admin.locator("#ticket-conversation .chat details").count(), 0, "debug data is not shown twice");

    // The composer says who writes; "sign as" changes it.
    assert.equal((await admin.innerText("#composer-from")).trim(), "From Support team (you)");
    await admin.check("#sign-name");
    assert.equal((await admin.innerText("#composer-from")).trim(), "From alice (you)");
    await admin.check("#sign-team");

    // The drop zone lists the chosen files.
    await admin.setInputFiles("#composer-files", { name: "steps.txt", mimeType: "text/plain", buffer: Buffer.from("1. scan\n2. look") });
    await admin.locator("#composer-file-list li", { hasText: "steps.txt" }).waitFor();
    await noSeriousViolations(admin, "the ticket page with a reply and a chosen file");
    await screenshots(admin, "ticket-reply-tab");
    await admin.fill("#composer-text", "Which scanner model is it?");
    await admin.click("#composer-send");
    await admin.locator("#ticket-conversation .chat li.mine", { hasText: "steps.txt" }).waitFor({ timeout: 30_000 });

    // The note tab: a note between the messages, in its own style.
    await admin.click("#tab-note");
    assert.equal(await admin.getAttribute("#tab-note", "aria-selected"), "true");
    assert.ok(await admin.isHidden("#composer-files-field"), "notes carry no files");
    assert.equal((await admin.innerText("#composer-send")).trim(), "Add internal note");
    await admin.fill("#composer-text", "Probably the old driver again.");
    await admin.click("#composer-send");
    await admin.locator("#ticket-conversation .chat li.note-item .bubble.note", { hasText: "old driver" }).waitFor();
    // A second later (receipt times are whole seconds).
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await rep.goto(link);
    await rep.locator("#thread form.composer textarea").fill("It is the S-200.");
    await rep.click('#thread form.composer button[type="submit"]');
    await admin.locator("#ticket-conversation .chat li", { hasText: "S-200" }).waitFor({ timeout: 15_000 });
    const order = await admin.$$eval("#ticket-conversation .chat > li", (items) =>
      items.map((li) => (li.classList.contains("note-item") ? "note" : li.classList.contains("system") ? "system" : li.classList.contains("mine") ? "team" : "reporter")),
    );
    assert.deepEqual(order.filter((o) => o !== "system"), ["reporter", "team", "team", "note", "reporter"], `timeline order: ${order}`);
    assert.notEqual(
      await admin.locator("#ticket-conversation .bubble.note").evaluate((el) => getComputedStyle(el).borderStyle),
      await admin.locator("#ticket-conversation li.theirs .bubble").first().evaluate((el) => getComputedStyle(el).borderStyle),
      "notes look different",
    );
    await noSeriousViolations(admin, "the ticket page in the note tab");
    await screenshots(admin, "ticket-note-tab");

    // On a phone, the details come before the composer.
    await admin.setViewportSize(PHONE);
    const details = await admin.locator("#details-title").boundingBox();
    const composer = await admin.locator("#composer").boundingBox();
    assert.ok(details.y < composer.y, "details before the composer on a phone");
    await admin.setViewportSize({ width: 1280, height: 800 });
    const wide = await admin.locator("#details-title").boundingBox();
    const conversation = await admin.locator("#conv-title").boundingBox();
    assert.ok(wide.x > conversation.x + 200, "details beside the conversation on a wide screen");
    await reporters.close();
  });
});
