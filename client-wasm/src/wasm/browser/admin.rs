//! The administrators' panel: signing in as an administrator (or becoming the first one),
//! redeeming invites, the inbox, tickets with both chains, and the team.

use std::rc::Rc;

use js_sys::{Function, Promise};
use sealdesk_crypto::{Zeroizing, system_rng};
use tsify::Ts;
use wasm_bindgen::prelude::*;

use super::account::{AccountHandle, sign_in};
use super::bridge::{
    FetchTransport, from_js, head_from_js, listen_stream, promise, stop_stream, to_js,
    verify_directory, whole_number,
};
use super::session::Core;
use super::ticket::{TicketHandle, TicketState};
use crate::admin::{Admin, InboxOptions, Pending};
use crate::directory::fetch_verified;
use crate::error::{ClientError, Result};
use crate::live::INBOX_EVENTS_PATH;
use sealdesk_wire::mail::AdminMailPreferences;
use sealdesk_wire::settings::Settings;

use crate::wasm::input::{
    Argon2Input, PinnedHead, invite_token, key_id_text, parse_inbox_assigned, parse_inbox_order,
    parse_inbox_status, parse_key_id, parse_ticket_id,
};
use crate::wasm::views::{
    approval_view, inbox_view, invite_view, pending_view, redemption_view, removal_view, team_view,
};

#[wasm_bindgen(typescript_custom_section)]
const INBOX_TYPES: &str = r#"
/** The inbox filter of `inbox`: every ticket for "all" (or none). */
export type InboxStatus = "open" | "closed" | "waiting" | "on_hold" | "unanswered" | "all";
/** The assignee filter of `inbox`: mine, nobody's, or whoever's for "any" (or none). */
export type InboxAssigned = "me" | "none" | "any";
/** The order of `inbox` by last activity: "newest" (default) or "oldest" first. */
export type InboxOrder = "newest" | "oldest";
"#;

/// A signed-in administrator in this page (the panel). It shares its sign-in with the
/// `AccountHandle` it came from (or `admin.account`): signing out of one signs out of both.
#[wasm_bindgen]
pub struct AdminHandle {
    core: Rc<Core>,
}

impl AdminHandle {
    /// The sign-in's shared state (for the recovery exports).
    pub(crate) fn core(&self) -> Rc<Core> {
        self.core.clone()
    }
}

#[wasm_bindgen]
impl AdminHandle {
    /// The account of this sign-in (for `logout`, `changePassword`, `keyringData`, and the
    /// administrator's own tickets).
    #[wasm_bindgen(getter)]
    pub fn account(&self) -> AccountHandle {
        AccountHandle {
            core: self.core.clone(),
        }
    }

    /// The username (lowercase, as stored).
    #[wasm_bindgen(getter)]
    pub fn username(&self) -> String {
        self.account().username()
    }

    /// The key id of this administrator (base64url), as `team()` and `assigned_to` write it.
    #[wasm_bindgen(getter, js_name = keyId)]
    pub fn key_id(&self) -> String {
        key_id_text(&self.core.key_id())
    }

    /// The fingerprint of this administrator's key (PROTOCOL.md §4.3).
    #[wasm_bindgen(getter)]
    pub fn fingerprint(&self) -> String {
        self.core.key_id().fingerprint()
    }
}

super::bridge::pinned_head_methods!(AdminHandle, |admin| &admin.core.pin);

/// Signs in as an administrator: `login` (same `argon2Floor`), then verifies the directory,
/// extending `pinnedHead` if given, and checks that the account's identity is an administrator
/// at its head. Resolves to an `AdminHandle`; an account that is not an administrator is
/// signed out again (`admin.not_an_administrator`).
#[wasm_bindgen(js_name = adminSignIn, unchecked_return_type = "Promise<AdminHandle>")]
pub fn admin_sign_in(
    username: String,
    password: String,
    argon2_floor: Option<Ts<Argon2Input>>,
    pinned_head: Option<Ts<PinnedHead>>,
) -> Promise {
    let password = Zeroizing::new(password);
    promise(async move {
        let head = pinned_head.as_ref().map(head_from_js).transpose()?;
        let core = sign_in(&username, &password, argon2_floor.as_ref()).await?;
        let promoted = match head {
            Some(head) => core.pin.borrow_mut().import(head),
            None => Ok(()),
        };
        let promoted = match promoted {
            Ok(()) => core.become_admin().await,
            Err(error) => Err(error),
        };
        if let Err(error) = promoted {
            let _ = core.sign_out().await;
            return Err(error);
        }
        Ok(AdminHandle { core }.into())
    })
}

