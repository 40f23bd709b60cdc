// /help: the support tab of account holders. Tabs: Existing tickets (with a badge for unread
// answers; close; remove closed tickets from the list), New ticket, Debug data, Account
// (password change, sign out everywhere). Sign-in runs Argon2id in a worker and may remember
// this device; an idle lock asks for the password again (lib/device.js).

import { $, h, replace, initPage, focusTarget, announce, whileBusy, setupTabs } from "./lib/dom.js";
import { loadClient } from "./lib/wasm.js";
import { showInstance } from "./lib/verify.js";
import { showError, clearErrors, errorNotice, isVerificationError, codeOf } from "./lib/errors.js";
import { loadSettings, renderSupportInfo, setupCategory } from "./lib/settings.js";
import { DebugEditor, collectDebug, debugChoiceText } from "./lib/debug.js";
import { listenToHost, hostDebugFields } from "./lib/embed.js";
import { FilePicker, uploadFiles, fileLimitText } from "./lib/files.js";
import { formatTime, plural } from "./lib/format.js";
import { statusChip } from "./lib/status.js";
import { withFormDisabled, enableForm, validate, emailCheck } from "./lib/forms.js";
import { accountForm } from "./lib/accountforms.js";
import { checkOpening, readOpening } from "./lib/opening.js";
import { rememberHead, applyHead } from "./lib/heads.js";
import { mountThread } from "./lib/thread.js";
import { kvGet, kvSet, keptKey } from "./lib/store.js";
import { leaveSignedIn, takeSignOutReason, PAGE_TITLE, SIGNED_OUT } from "./lib/signout.js";
import { signInOffThread, rememberedDevice, resumeRemembered, forgetDevice, lockDevice, startIdleLock } from "./lib/device.js";
import { accountTools, showDeviceState } from "./lib/accounttools.js";

initPage();

const alerts = $("#alerts");
const LIST_POLL_MS = 15_000;

/** @typedef {import("./lib/wasm.js").AccountClient} Client the support tab's module */
/** @typedef {import("./lib/wasm.js").AccountHandle} AccountHandle */
/** @typedef {import("./lib/wasm.js").TicketHandle} TicketHandle */
/** @typedef {import("./lib/wasm.js").TicketView} TicketView */
/** @typedef {import("./lib/wasm.js").ContentView} ContentView */
/** @typedef {import("../pkg/account/sealdesk_client.js").SummaryView} SummaryView */
/**
 * A ticket of the list.
 * @typedef {object} Ticket
 * @property {SummaryView} summary the server's metadata
 * @property {TicketHandle | null} handle once opened (verified and decrypted)
 * @property {TicketView} [view]
 * @property {string} subject
 * @property {{category?: string | null, urgent?: boolean}} [opening] the first message's content
 * @property {number} unread answers since the person last looked
 * @property {unknown} error why it cannot be shown
 */

/** @type {Client} the module, once loaded (start, moduleReady) */
let client;
/** @type {import("./lib/settings.js").PageSettings} */
let settings = { max_attachment_bytes: 25 * 1024 * 1024, categories: [], languages: [], support_hours: "", response_time: "", idle_lock_minutes: 30, version: "", mail_enabled: false, embed_origins: [] };
/** @type {AccountHandle | null} */
let account = null;
/** @type {import("./lib/device.js").SignIn | null} the sign-in (for a password change) */
let signIn = null;
/** Stops the idle lock of the sign-in. */
let stopIdleLock = () => {};
/** @type {import("./lib/device.js").DevicePage} */
const PAGE = "help";

/**
 * The signed-in account (the tickets' views exist only while signed in).
 * @returns {AccountHandle}
 */
function signedInAccount() {
  if (!account) throw Object.assign(new Error("You are signed out. Sign in again."), { code: "account.signed_out" });
  return account;
}
/** @type {(id: string, options?: {focus?: boolean}) => void} */
let selectTab = () => {};

/** @type {Map<string, Ticket>} */
const tickets = new Map();
/** @type {Record<string, number>} ticket id -> last seen seq (IndexedDB, per account) */
let seen = {};
/** @type {Set<string>} closed tickets taken off the list (IndexedDB, per account) */
let removed = new Set();
let showRemoved = false;
/** @type {{id: string, thread: ReturnType<typeof mountThread>} | null} */
let openThread = null;
/** @type {ReturnType<typeof setInterval> | undefined} */
let listTimer;

