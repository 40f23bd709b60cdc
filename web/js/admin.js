// /admin: the administrators' panel. Sign in (or join through /admin/invite#token), inbox,
// ticket view, team, settings, account (password change, sign out everywhere). Sign-in runs
// Argon2id in a worker and may remember this device; an idle lock asks for the password again
// (lib/device.js). Everything is verified and decrypted by the module in this
// browser; this file only shows views and sends what the administrator types.

import { $, $$, h, replace, initPage, focusTarget, announce, whileBusy, setupTabs, copyText } from "./lib/dom.js";
import { loadClient } from "./lib/wasm.js";
import { showError, clearErrors, errorNotice, isVerificationError, codeOf } from "./lib/errors.js";
import { loadSettings } from "./lib/settings.js";
import { rememberHead, applyHead } from "./lib/heads.js";
import { Conversation } from "./lib/conversation.js";
import { debugList } from "./lib/debug.js";
import { FilePicker, uploadFiles, fileLimitText, attachmentCard } from "./lib/files.js";
import { formatTime, shortFingerprint, plural } from "./lib/format.js";
import { statusChip, statusWords } from "./lib/status.js";
import { follow } from "./lib/live.js";
import { validate, withFormDisabled, setFieldError, clearFieldError, enableForm, emailCheck } from "./lib/forms.js";
import { accountForm } from "./lib/accountforms.js";
import { kvGet, kvSet, keptKey } from "./lib/store.js";
import { leaveSignedIn, takeSignOutReason, PAGE_TITLE, SIGNED_OUT } from "./lib/signout.js";
import { signInOffThread, rememberedDevice, resumeRemembered, forgetDevice, lockDevice, startIdleLock } from "./lib/device.js";
import { accountTools, showDeviceState } from "./lib/accounttools.js";
import { DeskIndex, forgetIndex, renderHits, indexState } from "./admin/search.js";
import { tagEditor, tagChips, renderTagFilter } from "./admin/tags.js";
import { inboxRow, sortTickets, matchesAssigned, matchesDue, showCounts } from "./admin/inbox-list.js";
import { keyboardShortcuts } from "./admin/inbox-keys.js";
import { bulkActions } from "./admin/inbox-bulk.js";
import { setupAlerts, noticeEvent, keepBadge } from "./admin/inbox-alerts.js";
import { renderTimeline } from "./admin/ticket-timeline.js";
import { dueAt, dueChip, waitingSince } from "./admin/due.js";
import { setupCanned } from "./admin/canned.js";

initPage();

const alerts = $("#alerts");
const VIEWS = ["signin", "invite", "inbox", "ticket", "team", "canned", "settings", "account"];
/** @type {import("./lib/device.js").DevicePage} */
const PAGE = "admin";

/** @typedef {import("./lib/wasm.js").AdminClient} Client the panel's module */
/** @typedef {import("./lib/wasm.js").AdminHandle} AdminHandle */
/** @typedef {import("./lib/wasm.js").AccountHandle} AccountHandle */
/** @typedef {import("./lib/wasm.js").TicketHandle} TicketHandle */
/** @typedef {import("./lib/wasm.js").TicketView} TicketView */
/** @typedef {import("../pkg/admin/sealdesk_client.js").TeamMemberView} TeamMemberView */
/** @typedef {import("../pkg/admin/sealdesk_client.js").PendingView} PendingView */
/** @typedef {import("../pkg/admin/sealdesk_client.js").InboxItemView} InboxItemView */
/** @typedef {import("../pkg/admin/sealdesk_client.js").IdentityView} IdentityView */

// The module: loaded first by start(); the page does nothing before it is.
const clientReady = loadClient("admin");
/** @type {Client} */
let client;
/** @type {AdminHandle | null} */
let admin = null;
/** @type {import("./lib/device.js").SignIn | null} the sign-in (for a password change) */
let signIn = null;
/** Stops the idle lock of the sign-in. */
let stopIdleLock = () => {};

/**
 * The signed-in administrator (the panel's views exist only while signed in).
 * @returns {AdminHandle}
 */
function signedInAdmin() {
  if (!admin) throw Object.assign(new Error("You are signed out. Sign in again."), { code: "account.signed_out" });
  return admin;
}
/** @type {import("./lib/settings.js").PageSettings} */
let settings;
/** @type {TeamMemberView[]} */
let team = [];
/** @type {Record<string, string>} key id -> username, learned in this browser */
let names = {};
let stopLive = () => {};
let current = "signin";
/** @type {DeskIndex | null} the search and tags of every ticket (js/admin/search.js) */
let desk = null;

// ---------------------------------------------------------------- views

function showView(name, { focus = true } = {}) {
  current = name;
  for (const view of VIEWS) $(`#view-${view}`).hidden = view !== name;
  for (const button of $$("#panel-nav [data-view]")) {
    if (button.dataset.view === name || (name === "ticket" && button.dataset.view === "inbox")) {
      button.setAttribute("aria-current", "page");
    } else {
      button.removeAttribute("aria-current");
    }
  }
  if (focus) focusTarget($(`#view-${name} h1`));
}

for (const button of $$("#panel-nav [data-view]")) {
  button.addEventListener("click", () => {
    clearErrors(alerts);
    const view = button.dataset.view;
    closeTicket();
    if (view === "inbox") openInbox();
    if (view === "team") openTeam();
    if (view === "canned") canned.open();
    if (view === "settings") openSettings();
    if (view === "account") showView("account");
  });
}

/**
 * Errors of a session that ended send the administrator back to the sign-in form, with nothing
 * of the panel left in the page (lib/signout.js; the sign-in form then says why).
 */
function handleError(error, context, region = alerts) {
  const code = codeOf(error);
  if (code === "server.unauthorized" || code === "account.signed_out" || code === "admin.not_an_administrator" || code === "server.not_an_administrator") {
    const wasSignedIn = admin !== null;
    const keyId = admin ? admin.keyId : null;
    signedOut();
    // The session ended or the account is no administrator any more: what this device
    // remembers of it is useless.
    forgetDevice(PAGE);
    forgetIndex(keyId);
    if (wasSignedIn) {
      leaveSignedIn({ code });
      return;
    }
    showError(alerts, error, { context });
    return;
  }
  showError(region, error, { context });
}

function nameOf(keyId) {
  if (!keyId) return "nobody";
  const member = team.find((m) => m.key_id === keyId);
  if (member && member.me) return "you";
  if (names[keyId]) return names[keyId];
  if (member) return `administrator ${shortFingerprint(member.fingerprint)}`;
  return "a removed administrator";
}

async function learnName(keyId, username) {
  if (!keyId || !username) return;
  names = { ...names, [keyId]: username };
  await kvSet("admin-names", names).catch(() => {});
}

// ---------------------------------------------------------------- start

async function start() {
  try {
    client = await clientReady;
  } catch (error) {
    showError(alerts, error);
    return;
  }
  names = (await kvGet("admin-names").catch(() => null)) || {};
  settings = await loadSettings();
  const reason = takeSignOutReason();
  if (reason === SIGNED_OUT) replace(alerts, h("p", { class: "notice ok", text: "You are signed out. Nothing the panel showed is left in this tab." }));
  else if (reason && reason !== "device.locked") showError(alerts, { code: reason }, { context: "you were signed out" });
  if (window.location.pathname.replace(/\/$/, "") === "/admin/invite") startInvite();
  else {
    showView("signin", { focus: false });
    await reopenRemembered();
  }
}

/** Opens the panel this device remembers, or asks for the password after an idle lock. */
async function reopenRemembered() {
  const record = await rememberedDevice(PAGE);
  if (!record) return;
  if (record.locked) {
    /** @type {HTMLInputElement} */ ($("#signin-username")).value = record.username;
    /** @type {HTMLInputElement} */ ($("#signin-remember")).checked = true;
    const minutes = settings.idle_lock_minutes || 30;
    replace(alerts, h("div", { class: "notice" }, h("p", { class: "title", text: "Locked" }), h("p", { text: `The panel locked itself after ${plural(minutes, "minute", "minutes")} without activity and forgot the keys. Enter the password of ${record.username} to continue.` })));
    $("#signin-password").focus();
    return;
  }
  const status = $("#signin-status");
  try {
    const resumed = await whileBusy(status, "Opening the panel this browser remembers…", async () => {
      const created = await resumeRemembered(PAGE, record);
      return { created, handle: await promote(created) };
    });
    await enterPanel(resumed.handle, resumed.created);
  } catch (error) {
    await forgetDevice(PAGE);
    showError(alerts, error, { context: "not signed in" });
  }
}