/// The panel for a signed-in account whose identity the verified directory (extending the
/// account's pin) lists as an administrator: after an invitee's approval, say. Rejects with
/// `admin.not_an_administrator` otherwise (the account stays signed in: ask again later).
/// Resolves to an `AdminHandle` sharing the account's sign-in.
#[wasm_bindgen(js_name = adminFromAccount, unchecked_return_type = "Promise<AdminHandle>")]
pub fn admin_from_account(account: &AccountHandle) -> Promise {
    let core = account.core.clone();
    promise(async move {
        core.become_admin().await?;
        Ok(AdminHandle { core }.into())
    })
}

/// Redeems an administrator invite (`/admin/invite#<token>`, a whole URL or the token) with
/// this account, which becomes a pending administrator. Resolves to `{key_id, fingerprint}`:
/// read the fingerprint out to the administrator who approves, then `adminFromAccount`.
#[wasm_bindgen(js_name = redeemInvite, unchecked_return_type = "Promise<IdentityView>")]
pub fn redeem_invite(account: &AccountHandle, link: String) -> Promise {
    let core = account.core.clone();
    promise(async move {
        let token = invite_token(&link)?;
        let role = core.state.acquire().await;
        let redemption = Admin::redeem_invite(&core.transport, role.account()?, &token).await?;
        to_js(&redemption_view(&redemption))
    })
}

/// Makes this account the instance's first administrator with the invite printed by
/// `sealdesk serve` or `sealdesk admin invite`: signs the directory's genesis entry with the
/// account's identity, redeems the invite, verifies the directory. Resolves to an
/// `AdminHandle`; on failure the account stays signed in.
#[wasm_bindgen(js_name = redeemGenesis, unchecked_return_type = "Promise<AdminHandle>")]
pub fn redeem_genesis(account: &AccountHandle, link: String) -> Promise {
    let core = account.core.clone();
    promise(async move {
        let token = invite_token(&link)?;
        {
            let mut role = core.state.acquire().await;
            let entry = Admin::post_genesis(&core.transport, role.account()?, &token).await?;
            let directory = verify_directory(&core.transport, &core.pin).await?;
            Admin::check_genesis(&directory, &entry)?;
            role.promote(directory)?;
        }
        Ok(AdminHandle { core }.into())
    })
}

/// One page of the inbox (`page` from 0, 50 tickets each, or the page after `cursor`, the
/// previous page's `next_cursor`) under `status` (`"open"`, `"closed"`, `"waiting"`,
/// `"on_hold"`, `"unanswered"`, or every ticket for `"all"` or none), `assigned` (`"me"`,
/// `"none"`, or whoever for `"any"` or none) and `order` (`"newest"`, the default, or
/// `"oldest"` last activity first), after verifying the directory. Each ticket's first message
/// is verified (with the rest of its conversation) and decrypted. Resolves to `{tickets:
/// [{ticket_id, closed, status, answered, created_at, last_activity, conversation_seq,
/// assigned_to, opening, error?}], more, next_cursor, counts: {all, open, closed, waiting,
/// on_hold, unanswered, mine, unassigned}}`. A cursor the server did not make is
/// `server.bad_cursor`.
#[wasm_bindgen(unchecked_return_type = "Promise<InboxView>")]
pub fn inbox(
    admin: &AdminHandle,
    #[wasm_bindgen(unchecked_param_type = "InboxStatus")] status: Option<String>,
    page: Option<f64>,
    #[wasm_bindgen(unchecked_param_type = "InboxAssigned")] assigned: Option<String>,
    #[wasm_bindgen(unchecked_param_type = "InboxOrder")] order: Option<String>,
    cursor: Option<String>,
) -> Promise {
    let core = admin.core.clone();
    promise(async move {
        let options = InboxOptions {
            status: parse_inbox_status(status.as_deref())?,
            assigned: parse_inbox_assigned(assigned.as_deref())?,
            order: parse_inbox_order(order.as_deref())?,
            cursor,
            page: page
                .map(|p| whole_number(p, "The page"))
                .transpose()?
                .unwrap_or(0),
        };
        let mut role = core.state.acquire().await;
        let admin = role.admin_mut()?;
        let answer = admin.inbox_with(&core.transport, &options).await?;
        core.pin.borrow_mut().accept(admin.directory())?;
        to_js(&inbox_view(&answer))
    })
}

/// Opens a ticket as an administrator: both chains verified and decrypted. Resolves to a
/// `TicketHandle` whose view has the conversation, the notes, the reporter's key, the opening,
/// the debug data and the attachments. Both chains must extend `kept` (the state kept from
/// the last visit, `keptState`'s value, as for `openTicket`).
#[wasm_bindgen(js_name = openAdminTicket, unchecked_return_type = "Promise<TicketHandle>")]
pub fn open_admin_ticket(admin: &AdminHandle, ticket_id: String, kept: Option<String>) -> Promise {
    let core = admin.core.clone();
    promise(async move {
        let id = parse_ticket_id(&ticket_id)?;
        let kept = super::ticket::kept_from_js(kept.as_deref())?;
        let mut role = core.state.acquire().await;
        let admin = role.admin_mut()?;
        let ticket = admin
            .read_ticket_with_state(&core.transport, id, kept.as_deref())
            .await?;
        core.pin.borrow_mut().accept(admin.directory())?;
        let bearer = Zeroizing::new(admin.account().session().to_owned());
        drop(role);
        Ok(TicketHandle::of_account(&core, id, bearer, TicketState::Admin(ticket)).into())
    })
}

