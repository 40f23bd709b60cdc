// What the pages must never let out or leave behind (issue 16):
// - no plaintext form submission: with JavaScript off (Tor Browser's "Safest" level), or with
//   the page's module not loaded, pressing Send on the new-ticket form sends nothing of what was
//   typed (the forms stay switched off, the fields carry no names, and the CSP's
//   `form-action 'none'` refuses a native submission), and every page says why it needs
//   JavaScript and WebAssembly;
// - nothing readable after sign-out: once an administrator (/admin) or an account holder
//   (/help) signs out, the page holds no subject, message, address or Download button, and the
//   object URL of a decrypted image no longer resolves; page titles never hold decrypted text
//   (they reach the browser's history next to the page's address), on /help/ticket/{id} either.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  Recorder,
  adminOpenTicket,
  adminSignIn,
  joinAsFirstAdmin,
  launchBrowser,
  newPerson,
  pngImage,
  startServer,
} from "./lib/harness.mjs";

const ALICE = { username: "alice", password: "alice correct horse" };
const HANNA = { username: "hanna", password: "hanna battery staple" };
const TYPED = {
  name: "Nora Noscript",
  email: "nora.noscript@example.org",
  subject: "Plaintext subject 5a7e",
  message: "Plaintext message 91c3, never to be sent in clear.",
};
const ANON = {
  name: "Sam Shared",
  email: "sam.shared@example.org",
  subject: "Payroll export shows wrong totals",
  message: "The March payroll export sums the overtime twice.",
};
const ACCOUNT = {
  subject: "Laptop keeps the old printer",
  message: "After the move the laptop still prints to the second floor.",
};

let server;
let browser;
let recorder;
const people = {};
const state = {};

