// Every page as people meet it: the settings an administrator saves show on the support pages;
// the new-ticket form works with the keyboard alone; axe-core finds no serious or critical
// violation on any page (each state: signed out, signed in, each tab, a conversation, a
// warning, the panel's views); a screenshot of each at desktop and phone widths
// (screenshots/, git-ignored); and no page asks another origin for anything, logs a console
// error, throws, or trips the CSP.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import {
  Recorder,
  adminOpenTicket,
  axeViolations,
  describeFocus,
  joinAsFirstAdmin,
  launchBrowser,
  newPerson,
  anonymousTicket,
  screenshots,
  startServer,
  tabTo,
} from "./lib/harness.mjs";

const ALICE = { username: "alice", password: "alice correct horse" };
const GINA = { username: "gina", password: "gina battery staple" };
const SETTINGS = {
  categories: [
    { name: "Account", guidance: "Your username and what you tried to do." },
    { name: "Billing", guidance: "The invoice number and the amount." },
    { name: "Connection problems", guidance: "Your network, the time it happened, and the error shown." },
  ],
  languages: ["English", "Deutsch"],
  hours: "Monday to Friday, 9:00 to 17:00 CET",
  response: "Within one working day",
};
const KEYBOARD = {
  name: "Kim Keyboard",
  email: "kim@example.org",
  subject: "Cannot reach the server from home",
  message: "Every evening the connection times out.\nIt works in the office.",
  reply: "Thanks Kim, we are looking at the evening logs.",
};

let server;
let browser;
let recorder;
let alice; // the administrator's panel page
const people = {};
const shared = {};

before(async () => {
  server = await startServer();
  recorder = new Recorder(server.base);
  browser = await launchBrowser();
  people.alice = await newPerson(browser, recorder, "alice");
  alice = await people.alice.newPage();
  await joinAsFirstAdmin(alice, server.invite, ALICE.username, ALICE.password);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Whether the focused element shows a focus indicator (its :focus-visible outline). */
async function focusIndicator(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    const style = getComputedStyle(el);
    const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
    return el.matches(":focus-visible") && (outline || style.boxShadow !== "none");
  });
}