/// The keys waiting for approval, oldest first: `[{key_id, fingerprint, username,
/// redeemed_at}]`, fingerprints computed here from the keys (not the server's).
#[wasm_bindgen(unchecked_return_type = "Promise<PendingView[]>")]
pub fn pending(admin: &AdminHandle) -> Promise {
    let core = admin.core.clone();
    promise(async move {
        let mut role = core.state.acquire().await;
        let pending = role.admin_mut()?.pending(&core.transport).await?;
        to_js(&pending_view(&pending))
    })
}

/// The pending key `key_id`, as the server lists it now.
async fn find_pending(core: &Core, admin: &Admin, key_id: &str) -> Result<Pending> {
    let key_id = parse_key_id(key_id)?;
    admin
        .pending(&core.transport)
        .await?
        .into_iter()
        .find(|p| p.key_id() == key_id)
        .ok_or_else(|| {
            ClientError::new("admin.not_pending", "This key is not waiting for approval.")
        })
}

/// Approves a pending administrator (after comparing its fingerprint out of band): appends
/// the signed `add` entry and wraps the keys of every ticket this administrator holds for the
/// newcomer. Resolves to `{head, history: {tickets, wraps, unavailable, failures}}`.
#[wasm_bindgen(unchecked_return_type = "Promise<ApprovalView>")]
pub fn approve(admin: &AdminHandle, key_id: String) -> Promise {
    let core = admin.core.clone();
    promise(async move {
        let mut role = core.state.acquire().await;
        let admin = role.admin_mut()?;
        let pending = find_pending(&core, admin, &key_id).await?;
        let approval = admin
            .approve(&core.transport, &pending, &mut system_rng())
            .await?;
        core.pin.borrow_mut().accept(admin.directory())?;
        to_js(&approval_view(&approval))
    })
}

/// Declines a pending administrator. Resolves to `undefined`.
#[wasm_bindgen(unchecked_return_type = "Promise<void>")]
pub fn decline(admin: &AdminHandle, key_id: String) -> Promise {
    let core = admin.core.clone();
    promise(async move {
        let mut role = core.state.acquire().await;
        let admin = role.admin_mut()?;
        let pending = find_pending(&core, admin, &key_id).await?;
        admin.decline(&core.transport, &pending).await?;
        Ok(JsValue::UNDEFINED)
    })
}

/// Removes another administrator: appends the signed `remove` entry, then opens a new epoch
/// (not wrapped for the removed key) on every ticket the inbox lists, open or closed
/// (PROTOCOL.md §15). Resolves to `{head, tickets, rotated, failures}`.
#[wasm_bindgen(unchecked_return_type = "Promise<RemovalView>")]
pub fn remove(admin: &AdminHandle, key_id: String) -> Promise {
    let core = admin.core.clone();
    promise(async move {
        let key_id = parse_key_id(&key_id)?;
        let mut role = core.state.acquire().await;
        let admin = role.admin_mut()?;
        let removal = admin
            .remove(&core.transport, &key_id, &mut system_rng())
            .await?;
        core.pin.borrow_mut().accept(admin.directory())?;
        to_js(&removal_view(&removal))
    })
}

/// Deletes the closed ticket `ticketId` (32 hexadecimal characters) with everything the
/// server stores for it. Resolves to nothing; `server.not_closed` for a ticket that is not
/// closed.
#[wasm_bindgen(js_name = deleteTicket, unchecked_return_type = "Promise<void>")]
pub fn delete_ticket(admin: &AdminHandle, ticket_id: String) -> Promise {
    let core = admin.core.clone();
    promise(async move {
        let id = parse_ticket_id(&ticket_id)?;
        let mut role = core.state.acquire().await;
        role.admin_mut()?.delete_ticket(&core.transport, id).await?;
        Ok(JsValue::UNDEFINED)
    })
}

/// Creates a single-use administrator invite. Resolves to `{link: "/admin/invite#<token>",
/// expires_at}`: prefix the link with the instance's URL and send it over a private channel.
#[wasm_bindgen(js_name = createInvite, unchecked_return_type = "Promise<InviteView>")]
pub fn create_invite(admin: &AdminHandle) -> Promise {
    let core = admin.core.clone();
    promise(async move {
        let mut role = core.state.acquire().await;
        let invite = role.admin_mut()?.create_invite(&core.transport).await?;
        to_js(&invite_view(&invite))
    })
}

