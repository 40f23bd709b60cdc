// The browser suite's harness: the real `sealdesk` binary on an ephemeral port with a
// temporary data directory, Debian's Chromium driven by playwright-core (one browser context
// per person), a recorder of everything a page does that it should not (requests to another
// origin, console errors, uncaught exceptions, CSP violations), axe-core, screenshots and
// keyboard-only navigation.

import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const SUITE_DIR = path.resolve(HERE, "..");
export const ROOT = path.resolve(SUITE_DIR, "..", "..");
export const SCREENSHOT_DIR = path.join(SUITE_DIR, "screenshots");
export const CHROMIUM = process.env.SEALDESK_CHROMIUM || "/usr/bin/chromium";
// DESIGN.md, "Tests and tooling". Playwright gives every launch a fresh user-data directory
// of its own (a temporary one, removed when the browser closes).
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

// ---------------------------------------------------------------- the server

/** The WebAssembly packages under web/pkg (folders holding sealdesk_client_bg.wasm). */
export function wasmPackages() {
  const pkg = path.join(ROOT, "web", "pkg");
  if (!fs.existsSync(pkg)) return [];
  return fs
    .readdirSync(pkg, { recursive: true })
    .filter((file) => path.basename(file) === "sealdesk_client_bg.wasm")
    .map((file) => path.join(pkg, path.dirname(file)))
    .sort();
}

/** target/debug/sealdesk (built by the Rust tests; built here when missing). */
function serverBinary() {
  if (process.env.SEALDESK_BIN) return process.env.SEALDESK_BIN;
  const target = process.env.CARGO_TARGET_DIR ? path.resolve(ROOT, process.env.CARGO_TARGET_DIR) : path.join(ROOT, "target");
  const binary = path.join(target, "debug", "sealdesk");
  if (!fs.existsSync(binary)) {
    const build = spawnSync("cargo", ["build", "-p", "sealdesk-cli"], { cwd: ROOT, stdio: "inherit" });
    if (build.status !== 0) throw new Error(`cargo build -p sealdesk-cli failed; ${binary} is missing`);
  }
  return binary;
}

/**
 * Runs the `sealdesk` command-line client with `args` and extra `env`; resolves to its
 * standard output, rejects with its standard error when it fails.
 * @param {string[]} args
 * @param {Record<string, string>} [env]
 */
export async function runSealdesk(args, env = {}) {
  const child = spawn(serverBinary(), args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (chunk) => (out += chunk));
  child.stderr.on("data", (chunk) => (err += chunk));
  const [code] = await once(child, "exit");
  if (code !== 0) throw new Error(`sealdesk ${args.join(" ")} exited with ${code}:\n${err}`);
  return out;
}

/**
 * Starts `sealdesk serve` with SEALDESK_WEB_DIR=web, a temporary SEALDESK_DATA_DIR and
 * SEALDESK_LISTEN=127.0.0.1:0; resolves once it printed its address and the first
 * administrator's invite (`stdout()` is what it printed since, such as the instance
 * fingerprint once the first administrator is set up). `stop()` ends it with SIGTERM (graceful shutdown) and removes the
 * data directory.
 */
