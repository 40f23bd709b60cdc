//! One sign-in in this page ([`Core`]), shared by an account's handle, its administrator's
//! handle and the tickets opened with it, and what the signed-in account is ([`Role`]).

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};

#[cfg(feature = "admin")]
use sealdesk_crypto::Directory;
use sealdesk_crypto::KeyId;
use web_sys::ReadableStreamDefaultReader;

#[cfg(feature = "admin")]
use super::bridge::verify_directory;
use super::bridge::{FetchTransport, Lock, stop_stream};
use crate::account::Account;
#[cfg(feature = "admin")]
use crate::admin::Admin;
use crate::error::{ClientError, Result};
use crate::wasm::input::DirectoryPin;

/// What a sign-in ends when the account signs out (a ticket opened with it): its keys are
/// dropped and its event stream stopped.
pub(crate) trait EndsWithSignOut {
    /// Ends it; resolves once nothing of the account is left in it.
    fn end(self: Rc<Self>) -> Pin<Box<dyn Future<Output = ()>>>;
}

/// `account.signed_out`: the account signed out in this page (or never finished signing in).
pub(crate) fn signed_out() -> ClientError {
    ClientError::new(
        "account.signed_out",
        "This account signed out; sign in again.",
    )
}

/// What a signed-in account is in this page.
// One per sign-in; without the panel only the account or nothing: boxing would buy nothing.
#[cfg_attr(not(feature = "admin"), allow(clippy::large_enum_variant))]
pub(crate) enum Role {
    /// An account holder.
    Account(Account),
    /// An administrator (its account inside).
    #[cfg(feature = "admin")]
    Admin(Admin),
    /// After `logout`: nothing of the account is left.
    SignedOut,
}

impl Role {
    pub(crate) fn account(&self) -> Result<&Account> {
        match self {
            Role::Account(account) => Ok(account),
            #[cfg(feature = "admin")]
            Role::Admin(admin) => Ok(admin.account()),
            Role::SignedOut => Err(signed_out()),
        }
    }

    pub(crate) fn account_mut(&mut self) -> Result<&mut Account> {
        match self {
            Role::Account(account) => Ok(account),
            #[cfg(feature = "admin")]
            Role::Admin(admin) => Ok(admin.account_mut()),
            Role::SignedOut => Err(signed_out()),
        }
    }

    /// Makes an account holder an administrator with `directory` (verified, pinned): the role
    /// stays an account holder's when its identity is not an administrator at the head.
    #[cfg(feature = "admin")]
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

    #[cfg(feature = "admin")]
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
    pub(crate) username: String,
    pub(crate) account_id: String,
    pub(crate) key_id: KeyId,
    pub(crate) expires_at: u64,
    /// The directory heads every read of this account extends.
    pub(crate) pin: RefCell<DirectoryPin>,
    pub(crate) state: Rc<Lock<Role>>,
    /// The tickets opened with this account, ended by `logout`.
    tickets: RefCell<Vec<Weak<dyn EndsWithSignOut>>>,
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

    #[cfg(feature = "admin")]
    pub(crate) fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// Keeps `ticket` to end it at `logout`.
    pub(crate) fn register<T: EndsWithSignOut + 'static>(&self, ticket: &Rc<T>) {
        let mut tickets = self.tickets.borrow_mut();
        tickets.retain(|t| t.strong_count() > 0);
        let ticket: Rc<dyn EndsWithSignOut> = ticket.clone();
        tickets.push(Rc::downgrade(&ticket));
    }

    /// Signs out: takes the account out (every later operation is `account.signed_out`), ends
    /// the session on the server, ends every ticket opened with it (dropping its keys) and
    /// every stream.
    pub(crate) async fn sign_out(self: &Rc<Self>) -> Result<()> {
        self.end(false).await
    }

    /// Like [`Core::sign_out`], but ends every session of the account on the server.
    pub(crate) async fn sign_out_everywhere(self: &Rc<Self>) -> Result<()> {
        self.end(true).await
    }

    async fn end(self: &Rc<Self>, everywhere: bool) -> Result<()> {
        let role = {
            let mut role = self.state.acquire().await;
            std::mem::replace(&mut *role, Role::SignedOut)
        };
        let account = match role {
            Role::Account(account) => Some(account),
            #[cfg(feature = "admin")]
            Role::Admin(admin) => Some(admin.into_account()),
            Role::SignedOut => None,
        };
        let result = match account {
            Some(account) => account.end_session(&self.transport, everywhere).await,
            None => Ok(()),
        };
        stop_stream(&self.inbox_reader);
        let tickets: Vec<Weak<dyn EndsWithSignOut>> = self.tickets.take();
        for ticket in tickets.iter().filter_map(Weak::upgrade) {
            ticket.end().await;
        }
        result
    }

    /// Makes this sign-in an administrator's: verifies the directory (extending the pin) and
    /// checks that the account's identity is an administrator at its head. The account stays
    /// signed in when it is not.
    #[cfg(feature = "admin")]
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