/**
 * The panel for a sign-in: verifies the directory (extending the pinned head) and that the
 * account is an administrator; signs the account out otherwise.
 * @param {import("./lib/device.js").SignIn} created
 * @returns {Promise<AdminHandle>}
 */
async function promote(created) {
  try {
    await applyHead(created.handle);
    return await client.adminFromAccount(created.handle);
  } catch (error) {
    await client.logout(created.handle).catch(() => {});
    await forgetDevice(PAGE);
    throw error;
  }
}

// ---------------------------------------------------------------- sign in

accountForm({
  prefix: "signin",
  alerts,
  busyText: "Deriving your keys from the password and verifying the administrators…",
  context: "not signed in",
  submit: async (username, password, remember) => {
    const created = await signInOffThread({ op: "login", username, password, remember, page: PAGE });
    return { created, handle: await promote(created) };
  },
  done: ({ created, handle }) => enterPanel(handle, created),
});

/**
 * @param {AdminHandle} handle
 * @param {import("./lib/device.js").SignIn} created the sign-in (its wrapped account serves a
 *   password change)
 */
async function enterPanel(handle, created) {
  admin = handle;
  signIn = created;
  showDeviceState(created.remembered);
  stopIdleLock = startIdleLock(settings.idle_lock_minutes, lock);
  await rememberHead(admin);
  await learnName(admin.keyId, admin.username);
  $("#panel-nav").hidden = false;
  $("#user-box").hidden = false;
  $("#user-name").textContent = `Signed in as ${admin.username}`;
  $("#author").value = admin.username;
  updateComposer();
  $("#my-fingerprint").textContent = admin.fingerprint;
  try {
    const directory = await client.verifiedDirectory(admin.pinnedHead());
    $("#instance-fingerprint").textContent = directory.instance_fingerprint;
  } catch (error) {
    handleError(error, "the directory could not be verified");
  }
  try {
    team = await client.team(signedInAdmin());
  } catch (error) {
    handleError(error, "the team could not be read");
  }
  startLive();
  // A link into the panel (the mails' `/admin#ticket=<id>`) opens that ticket once signed in.
  const linked = linkedTicket();
  if (linked) await openTicket(linked);
  else await openInbox();
  startSearch();
}

/**
 * The ticket id of a `#ticket=<32 hex digits>` fragment (the administrators' mails link
 * there, spec/API.md "Mail"), lower case, or null.
 * @returns {string | null}
 */
function linkedTicket() {
  const match = /^#ticket=([0-9a-fA-F]{32})$/.exec(window.location.hash);
  if (!match) return null;
  // Taken once: the same link followed again later changes the hash again and opens it again.
  history.replaceState(null, "", window.location.pathname + window.location.search);
  return match[1].toLowerCase();
}

// Following such a link while signed in (another mail, a pasted address) opens that ticket.
window.addEventListener("hashchange", () => {
  if (!admin) return;
  const linked = linkedTicket();
  if (linked && linked !== ticket.id) {
    clearErrors(alerts);
    openTicket(linked);
  }
});

$("#sign-out").addEventListener("click", async () => {
  if (!admin) return;
  const account = admin.account;
  const keyId = admin.keyId;
  stopLive();
  closeTicket();
  try {
    // Ends the session on the server and drops the keys of every handle of this sign-in.
    await client.logout(account);
  } catch {
    // the keys are dropped anyway; the session expires on its own
  }
  account.free();
  // Signing out forgets the device: the wrapped keys and the token go, with the search index.
  await forgetDevice(PAGE);
  // Stopped first: a save in flight then writes nothing after the deletion.
  stopSearch();
  await forgetIndex(keyId);
  signedOut();
  // Nothing decrypted stays in the tab: the page empties itself and loads again.
  leaveSignedIn();
});

/** The idle lock: ends the session, forgets the keys (the username stays) and asks again. */
async function lock() {
  if (!admin) return;
  const account = admin.account;
  const { username } = account;
  const keyId = admin.keyId;
  try {
    await client.logout(account);
  } catch {
    // the keys are dropped anyway; the session expires on its own
  }
  account.free();
  await lockDevice(PAGE, username);
  // Stopped first: a save in flight then writes nothing after the deletion.
  stopSearch();
  await forgetIndex(keyId);
  signedOut();
  leaveSignedIn({ code: "device.locked" });
}

accountTools({
  alerts,
  page: PAGE,
  signIn: () => signIn,
  onError: (error, context) => handleError(error, context),
  everywhere: async () => {
    if (!admin) return;
    const account = admin.account;
    const keyId = admin.keyId;
    try {
      await client.logoutEverywhere(account);
    } catch (error) {
      if (codeOf(error) !== "server.unauthorized") {
        showError(alerts, error, { context: "not every session was ended" });
        return;
      }
    }
    account.free();
    await forgetDevice(PAGE);
    // Stopped first: a save in flight then writes nothing after the deletion.
    stopSearch();
    await forgetIndex(keyId);
    signedOut();
    leaveSignedIn();
  },
});

/** Drops the sign-in's handles and what the panel keeps of it, and shows the sign-in form. */
function signedOut() {
  stopSearch();
  stopIdleLock();
  stopIdleLock = () => {};
  signIn = null;
  stopLive();
  stopLive = () => {};
  closeTicket();
  if (admin) {
    try {
      admin.free();
    } catch {
      // freed already
    }
  }
  admin = null;
  inbox.items = [];
  team = [];
  canned.forget();
  $("#panel-nav").hidden = true;
  $("#user-box").hidden = true;
  replace($("#inbox-list"));
  showView("signin");
}

// ---------------------------------------------------------------- invite

async function startInvite() {
  showView("invite", { focus: false });
  const token = window.location.hash.slice(1);
  if (!token) {
    replace($("#invite-intro"), h("div", { class: "notice error" }, h("p", { class: "title", text: "This invite link is incomplete" }), h("p", { text: "An invite link ends with # and a long code. Copy the whole link again." })));
    $("#invite-account").hidden = true;
    return;
  }
  // An instance without administrators: this invite makes the first one.
  const genesis = await client.directoryIsEmpty().catch(() => false);
  $("#invite-title").textContent = genesis ? "Set up this support desk" : "Join the support team";
  replace(
    $("#invite-intro"),
    genesis
      ? h("p", { class: "lead", text: "This support desk has no administrator yet. With this one-time link you become the first one: your browser makes your keys and signs the first entry of the administrators' list." })
      : h("p", { class: "lead", text: "An administrator invited you. Create an account (or sign in), then read your key's fingerprint to the administrator who invited you, so they can approve you." }),
  );
  setupTabs($("#invite-tabs"));

  /**
   * @param {import("./lib/device.js").SignIn} created
   * @param {HTMLElement} status
   */
  const redeem = async (created, status) => {
    const account = created.handle;
    await applyHead(account);
    if (genesis) {
      const handle = await whileBusy(status, "Signing the first entry of the administrators' list…", () => client.redeemGenesis(account, window.location.href));
      history.replaceState(null, "", "/admin");
      await enterPanel(handle, created);
      announce("You are the first administrator of this support desk.");
      return;
    }
    const redemption = await client.redeemInvite(account, window.location.href);
    history.replaceState(null, "", "/admin/invite");
    await rememberHead(account);
    waitForApproval(created, redemption);
  };

  accountForm({
    prefix: "register",
    register: true,
    alerts,
    busyText: "Creating your keys and protecting them with your password…",
    context: "you have not joined yet",
    submit: (username, password) => signInOffThread({ op: "register", username, password, remember: false, page: PAGE }),
    done: redeem,
  });

  accountForm({
    prefix: "login",
    alerts,
    busyText: "Deriving your keys from the password…",
    context: "you have not joined yet",
    submit: (username, password) => signInOffThread({ op: "login", username, password, remember: false, page: PAGE }),
    done: redeem,
  });
}

/**
 * @param {import("./lib/device.js").SignIn} created
 * @param {IdentityView} redemption
 */
