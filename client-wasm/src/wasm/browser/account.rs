//! The support tab: an account's sign-in (shared with the panel: an administrator is an account
//! whose identity the directory lists), its password and the keyring's app data (the `session`
//! feature), and its tickets (the `account` feature: the panel's module goes without them).

use std::rc::Rc;

use js_sys::Promise;
use sealdesk_crypto::{Argon2Params, Zeroizing, system_rng};
use tsify::Ts;
use wasm_bindgen::prelude::*;

use super::bridge::{FetchTransport, from_js, normalize_password, promise};
#[cfg(feature = "account")]
use super::bridge::{now_seconds, to_js, verify_directory};
use super::session::Core;
#[cfg(feature = "account")]
use super::ticket::{TicketHandle, TicketState, opening_from_js};
use crate::account::Account;
use crate::error::Result;
use crate::wasm::input::{
    Argon2Input, app_data_text, check_argon2, check_new_password, check_username, key_id_text,
    parse_app_data, stronger,
};
#[cfg(feature = "account")]
use crate::wasm::input::{OpeningInput, parse_ticket_id};
#[cfg(feature = "account")]
use crate::wasm::views::{conversation_view, summary_view};

/// A signed-in account in this page (the support tab). Its keys stay in the module; free it
/// with `account.free()`, and sign out with `logout(account)`.
#[wasm_bindgen]
pub struct AccountHandle {
    pub(crate) core: Rc<Core>,
}

#[wasm_bindgen]
impl AccountHandle {
    /// The username (lowercase, as stored).
    #[wasm_bindgen(getter)]
    pub fn username(&self) -> String {
        self.core.username.clone()
    }

    /// The account id (32 hexadecimal characters).
    #[wasm_bindgen(getter, js_name = accountId)]
    pub fn account_id(&self) -> String {
        self.core.account_id.clone()
    }

    /// The key id of the account's identity (base64url), for the debug data.
    #[wasm_bindgen(getter, js_name = keyId)]
    pub fn key_id(&self) -> String {
        key_id_text(&self.core.key_id)
    }

    /// The fingerprint of the account's identity (PROTOCOL.md §4.3).
    #[wasm_bindgen(getter)]
    pub fn fingerprint(&self) -> String {
        self.core.key_id.fingerprint()
    }

    /// When the session expires, Unix seconds.
    #[wasm_bindgen(getter, js_name = expiresAt)]
    pub fn expires_at(&self) -> f64 {
        self.core.expires_at as f64
    }
}

super::bridge::pinned_head_methods!(AccountHandle, |account| &account.core.pin);

/// Registers an account (a new identity, its keyring sealed under a key derived from the
/// password) and signs in. `password` is normalised to NFC here; `argon2Params`
/// (`{memory_kib, iterations, parallelism}`) defaults to the documented parameters (64 MiB,
/// 3 passes, 1 lane). Resolves to an `AccountHandle`.
#[wasm_bindgen(unchecked_return_type = "Promise<AccountHandle>")]
pub fn register(
    username: String,
    password: String,
    argon2_params: Option<Ts<Argon2Input>>,
) -> Promise {
    let password = Zeroizing::new(password);
    promise(async move {
        check_username(&username)?;
        let password = normalize_password(&password);
        check_new_password(&password)?;
        let params = argon2_from_js(argon2_params.as_ref())?.unwrap_or(Argon2Params::DEFAULT);
        let transport = FetchTransport::new();
        let account =
            Account::register(&transport, &username, &password, params, &mut system_rng()).await?;
        Ok(AccountHandle {
            core: Core::new(transport, account),
        }
        .into())
    })
}

/// Signs in to an account: fetches its salt and Argon2id parameters, refuses parameters
/// weaker than `argon2Floor` (default: the documented ones) before using the password,
/// derives the keys and opens the keyring. Resolves to an `AccountHandle`.
#[wasm_bindgen(unchecked_return_type = "Promise<AccountHandle>")]
pub fn login(username: String, password: String, argon2_floor: Option<Ts<Argon2Input>>) -> Promise {
    let password = Zeroizing::new(password);
    promise(async move {
        let core = sign_in(&username, &password, argon2_floor.as_ref()).await?;
        Ok(AccountHandle { core }.into())
    })
}

/// Argon2id parameters from the page ([`Argon2Input`]), checked; `None` when absent.
///
/// # Errors
/// `input.invalid`.
fn argon2_from_js(params: Option<&Ts<Argon2Input>>) -> Result<Option<Argon2Params>> {
    params
        .map(|p| check_argon2(from_js(p, "The Argon2id parameters")?))
        .transpose()
}