const debugEditor = new DebugEditor($("#debug-editor"), {
  caption: "Debug data that will be sent with your next ticket",
  onChange: updateDebugCount,
});
const picker = new FilePicker({ input: $("#files"), list: $("#file-list"), maxBytes: () => settings.max_attachment_bytes, rules: loadClient("account") });

/** @type {import("./lib/embed.js").HostContext | null} what the host application passed, when embedded */
let hostContext = null;

function collect() {
  debugEditor.set([...collectDebug({ version: settings.version, account }), ...hostDebugFields(hostContext)]);
  updateDebugCount();
}
function updateDebugCount() {
  $("#debug-count").textContent = debugChoiceText(debugEditor, $("#debug-include").checked);
}
$("#debug-include").addEventListener("change", (event) => {
  debugEditor.setEnabled(event.target.checked);
  updateDebugCount();
});
debugEditor.setEnabled($("#debug-include").checked);

/**
 * The host application's context (embedded support tab): its fields join the debug data
 * (shown on the Debug data tab, removable, sent only when ticked), its display name fills
 * "Name shown to the support team" unless the person wrote another one.
 * @param {import("./lib/embed.js").HostContext} context
 */
function takeHostContext(context) {
  const name = /** @type {HTMLInputElement} */ ($("#name"));
  const untouched = !name.value.trim() || name.value === (hostContext && hostContext.displayName) || (account && name.value === account.username);
  hostContext = context;
  if (context.displayName && untouched) name.value = context.displayName;
  collect();
  announce("The application passed technical details; see the Debug data tab.");
}
$("#debug-recollect").addEventListener("click", () => {
  collect();
  announce("Debug data collected again.");
});
$("#go-debug").addEventListener("click", () => selectTab("tab-debug", { focus: true }));
$("#write-first").addEventListener("click", () => selectTab("tab-new", { focus: true }));

// ---------------------------------------------------------------- start

async function start() {
  settings = await loadSettings();
  listenToHost({ allowed: settings.embed_origins || [], onContext: takeHostContext });
  renderSupportInfo($("#support-info"), settings);
  showInstance($("#instance-info"), loadClient("account"));
  setupCategory($("#category-field"), $("#category"), $("#category-guidance"), settings);
  selectTab = setupTabs($("#help-tabs"), (id) => {
    if (id === "tab-debug" || id === "tab-new") updateDebugCount();
  });
  showSignedOut();
  const reason = takeSignOutReason();
  if (reason === SIGNED_OUT) replace(alerts, h("p", { class: "notice ok", text: "You are signed out. Nothing of your tickets is left in this tab." }));
  else if (reason && reason !== "device.locked") showError(alerts, { code: reason }, { context: "you were signed out" });
  try {
    client = await loadClient("account");
    $("#files-limit").textContent = fileLimitText(client, settings.max_attachment_bytes);
  } catch (error) {
    showError(alerts, error);
    return;
  }
  await reopenRemembered();
}

/** Opens the sign-in this device remembers, or asks for the password after an idle lock. */
async function reopenRemembered() {
  const record = await rememberedDevice(PAGE);
  if (!record) return;
  if (record.locked) {
    showLocked(record.username);
    return;
  }
  try {
    await signedIn(await resumeRemembered(PAGE, record));
  } catch (error) {
    await forgetDevice(PAGE);
    handleError(error, "not signed in");
  }
}

/** @param {string} username */
function showLocked(username) {
  /** @type {HTMLInputElement} */ ($("#login-username")).value = username;
  /** @type {HTMLInputElement} */ ($("#login-remember")).checked = true;
  replace(alerts, h("div", { class: "notice" }, h("p", { class: "title", text: "Locked" }), h("p", { text: `The support tab locked itself after ${plural(settings.idle_lock_minutes || 30, "minute", "minutes")} without activity and forgot the keys. Enter the password of ${username} to continue.` })));
  $("#login-password").focus();
}