before(async () => {
  server = await startServer();
  recorder = new Recorder(server.base);
  browser = await launchBrowser();
  people.alice = await newPerson(browser, recorder, "alice");
  const page = await people.alice.newPage();
  await joinAsFirstAdmin(page, server.invite, ALICE.username, ALICE.password);
  await page.close();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Every request a context makes: method, URL and body. */
function recordRequests(context) {
  const requests = [];
  context.on("request", (request) => requests.push({ method: request.method(), url: request.url(), body: request.postData() || "" }));
  return requests;
}

/** The requests whose URL or body carries one of `values` (as typed, or form- or URL-encoded). */
function carrying(requests, values) {
  const decode = (text) => {
    try {
      return decodeURIComponent(text.replace(/\+/g, " "));
    } catch {
      return text;
    }
  };
  return requests.filter(({ url, body }) => {
    const seen = `${url}\n${decode(url)}\n${body}\n${decode(body)}`;
    return values.some((value) => seen.includes(value));
  });
}

/** Types into a field if the page lets a person do so; reports whether it did. */
async function typeIfEnabled(page, selector, value) {
  try {
    await page.fill(selector, value, { timeout: 1_000 });
    return true;
  } catch {
    return false;
  }
}

/** Presses Enter in the subject and clicks Send, as a person would (a switched-off form takes neither). */
async function trySubmit(page) {
  await page.press("#subject", "Enter", { timeout: 1_000 }).catch(() => {});
  await page.click("#send", { timeout: 1_000 }).catch(() => {});
  await page.waitForTimeout(500);
  await page.waitForLoadState("load");
}

/** The page's whole document, hidden parts included, as markup and form values. */
function wholeDocument(page) {
  return page.evaluate(() => {
    const values = [...document.querySelectorAll("input, textarea")].map((el) => /** @type {HTMLInputElement} */ (el).value);
    return `${document.documentElement.outerHTML}\n${values.join("\n")}`;
  });
}

/**
 * Waits (up to 10 s: the page loads itself again after sign-out) until the whole document holds
 * none of `texts`; returns those still there.
 */
async function waitUntilGone(page, texts) {
  let left = texts;
  for (let waited = 0; waited < 10_000; waited += 250) {
    try {
      const documentText = await wholeDocument(page);
      left = texts.filter((text) => documentText.includes(text));
      if (!left.length) return left;
    } catch {
      // the page is loading again
    }
    await page.waitForTimeout(250);
  }
  return left;
}

/** Records every title the page gets (an init script: the page's CSP does not govern it). */
const TITLE_LOG = `(() => {
  window.__titles = [document.title];
  new MutationObserver(() => {
    if (window.__titles[window.__titles.length - 1] !== document.title) window.__titles.push(document.title);
  }).observe(document, { subtree: true, childList: true, characterData: true });
})();`;

/**
 * Whether the object URL of an image still loads in `page` (as an image: the CSP allows blob:
 * images, not fetches). A URL that does not load makes Chromium log "Failed to load resource":
 * that line, this probe's own, is taken off the recorder's problems.
 */
async function resolves(page, url) {
  const before = recorder.problems.length;
  const loaded = await page.evaluate(
    (u) =>
      new Promise((resolve) => {
        const image = new Image();
        image.onload = () => resolve(true);
        image.onerror = () => resolve(false);
        image.src = u;
      }),
    url,
  );
  if (!loaded) {
    await page.waitForTimeout(300);
    const added = recorder.problems.splice(before);
    recorder.problems.push(...added.filter((problem) => !/Failed to load resource: net::ERR_FILE_NOT_FOUND$/.test(problem)));
  }
  return loaded;
}

describe("no plaintext form submission", () => {
  test("with JavaScript off, the new-ticket form sends nothing of what was typed, and every page says why it needs JavaScript and WebAssembly", async () => {
    const context = await browser.newContext({ javaScriptEnabled: false, baseURL: server.base });
    const requests = recordRequests(context);
    const page = await context.newPage();
    await page.goto("/help/ticket/new");
    const typed = [];
    for (const field of ["name", "email", "subject", "message"]) {
      if (await typeIfEnabled(page, `#${field}`, TYPED[field])) typed.push(field);
    }
    await trySubmit(page);
    const leaked = carrying(requests, Object.values(TYPED));
    assert.deepEqual(leaked, [], `a request carried what was typed (typed into: ${typed.join(", ") || "nothing"})`);
    assert.equal(new URL(page.url()).search, "", "the page was not submitted to itself");
    assert.ok(await page.locator("#send").isDisabled(), "Send is switched off without the page's module");
    const notice = page.locator("#noscript-notice");
    assert.ok(await notice.isVisible(), "the noscript notice is shown");
    assert.match(await notice.innerText(), /needs JavaScript and WebAssembly/);
    assert.match(await notice.innerText(), /encrypted in this browser/);

    // Every page: the notice shows, every form is switched off, no content field has a name.
    for (const path of ["/help/ticket/new", "/help", "/admin", "/admin/invite#not-a-token", "/help/ticket/0123456789abcdef0123456789abcdef#not-a-secret"]) {
      await page.goto(path);
      assert.ok(await page.locator("#noscript-notice").isVisible(), `${path}: the noscript notice is shown`);
      const forms = await page.evaluate(() =>
        [...document.forms].map((form) => ({
          id: form.id,
          enabled: [...form.elements].filter((el) => el.matches("input, textarea, select, button") && !el.matches(":disabled")).map((el) => el.id || el.tagName),
          named: [...form.elements].filter((el) => el.getAttribute("name") && /** @type {HTMLInputElement} */ (el).type !== "radio").map((el) => el.id),
        })),
      );
      for (const form of forms) {
        assert.deepEqual(form.enabled, [], `${path}: #${form.id} has controls switched on without JavaScript`);
        assert.deepEqual(form.named, [], `${path}: #${form.id} has named fields`);
      }
    }
    await context.close();
  });

  test("with the page's module not loaded, the form stays off, and a native submission is refused by the CSP", async () => {
    const context = await browser.newContext({ baseURL: server.base });
    await context.addInitScript(`window.__violations = [];
      document.addEventListener("securitypolicyviolation", (e) => window.__violations.push(e.violatedDirective));`);
    // The module does not arrive (a blocking extension, a network that drops it).
    await context.route("**/js/ticket-new.js", (route) => route.abort());
    const requests = recordRequests(context);
    const page = await context.newPage();
    await page.goto("/help/ticket/new");
    assert.ok(await page.locator("#send").isDisabled(), "Send stays switched off");
    assert.ok(await page.locator("#subject").isDisabled(), "the fields stay switched off");

    // Even with the form switched on by hand, the browser does not send it.
    await page.evaluate(() => {
      for (const gate of document.querySelectorAll("fieldset[disabled]")) gate.removeAttribute("disabled");
    });
    for (const field of ["name", "email", "subject", "message"]) await page.fill(`#${field}`, TYPED[field]);
    // (The browser refuses the navigation: nothing to wait for after the click.)
    await page.click("#send", { noWaitAfter: true });
    await page.waitForTimeout(500);
    assert.deepEqual(carrying(requests, Object.values(TYPED)), [], "no request carried what was typed");
    assert.equal(new URL(page.url()).search, "", "the form was not submitted");
    assert.deepEqual(await page.evaluate(() => window.__violations), ["form-action"], "the CSP refused the submission");
    await context.close();
  });
});

describe("nothing readable after sign-out; no decrypted text in titles", () => {
  test("an anonymous reporter writes with an image; the conversation's title is generic", async () => {
    people.sam = await newPerson(browser, recorder, "sam (anonymous)");
    const page = await people.sam.newPage();
    await page.goto("/help/ticket/new");
    await page.fill("#name", ANON.name);
    await page.fill("#email", ANON.email);
    await page.fill("#subject", ANON.subject);
    await page.fill("#message", ANON.message);
    await page.setInputFiles("#files", { name: "totals.png", mimeType: "image/png", buffer: await pngImage(page) });
    await page.click("#send");
    await page.locator("#created", { hasText: "1 file attached." }).waitFor();
    assert.match(await page.innerText("#created .link-box"), /private window/, "the link box advises a private window on a shared computer");
    assert.doesNotMatch(await page.innerText("#created .link-box"), /Nothing is saved unless you choose it/);
    const link = await page.inputValue("#created .link-box input");

    await people.sam.addInitScript(TITLE_LOG);
    await page.goto(link);
    await page.locator("#page-title", { hasText: ANON.subject }).waitFor();
    await page.locator("#thread .chat li.mine", { hasText: ANON.message }).waitFor();
    assert.equal(await page.title(), "Your ticket – Sealdesk");
    const titles = await page.evaluate(() => window.__titles);
    assert.ok(!titles.some((t) => t.includes(ANON.subject)), `a title held the subject: ${titles.join(" | ")}`);
    await page.close();
  });

  test("/admin: after an administrator opens a ticket and signs out, nothing of it is left in the page", async () => {
    await people.alice.addInitScript(TITLE_LOG);
    const page = await people.alice.newPage();
    await adminSignIn(page, ALICE.username, ALICE.password);
    await adminOpenTicket(page, ANON.subject);
    assert.match(await page.innerText("#ticket-details"), new RegExp(ANON.email.replace(/\./g, "\\.")));
    await page.locator('#ticket-files button[aria-label="Download totals.png"]').waitFor();
    await page.click('#ticket-files button[aria-label="Show image totals.png"]');
    const preview = page.locator("#ticket-files img.file-preview");
    await preview.waitFor();
    const imageUrl = await preview.getAttribute("src");
    assert.match(imageUrl, /^blob:/);
    assert.ok(await resolves(page, imageUrl), "the decrypted image's object URL resolves while the ticket is open");

    // While the ticket is open: the title is generic, and never held the subject.
    assert.doesNotMatch(await page.title(), new RegExp(ANON.subject));
    const titles = await page.evaluate(() => window.__titles);
    assert.ok(!titles.some((t) => t.includes(ANON.subject)), `a title held the subject: ${titles.join(" | ")}`);

    await page.click("#sign-out");
    await page.locator("#view-signin:not([hidden])").waitFor();
    const left = await waitUntilGone(page, [ANON.subject, ANON.message, ANON.email, ANON.name, "totals.png"]);
    assert.deepEqual(left, [], "still in the page after sign-out");
    await page.locator("#alerts", { hasText: "You are signed out" }).waitFor();
    assert.equal(await page.getByRole("button", { name: /Download/, includeHidden: true }).count(), 0, "no Download button remains");
    assert.ok(!(await resolves(page, imageUrl)), "the decrypted image's object URL no longer resolves");
    assert.doesNotMatch(await page.title(), new RegExp(ANON.subject));
    await page.close();
  });

  test("/help: after an account holder opens a ticket and signs out, nothing of it is left in the page", async () => {
    people.hanna = await newPerson(browser, recorder, "hanna (account)");
    await people.hanna.addInitScript(TITLE_LOG);
    const page = await people.hanna.newPage();
    await page.goto("/help");
    await page.fill("#register-username", HANNA.username);
    await page.fill("#register-password", HANNA.password);
    await page.fill("#register-password2", HANNA.password);
    await page.click("#register-form button[type=submit]");
    await page.locator("#signed-in:not([hidden])").waitFor({ timeout: 60_000 });
    await page.click("#tab-new");
    await page.fill("#subject", ACCOUNT.subject);
    await page.fill("#message", ACCOUNT.message);
    await page.setInputFiles("#files", { name: "printer.png", mimeType: "image/png", buffer: await pngImage(page) });
    await page.click("#new-send");
    await page.locator("#ticket-view:not([hidden])").waitFor();
    await page.locator("#ticket-thread .chat li.mine", { hasText: ACCOUNT.message }).waitFor();
    await page.locator('#ticket-thread button[aria-label="Download printer.png"]').waitFor();
    await page.click('#ticket-thread button[aria-label="Show image printer.png"]');
    const preview = page.locator("#ticket-thread img.file-preview");
    await preview.waitFor();
    const imageUrl = await preview.getAttribute("src");
    assert.ok(await resolves(page, imageUrl), "the decrypted image's object URL resolves while the ticket is open");

    assert.doesNotMatch(await page.title(), new RegExp(ACCOUNT.subject));
    const titles = await page.evaluate(() => window.__titles);
    assert.ok(!titles.some((t) => t.includes(ACCOUNT.subject)), `a title held the subject: ${titles.join(" | ")}`);

    await page.click("#sign-out");
    await page.locator("#signed-out:not([hidden])").waitFor();
    const left = await waitUntilGone(page, [ACCOUNT.subject, ACCOUNT.message, "printer.png"]);
    assert.deepEqual(left, [], "still in the page after sign-out");
    await page.locator("#alerts", { hasText: "You are signed out" }).waitFor();
    assert.equal(await page.getByRole("button", { name: /Download/, includeHidden: true }).count(), 0, "no Download button remains");
    assert.ok(!(await resolves(page, imageUrl)), "the decrypted image's object URL no longer resolves");
    await page.close();
  });

  test("every request went to the page's own origin; no console error, exception or CSP violation", () => {
    assert.ok(recorder.requests > 20, `requests were recorded (${recorder.requests})`);
    assert.deepEqual(recorder.problems, []);
  });
});