function waitForApproval(created, redemption) {
  const account = created.handle;
  $("#invite-account").hidden = true;
  const status = h("div", { role: "status" });
  const check = h("button", {
    type: "button",
    text: "Check again",
    onclick: async () => {
      clearErrors(alerts);
      check.disabled = true;
      try {
        const handle = await client.adminFromAccount(account);
        history.replaceState(null, "", "/admin");
        await enterPanel(handle, created);
        announce("You are now an administrator.");
      } catch (error) {
        if (codeOf(error) === "admin.not_an_administrator") {
          status.textContent = `Not approved yet (checked ${formatTime(Math.floor(Date.now() / 1000))}).`;
        } else {
          showError(alerts, error);
        }
      } finally {
        check.disabled = false;
      }
    },
  });
  // Leaving the waiting screen: the approval keeps; sign in here again later to enter the panel.
  const signOut = h("button", {
    type: "button",
    class: "secondary",
    id: "waiting-sign-out",
    text: "Sign out",
    onclick: async () => {
      signOut.disabled = true;
      try {
        await client.logout(account);
      } catch {
        // the keys are dropped anyway; the session expires on its own
      }
      account.free();
      leaveSignedIn();
    },
  });
  const heading = h("h2", { tabindex: "-1", text: "Waiting for approval" });
  replace(
    $("#invite-result"),
    h(
      "div",
      { class: "card" },
      heading,
      h("p", { text: "Read this fingerprint to the administrator who invited you, over a channel you trust (in person or a phone call). They approve you once it matches the one they see." }),
      h("p", { class: "fingerprint", text: redemption.fingerprint }),
      h("div", { class: "actions" }, check, signOut),
      status,
    ),
  );
  focusTarget(heading);
}

// ---------------------------------------------------------------- inbox

/**
 * The inbox: the status filter, the assignee filter ("" anyone, "me", "none"), the order, the
 * due filter, what is loaded, and the tickets ticked for a bulk action.
 * @type {{status: string, assigned: string, order: import("./admin/inbox-list.js").InboxOrder, due: string, items: InboxItemView[], shown: InboxItemView[], page: number, cursor: string | null, more: boolean, loading: boolean, selected: Set<string>, current: string | null}}
 */
const inbox = { status: "unanswered", assigned: "", order: "newest", due: "", items: [], shown: [], page: 0, cursor: null, more: false, loading: false, selected: new Set(), current: null };

for (const button of $$("#inbox-filter button")) {
  button.addEventListener("click", () => {
    for (const b of $$("#inbox-filter button")) b.setAttribute("aria-pressed", String(b === button));
    inbox.status = button.dataset.status;
    loadInbox();
  });
}
for (const button of $$("#inbox-assigned button")) {
  button.addEventListener("click", () => {
    for (const b of $$("#inbox-assigned button")) b.setAttribute("aria-pressed", String(b === button));
    inbox.assigned = button.dataset.assigned || "";
    loadInbox();
  });
}
$("#inbox-order").addEventListener("change", () => {
  const before = inbox.order === "oldest";
  inbox.order = /** @type {import("./admin/inbox-list.js").InboxOrder} */ ($("#inbox-order").value);
  // Only "oldest waiting" asks the server for another page; the others sort what is loaded.
  if (before !== (inbox.order === "oldest")) loadInbox();
  else renderInbox();
});
$("#inbox-due").addEventListener("change", () => {
  inbox.due = $("#inbox-due").value;
  renderInbox();
});
$("#inbox-category").addEventListener("change", renderInbox);
$("#inbox-search").addEventListener("input", renderInbox);
$("#inbox-more").addEventListener("click", () => loadInbox({ more: true }));

async function openInbox() {
  showView("inbox");
  await Promise.all([loadInbox(), loadRecoveries()]);
}

/** The pending recoveries ("resend access link"): the badge and the list above the inbox. */
async function loadRecoveries() {
  if (!admin) return;
  let claims;
  try {
    claims = await client.recoveries(signedInAdmin());
  } catch (error) {
    handleError(error, "the waiting recoveries could not be read");
    return;
  }
  const badge = $("#recoveries-badge");
  badge.hidden = claims.length === 0;
  badge.textContent = String(claims.length);
  badge.setAttribute("aria-label", `${plural(claims.length, "recovery", "recoveries")} waiting`);
  $("#recoveries").hidden = claims.length === 0;
  replace(
    $("#recoveries-list"),
    h(
      "ul",
      { class: "ticket-list" },
      claims.map((c) => {
        const match =
          c.email_matches === true
            ? h("span", { class: "chip open", text: "Address matches the first message" })
            : c.email_matches === false
              ? h("span", { class: "chip urgent", text: "Address differs from the first message" })
              : h("span", { class: "chip", text: "The first message has no address" });
        const label = `ticket ${c.ticket_id.slice(0, 8)}`;
        return h(
          "li",
          null,
          h(
            "div",
            { class: "summary" },
            h("div", { class: "title", text: `Recovery of ${label}` }),
            h("p", {}, "Requested for ", h("strong", { text: c.email }), " ", match),
            h("p", {}, "New key: ", h("span", { class: "fingerprint", text: c.fingerprint })),
            h("div", { class: "meta", text: `Claimed ${formatTime(c.claimed_at)}` }),
          ),
          h(
            "div",
            { class: "item-actions" },
            h("button", { type: "button", text: "Approve", "aria-label": `Approve the recovery of ${label}`, onclick: () => decideRecovery(c, true) }),
            h("button", { type: "button", class: "secondary", text: "Decline", "aria-label": `Decline the recovery of ${label}`, onclick: () => decideRecovery(c, false) }),
          ),
        );
      }),
    ),
  );
}

/**
 * Approves (an endorse message for the new key, visible to everyone in the conversation) or
 * declines a recovery.
 * @param {{ticket_id: string, key_id: string, fingerprint: string, email: string, email_matches?: boolean | null}} c
 * @param {boolean} approve
 */
async function decideRecovery(c, approve) {
  const question = approve
    ? `Add this key to ticket ${c.ticket_id.slice(0, 8)} as the reporter's?\n\nFingerprint ${c.fingerprint}\nRequested for ${c.email}${c.email_matches === false ? "\n\nThe address DIFFERS from the one in the first message." : ""}`
    : `Decline the recovery of ticket ${c.ticket_id.slice(0, 8)}?`;
  if (!window.confirm(question)) return;
  clearErrors(alerts);
  try {
    if (approve) {
      await whileBusy($("#recoveries-status"), "Adding the key to the conversation…", () => client.approveRecovery(signedInAdmin(), c.ticket_id, c.key_id));
      await rememberHead(admin);
    } else {
      await client.declineRecovery(signedInAdmin(), c.ticket_id, c.key_id);
    }
    replace($("#recoveries-status"), h("p", { class: "notice ok", text: approve ? "The key was added; the reporter's new browser can open the conversation." : "The recovery was declined." }));
  } catch (error) {
    handleError(error, approve ? "the recovery was not approved" : "the recovery was not declined");
  }
  await loadRecoveries();
}

async function loadInbox({ more = false, quiet = false } = {}) {
  if (!admin) return;
  const apiStatus = { unanswered: "unanswered", answered: "open", waiting: "waiting", on_hold: "on_hold", closed: "closed", all: "all" }[inbox.status];
  const page = more ? inbox.page + 1 : 0;
  if (!quiet) $("#inbox-count").textContent = "Loading and decrypting…";
  try {
    // The server filters by assignee and orders by last activity (oldest first for "oldest
    // waiting", so the first page holds the longest waits); urgency and due are inside the
    // encrypted first messages, so those orders sort what is loaded here. "Load more"
    // continues after the last page's cursor.
    const result = await client.inbox(
      signedInAdmin(),
      apiStatus,
      more && inbox.cursor ? 0 : page,
      /** @type {import("../pkg/admin/sealdesk_client.js").InboxAssigned} */ (inbox.assigned || "any"),
      inbox.order === "oldest" ? "oldest" : "newest",
      more && inbox.cursor ? inbox.cursor : undefined,
    );
    await rememberHead(admin);
    let tickets = result.tickets;
    if (inbox.status === "answered") tickets = tickets.filter((t) => t.answered && !t.closed);
    inbox.items = more ? [...inbox.items, ...tickets] : tickets;
    inbox.page = page;
    inbox.more = result.more;
    inbox.cursor = result.next_cursor || null;
    // The counts per filter (spec/API.md, "Inbox").
    showCounts(/** @type {Record<string, number>} */ (/** @type {unknown} */ (result.counts)));
    for (const id of [...inbox.selected]) if (!inbox.items.some((t) => t.ticket_id === id)) inbox.selected.delete(id);
    renderInbox();
  } catch (error) {
    $("#inbox-count").textContent = "";
    handleError(error, "the inbox could not be read");
  }
}