/// Signs in for `login`'s arguments, as `adminSignIn` does first.
pub(crate) async fn sign_in(
    username: &str,
    password: &str,
    argon2_floor: Option<&Ts<Argon2Input>>,
) -> Result<Rc<Core>> {
    let floor = argon2_from_js(argon2_floor)?.unwrap_or(Argon2Params::DEFAULT);
    let password = normalize_password(password);
    let transport = FetchTransport::new();
    let account = Account::login(&transport, username.trim(), &password, floor).await?;
    Ok(Core::new(transport, account))
}

/// Changes the password: proves the current one, re-seals the same keyring (identity, tickets
/// and app data stay) under keys derived from the new one with a new salt and `argon2Params`
/// (default: the account's current parameters or the documented ones, whichever are
/// stronger). The server ends the account's other sessions. Resolves to `undefined`.
#[wasm_bindgen(js_name = changePassword, unchecked_return_type = "Promise<void>")]
pub fn change_password(
    account: &AccountHandle,
    current_password: String,
    new_password: String,
    argon2_params: Option<Ts<Argon2Input>>,
) -> Promise {
    let core = account.core.clone();
    let current_password = Zeroizing::new(current_password);
    let new_password = Zeroizing::new(new_password);
    promise(async move {
        let explicit = argon2_from_js(argon2_params.as_ref())?;
        let current = normalize_password(&current_password);
        let next = normalize_password(&new_password);
        check_new_password(&next)?;
        let mut role = core.state.acquire().await;
        let account = role.account_mut()?;
        let params =
            explicit.unwrap_or_else(|| stronger(account.argon2_params(), Argon2Params::DEFAULT));
        account
            .change_password(&core.transport, &current, &next, params, &mut system_rng())
            .await?;
        Ok(JsValue::UNDEFINED)
    })
}

/// Signs out: ends the session on the server and drops the account's keys and those of every
/// ticket opened with it (their operations then fail with `account.signed_out`). The keys are
/// dropped even when the server cannot be reached (the promise then rejects with `network`,
/// and the session expires on its own). Resolves to `undefined`.
#[wasm_bindgen(unchecked_return_type = "Promise<void>")]
pub fn logout(account: &AccountHandle) -> Promise {
    let core = account.core.clone();
    promise(async move {
        core.sign_out().await?;
        Ok(JsValue::UNDEFINED)
    })
}

/// The address that gets reply notifications of the account's tickets ("" when none).
#[wasm_bindgen(js_name = notificationAddress, unchecked_return_type = "Promise<string>")]
pub fn notification_address(account: &AccountHandle) -> Promise {
    let core = account.core.clone();
    promise(async move {
        let role = core.state.acquire().await;
        let address = role
            .account()?
            .notification_address(&core.transport)
            .await?;
        Ok(JsValue::from_str(&address))
    })
}

/// Sets the address that gets reply notifications of the account's tickets ("" clears it);
/// resolves to it as stored. Errors: `server.bad_email`, `server.mail_off`.
#[wasm_bindgen(js_name = setNotificationAddress, unchecked_return_type = "Promise<string>")]
pub fn set_notification_address(account: &AccountHandle, address: String) -> Promise {
    let core = account.core.clone();
    promise(async move {
        let role = core.state.acquire().await;
        let stored = role
            .account()?
            .set_notification_address(&core.transport, &address)
            .await?;
        Ok(JsValue::from_str(&stored))
    })
}

/// The account's tickets, newest activity first, as the server lists them (unsigned metadata:
/// `{ticket_id, closed, answered, created_at, last_activity, conversation_seq}`).
#[cfg(feature = "account")]
#[wasm_bindgen(js_name = accountTickets, unchecked_return_type = "Promise<SummaryView[]>")]
pub fn account_tickets(account: &AccountHandle) -> Promise {
    let core = account.core.clone();
    promise(async move {
        let role = core.state.acquire().await;
        let tickets = role.account()?.list_tickets(&core.transport).await?;
        to_js(&tickets.iter().map(summary_view).collect::<Vec<_>>())
    })
}

/// Opens a ticket owned by the account (the new-ticket form as for `createTicket`). Resolves
/// to `{handle, ticket_id, closed, messages}`.
#[cfg(feature = "account")]
#[wasm_bindgen(
    js_name = createAccountTicket,
    unchecked_return_type = "Promise<TicketView & { handle: TicketHandle }>"
)]
pub fn create_account_ticket(account: &AccountHandle, opening: Ts<OpeningInput>) -> Promise {
    let core = account.core.clone();
    promise(async move {
        let opening = opening_from_js(&opening)?;
        let role = core.state.acquire().await;
        let account = role.account()?;
        let directory = verify_directory(&core.transport, &core.pin).await?;
        let ticket = account
            .create_ticket(
                &core.transport,
                &directory,
                opening,
                now_seconds(),
                &mut system_rng(),
            )
            .await?;
        let bearer = Zeroizing::new(account.session().to_owned());
        drop(role);
        let view = to_js(&conversation_view(
            ticket.ticket_id(),
            ticket.status(),
            &ticket.messages,
        ))?;
        let handle = TicketHandle::of_account(
            &core,
            ticket.ticket_id(),
            bearer,
            TicketState::Account(ticket),
        );
        let _ = js_sys::Reflect::set(&view, &"handle".into(), &JsValue::from(handle));
        Ok(view)
    })
}

