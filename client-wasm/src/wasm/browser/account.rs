//! The support tab: an account's sign-in (shared with the panel: an administrator is an account
//! whose identity the directory lists), its tickets, its password and the keyring's app data.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use js_sys::Promise;
use sealdesk_crypto::{Argon2Params, Directory, KeyId, Zeroizing, system_rng};
use tsify::Ts;
use wasm_bindgen::prelude::*;
use web_sys::ReadableStreamDefaultReader;

use super::ticket::{TicketHandle, TicketInner, TicketState, opening_from_js};
use super::{
    FetchTransport, Lock, from_js, normalize_password, now_seconds, promise, stop_stream, to_js,
    verify_directory,
};
use crate::account::Account;
use crate::admin::Admin;
use crate::error::{ClientError, Result};
use crate::wasm::input::{
    Argon2Input, DirectoryPin, OpeningInput, app_data_text, check_argon2, check_new_password,
    check_username, key_id_text, parse_app_data, parse_ticket_id, stronger,
};
use crate::wasm::views::{conversation_view, summary_view};

/// `account.signed_out`: the account signed out in this page (or never finished signing in).
pub(crate) fn signed_out() -> ClientError {
    ClientError::new(
        "account.signed_out",
        "This account signed out; sign in again.",
    )
}

/// What a signed-in account is in this page.
pub(crate) enum Role {
    /// An account holder.
    Account(Account),
    /// An administrator (its account inside).
    Admin(Admin),
    /// After `logout`: nothing of the account is left.
    SignedOut,
}

impl Role {
    pub(crate) fn account(&self) -> Result<&Account> {
        match self {
            Role::Account(account) => Ok(account),
            Role::Admin(admin) => Ok(admin.account()),
            Role::SignedOut => Err(signed_out()),
        }
    }

    pub(crate) fn account_mut(&mut self) -> Result<&mut Account> {
        match self {
            Role::Account(account) => Ok(account),
            Role::Admin(admin) => Ok(admin.account_mut()),
            Role::SignedOut => Err(signed_out()),
        }
    }

    /// Makes an account holder an administrator with `directory` (verified, pinned): the role
    /// stays an account holder's when its identity is not an administrator at the head.
    pub(crate) fn promote(&mut self, directory: Directory) -> Result<()> {
        match std::mem::replace(self, Role::SignedOut) {
            Role::Account(account) => match Admin::from_verified(account, directory) {
                Ok(admin) => {
                    *self = Role::Admin(admin);
                    Ok(())
                }
                Err(refused) => {
                    let (account, error) = *refused;
                    *self = Role::Account(account);
                    Err(error)
                }
            },
            other => {
                *self = other;
                self.account().map(|_| ())
            }
        }
    }

    pub(crate) fn admin_mut(&mut self) -> Result<&mut Admin> {
        match self {
            Role::Admin(admin) => Ok(admin),
            Role::Account(_) => Err(ClientError::new(
                "admin.not_an_administrator",
                "This account is not signed in as an administrator (adminFromAccount).",
            )),
            Role::SignedOut => Err(signed_out()),
        }
    }
}

/// One sign-in, shared by its `AccountHandle`, its `AdminHandle` and the tickets opened with
/// it. Operations that use the account run one after another.
pub(crate) struct Core {
    pub(crate) transport: FetchTransport,
    username: String,
    account_id: String,
    key_id: KeyId,
    expires_at: u64,
    /// The directory heads every read of this account extends.
    pub(crate) pin: RefCell<DirectoryPin>,
    pub(crate) state: Rc<Lock<Role>>,
    /// The tickets opened with this account, ended by `logout`.
    tickets: RefCell<Vec<Weak<TicketInner>>>,
    /// The reader of the running `listenInbox`.
    pub(crate) inbox_reader: RefCell<Option<ReadableStreamDefaultReader>>,
}

impl Core {
    pub(crate) fn new(transport: FetchTransport, account: Account) -> Rc<Core> {
        Rc::new(Core {
            transport,
            username: account.username().to_owned(),
            account_id: account.account_id().to_owned(),
            key_id: account.identity().key_id(),
            expires_at: account.expires_at(),
            pin: RefCell::default(),
            state: Lock::new(Role::Account(account)),
            tickets: RefCell::default(),
            inbox_reader: RefCell::default(),
        })
    }

    pub(crate) fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// Keeps `ticket` to end it at `logout`.
    pub(crate) fn register(&self, ticket: &Rc<TicketInner>) {
        let mut tickets = self.tickets.borrow_mut();
        tickets.retain(|t| t.strong_count() > 0);
        tickets.push(Rc::downgrade(ticket));
    }

    /// Signs out: takes the account out (every later operation is `account.signed_out`), ends
    /// the session on the server, ends every ticket opened with it (dropping its keys) and
    /// every stream.
    pub(crate) async fn sign_out(self: &Rc<Self>) -> Result<()> {
        let role = {
            let mut role = self.state.acquire().await;
            std::mem::replace(&mut *role, Role::SignedOut)
        };
        let result = match role {
            Role::Account(account) => account.logout(&self.transport).await,
            Role::Admin(admin) => admin.into_account().logout(&self.transport).await,
            Role::SignedOut => Ok(()),
        };
        stop_stream(&self.inbox_reader);
        let tickets: Vec<Weak<TicketInner>> = self.tickets.take();
        for ticket in tickets.iter().filter_map(Weak::upgrade) {
            stop_stream(&ticket.reader);
            *ticket.state.acquire().await = TicketState::Ended;
        }
        result
    }

    /// Makes this sign-in an administrator's: verifies the directory (extending the pin) and
    /// checks that the account's identity is an administrator at its head. The account stays
    /// signed in when it is not.
    pub(crate) async fn become_admin(self: &Rc<Self>) -> Result<()> {
        let mut role = self.state.acquire().await;
        if matches!(*role, Role::Admin(_)) {
            return Ok(());
        }
        role.account()?;
        let directory = verify_directory(&self.transport, &self.pin).await?;
        role.promote(directory)
    }
}

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

super::pinned_head_methods!(AccountHandle, |account| &account.core.pin);

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

/// The account's tickets, newest activity first, as the server lists them (unsigned metadata:
/// `{ticket_id, closed, answered, created_at, last_activity, conversation_seq}`).
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
            ticket.is_closed(),
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
/// verifies the directory and the whole conversation. Resolves to a `TicketHandle`.
#[wasm_bindgen(js_name = openAccountTicket, unchecked_return_type = "Promise<TicketHandle>")]
pub fn open_account_ticket(account: &AccountHandle, ticket_id: String) -> Promise {
    let core = account.core.clone();
    promise(async move {
        let id = parse_ticket_id(&ticket_id)?;
        let role = core.state.acquire().await;
        let account = role.account()?;
        let directory = verify_directory(&core.transport, &core.pin).await?;
        let ticket = account.open_ticket(&core.transport, &directory, id).await?;
        let bearer = Zeroizing::new(account.session().to_owned());
        drop(role);
        Ok(TicketHandle::of_account(&core, id, bearer, TicketState::Account(ticket)).into())
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