function renderCategoryFilter() {
  const select = $("#inbox-category");
  const chosen = select.value;
  const categories = new Set((settings.categories || []).map((c) => c.name));
  for (const t of inbox.items) if (t.opening && t.opening.category) categories.add(t.opening.category);
  replace(
    select,
    h("option", { value: "", text: "All categories" }),
    [...categories].sort().map((c) => h("option", { value: c, text: c })),
    h("option", { value: "\u0000none", text: "No category" }),
  );
  select.value = [...select.options].some((o) => o.value === chosen) ? chosen : "";
}

function renderInbox() {
  renderCategoryFilter();
  const category = $("#inbox-category").value;
  const search = $("#inbox-search").value.trim().toLowerCase();
  const myKeyId = admin ? admin.keyId : "";
  const tag = /** @type {HTMLSelectElement} */ ($("#inbox-tag")).value;
  const filtered = inbox.items.filter((t) => {
    // The tag filter reads the tags this browser decrypted (js/admin/search.js).
    if (tag && !(desk && desk.tagsOf(t.ticket_id).includes(tag))) return false;
    if (!matchesAssigned(t, inbox.assigned, myKeyId)) return false;
    if (!t.opening) return !category && !search && !inbox.due; // unreadable: shown unless filtering
    if (!matchesDue(t, inbox.due, settings)) return false;
    if (category === "\u0000none" && t.opening.category) return false;
    if (category && category !== "\u0000none" && t.opening.category !== category) return false;
    if (search) {
      const haystack = [t.opening.subject, t.opening.name, t.opening.email].filter(Boolean).join(" ").toLowerCase();
      if (!haystack.includes(search)) return false;
    }
    return true;
  });
  const shown = sortTickets(filtered, inbox.order, settings);
  inbox.shown = shown;
  const focused = document.activeElement && document.activeElement.closest("#inbox-list li");
  const focusedId = focused instanceof HTMLElement ? focused.dataset.ticket : null;
  replace(
    $("#inbox-list"),
    shown.map((t) =>
      inboxRow(t, {
        nameOf,
        open: (id) => openTicket(id),
        selected: inbox.selected,
        onSelect: (id, on) => {
          if (on) inbox.selected.add(id);
          else inbox.selected.delete(id);
          showSelection();
        },
        settings,
        extraMeta: (row) => (desk ? tagChips(desk.tagsOf(row.ticket_id)) : null),
      }),
    ),
  );
  markCurrent(focusedId ? { focus: true } : {});
  const label = { unanswered: "unanswered", answered: "answered", waiting: "waiting", on_hold: "on hold", closed: "closed", all: "" }[inbox.status];
  const filtering = category || search || inbox.assigned || inbox.due || tag;
  $("#inbox-count").textContent = shown.length
    ? `${plural(shown.length, `${label} ticket`.trim(), `${label} tickets`.trim())}${inbox.more ? " (more below)" : ""}.`
    : `No ${label} tickets${filtering ? " match" : ""}.`.replace("  ", " ");
  // The tag filter sees the loaded pages; the index knows every tagged ticket (any status).
  const tagged = tag && desk ? (desk.allTags().find(([t]) => t === tag) || [tag, 0])[1] : 0;
  if (tag && inbox.more && tagged > shown.length) $("#inbox-count").textContent += ` ${plural(tagged, "ticket carries", "tickets carry")} this tag in all; load more to see the others.`;
  $("#inbox-more").hidden = !inbox.more;
  showSelection();
}

// ---------------------------------------------------------------- inbox: keyboard, bulk, alerts

/**
 * Highlights the keyboard's current ticket (the first shown when none is), optionally focusing
 * its subject.
 * @param {{focus?: boolean}} [options]
 */
function markCurrent({ focus = false } = {}) {
  if (!inbox.shown.some((t) => t.ticket_id === inbox.current)) inbox.current = inbox.shown.length ? inbox.shown[0].ticket_id : null;
  for (const li of $$("#inbox-list > li")) li.classList.toggle("current", li.dataset.ticket === inbox.current);
  if (focus && inbox.current) {
    const button = $(`#inbox-list [data-ticket="${inbox.current}"] button.link`);
    if (button) button.focus();
  }
}

/** Shows the bulk bar and the "select all" box for the ticked tickets. */
function showSelection() {
  const shownIds = inbox.shown.map((t) => t.ticket_id);
  const ticked = shownIds.filter((id) => inbox.selected.has(id));
  const all = /** @type {HTMLInputElement} */ ($("#inbox-select-all"));
  all.checked = ticked.length > 0 && ticked.length === shownIds.length;
  all.indeterminate = ticked.length > 0 && ticked.length < shownIds.length;
  all.disabled = shownIds.length === 0;
  showBulk(ticked.length);
}

$("#inbox-select-all").addEventListener("change", () => {
  const on = /** @type {HTMLInputElement} */ ($("#inbox-select-all")).checked;
  for (const t of inbox.shown) {
    if (on) inbox.selected.add(t.ticket_id);
    else inbox.selected.delete(t.ticket_id);
  }
  for (const box of $$("#inbox-list input.row-select")) /** @type {HTMLInputElement} */ (box).checked = on;
  showSelection();
});

/**
 * Opens a verified handle of a ticket (extending the state this browser kept of it), runs
 * `work` with it, keeps the new verified state and frees the handle.
 * @template T
 * @param {string} id
 * @param {(handle: TicketHandle) => Promise<T>} work
 * @returns {Promise<T>}
 */
async function withTicket(id, work) {
  const keptAt = keptKey("admin", signedInAdmin().keyId, id);
  const kept = await kvGet(keptAt).catch(() => null);
  const handle = await client.openAdminTicket(signedInAdmin(), id, typeof kept === "string" ? kept : null);
  try {
    const result = await work(handle);
    await kvSet(keptAt, await client.keptState(handle)).catch(() => {});
    return result;
  } finally {
    handle.free();
  }
}

/** Whether an error ended the session (handled: the panel signs out). */
function sessionEnded(error) {
  const code = codeOf(error);
  if (code === "server.unauthorized" || code === "account.signed_out" || code === "admin.not_an_administrator" || code === "server.not_an_administrator") {
    handleError(error, "the bulk action stopped");
    return true;
  }
  return false;
}

const showBulk = bulkActions({
  selected: () => inbox.shown.map((t) => t.ticket_id).filter((id) => inbox.selected.has(id)),
  subjectOf: (id) => {
    const item = inbox.items.find((t) => t.ticket_id === id);
    return (item && item.opening && item.opening.subject) || `ticket ${id.slice(0, 8)}`;
  },
  withTicket,
  client: {
    close: (handle) => client.close(handle),
    reopen: (handle) => client.reopen(handle),
    assign: (handle, keyId) => client.assign(handle, keyId),
  },
  assignees: () => [{ value: "", label: "Nobody" }, ...team.map((member) => ({ value: member.key_id, label: member.me ? `You (${signedInAdmin().username})` : names[member.key_id] || `Administrator ${shortFingerprint(member.fingerprint)}` }))],
  done: async () => {
    inbox.selected.clear();
    await loadInbox({ quiet: true });
  },
  fatal: sessionEnded,
  needs: (id, action) => {
    const item = inbox.items.find((t) => t.ticket_id === id);
    if (!item) return true;
    return action === "close" ? !item.closed : item.status !== "open";
  },
});

/**
 * The ticket `step` places after (1) or before (-1) the current one among those shown.
 * @param {number} step
 */
function neighbour(step) {
  const ids = inbox.shown.map((t) => t.ticket_id);
  if (!ids.length) return null;
  const at = ids.indexOf(current === "ticket" && ticket.id ? ticket.id : inbox.current || "");
  if (at < 0) return ids[0];
  return ids[Math.min(ids.length - 1, Math.max(0, at + step))];
}