export async function startServer({ env = {} } = {}) {
  const web = path.join(ROOT, "web");
  if (!wasmPackages().length) throw new Error("web/pkg holds no module: run scripts/build-web.sh first");
  const data = fs.mkdtempSync(path.join(os.tmpdir(), "sealdesk-browser-"));
  const child = spawn(serverBinary(), ["serve"], {
    cwd: ROOT,
    env: {
      ...process.env,
      SEALDESK_WEB_DIR: web,
      SEALDESK_DATA_DIR: data,
      SEALDESK_LISTEN: "127.0.0.1:0",
      SEALDESK_LOG_LEVEL: "warn",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const killOnExit = () => child.kill("SIGKILL");
  process.on("exit", killOnExit);
  let log = "";
  child.stderr.on("data", (chunk) => {
    log += chunk;
  });

  const lines = readline.createInterface({ input: child.stdout });
  let out = "";
  lines.on("line", (line) => {
    out += `${line}\n`;
  });
  const started = new Promise((resolve, reject) => {
    let base = null;
    const timer = setTimeout(() => reject(new Error(`sealdesk did not start within 20 s:\n${log}`)), 20_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`sealdesk exited (${code}) before it listened:\n${log}`));
    });
    lines.on("line", (line) => {
      const listening = /^sealdesk listening on (http:\/\/\S+)$/.exec(line.trim());
      if (listening) base = listening[1];
      const invite = /(http:\/\/\S+\/admin\/invite#\S+)/.exec(line);
      if (base && invite) {
        clearTimeout(timer);
        resolve({ base, invite: invite[1] });
      }
    });
  });
  const { base, invite } = await started;

  return {
    base,
    invite,
    log: () => log,
    /** Everything the server printed on standard output so far. */
    stdout: () => out,
    async stop() {
      process.off("exit", killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, "exit");
        child.kill("SIGTERM");
        const timeout = new Promise((resolve) => setTimeout(resolve, 10_000, "timeout"));
        if ((await Promise.race([exited, timeout])) === "timeout") {
          child.kill("SIGKILL");
          await exited;
        }
      }
      fs.rmSync(data, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------- the browser

export function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/**
 * What pages did that they should not: requests to any origin but the page's own, console
 * messages of type error, uncaught exceptions, CSP violations (reported by the page itself
 * through an init script, which CSP does not govern).
 */
export class Recorder {
  constructor(base) {
    this.origin = new URL(base).origin;
    this.problems = [];
    this.requests = 0;
  }

  add(problem) {
    this.problems.push(problem);
  }

  watch(context, who) {
    context.on("request", (request) => {
      this.requests += 1;
      const url = request.url();
      // blob: and data: URLs are the page's own (previews of chosen files, downloads).
      if (url.startsWith("blob:") || url.startsWith("data:")) return;
      if (new URL(url).origin !== this.origin) this.add(`[${who}] request to another origin: ${request.method()} ${url}`);
    });
    const page = (p) => {
      p.on("console", (message) => {
        if (message.type() === "error") this.add(`[${who}] console error on ${p.url().replace(/#.*/, "#…")}: ${message.text()}`);
      });
      p.on("pageerror", (error) => this.add(`[${who}] uncaught exception on ${p.url().replace(/#.*/, "#…")}: ${error.message}`));
    };
    context.on("page", page);
    for (const p of context.pages()) page(p);
  }
}

const CSP_REPORTER = `document.addEventListener("securitypolicyviolation", (e) => {
  console.error("CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline") + " at " + e.sourceFile + ":" + e.lineNumber);
});`;

/**
 * A browser context for one person: its own storage (IndexedDB), downloads accepted, dialogs
 * (window.confirm) accepted, everything recorded. `name` labels the recorder's entries.
 */
export async function newPerson(browser, recorder, name, { viewport = DESKTOP } = {}) {
  const context = await browser.newContext({ viewport, acceptDownloads: true, baseURL: recorder.origin });
  context.setDefaultTimeout(30_000);
  await context.addInitScript(CSP_REPORTER);
  recorder.watch(context, name);
  context.on("page", (page) => page.on("dialog", (dialog) => dialog.accept()));
  return context;
}

// ---------------------------------------------------------------- axe-core

const AXE_PATH = fileURLToPath(new URL("../node_modules/axe-core/axe.min.js", import.meta.url));
const AXE_URL_PATH = "/__browser-suite__/axe.min.js";

/**
 * Runs axe-core on the page as it is, returning its serious and critical violations as
 * sentences. The pages' CSP (`script-src 'self'`) refuses the inline script that
 * `addScriptTag({path})` would add, so the script is served from the page's own origin
 * through a route that answers one path with the file from node_modules; CSP stays on.
 */
export async function axeViolations(page) {
  await page.route(`**${AXE_URL_PATH}`, (route) =>
    route.fulfill({ status: 200, contentType: "text/javascript", body: fs.readFileSync(AXE_PATH) }),
  );
  try {
    const loaded = await page.evaluate(() => typeof window.axe !== "undefined");
    if (!loaded) await page.addScriptTag({ url: AXE_URL_PATH });
    const result = await page.evaluate(async () =>
      window.axe.run(document, { resultTypes: ["violations"], runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] } }),
    );
    return result.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).slice(0, 5).join(", ")})`);
  } finally {
    await page.unroute(`**${AXE_URL_PATH}`);
  }
}

// ---------------------------------------------------------------- screenshots

/** Full-page screenshots at desktop and phone widths: screenshots/{name}-{desktop,phone}.png. */
export async function screenshots(page, name) {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const before = page.viewportSize();
  // A page behind others in its browser paints late (rAF throttling): bring it forward.
  await page.bringToFront();
  for (const [label, size] of [["desktop", DESKTOP], ["phone", PHONE]]) {
    await page.setViewportSize(size);
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}-${label}.png`), fullPage: true, animations: "disabled", caret: "hide" });
  }
  if (before) await page.setViewportSize(before);
}

// ---------------------------------------------------------------- keyboard

/** The focused element, described for messages: tag#id[type] "text". */
export function describeFocus(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return "body";
    const text = (el.getAttribute("aria-label") || el.textContent || "").trim().slice(0, 40);
    return `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ""}${el.type ? `[${el.type}]` : ""} "${text}"`;
  });
}

/**
 * Presses Tab (only Tab) until the focused element matches `selector`; fails after `max`
 * presses, naming what was focused on the way.
 */