/**
 * The module, waited for when a form is sent before it finished loading.
 * @returns {Promise<Client>}
 */
async function moduleReady() {
  if (!client) client = await loadClient("account");
  return client;
}

function showSignedOut() {
  $("#signed-out").hidden = false;
  $("#signed-in").hidden = true;
  $("#user-box").hidden = true;
  $("#page-title").textContent = "Support";
  showNavigation(false);
}

/**
 * The navigation in the reader's words: "Your account" and "Write without an account" while
 * signed out; "Your tickets" alone once signed in.
 * @param {boolean} signedInNow
 */
function showNavigation(signedInNow) {
  $("#nav-account").textContent = signedInNow ? "Your tickets" : "Your account";
  $("#nav-anonymous").hidden = signedInNow;
}

// ---------------------------------------------------------------- sign in / register

accountForm({
  prefix: "login",
  alerts,
  busyText: "Deriving your keys from the password…",
  context: "not signed in",
  submit: (username, password, remember) => signInOffThread({ op: "login", username, password, remember, page: PAGE }),
  done: signedIn,
});

accountForm({
  prefix: "register",
  register: true,
  alerts,
  busyText: "Creating your keys and protecting them with your password…",
  context: "no account was created",
  submit: (username, password) => signInOffThread({ op: "register", username, password, remember: false, page: PAGE }),
  done: async (created) => {
    await signedIn(created);
    announce("Your account was created.");
  },
});

/** @param {import("./lib/device.js").SignIn} created */
async function signedIn(created) {
  await moduleReady();
  signIn = created;
  account = created.handle;
  showDeviceState(created.remembered);
  stopIdleLock = startIdleLock(settings.idle_lock_minutes, lock);
  await applyHead(account);
  seen = (await kvGet(`seen:${account.accountId}`).catch(() => null)) || {};
  removed = new Set((await kvGet(`removed:${account.accountId}`).catch(() => null)) || []);
  $("#signed-out").hidden = true;
  $("#signed-in").hidden = false;
  $("#user-box").hidden = false;
  $("#user-name").textContent = `Signed in as ${account.username}`;
  $("#page-title").textContent = "Your support";
  showNavigation(true);
  $("#name").value = (hostContext && hostContext.displayName) || account.username;
  collect();
  selectTab("tab-tickets");
  focusTarget($("#page-title"));
  await loadTickets();
  listTimer = setInterval(() => loadTickets({ quiet: true }), LIST_POLL_MS);
  // Reply notifications by mail: offered only when the instance sends mail.
  $("#notify-form").hidden = !settings.mail_enabled;
  if (settings.mail_enabled) {
    try {
      $("#notify-address").value = await client.notificationAddress(signedInAccount());
    } catch (error) {
      showError(alerts, error, { context: "your notification address could not be read" });
    }
  }
}

$("#notify-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!validate([[$("#notify-address"), emailCheck]])) return;
  try {
    const stored = await client.setNotificationAddress(signedInAccount(), $("#notify-address").value.trim());
    replace($("#notify-status"), h("p", { class: "notice ok", role: "status", text: stored ? "Saved. Notices go to this address." : "Saved. You get no mail." }));
  } catch (error) {
    showError(alerts, error, { context: "your notification address was not saved" });
  }
});

$("#sign-out").addEventListener("click", async () => {
  if (account) {
    try {
      // Ends the session on the server and drops the keys of every handle of this sign-in.
      await client.logout(account);
    } catch {
      // keys are dropped anyway; the session expires on its own
    }
  }
  // Signing out forgets the device: the wrapped keys and the token go.
  await forgetDevice(PAGE);
  signOutLocally();
  // Nothing decrypted stays in the tab: the page empties itself and loads again.
  leaveSignedIn();
});

/** The idle lock: ends the session, forgets the keys (the username stays) and asks again. */
async function lock() {
  if (!account) return;
  const { username } = account;
  try {
    await client.logout(account);
  } catch {
    // the keys are dropped anyway; the session expires on its own
  }
  await lockDevice(PAGE, username);
  signOutLocally();
  leaveSignedIn({ code: "device.locked" });
}