keyboardShortcuts({
  view: () => current,
  move: (step) => {
    const id = neighbour(step);
    if (!id) return;
    if (current === "ticket") {
      if (id !== ticket.id) openTicket(id);
      return;
    }
    inbox.current = id;
    markCurrent({ focus: true });
  },
  open: () => {
    if (current === "inbox" && inbox.current) openTicket(inbox.current);
  },
  reply: async () => {
    if (current === "inbox" && inbox.current) await openTicket(inbox.current);
    if (current !== "ticket" || $("#composer").hidden) return;
    selectComposerTab("tab-reply");
    $("#composer-text").focus();
  },
  close: async () => {
    if (current === "ticket") {
      if (!$("#close-ticket").hidden) $("#close-ticket").click();
      return;
    }
    const id = inbox.current;
    if (current !== "inbox" || !id) return;
    const item = inbox.items.find((t) => t.ticket_id === id);
    if (!item || item.closed) return;
    const subject = (item.opening && item.opening.subject) || `ticket ${id.slice(0, 8)}`;
    if (!window.confirm(`Close "${subject}"?`)) return;
    try {
      await withTicket(id, (handle) => client.close(handle));
      announce(`${subject} closed.`);
      await loadInbox({ quiet: true });
    } catch (error) {
      handleError(error, "the ticket was not closed");
    }
  },
  select: () => {
    const id = inbox.current;
    if (current !== "inbox" || !id) return;
    const box = /** @type {HTMLInputElement | null} */ ($(`#inbox-list input.row-select[data-ticket="${id}"]`));
    if (!box) return;
    box.checked = !box.checked;
    box.dispatchEvent(new Event("change"));
  },
});
$("#shortcuts-button").addEventListener("click", () => document.dispatchEvent(new KeyboardEvent("keydown", { key: "?" })));
$("#inbox-list").addEventListener("focusin", (event) => {
  const li = event.target instanceof HTMLElement ? event.target.closest("#inbox-list > li") : null;
  if (li instanceof HTMLElement && li.dataset.ticket) {
    inbox.current = li.dataset.ticket;
    markCurrent();
  }
});
setupAlerts();

// ---------------------------------------------------------------- ticket

/**
 * The open ticket. `view` is an administrator's ticket view (every member present), with the
 * assignee the panel last set.
 * @typedef {Required<TicketView> & {assigned_to?: string | null}} AdminTicketView
 * @type {{handle: TicketHandle | null, id: string | null, conversation: Conversation | null, notes: Conversation | null, view: AdminTicketView | null, broken: boolean}}
 */
const ticket = { handle: null, id: null, conversation: null, notes: null, view: null, broken: false };
const picker = new FilePicker({ input: $("#composer-files"), list: $("#composer-file-list"), maxBytes: () => settings.max_attachment_bytes, rules: clientReady });

$("#back-to-inbox").addEventListener("click", async () => {
  const id = ticket.id;
  closeTicket();
  await openInbox();
  const button = id && $(`#inbox-list [data-ticket="${id}"]`);
  if (button) button.focus();
});

function closeTicket() {
  if (ticket.handle) {
    try {
      ticket.handle.free();
    } catch {
      // freed already
    }
  }
  Object.assign(ticket, { handle: null, id: null, conversation: null, notes: null, view: null, broken: false });
  picker.clear();
  document.title = PAGE_TITLE;
  keepBadge();
}

async function openTicket(id) {
  clearErrors(alerts);
  closeTicket();
  showView("ticket", { focus: false });
  $("#ticket-title").textContent = "Opening the ticket…";
  for (const el of ["#ticket-conversation", "#ticket-notes", "#ticket-details", "#ticket-debug", "#ticket-files", "#ticket-alerts"]) replace($(el));
  $("#composer").hidden = true;
  focusTarget($("#ticket-title"));
  let handle;
  // The verified state this browser kept for this administrator's key (PROTOCOL.md §10.4): the
  // ticket must extend it, else it is shown as tampered with and the kept state stays.
  const keptAt = keptKey("admin", signedInAdmin().keyId, id);
  try {
    const kept = await kvGet(keptAt).catch(() => null);
    handle = await whileBusy($("#ticket-alerts"), "Verifying and decrypting the ticket…", () =>
      client.openAdminTicket(signedInAdmin(), id, typeof kept === "string" ? kept : null),
    );
    await kvSet(keptAt, await client.keptState(handle)).catch(() => {});
  } catch (error) {
    $("#ticket-title").textContent = "The ticket could not be opened";
    handleError(error, "the ticket could not be opened", $("#ticket-alerts"));
    return;
  }
  if (current !== "ticket") {
    handle.free();
    return;
  }
  ticket.handle = handle;
  ticket.id = id;
  const view = await client.view(handle);
  ticket.conversation = new Conversation($("#ticket-conversation"), {
    client,
    getHandle: () => /** @type {TicketHandle} */ (ticket.handle),
    perspective: "support",
    names: { reporter: (view.opening && (view.opening.name || view.opening.email)) || "Reporter", sender: (keyId) => nameOf(keyId) },
    label: "Conversation with the reporter",
  });
  ticket.notes = new Conversation($("#ticket-notes"), {
    client,
    getHandle: () => /** @type {TicketHandle} */ (ticket.handle),
    perspective: "support",
    names: { sender: (keyId) => nameOf(keyId) },
    label: "Internal notes",
    notes: true,
  });
  $("#composer").hidden = false;
  $("#assign").disabled = false;
  showTicket(view);
  focusTarget($("#ticket-title"));
  await rememberHead(admin);
}

/**
 * @param {TicketView} shown an administrator's ticket view (openAdminTicket's handle)
 * @param {{announceNew?: boolean}} [options]
 */
function showTicket(shown, { announceNew = false } = {}) {
  if (ticket.broken || !ticket.conversation || !ticket.notes) return;
  const view = /** @type {AdminTicketView} */ (shown);
  ticket.view = view;
  const o = view.opening;
  const subject = o ? o.subject || "(no subject)" : "Ticket whose first message cannot be read";
  $("#ticket-title").textContent = subject;
  // Never the subject: titles reach the browser's history, next to the page's address.
  document.title = `Ticket – ${PAGE_TITLE}`;
  keepBadge();
  renderTimeline({ conversation: ticket.conversation, notes: ticket.notes }, view, { announceNew });
  const due = dueAt(settings, { opening: o, status: view.status, waiting_since: waitingSince(view.messages) });
  tags.render(view.tags || []);
  tags.disable(false);
  if (desk) desk.update(view);

  /** @type {(string[] | null)[]} */
  const lines = [
    ["Status", statusWords(view.status, "support")],
    o && o.urgent ? ["Urgency", "Urgent"] : null,
    o && o.category ? ["Category", o.category] : null,
    o && o.name ? ["Name", o.name] : null,
    o && o.email ? ["Email", o.email] : null,
    o && o.sent_at ? ["Written", formatTime(o.sent_at)] : null,
    ["Reporter's key", view.reporter.fingerprint],
    ["Ticket id", view.ticket_id],
  ];
  const rows = /** @type {string[][]} */ (lines.filter(Boolean));
  const chip = dueChip(due);
  replace(
    $("#ticket-details"),
    h(
      "dl",
      { class: "fields" },
      rows.map(([label, value]) => [h("dt", { text: label }), h("dd", { class: label === "Reporter's key" || label === "Ticket id" ? "mono" : null, text: value })]),
      chip ? [h("dt", { text: "Reply" }), h("dd", { class: "ticket-due" }, chip)] : null,
    ),
  );
  $("#close-ticket").hidden = view.closed;
  $("#reopen-ticket").hidden = view.status === "open";
  $("#reopen-ticket").textContent = view.closed ? "Reopen ticket" : "Mark as open";
  // PROTOCOL.md §10.3: waiting and on hold are the team's; a closed ticket is reopened first.
  $("#wait-ticket").hidden = view.closed || view.status === "waiting";
  $("#hold-ticket").hidden = view.closed || view.status === "on_hold";
  // spec/API.md: only a closed ticket is deleted.
  $("#delete-ticket").hidden = !view.closed;

  replace(
    $("#ticket-debug"),
    view.debug_data.length
      ? view.debug_data.map((d) => h("div", null, h("p", { class: "small muted", text: `Sent ${formatTime(d.sent_at)}` }), debugList(d.fields)))
      : h("p", { class: "muted", text: "None sent." }),
  );
  replace(
    $("#ticket-files"),
    view.attachments.length
      ? view.attachments.map((a) =>
          attachmentCard(client, () => /** @type {TicketHandle} */ (ticket.handle), { seq: a.seq, content: a }, (error, where) => where.replaceChildren(errorNotice(error, { context: a.name }))),
        )
      : h("p", { class: "muted", text: "None." }),
  );
  renderAssign();
}

function renderAssign() {
  const select = $("#assign");
  const assigned = ticket.view ? ticket.view.assigned_to : undefined;
  const options = [h("option", { value: "", text: "Nobody" })];
  for (const member of team) {
    options.push(h("option", { value: member.key_id, text: member.me ? `You (${signedInAdmin().username})` : names[member.key_id] || `Administrator ${shortFingerprint(member.fingerprint)}` }));
  }
  replace(select, options);
  if (assigned !== undefined) select.value = assigned || "";
  else {
    const item = inbox.items.find((t) => t.ticket_id === ticket.id);
    select.value = (item && item.assigned_to) || "";
  }
}