/// Saves the instance's public settings ([`Settings`]: categories with guidance, languages,
/// hours, response time). Resolves to the settings as stored (`sealdesk_wire::settings::SettingsAnswer`: with
/// `max_attachment_bytes` and `version`). Errors: `input.invalid` (not settings),
/// `server.bad_settings`.
#[wasm_bindgen(js_name = saveSettings, unchecked_return_type = "Promise<SettingsAnswer>")]
pub fn save_settings(admin: &AdminHandle, settings: Ts<Settings>) -> Promise {
    let core = admin.core.clone();
    promise(async move {
        let settings: Settings = from_js(&settings, "The settings")?;
        let mut role = core.state.acquire().await;
        let saved = role
            .admin_mut()?
            .save_settings(&core.transport, &settings)
            .await?;
        to_js(&saved)
    })
}

/// My mail preferences (`sealdesk_wire::mail::AdminMailPreferences`: address and which mails,
/// at once or as a digest). Errors: `server.*`, `network`.
#[wasm_bindgen(js_name = mailPreferences, unchecked_return_type = "Promise<AdminMailPreferences>")]
pub fn mail_preferences(admin: &AdminHandle) -> Promise {
    let core = admin.core.clone();
    promise(async move {
        let mut role = core.state.acquire().await;
        let preferences = role.admin_mut()?.mail_preferences(&core.transport).await?;
        to_js(&preferences)
    })
}

/// Saves my mail preferences; an empty address turns every mail off. Resolves to them as
/// stored. Errors: `input.invalid`, `server.bad_email`, `server.mail_off`.
#[wasm_bindgen(js_name = saveMailPreferences, unchecked_return_type = "Promise<AdminMailPreferences>")]
pub fn save_mail_preferences(
    admin: &AdminHandle,
    preferences: Ts<AdminMailPreferences>,
) -> Promise {
    let core = admin.core.clone();
    promise(async move {
        let preferences: AdminMailPreferences = from_js(&preferences, "The mail preferences")?;
        let mut role = core.state.acquire().await;
        let saved = role
            .admin_mut()?
            .save_mail_preferences(&core.transport, &preferences)
            .await?;
        to_js(&saved)
    })
}

/// Whether the instance has no administrator yet (its directory is empty): an invite link
/// then makes the first one (`redeemGenesis`), otherwise it asks to join (`redeemInvite`).
/// Rejects when the directory cannot be read or does not verify.
#[wasm_bindgen(js_name = directoryIsEmpty, unchecked_return_type = "Promise<boolean>")]
pub fn directory_is_empty() -> Promise {
    promise(async move {
        match fetch_verified(&FetchTransport::new(), None).await {
            Ok(_) => Ok(JsValue::FALSE),
            Err(error) if error.code == "directory.empty" => Ok(JsValue::TRUE),
            Err(error) => Err(error),
        }
    })
}

/// The administrators of the verified directory (read again, extending the pin), in the order
/// they were added: `[{key_id, fingerprint, me}]`.
#[wasm_bindgen(unchecked_return_type = "Promise<TeamMemberView[]>")]
pub fn team(admin: &AdminHandle) -> Promise {
    let core = admin.core.clone();
    promise(async move {
        let mut role = core.state.acquire().await;
        let admin = role.admin_mut()?;
        admin.refresh_directory(&core.transport).await?;
        core.pin.borrow_mut().accept(admin.directory())?;
        to_js(&team_view(&admin.team(), &core.key_id()))
    })
}

/// Subscribes to the inbox's live updates (every ticket's): `onEvent({event, ticket?, chain?,
/// seq?})` as for `listen`. Refresh the inbox or the open ticket on each. Resolves when the
/// stream ends (or after `stopListeningInbox`), rejects when it fails.
#[wasm_bindgen(js_name = listenInbox, unchecked_return_type = "Promise<void>")]
pub fn listen_inbox(
    admin: &AdminHandle,
    #[wasm_bindgen(unchecked_param_type = "LiveListener")] on_event: Function,
) -> Promise {
    let core = admin.core.clone();
    promise(async move {
        let bearer = {
            let mut role = core.state.acquire().await;
            Zeroizing::new(role.admin_mut()?.account().session().to_owned())
        };
        listen_stream(
            &core.transport,
            INBOX_EVENTS_PATH.to_owned(),
            &bearer,
            &core.inbox_reader,
            &on_event,
        )
        .await
    })
}

/// Ends the running `listenInbox` (its promise then resolves).
#[wasm_bindgen(js_name = stopListeningInbox)]
pub fn stop_listening_inbox(admin: &AdminHandle) {
    stop_stream(&admin.core.inbox_reader);
}