accountTools({
  alerts,
  page: PAGE,
  signIn: () => signIn,
  onError: (error, context) => handleError(error, context),
  everywhere: async () => {
    if (!account) return;
    try {
      await client.logoutEverywhere(account);
    } catch (error) {
      if (codeOf(error) !== "server.unauthorized") {
        showError(alerts, error, { context: "not every session was ended" });
        return;
      }
    }
    await forgetDevice(PAGE);
    signOutLocally();
    leaveSignedIn();
  },
});

function signOutLocally() {
  stopIdleLock();
  stopIdleLock = () => {};
  signIn = null;
  clearInterval(listTimer);
  closeThread();
  for (const t of tickets.values()) freeHandle(t);
  tickets.clear();
  replace($("#ticket-list"));
  if (account) {
    try {
      account.free();
    } catch {
      // freed already
    }
  }
  account = null;
  picker.clear();
  showSignedOut();
}

/** Errors of a session that ended sign out, with nothing of the tickets left in the page. */
function handleError(error, context, region = alerts) {
  const code = codeOf(error);
  if (code === "server.unauthorized" || code === "account.signed_out") {
    const wasSignedIn = account !== null;
    signOutLocally();
    // The session ended (signed out everywhere, a password change elsewhere): what this device
    // remembers of it is useless.
    forgetDevice(PAGE);
    if (wasSignedIn) {
      leaveSignedIn({ code });
      return;
    }
  }
  showError(region, error, { context });
}

function freeHandle(t) {
  if (t.handle) {
    try {
      t.handle.free();
    } catch {
      // freed already
    }
    t.handle = null;
  }
}

// ---------------------------------------------------------------- existing tickets

async function saveSeen() {
  if (account) await kvSet(`seen:${account.accountId}`, seen).catch(() => {});
}
async function saveRemoved() {
  if (account) await kvSet(`removed:${account.accountId}`, [...removed]).catch(() => {});
}

function lastSeq(view) {
  const last = view.messages[view.messages.length - 1];
  return last ? last.seq : 0;
}

/** Opens (verifies and decrypts) a ticket, or refreshes it, and computes its unread count. */
async function readTicket(t) {
  // The verified state this browser kept for this account (PROTOCOL.md §10.4): kept here, not
  // in the keyring's app data, which the server stores and could hand back rolled back too.
  const keptAt = keptKey("account", signedInAccount().accountId, t.summary.ticket_id);
  if (!t.handle) {
    const kept = await kvGet(keptAt).catch(() => null);
    t.handle = await client.openAccountTicket(signedInAccount(), t.summary.ticket_id, typeof kept === "string" ? kept : null);
    t.view = await client.view(t.handle);
  } else {
    t.view = await client.refresh(t.handle);
  }
  await kvSet(keptAt, await client.keptState(t.handle)).catch(() => {});
  const first = t.view.messages[0];
  t.subject = (first && first.content && first.content.subject) || "";
  t.opening = (first && first.content) || {};
  t.unread = await client.unreadAnswers(t.handle, seen[t.summary.ticket_id] || 0);
  t.error = null;
}

async function loadTickets({ quiet = false } = {}) {
  if (!account || !client) return;
  if (!quiet) $("#tickets-status").textContent = "Loading and verifying your tickets…";
  let summaries;
  try {
    summaries = await client.accountTickets(account);
  } catch (error) {
    $("#tickets-status").textContent = "";
    if (!quiet) handleError(error, "your tickets could not be listed");
    else if (codeOf(error) === "server.unauthorized") handleError(error, "your session ended");
    return;
  }
  for (const summary of summaries) {
    let t = tickets.get(summary.ticket_id);
    const changed = !t || t.summary.conversation_seq !== summary.conversation_seq || t.summary.closed !== summary.closed || t.summary.status !== summary.status;
    if (!t) {
      t = { summary, handle: null, subject: "", unread: 0, error: null };
      tickets.set(summary.ticket_id, t);
    }
    t.summary = summary;
    // The open conversation follows itself; others are read again when the server says they changed.
    if (changed && !(openThread && openThread.id === summary.ticket_id)) {
      try {
        await readTicket(t);
      } catch (error) {
        t.error = error;
        if (!isVerificationError(error) && codeOf(error) === "server.unauthorized") return handleError(error, "your session ended");
      }
    }
  }
  await rememberHead(account);
  $("#tickets-status").textContent = "";
  renderTickets();
}