$("#assign").addEventListener("change", async () => {
  if (!ticket.handle) return;
  const keyId = $("#assign").value || null;
  try {
    const result = await client.assign(ticket.handle, keyId);
    if (ticket.view) ticket.view.assigned_to = result.assigned_to;
    const item = inbox.items.find((t) => t.ticket_id === ticket.id);
    if (item) item.assigned_to = result.assigned_to;
    announce(`Assigned to ${nameOf(result.assigned_to)}.`);
  } catch (error) {
    handleError(error, "the ticket was not assigned", $("#ticket-alerts"));
  }
});

function ticketFailed(error, context) {
  if (isVerificationError(error)) {
    ticket.broken = true;
    if (ticket.conversation) ticket.conversation.untrusted();
    if (ticket.notes) ticket.notes.untrusted();
    replace($("#ticket-debug"));
    replace($("#ticket-files"));
    replace($("#ticket-details"));
    $("#close-ticket").hidden = true;
    $("#reopen-ticket").hidden = true;
    $("#wait-ticket").hidden = true;
    $("#hold-ticket").hidden = true;
    $("#delete-ticket").hidden = true;
    $("#assign").disabled = true;
    tags.disable(true);
    $("#composer").hidden = true;
    $("#ticket-title").textContent = "This ticket does not verify";
    showError($("#ticket-alerts"), error, { context: "this ticket" });
    return;
  }
  handleError(error, context, $("#ticket-alerts"));
}

// ---------------------------------------------------------------- composer: reply or note tabs

/** Whether the composer writes an internal note (the "Internal note" tab). */
let noteMode = false;
/**
 * Selects the composer's "Reply" (tab-reply) or "Internal note" (tab-note) tab; both tabs
 * control the one form, which changes its words and style.
 * @param {string} id
 * @param {{focus?: boolean}} [options]
 */
function selectComposerTab(id, { focus = false } = {}) {
  for (const tab of $$('#composer-tabs [role="tab"]')) {
    const selected = tab.id === id;
    tab.setAttribute("aria-selected", String(selected));
    tab.tabIndex = selected ? 0 : -1;
    if (selected && focus) tab.focus();
  }
  noteMode = id === "tab-note";
  $("#composer-body").setAttribute("aria-labelledby", id);
  updateComposer();
}
$("#composer-tabs").addEventListener("click", (event) => {
  const tab = event.target instanceof HTMLElement ? event.target.closest('[role="tab"]') : null;
  if (tab) selectComposerTab(tab.id);
});
$("#composer-tabs").addEventListener("keydown", (event) => {
  if (!["ArrowLeft", "ArrowRight", "Home", "End"].includes(event.key)) return;
  event.preventDefault();
  selectComposerTab(noteMode ? "tab-reply" : "tab-note", { focus: true });
});
for (const radio of $$('input[name="sign"]')) radio.addEventListener("change", updateComposer);
$("#author").addEventListener("input", updateComposer);
function updateComposer() {
  const note = noteMode;
  $("#composer").classList.toggle("note-mode", note);
  $("#composer-title").textContent = note ? "Internal note" : "Reply to the reporter";
  $("#composer-text-label").textContent = note ? "Note (only administrators see it)" : "Message to the reporter";
  $("#composer-send").textContent = note ? "Add internal note" : "Send reply";
  $("#composer-files-field").hidden = note;
  const byName = $("#sign-name").checked;
  $("#author-field").hidden = !byName;
  // Reads as the reporter will see it, with who signs it.
  const shown = byName ? $("#author").value.trim() || (admin ? admin.username : "") : "Support team";
  $("#composer-from-name").textContent = `${shown} (you)`;
  $("#composer-from").firstChild.textContent = note ? "Note by " : "From ";
}
dropZone($("#composer-drop"));

/**
 * A drop zone around a file input: the input covers the zone (so a click, the keyboard and a
 * drop all reach it); the zone only shows where a drag is.
 * @param {HTMLElement} zone
 */
function dropZone(zone) {
  for (const type of ["dragenter", "dragover"]) zone.addEventListener(type, () => zone.classList.add("dragging"));
  for (const type of ["dragleave", "drop"]) zone.addEventListener(type, () => zone.classList.remove("dragging"));
}
selectComposerTab("tab-reply");
$("#composer-files-hint").textContent = "Encrypted before upload.";
loadSettings().then(async (s) => {
  $("#composer-files-hint").textContent = `Encrypted before upload. ${fileLimitText(await clientReady, s.max_attachment_bytes)}`;
});

$("#composer").addEventListener("submit", async (event) => {
  event.preventDefault();
  const handle = ticket.handle;
  if (!handle || ticket.broken) return;
  clearErrors($("#ticket-alerts"));
  const note = noteMode;
  const text = $("#composer-text").value;
  const author = $("#sign-name").checked ? $("#author").value.trim() || undefined : undefined;
  const files = note ? [] : picker.files();
  const textarea = $("#composer-text");
  if (!text.trim() && !files.length) {
    setFieldError(textarea, note ? "Write the note." : "Write a message or attach a file.");
    textarea.focus();
    return;
  }
  if (!note && picker.hasTooLarge()) {
    setFieldError($("#composer-files"), "Some files are too large. Remove them before sending.");
    $("#composer-files").focus();
    return;
  }
  clearFieldError(textarea);
  await withFormDisabled($("#composer"), async () => {
    try {
      if (text.trim()) {
        const view = await whileBusy($("#composer-status"), "Encrypting and sending…", () =>
          note ? client.note(handle, text, author) : client.reply(handle, text, author),
        );
        textarea.value = "";
        showTicket(view);
      }
      if (files.length) {
        const view = await uploadFiles(client, handle, files, $("#composer-status"));
        picker.clear();
        if (view) showTicket(view);
      }
      announce(note ? "Note added." : "Reply sent.");
    } catch (error) {
      ticketFailed(error, note ? "the note was not added" : "the reply was not sent");
    }
  });
  if (!ticket.broken) textarea.focus();
});
enableForm($("#composer"));

$("#close-ticket").addEventListener("click", async () => {
  if (!ticket.handle || !window.confirm("Close this ticket?")) return;
  try {
    showTicket(await client.close(ticket.handle));
    announce("Ticket closed.");
    $("#reopen-ticket").focus();
  } catch (error) {
    ticketFailed(error, "the ticket was not closed");
  }
});

$("#reopen-ticket").addEventListener("click", async () => {
  if (!ticket.handle) return;
  try {
    showTicket(await client.reopen(ticket.handle));
    announce("Ticket reopened.");
    $("#close-ticket").focus();
  } catch (error) {
    ticketFailed(error, "the ticket was not reopened");
  }
});

$("#delete-ticket").addEventListener("click", async () => {
  const id = ticket.id;
  if (!id || !window.confirm("Delete this ticket for good? Its messages, notes and files are removed from the server and cannot be brought back (backups made before keep them).")) return;
  try {
    await client.deleteTicket(signedInAdmin(), id);
    if (desk) desk.forgetTicket(id);
    closeTicket();
    await openInbox();
    announce("Ticket deleted.");
  } catch (error) {
    ticketFailed(error, "the ticket was not deleted");
  }
});

$("#wait-ticket").addEventListener("click", async () => {
  if (!ticket.handle) return;
  try {
    showTicket(await client.setWaiting(ticket.handle));
    announce("Ticket set to waiting for the reporter. It returns to open when the reporter writes.");
    $("#reopen-ticket").focus();
  } catch (error) {
    ticketFailed(error, "the status was not changed");
  }
});

$("#hold-ticket").addEventListener("click", async () => {
  if (!ticket.handle) return;
  try {
    showTicket(await client.putOnHold(ticket.handle));
    announce("Ticket put on hold.");
    $("#reopen-ticket").focus();
  } catch (error) {
    ticketFailed(error, "the status was not changed");
  }
});

// ---------------------------------------------------------------- live updates

function startLive() {
  stopLive();
  stopLive = follow({
    client,
    subscribe: (onEvent) =>
      client.listenInbox(signedInAdmin(), (event) => {
        if (desk) desk.noteEvent(event);
        noticeEvent(event);
        onEvent(event);
      }),
    unsubscribe: () => client.stopListeningInbox(signedInAdmin()),
    update: async () => {
      if (!admin) return;
      if (current === "ticket" && ticket.handle && !ticket.broken) {
        const view = await client.refresh(ticket.handle);
        if (view.added) showTicket(view, { announceNew: true });
      } else if (current === "inbox") {
        await loadInbox({ quiet: true });
      }
    },
    onError: (error) => {
      if (current === "ticket" && isVerificationError(error)) ticketFailed(error);
    },
  });
}