/// Opens one of the account's tickets by id: checks that its reporter key is the account's,
/// verifies the directory and the whole conversation, which must extend `kept` (the state
/// kept from the last visit, `keptState`'s value, as for `openTicket`). Resolves to a
/// `TicketHandle`.
#[cfg(feature = "account")]
#[wasm_bindgen(js_name = openAccountTicket, unchecked_return_type = "Promise<TicketHandle>")]
pub fn open_account_ticket(
    account: &AccountHandle,
    ticket_id: String,
    kept: Option<String>,
) -> Promise {
    let core = account.core.clone();
    promise(async move {
        let id = parse_ticket_id(&ticket_id)?;
        let kept = super::ticket::kept_from_js(kept.as_deref())?;
        let role = core.state.acquire().await;
        let account = role.account()?;
        let directory = verify_directory(&core.transport, &core.pin).await?;
        let ticket = account
            .open_ticket_with_state(&core.transport, &directory, id, kept.as_deref())
            .await?;
        let bearer = Zeroizing::new(account.session().to_owned());
        drop(role);
        Ok(TicketHandle::of_account(&core, id, bearer, TicketState::Account(ticket)).into())
    })
}

/// "Keep this ticket in my account" (PROTOCOL.md §8.2 grounds `0x02`, §15): opens the
/// anonymous ticket of `link` (its access token reads it; a head the link carries is pinned),
/// then its reporter key endorses the account's identity and wraps every conversation epoch
/// for it, with the account's session, so the ticket appears in `accountTickets` and opens
/// with `openAccountTicket`. Repeating it changes nothing. Resolves to the ticket id (hex).
/// Rejects with `link.*`, `directory.*`, `transcript.*`, `server.keep_needs_account`,
/// `keep.unavailable`, `server.*`, `network`.
#[cfg(feature = "account")]
#[wasm_bindgen(js_name = keepTicket, unchecked_return_type = "Promise<string>")]
pub fn keep_ticket(account: &AccountHandle, link: String) -> Promise {
    let core = account.core.clone();
    promise(async move {
        let link = crate::wasm::input::parse_link(&link)?;
        if let Some(head) = link.head() {
            core.pin.borrow_mut().import(head)?;
        }
        let role = core.state.acquire().await;
        let account = role.account()?;
        let directory = verify_directory(&core.transport, &core.pin).await?;
        let mut ticket =
            crate::reporter::ReporterTicket::open(&core.transport, &directory, link).await?;
        ticket
            .keep_in_account(
                &core.transport,
                &directory,
                account.public(),
                account.session(),
                &mut system_rng(),
            )
            .await?;
        Ok(JsValue::from_str(&ticket.link().ticket_id().to_hex()))
    })
}

/// The keyring's app data (the JSON object the web app keeps: saved ticket links, pinned
/// heads), as opened at sign-in. Resolves to a string (`"{}"` for a new account).
#[wasm_bindgen(js_name = keyringData, unchecked_return_type = "Promise<string>")]
pub fn keyring_data(account: &AccountHandle) -> Promise {
    let core = account.core.clone();
    promise(async move {
        let role = core.state.acquire().await;
        Ok(app_data_text(role.account()?.app_data())?.into())
    })
}

/// Replaces the keyring's app data with `json` (a JSON object of at most 65,500 bytes) and
/// stores it on the server. The API's only keyring write is a password change, so this needs
/// the `password` (NFC-normalised here) and is one: two Argon2id derivations, a new salt, the
/// same parameters, and the server ends the account's **other** sessions. On failure nothing
/// changes. Resolves to `undefined`.
#[wasm_bindgen(js_name = setKeyringData, unchecked_return_type = "Promise<void>")]
pub fn set_keyring_data(account: &AccountHandle, json: String, password: String) -> Promise {
    let core = account.core.clone();
    let password = Zeroizing::new(password);
    promise(async move {
        let data = parse_app_data(&json)?;
        let password = normalize_password(&password);
        let mut role = core.state.acquire().await;
        let account = role.account_mut()?;
        let params = account.argon2_params();
        let previous = account.replace_app_data(data);
        let result = account
            .change_password(
                &core.transport,
                &password,
                &password,
                params,
                &mut system_rng(),
            )
            .await;
        if let Err(error) = result {
            account.replace_app_data(previous);
            return Err(error);
        }
        Ok(JsValue::UNDEFINED)
    })
}