function renderTickets() {
  const all = [...tickets.values()].sort((a, b) => b.summary.last_activity - a.summary.last_activity);
  const isRemoved = (t) => removed.has(t.summary.ticket_id) && t.summary.closed;
  const visible = all.filter((t) => showRemoved || !isRemoved(t));
  replace($("#ticket-list"), visible.map((t) => ticketItem(t, isRemoved(t))));
  $("#tickets-empty").hidden = all.length > 0;
  if (all.length && !visible.length) {
    $("#ticket-list").append(h("li", null, h("p", { class: "muted", text: "Every ticket is removed from the list." })));
  }
  const hiddenCount = all.filter(isRemoved).length;
  const toggle = $("#show-removed");
  toggle.hidden = hiddenCount === 0;
  toggle.textContent = showRemoved ? "Hide removed tickets" : `Show ${plural(hiddenCount, "removed ticket", "removed tickets")}`;
  const unread = all.reduce((sum, t) => sum + (t.error ? 0 : t.unread || 0), 0);
  $("#unread-badge").hidden = unread === 0;
  $("#unread-badge").textContent = String(unread);
  $("#unread-text").textContent = unread ? `, ${plural(unread, "new answer", "new answers")}` : "";
  document.title = unread ? `(${unread}) ${PAGE_TITLE}` : PAGE_TITLE;
}

$("#show-removed").addEventListener("click", () => {
  showRemoved = !showRemoved;
  renderTickets();
  $("#show-removed").focus();
});

function ticketItem(t, isRemoved) {
  const id = t.summary.ticket_id;
  if (t.error) {
    return h(
      "li",
      { class: "untrusted" },
      h("div", { class: "summary" }, h("div", { class: "title", text: `Ticket ${id.slice(0, 8)}` }), errorNotice(t.error, { context: "this ticket" })),
    );
  }
  const title = t.subject || `Ticket ${id.slice(0, 8)}`;
  const closed = t.summary.closed;
  return h(
    "li",
    null,
    h(
      "div",
      { class: "summary" },
      h("div", { class: "title" }, h("button", { type: "button", class: "link", "data-ticket": id, text: title, onclick: () => showThread(id) })),
      h(
        "div",
        { class: "meta" },
        statusChip(t.summary.status, "reporter"),
        t.unread ? h("span", { class: "badge", text: plural(t.unread, "new answer", "new answers") }) : null,
        t.opening && t.opening.category ? h("span", { text: t.opening.category }) : null,
        h("span", { text: `last activity ${formatTime(t.summary.last_activity)}` }),
        isRemoved ? h("span", { class: "chip", text: "Removed from the list" }) : null,
      ),
    ),
    h(
      "div",
      { class: "item-actions" },
      closed
        ? isRemoved
          ? h("button", { type: "button", class: "secondary small", text: "Put back in the list", "aria-label": `Put ${title} back in the list`, onclick: () => setRemoved(id, false, title) })
          : h("button", { type: "button", class: "secondary small", text: "Remove from list", "aria-label": `Remove ${title} from the list`, onclick: () => setRemoved(id, true, title) })
        : h("button", { type: "button", class: "secondary small", text: "Close", "aria-label": `Close ${title}`, onclick: () => closeFromList(t, title) }),
    ),
  );
}

async function setRemoved(id, value, title) {
  if (value) removed.add(id);
  else removed.delete(id);
  await saveRemoved();
  renderTickets();
  announce(value ? `${title} removed from the list. It stays on the server; “Show removed tickets” brings it back.` : `${title} is back in the list.`);
  focusTarget($("#tickets-title"));
}

async function closeFromList(t, title) {
  if (!window.confirm(`Close “${title}”? You can write again later to reopen it.`)) return;
  clearErrors(alerts);
  try {
    await client.close(t.handle);
    announce(`${title} closed.`);
    await loadTickets({ quiet: true });
    const again = $(`#ticket-list [data-ticket="${t.summary.ticket_id}"]`);
    if (again) again.focus();
  } catch (error) {
    handleError(error, "the ticket was not closed");
  }
}