// ---------------------------------------------------------------- search and tags

// Issue 14 items 6 and 7: js/admin/search.js (the index of every ticket, in this browser) and
// js/admin/tags.js (the ticket's tags, the inbox's chips and tag filter).

const tags = tagEditor({
  container: $("#ticket-tags"),
  invalid: (message) => showError($("#ticket-alerts"), { code: "tags.invalid", message }),
  save: async (next) => {
    if (!ticket.handle || ticket.broken) return false;
    clearErrors($("#ticket-alerts"));
    try {
      showTicket(await client.setTags(ticket.handle, next));
      return true;
    } catch (error) {
      ticketFailed(error, "the tags were not saved");
      return false;
    }
  },
});

/** Opens (or builds) the index for the signed-in administrator and keeps it current. */
async function startSearch() {
  stopSearch();
  if (!admin || !signIn) return;
  const started = new DeskIndex({
    client,
    admin,
    deviceKey: signIn.remembered ? signIn.key : null,
    onChange: () => {
      if (desk !== started) return;
      showSearchState();
      renderTagFilter(/** @type {HTMLSelectElement} */ ($("#inbox-tag")), started.allTags());
      if (current === "inbox") renderInbox();
      runSearch();
    },
  });
  desk = started;
  await started.load();
  started.onChange();
  try {
    await started.catchUp(() => showSearchState());
  } catch (error) {
    if (desk === started) handleError(error, "the search could not read every ticket");
  }
  if (desk === started) showSearchState();
}

function stopSearch() {
  if (desk) desk.stop();
  desk = null;
  replace($("#desk-search-results"));
  $("#desk-search-results").hidden = true;
  /** @type {HTMLInputElement} */ ($("#desk-search-input")).value = "";
  $("#desk-search-status").textContent = "";
}

function showSearchState() {
  if (!desk) return;
  const query = /** @type {HTMLInputElement} */ ($("#desk-search-input")).value;
  if (!query.trim()) $("#desk-search-status").textContent = indexState(desk);
}

function runSearch() {
  if (!desk) return;
  const query = /** @type {HTMLInputElement} */ ($("#desk-search-input")).value;
  const list = $("#desk-search-results");
  if (!query.trim()) {
    list.hidden = true;
    replace(list);
    showSearchState();
    return;
  }
  const hits = desk.search(query);
  renderHits(list, hits, (id) => openTicket(id));
  list.hidden = hits.length === 0;
  const building = desk.progress ? ` (still reading: ${desk.progress.done} of ${desk.progress.total})` : "";
  $("#desk-search-status").textContent = hits.length ? `${plural(hits.length, "ticket", "tickets")} found${hits.length === 20 ? " (the best 20)" : ""}${building}.` : `Nothing found${building}.`;
}

$("#desk-search-input").addEventListener("input", runSearch);
$("#inbox-tag").addEventListener("change", renderInbox);

// ---------------------------------------------------------------- team

async function openTeam() {
  showView("team");
  await loadTeam();
}

async function loadTeam() {
  replace($("#team-admins"), h("p", { class: "muted", text: "Verifying the administrators' list…" }));
  replace($("#team-pending"));
  try {
    team = await client.team(signedInAdmin());
    const waiting = await client.pending(signedInAdmin());
    await rememberHead(admin);
    renderTeam(waiting);
  } catch (error) {
    replace($("#team-admins"));
    handleError(error, "the team could not be read");
  }
}

function renderTeam(waiting) {
  replace(
    $("#team-admins"),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "stack" },
        h("thead", null, h("tr", null, h("th", { scope: "col", text: "Administrator" }), h("th", { scope: "col", text: "Fingerprint" }), h("th", { scope: "col", text: "Action" }))),
        h(
          "tbody",
          null,
          team.map((member) => {
            const label = member.me ? `You (${signedInAdmin().username})` : names[member.key_id] || "Administrator";
            return h(
              "tr",
              null,
              h("td", { "data-label": "Administrator", text: label }),
              h("td", { "data-label": "Fingerprint", class: "fingerprint", text: member.fingerprint }),
              h(
                "td",
                null,
                member.me
                  ? h("span", { class: "small muted", text: "Another administrator can remove you." })
                  : h("button", {
                      type: "button",
                      class: "danger small",
                      text: "Remove",
                      "aria-label": `Remove ${label} (${shortFingerprint(member.fingerprint)})`,
                      onclick: () => removeAdmin(member, label),
                    }),
              ),
            );
          }),
        ),
      ),
    ),
  );
  replace(
    $("#team-pending"),
    waiting.length
      ? h(
          "ul",
          { class: "ticket-list" },
          waiting.map((p) =>
            h(
              "li",
              null,
              h(
                "div",
                { class: "summary" },
                h("div", { class: "title", text: p.username }),
                h("p", { class: "fingerprint", text: p.fingerprint }),
                h("div", { class: "meta", text: `Asked ${formatTime(p.redeemed_at)}` }),
              ),
              h(
                "div",
                { class: "item-actions" },
                h("button", { type: "button", text: "Approve", "aria-label": `Approve ${p.username}`, onclick: () => approveAdmin(p) }),
                h("button", { type: "button", class: "secondary", text: "Decline", "aria-label": `Decline ${p.username}`, onclick: () => declineAdmin(p) }),
              ),
            ),
          ),
        )
      : h("p", { class: "muted", text: "Nobody is waiting." }),
  );
}

async function approveAdmin(p) {
  if (!window.confirm(`Approve ${p.username}?\n\nOnly if they read you this fingerprint over a channel you trust:\n${p.fingerprint}`)) return;
  clearErrors(alerts);
  try {
    const result = await whileBusy($("#team-status"), `Adding ${p.username} and sharing the ticket history…`, () => client.approve(signedInAdmin(), p.key_id));
    await learnName(p.key_id, p.username);
    await rememberHead(admin);
    const history = result.history || {};
    const problems = (history.failures || []).length + (history.unavailable || []).length;
    replace(
      $("#team-status"),
      h("p", { class: problems ? "notice warn" : "notice ok", text: `${p.username} is an administrator. History shared: ${plural(history.tickets || 0, "ticket", "tickets")}, ${plural(history.wraps || 0, "key", "keys")}.${problems ? ` ${problems} could not be shared.` : ""}` }),
    );
    await loadTeam();
  } catch (error) {
    handleError(error, `${p.username} was not approved`);
  }
}

async function declineAdmin(p) {
  if (!window.confirm(`Decline ${p.username}? They need a new invite to ask again.`)) return;
  try {
    await client.decline(signedInAdmin(), p.key_id);
    replace($("#team-status"), h("p", { class: "notice", text: `${p.username} was declined.` }));
    await loadTeam();
  } catch (error) {
    handleError(error, `${p.username} was not declined`);
  }
}

async function removeAdmin(member, label) {
  if (!window.confirm(`Remove ${label}?\n\nFingerprint ${member.fingerprint}\n\nOpen tickets move to new keys this administrator does not get.`)) return;
  try {
    const result = await whileBusy($("#team-status"), "Removing the administrator and renewing the keys of every ticket…", () => client.remove(signedInAdmin(), member.key_id));
    await rememberHead(admin);
    const failures = (result.failures || []).length;
    replace(
      $("#team-status"),
      h("p", { class: failures ? "notice warn" : "notice ok", text: `${label} was removed. ${plural(result.tickets || 0, "ticket", "tickets")} checked, ${plural(result.rotated || 0, "key", "keys")} renewed so the removed administrator cannot read what comes next.${failures ? ` ${failures} could not be renewed now; their next message renews them.` : ""}${result.team_key_failure ? " The canned replies' key could not be renewed now; the next canned reply written renews it." : ""}` }),
    );
    await loadTeam();
  } catch (error) {
    handleError(error, `${label} was not removed`);
  }
}