export async function tabTo(page, selector, { max = 40 } = {}) {
  const visited = [];
  for (let i = 0; i < max; i += 1) {
    await page.keyboard.press("Tab");
    if (await page.evaluate((s) => document.activeElement && document.activeElement.matches(s), selector)) return visited;
    visited.push(await describeFocus(page));
  }
  throw new Error(`${selector} not reached with ${max} Tab presses; focus went through: ${visited.join(" → ")}`);
}

// ---------------------------------------------------------------- test data

/** A real PNG image (a screenshot of a small area of `page`). */
export async function pngImage(page) {
  return page.screenshot({ clip: { x: 0, y: 0, width: 160, height: 90 } });
}

// ---------------------------------------------------------------- flows as the pages do them

/** Registers through the first-administrator invite link; resolves in the panel's inbox. */
export async function joinAsFirstAdmin(page, invite, username, password) {
  await page.goto(invite);
  await page.locator("#register-form").waitFor();
  await page.getByRole("heading", { name: "Set up this support desk" }).waitFor();
  await page.fill("#register-username", username);
  await page.fill("#register-password", password);
  await page.fill("#register-password2", password);
  await page.click("#register-submit");
  await page.locator("#view-inbox:not([hidden])").waitFor({ timeout: 60_000 });
}

/** Signs in on /admin; resolves in the inbox. */
export async function adminSignIn(page, username, password) {
  await page.goto("/admin");
  await page.locator("#view-signin:not([hidden])").waitFor();
  await page.fill("#signin-username", username);
  await page.fill("#signin-password", password);
  await page.click("#signin-form button[type=submit]");
  await page.locator("#view-inbox:not([hidden])").waitFor({ timeout: 60_000 });
}

/** Shows every ticket in the panel's inbox and waits for `subject` among them. */
export async function inboxShowAll(page, subject) {
  await page.click('#inbox-filter [data-status="all"]');
  await page.locator("#inbox-list button.link", { hasText: subject }).waitFor();
}

/** Opens the ticket with `subject` from the panel's inbox; resolves when it is shown. */
export async function adminOpenTicket(page, subject) {
  await page.locator("#inbox-list button.link", { hasText: subject }).click();
  await page.locator("#ticket-conversation .chat li").first().waitFor();
  await page.waitForFunction((s) => document.querySelector("#ticket-title").textContent === s, subject);
}

/** Writes an anonymous ticket on /help/ticket/new (text fields only); resolves to its link. */
export async function anonymousTicket(page, { subject, message, name, email }) {
  await page.goto("/help/ticket/new");
  if (name) await page.fill("#name", name);
  if (email) await page.fill("#email", email);
  await page.fill("#subject", subject);
  await page.fill("#message", message);
  await page.click("#send");
  await page.locator("#created:not([hidden])").waitFor();
  return page.inputValue("#created .link-box input");
}

// ---------------------------------------------------------------- mail

/**
 * Starts the mail tests' real SMTP server (tests/mail/smtp_sink.py: aiosmtpd in
 * `<target>/mail-venv`, which scripts/test.sh creates) on a free loopback port. `url` is for
 * SEALDESK_SMTP_URL; `mails()` reads what it accepted ({mail_from, rcpt_tos, data}, in order);
 * `waitFor(n)` waits for at least n; `stop()` ends it.
 */
export async function startSmtpSink() {
  const target = process.env.CARGO_TARGET_DIR ? path.resolve(ROOT, process.env.CARGO_TARGET_DIR) : path.join(ROOT, "target");
  const python = path.join(target, "mail-venv", "bin", "python");
  if (!fs.existsSync(python)) throw new Error(`${python} is missing: scripts/test.sh creates it (aiosmtpd, tests/mail/requirements.txt)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sealdesk-smtp-"));
  const child = spawn(python, [path.join(ROOT, "tests", "mail", "smtp_sink.py"), dir], { stdio: ["pipe", "pipe", "ignore"] });
  const killOnExit = () => child.kill("SIGKILL");
  process.on("exit", killOnExit);
  const lines = readline.createInterface({ input: child.stdout });
  const [first] = await once(lines, "line");
  const port = /^listening (\d+)$/.exec(String(first).trim())?.[1];
  if (!port) throw new Error(`the SMTP sink did not start: ${first}`);
  const mails = () =>
    fs
      .readdirSync(dir)
      .filter((f) => f.endsWith(".json"))
      .sort()
      .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")));
  return {
    url: `smtp://127.0.0.1:${port}?tls=none`,
    mails,
    async waitFor(count, timeout = 20_000) {
      const start = Date.now();
      while (mails().length < count) {
        if (Date.now() - start > timeout) throw new Error(`expected ${count} mails, got ${mails().length}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return mails();
    },
    stop() {
      process.off("exit", killOnExit);
      child.kill("SIGKILL");
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