// ---------------------------------------------------------------- one conversation

function closeThread() {
  if (openThread) {
    openThread.thread.stop();
    openThread = null;
  }
  $("#ticket-view").hidden = true;
  $("#ticket-list-view").hidden = false;
}

async function showThread(id) {
  const t = tickets.get(id);
  if (!t || !t.handle) return;
  clearErrors(alerts);
  closeThread();
  $("#ticket-list-view").hidden = true;
  $("#ticket-view").hidden = false;
  const title = t.subject || `Ticket ${id.slice(0, 8)}`;
  $("#ticket-title").textContent = title;
  renderThreadMeta(t);
  let view;
  try {
    view = await client.refresh(t.handle);
  } catch (error) {
    replace($("#ticket-thread"), errorNotice(error, { context: "this conversation" }));
    focusTarget($("#ticket-title"));
    return;
  }
  const thread = mountThread($("#ticket-thread"), {
    client,
    handle: t.handle,
    view,
    settings,
    headingLevel: "h3",
    onBroken: (error) => {
      $("#ticket-meta").replaceChildren();
      $("#ticket-title").textContent = "This ticket does not verify";
      t.error = error;
    },
    onView: (v) => {
      t.view = v;
      t.summary = { ...t.summary, closed: v.closed, status: v.status };
      renderThreadMeta(t);
      seen[id] = lastSeq(v);
      t.unread = 0;
      saveSeen();
      renderTickets();
    },
  });
  openThread = { id, thread };
  focusTarget($("#ticket-title"));
}

/**
 * The open conversation's status (Open, Closed, …, as on the anonymous ticket page), category
 * and urgency.
 * @param {Ticket} t
 */
function renderThreadMeta(t) {
  replace(
    $("#ticket-meta"),
    h(
      "p",
      { class: "small muted" },
      statusChip(t.summary.status, "reporter"),
      t.opening && t.opening.category ? ` Category: ${t.opening.category}.` : "",
      t.opening && t.opening.urgent ? " " : "",
      t.opening && t.opening.urgent ? h("span", { class: "chip urgent", text: "Urgent" }) : "",
    ),
  );
}

$("#back-to-list").addEventListener("click", async () => {
  const id = openThread && openThread.id;
  closeThread();
  await loadTickets({ quiet: true });
  const button = id && $(`#ticket-list [data-ticket="${id}"]`);
  if (button) button.focus();
  else focusTarget($("#tickets-title"));
});

// ---------------------------------------------------------------- new ticket

$("#new-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(alerts);
  if (!account) return;
  if (!checkOpening(picker, $("#new-status"))) return;
  const opening = readOpening(debugEditor);
  const files = picker.files();
  /** @type {Awaited<ReturnType<Client["createAccountTicket"]>> | undefined} */
  let created;
  await withFormDisabled($("#new-form"), async () => {
    try {
      created = await whileBusy($("#new-status"), "Checking the administrators' keys, encrypting and sending…", () =>
        client.createAccountTicket(signedInAccount(), opening),
      );
      await rememberHead(account);
      if (files.length) await uploadFiles(client, created.handle, files, $("#new-status"));
    } catch (error) {
      if (created) showError(alerts, error, { context: "the ticket was sent, but a file was not attached" });
      else handleError(error, "the ticket was not sent");
    }
  });
  if (!created) return;
  // The new ticket joins the list with the handle that created it.
  const t = { summary: { ticket_id: created.ticket_id, closed: false, status: /** @type {const} */ ("open"), answered: false, created_at: 0, last_activity: Math.floor(Date.now() / 1000), conversation_seq: 0 }, handle: created.handle, subject: opening.subject, opening, unread: 0, error: null };
  tickets.set(created.ticket_id, t);
  for (const id of ["#subject", "#message"]) $(id).value = "";
  $("#urgent").checked = false;
  picker.clear();
  collect();
  selectTab("tab-tickets");
  announce("Your ticket was sent.");
  await showThread(created.ticket_id);
});
enableForm($("#new-form"));
enableForm($("#notify-form"));

start();