$("#create-invite").addEventListener("click", async () => {
  try {
    const invite = await client.createInvite(signedInAdmin());
    const url = new URL(invite.link, window.location.origin).href;
    const input = h("input", { type: "text", id: "invite-link", readonly: true, value: url });
    const status = h("p", { class: "small", role: "status" });
    replace(
      $("#invite-created"),
      h(
        "div",
        { class: "link-box" },
        h("div", { class: "field" }, h("label", { for: "invite-link", text: "Invite link" }), input),
        h("p", { class: "small muted", text: `Valid until ${formatTime(invite.expires_at)}, once.` }),
        h("div", { class: "actions" }, h("button", { type: "button", text: "Copy link", onclick: async () => { status.textContent = (await copyText(url, input)) ? "Copied." : "Copying was refused: select the link and copy it."; } })),
        status,
      ),
    );
    input.focus();
    input.select();
  } catch (error) {
    handleError(error, "no invite was created");
  }
});

// ---------------------------------------------------------------- settings

async function openSettings() {
  showView("settings");
  settings = await (async () => {
    try {
      const response = await fetch("/api/v1/settings", { headers: { Accept: "application/json" } });
      return response.ok ? { ...settings, ...(await response.json()) } : settings;
    } catch {
      return settings;
    }
  })();
  replace($("#categories"));
  for (const c of settings.categories) addCategoryRow(c);
  $("#languages").value = settings.languages.join("\n");
  $("#support-hours").value = settings.support_hours;
  $("#response-time").value = settings.response_time;
  $("#idle-lock").value = settings.idle_lock_minutes ? String(settings.idle_lock_minutes) : "";
  const targets = /** @type {import("./admin/due.js").ResponseTargets} */ (settings.response_targets || {});
  $("#target-urgent").value = targets.urgent_minutes ? String(targets.urgent_minutes) : "";
  $("#target-normal").value = targets.normal_minutes ? String(targets.normal_minutes) : "";
  replace($("#settings-status"));
  // "Your mail" only when the instance sends mail.
  $("#mail-form").hidden = !settings.mail_enabled;
  if (settings.mail_enabled) await loadMailPreferences();
}

/** The mail preference checkboxes by their member name. */
const MAIL_CHOICES = /** @type {const} */ ([
  ["new_tickets", "#mail-new-tickets"],
  ["reporter_replies", "#mail-reporter-replies"],
  ["assigned", "#mail-assigned"],
  ["recoveries", "#mail-recoveries"],
  ["digest", "#mail-digest"],
]);

/** Fills "Your mail" from the server. */
async function loadMailPreferences() {
  try {
    const preferences = await client.mailPreferences(signedInAdmin());
    $("#mail-address").value = preferences.address || "";
    for (const [member, selector] of MAIL_CHOICES) $(selector).checked = Boolean(preferences[member]);
    replace($("#mail-status"));
  } catch (error) {
    handleError(error, "your mail choices could not be read");
  }
}

$("#mail-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(alerts);
  if (!validate([[$("#mail-address"), emailCheck]])) return;
  /** @type {import("./lib/wasm.js").AdminMailPreferences} */
  const body = {
    address: $("#mail-address").value.trim(),
    new_tickets: $("#mail-new-tickets").checked,
    reporter_replies: $("#mail-reporter-replies").checked,
    assigned: $("#mail-assigned").checked,
    recoveries: $("#mail-recoveries").checked,
    digest: $("#mail-digest").checked,
  };
  await withFormDisabled($("#mail-form"), async () => {
    try {
      await client.saveMailPreferences(signedInAdmin(), body);
      replace($("#mail-status"), h("p", { class: "notice ok", role: "status", text: body.address ? "Saved. Your mails go to this address." : "Saved. You get no mail." }));
    } catch (error) {
      handleError(error, "your mail choices were not saved");
    }
  });
});

let categoryCount = 0;
/** @param {{name: string, guidance?: string, target_minutes?: number}} [category] */
function addCategoryRow(category = { name: "", guidance: "" }) {
  categoryCount += 1;
  const n = categoryCount;
  const name = h("input", { type: "text", id: `cat-name-${n}`, maxlength: 80, value: category.name, class: "cat-name" });
  const guidance = h("textarea", { id: `cat-guidance-${n}`, maxlength: 2000, class: "cat-guidance", rows: 3 });
  guidance.value = category.guidance || "";
  const row = h(
    "fieldset",
    { class: "category-row" },
    h("legend", { class: "visually-hidden", text: `Category ${category.name || "(new)"}` }),
    h("div", { class: "field" }, h("label", { for: name.id, text: "Name" }), name),
    h("div", { class: "field" }, h("label", { for: guidance.id, text: "Guidance" }, " ", h("span", { class: "optional", text: "(what to include)" })), guidance),
    categoryTargetField(n, category.target_minutes),
    h(
      "div",
      { class: "actions" },
      h("button", {
        type: "button",
        class: "danger small",
        text: "Remove category",
        onclick: () => {
          const label = name.value || "category";
          row.remove();
          announce(`${label} removed. Save to keep the change.`);
          $("#add-category").focus();
        },
      }),
    ),
  );
  name.addEventListener("input", () => {
    row.querySelector("legend").textContent = `Category ${name.value || "(new)"}`;
  });
  $("#categories").append(row);
  return name;
}

$("#add-category").addEventListener("click", () => addCategoryRow().focus());

/** A response-time target outside 1 to 43200 minutes (empty is none). */
const TARGET_CHECK = (/** @type {string} */ v) => (v.trim() === "" || (/^\d+$/.test(v.trim()) && Number(v) >= 1 && Number(v) <= 43200) ? null : "Enter 1 to 43200 minutes (30 days), or leave it empty for no target.");

/**
 * A category's own response-time target (it comes before the urgency's).
 * @param {number} n the row's number
 * @param {number | undefined} minutes
 */
function categoryTargetField(n, minutes) {
  const input = h("input", { type: "number", id: `cat-target-${n}`, class: "cat-target", min: 1, max: 43200, step: 1, inputmode: "numeric", value: minutes ? String(minutes) : "" });
  return h("div", { class: "field" }, h("label", { for: input.id, text: "Response-time target, in minutes" }, " ", h("span", { class: "optional", text: "(optional; before the urgency's)" })), input);
}

/**
 * A target input's value: minutes, or undefined when empty.
 * @param {HTMLInputElement} input
 */
function targetValue(input) {
  const value = input.value.trim();
  return value ? Number(value) : undefined;
}

$("#settings-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(alerts);
  const names = $$(".cat-name", $("#categories"));
  /** @type {import("./lib/forms.js").Check[]} */
  const checks = names.map((input) => [input, (v) => (v.trim() ? null : "Give the category a name, or remove it.")]);
  for (const input of [$("#target-urgent"), $("#target-normal"), ...$$(".cat-target", $("#categories"))]) checks.push([input, TARGET_CHECK]);
  checks.push([$("#idle-lock"), (v) => (v.trim() === "" || /^\d+$/.test(v.trim()) && Number(v) >= 1 && Number(v) <= 1440 ? null : "Enter 1 to 1440 minutes, or leave it empty for 30.")]);
  if (!validate(checks)) return;
  const body = {
    categories: $$(".category-row", $("#categories")).map((row) => ({
      name: $(".cat-name", row).value.trim(),
      guidance: $(".cat-guidance", row).value.trim(),
      target_minutes: targetValue($(".cat-target", row)),
    })),
    languages: $("#languages").value.split("\n").map((l) => l.trim()).filter(Boolean),
    support_hours: $("#support-hours").value.trim(),
    response_time: $("#response-time").value.trim(),
    idle_lock_minutes: $("#idle-lock").value.trim() ? Number($("#idle-lock").value.trim()) : undefined,
    response_targets: targetValue($("#target-urgent")) || targetValue($("#target-normal")) ? { urgent_minutes: targetValue($("#target-urgent")), normal_minutes: targetValue($("#target-normal")) } : undefined,
  };
  await withFormDisabled($("#settings-form"), async () => {
    try {
      const saved = await client.saveSettings(signedInAdmin(), body);
      settings = { ...settings, ...saved };
      replace($("#settings-status"), h("p", { class: "notice ok", role: "status", text: "Settings saved. The support pages show them now." }));
    } catch (error) {
      handleError(error, "the settings were not saved");
    }
  });
});
enableForm($("#settings-form"));
enableForm($("#mail-form"));

// ---------------------------------------------------------------- canned replies (admin/canned.js)

const canned = setupCanned({
  client: () => clientReady,
  admin: signedInAdmin,
  showView,
  handleError,
  nameOf,
  ticket: () => (ticket.id ? { ticketId: ticket.id, reporterName: (ticket.view && ticket.view.opening && ticket.view.opening.name) || null } : null),
});

start();