describe("pages", () => {
  test("an administrator's settings (categories with guidance, languages, hours) are saved and shown on the support pages", async () => {
    await alice.click('#panel-nav [data-view="settings"]');
    await alice.locator("#view-settings:not([hidden])").waitFor();
    for (const category of SETTINGS.categories) {
      await alice.click("#add-category");
      await alice.locator(".category-row .cat-name").last().fill(category.name);
      await alice.locator(".category-row .cat-guidance").last().fill(category.guidance);
    }
    await alice.fill("#languages", SETTINGS.languages.join("\n"));
    await alice.fill("#support-hours", SETTINGS.hours);
    await alice.fill("#response-time", SETTINGS.response);
    await alice.click("#settings-save");
    await alice.locator("#settings-status .notice.ok", { hasText: "Settings saved" }).waitFor();

    people.frank = await newPerson(browser, recorder, "frank (anonymous)");
    const page = await people.frank.newPage();
    await page.goto("/help/ticket/new");
    await page.locator("#category-field:not([hidden])").waitFor();
    const info = await page.innerText("#support-info");
    for (const text of ["English, Deutsch", SETTINGS.hours, SETTINGS.response]) assert.ok(info.includes(text), `${text} in ${info}`);
    await page.selectOption("#category", "Billing");
    await page.locator("#category-guidance", { hasText: "The invoice number and the amount." }).waitFor();
    await page.close();
  });

  test("the new-ticket form (/help/ticket/new) is completed and sent with the keyboard alone", async () => {
    people.kim = await newPerson(browser, recorder, "kim (keyboard)");
    await people.kim.addInitScript(() => {
      window.__pointerEvents = 0;
      for (const type of ["pointerdown", "mousedown", "touchstart"]) {
        addEventListener(type, () => (window.__pointerEvents += 1), true);
      }
    });
    const page = await people.kim.newPage();
    await page.goto("/help/ticket/new");
    await page.locator("#category-field:not([hidden])").waitFor();
    const step = async (selector, max = 1) => {
      await tabTo(page, selector, { max });
      assert.ok(await focusIndicator(page), `a focus indicator on ${await describeFocus(page)}`);
    };

    // From the top of the page: the skip link comes first.
    await page.keyboard.press("Tab");
    assert.match(await describeFocus(page), /Skip to content/);
    await step("#name", 10);
    await page.keyboard.type(KEYBOARD.name);
    await step("#email");
    await page.keyboard.type(KEYBOARD.email);
    await step("#category");
    await page.keyboard.type("Conn"); // a closed <select> selects by typing
    assert.equal(await page.inputValue("#category"), "Connection problems");
    await page.locator("#category-guidance", { hasText: "Your network" }).waitFor();
    await step("#subject");
    await page.keyboard.type(KEYBOARD.subject);
    await step("#message");
    await page.keyboard.type(KEYBOARD.message); // "\n" is typed as Enter
    await step("#urgent");
    await page.keyboard.press("Space");
    assert.ok(await page.isChecked("#urgent"));
    await step("#debug-details > summary", 3); // past the file chooser
    await page.keyboard.press("Enter");
    assert.ok(await page.evaluate(() => document.querySelector("#debug-details").open));
    await step("#debug-include");
    await page.keyboard.press("Space");
    assert.ok(await page.isChecked("#debug-include"));
    await step('#debug-editor button[aria-label="Remove Screen"]', 20);
    await page.keyboard.press("Space");
    await page.locator('#debug-editor button[aria-label="Put back Screen"]').waitFor();
    await step("#send", 30);
    await page.keyboard.press("Enter");

    await page.locator("#created:not([hidden])").waitFor();
    assert.ok(await page.evaluate(() => document.activeElement.id === "created-title"), "focus moves to the result");
    const link = await page.inputValue("#created .link-box input");
    assert.equal(await page.evaluate(() => window.__pointerEvents), 0, "no pointer event on the way");
    shared.kimLink = link;

    // It arrived as typed.
    await alice.click('#panel-nav [data-view="inbox"]');
    const item = alice.locator("#inbox-list li", { hasText: KEYBOARD.subject });
    await item.waitFor();
    const text = await item.innerText();
    for (const expected of ["Urgent", "Connection problems", `from ${KEYBOARD.name}`]) assert.ok(text.includes(expected), `${expected} in ${text}`);
    await adminOpenTicket(alice, KEYBOARD.subject);
    await alice.locator("#ticket-conversation .chat li", { hasText: "It works in the office." }).waitFor();
    const debug = await alice.innerText("#ticket-debug");
    assert.match(debug, /User agent/);
    assert.doesNotMatch(debug, /Screen/, "the removed field was not sent");
    await alice.fill("#composer-text", KEYBOARD.reply);
    await alice.click("#composer-send");
    await alice.locator("#ticket-conversation .chat li.mine", { hasText: KEYBOARD.reply }).waitFor();
    await page.close();
  });

  // Each state of each page: [name, prepare(): the page to check].
  const states = [
    ["home", async () => {
      const page = await people.frank.newPage();
      await page.goto("/");
      return page;
    }],
    ["ticket-new", async () => {
      const page = await people.frank.newPage();
      shared.frank = page;
      await page.goto("/help/ticket/new");
      await page.locator("#category-field:not([hidden])").waitFor();
      await page.click("#debug-details > summary");
      // Technical details: off until ticked, with the reason, as on the support tab.
      assert.equal(await page.isChecked("#debug-include"), false);
      assert.match(await page.innerText("#debug-include-hint"), /help the support team find a problem faster/);
      assert.match(await page.innerText("nav.site-nav"), /Your account\s+Write without an account/);
      return page;
    }],
    ["ticket-new-errors", async () => {
      const page = shared.frank;
      await page.fill("#email", "not an address");
      await page.click("#send");
      await page.locator("#subject[aria-invalid=true]").waitFor();
      return page;
    }],
    ["ticket-new-sent", async () => {
      const page = shared.frank;
      await anonymousTicket(page, { subject: "Printer offline", message: "The printer on floor 2 is offline." });
      await page.locator("#saved-list li").waitFor();
      // On a phone the confirmation comes first: the introduction ("You do not need an
      // account") and "About support" are gone once the ticket is sent.
      await page.setViewportSize({ width: 390, height: 844 });
      assert.ok(await page.locator("#intro").isHidden());
      assert.ok(await page.locator("#about").isHidden());
      const created = await page.locator("#created").boundingBox();
      const title = await page.locator("#page-title").boundingBox();
      assert.ok(created.y - (title.y + title.height) < 120, `the confirmation follows the title (${created.y} after ${title.y})`);
      await page.setViewportSize({ width: 1280, height: 800 });
      return page;
    }],
    ["ticket", async () => {
      const page = await people.kim.newPage();
      await page.goto(shared.kimLink);
      await page.locator("#thread .chat li.theirs", { hasText: KEYBOARD.reply }).waitFor();
      await page.click("#link-actions summary");
      // The reply form previews a chosen photo, with the metadata choice next to it.
      const photo = fs.readFileSync(new URL("./fixtures/photo-gps.jpg", import.meta.url));
      await page.locator("#thread input[type=file]").setInputFiles({ name: "router.jpg", mimeType: "image/jpeg", buffer: photo });
      await page.locator("#thread .file-list li img.thumb").waitFor();
      assert.ok(await page.locator("#thread .file-list").getByLabel("Remove location and camera data").isChecked());
      return page;
    }],
    ["ticket-altered", async () => {
      const page = await people.kim.newPage();
      await page.route(/\/api\/v1\/tickets\/[0-9a-f]+\/messages(\?.*)?$/, async (route) => {
        const response = await route.fetch();
        const body = await response.json();
        for (const m of body.messages || []) {
          const bytes = Buffer.from(m.message, "base64url");
          bytes[bytes.length - 40] ^= 0x80;
          m.message = bytes.toString("base64url");
        }
        await route.fulfill({ response, json: body });
      });
      await page.goto(shared.kimLink);
      await page.locator("#alerts .notice.alarm").waitFor();
      // One sentence in the heading, the notice says why; no loud ring on the focused heading.
      assert.equal(await page.innerText("#page-title"), "This ticket could not be opened because it did not verify");
      assert.equal(await page.innerText("#alerts .notice.alarm .title"), "Security warning");
      assert.ok(await page.evaluate(() => document.activeElement.id === "page-title"));
      assert.equal(await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle), "none");
      return page;
    }],
    ["help-signed-out", async () => {
      people.gina = await newPerson(browser, recorder, "gina (account)");
      const page = await people.gina.newPage();
      shared.gina = page;
      await page.goto("/help");
      await page.locator("#signed-out:not([hidden])").waitFor();
      assert.match(await page.innerText("nav.site-nav"), /Your account\s+Write without an account/);
      return page;
    }],
    ["help-tickets", async () => {
      const page = shared.gina;
      await page.fill("#register-username", GINA.username);
      await page.fill("#register-password", GINA.password);
      await page.fill("#register-password2", GINA.password);
      await page.click("#register-form button[type=submit]");
      await page.locator("#signed-in:not([hidden])").waitFor({ timeout: 60_000 });
      // Signed in: no "Write without an account" in the navigation.
      assert.equal((await page.innerText("nav.site-nav")).trim(), "Your tickets");
      await page.click("#tab-new");
      assert.equal(await page.isChecked("#debug-include"), false, "technical details off until ticked, as on the anonymous page");
      assert.match(await page.innerText("#debug-include-hint"), /help the support team find a problem faster/);
      await page.fill("#subject", "Two-factor codes are rejected");
      await page.fill("#message", "The codes from my phone are always wrong.");
      await page.selectOption("#category", "Account");
      await page.click("#new-send");
      await page.locator("#ticket-thread .chat li.mine").first().waitFor();
      await page.click("#back-to-list");
      await page.locator("#ticket-list li").waitFor();
      return page;
    }],
    ["help-thread", async () => {
      const page = shared.gina;
      await page.locator("#ticket-list button.link").first().click();
      await page.locator("#ticket-thread .chat li.mine").first().waitFor();
      // The status, as on the anonymous ticket page.
      await page.locator("#ticket-meta .chip[data-status=open]", { hasText: "Open" }).waitFor();
      return page;
    }],
    ["help-new", async () => {
      const page = shared.gina;
      await page.click("#back-to-list");
      await page.click("#tab-new");
      await page.selectOption("#category", "Billing");
      await page.locator("#category-guidance .notice").waitFor();
      return page;
    }],
    ["help-debug", async () => {
      const page = shared.gina;
      await page.click("#tab-debug");
      await page.locator("#debug-editor table").waitFor();
      return page;
    }],
    ["admin-signin", async () => {
      const page = await people.alice.newPage();
      await page.goto("/admin");
      await page.locator("#view-signin:not([hidden])").waitFor();
      return page;
    }],
    ["admin-invite", async () => {
      await alice.click('#panel-nav [data-view="team"]');
      await alice.click("#create-invite");
      const invite = await alice.inputValue("#invite-link");
      const context = await newPerson(browser, recorder, "invitee");
      const page = await context.newPage();
      await page.goto(invite);
      await page.locator("#invite-title", { hasText: "Join the support team" }).waitFor();
      return page;
    }],
    ["admin-inbox", async () => {
      await alice.bringToFront();
      await alice.click('#panel-nav [data-view="inbox"]');
      await alice.click('#inbox-filter [data-status="all"]');
      await alice.locator("#inbox-list li", { hasText: "Printer offline" }).waitFor();
      return alice;
    }],
    ["admin-ticket", async () => {
      await adminOpenTicket(alice, KEYBOARD.subject);
      await alice.locator("#ticket-debug dl").waitFor();
      return alice;
    }],
    ["admin-team", async () => {
      await alice.click('#panel-nav [data-view="team"]');
      await alice.locator("#team-admins table").waitFor();
      return alice;
    }],
    ["admin-settings", async () => {
      await alice.click('#panel-nav [data-view="settings"]');
      await alice.locator("#categories .category-row").first().waitFor();
      return alice;
    }],
  ];

  for (const [name, prepare] of states) {
    test(`${name}: no serious or critical axe-core violation; screenshots at 1280x800 and 390x844`, async () => {
      const page = await prepare();
      // Let announcements (50 ms) and focus moves settle.
      await page.waitForTimeout(100);
      const violations = await axeViolations(page);
      await screenshots(page, name);
      assert.deepEqual(violations, [], `axe-core on ${name} (${page.url().replace(/#.*/, "#…")})`);
    });
  }

  test("every request went to the page's own origin; no console error, exception or CSP violation", () => {
    assert.ok(recorder.requests > 50, `requests were recorded (${recorder.requests})`);
    assert.deepEqual(recorder.problems, []);
  });
});
