//! Accounts (PROTOCOL.md §12, API.md "Accounts"): Argon2id runs here, in the client; the
//! server receives only the authentication key (and stores its hash) and the keyring sealed
//! under a key it never sees. An account's identity signs its tickets, which its sessions read
//! and write like an access token would.
//!
//! Passwords are taken as given: Unicode NFC normalisation is the caller's job (the browser's
//! `String.prototype.normalize("NFC")`), as are the Argon2id parameters for new accounts
//! ([`Argon2Params::DEFAULT`] for real accounts).

use core::fmt;

use sealdesk_crypto::{
    Argon2Params, AuthKey, Chain, ChainState, ConversationStatus, CryptoRng, Directory, Identity,
    IdentitySeed, KeyId, Keyring, KeyringKey, MasterKey, Members, PublicIdentity, SALT_LEN,
    TicketId, Zeroizing, generate_salt,
};
use sealdesk_wire::accounts::{
    AccountTicketsAnswer, Argon2ParamsBody, ChangeKeyringBody, LoginAnswer, LoginBody,
    PreloginAnswer, PreloginBody, RegisterBody,
};
use sealdesk_wire::inbox::AccountTicketsQuery;
use sealdesk_wire::mail::AccountNotifications;
use sealdesk_wire::tickets::{TicketListItem, TicketStatus};
use sealdesk_wire::{EmptyBody, SecretText};

use crate::content::{Content, Outgoing};
use crate::error::{ClientError, Result};
use crate::kept;
use crate::reporter::{NewTicket, Opening, TicketOwner, create_ticket};
use crate::thread::{Participant, Shown, Thread, fetch_ticket};
use crate::transport::{Request, Transport};
use crate::util::{b64, unb64, unb64_array};

/// The keyring's application data of a new account: an empty JSON object.
const NEW_APP_DATA: &[u8] = b"{}";

/// The version byte of [`Account::to_remembered`]'s layout.
const REMEMBERED_VERSION: u8 = 1;

fn remembered_malformed() -> ClientError {
    ClientError::new(
        "device.malformed",
        "What this device remembered of the account cannot be read; sign in again.",
    )
}

/// Reads [`Account::to_remembered`]'s layout front to back.
struct RememberedReader<'a> {
    rest: &'a [u8],
}

impl<'a> RememberedReader<'a> {
    fn take(&mut self, count: usize) -> Result<&'a [u8]> {
        if self.rest.len() < count {
            return Err(remembered_malformed());
        }
        let (taken, rest) = self.rest.split_at(count);
        self.rest = rest;
        Ok(taken)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        self.take(N)?.try_into().map_err(|_| remembered_malformed())
    }

    fn text(&mut self) -> Result<String> {
        let length = u16::from_be_bytes(self.array::<2>()?) as usize;
        String::from_utf8(self.take(length)?.to_vec()).map_err(|_| remembered_malformed())
    }
}

/// A ticket in a list (the account's tickets, or the administrators' inbox). These are the
/// server's metadata: not signed, so shown as the server's claim until the ticket is read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TicketSummary {
    /// The ticket.
    pub ticket_id: TicketId,
    /// Whether the server lists it as closed.
    pub closed: bool,
    /// The status the server lists (PROTOCOL.md §10.3), its claim until the ticket is read.
    pub status: ConversationStatus,
    /// Whether the last conversation message is an administrator's.
    pub answered: bool,
    /// Unix seconds.
    pub created_at: u64,
    /// Unix seconds of the last message.
    pub last_activity: u64,
    /// The conversation's last seq.
    pub conversation_seq: u64,
    /// In the inbox: the administrator it is assigned to.
    pub assigned_to: Option<KeyId>,
}

/// The client's reading of a listed ticket (the account's or the inbox's).
///
/// # Errors
/// `bad_response` naming `what` for an id or assignee that does not decode.
pub(crate) fn summary_of(item: TicketListItem, what: &str) -> Result<TicketSummary> {
    Ok(TicketSummary {
        ticket_id: TicketId::from_hex(&item.ticket_id)
            .map_err(|_| ClientError::bad_response(what))?,
        closed: item.status == TicketStatus::Closed,
        status: match item.status {
            TicketStatus::Open => ConversationStatus::Open,
            TicketStatus::Closed => ConversationStatus::Closed,
            TicketStatus::Waiting => ConversationStatus::Waiting,
            TicketStatus::OnHold => ConversationStatus::OnHold,
        },
        answered: item.answered,
        created_at: item.created_at,
        last_activity: item.last_activity,
        conversation_seq: item.conversation_seq,
        assigned_to: item
            .assigned_to
            .flatten()
            .map(|k| unb64_array::<32>(&k, what).map(KeyId))
            .transpose()?,
    })
}

/// The keys a password gives (PROTOCOL.md §12.2).
struct Derived {
    auth_key: AuthKey,
    keyring_key: KeyringKey,
}

fn derive(password: &str, salt: &[u8; SALT_LEN], params: Argon2Params) -> Result<Derived> {
    let master = MasterKey::derive(password.as_bytes(), salt, params)?;
    Ok(Derived {
        auth_key: master.auth_key(),
        keyring_key: master.keyring_key(),
    })
}

/// A signed-in account: its session, its identity (from the keyring it opened) and what a
/// password change needs.
pub struct Account {
    username: String,
    account_id: String,
    session: Zeroizing<String>,
    expires_at: u64,
    salt: [u8; SALT_LEN],
    params: Argon2Params,
    keyring: Keyring,
    identity: Identity,
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("username", &self.username)
            .field("account_id", &self.account_id)
            .field("key_id", &self.identity.key_id())
            .finish_non_exhaustive()
    }
}

impl Account {
    /// Registers an account with a new identity (its seed drawn from `rng`) and signs in.
    /// Derives the keys from `password` with a fresh salt and `params`, seals a keyring with
    /// the identity seed and the application data `{}`, proves the identity (§12.4), then
    /// logs in with the same keys (no second derivation).
    ///
    /// # Errors
    /// `key_derivation` (parameters out of range), `server.username_taken`,
    /// `server.bad_username`, `server.key_derivation` (below the server's floor), `network`.
    pub async fn register<T: Transport>(
        transport: &T,
        username: &str,
        password: &str,
        params: Argon2Params,
        rng: &mut impl CryptoRng,
    ) -> Result<Account> {
        let seed = IdentitySeed::generate(rng);
        Self::register_with_seed(transport, username, password, params, seed, rng).await
    }

    /// [`Account::register`] for an identity that exists already (an administrator who first
    /// signed the directory elsewhere, say, and now signs in with an account).
    ///
    /// # Errors
    /// As [`Account::register`].
    pub async fn register_with_seed<T: Transport>(
        transport: &T,
        username: &str,
        password: &str,
        params: Argon2Params,
        seed: IdentitySeed,
        rng: &mut impl CryptoRng,
    ) -> Result<Account> {
        // The server lowercases usernames and the identity proof signs the stored form.
        let username = username.to_ascii_lowercase();
        let salt = generate_salt(rng);
        let keys = derive(password, &salt, params)?;
        let keyring = Keyring {
            identity_seed: seed,
            app_data: Zeroizing::new(NEW_APP_DATA.to_vec()),
        };
        let sealed = keys.keyring_key.seal(&keyring, rng)?;
        let identity = Identity::from_seed(&keyring.identity_seed);
        let proof = identity.sign_identity_proof(&username, &keys.auth_key.server_hash());
        let body = RegisterBody {
            username: username.clone(),
            salt: b64(&salt),
            argon2: Argon2ParamsBody::from(params),
            auth_key: SecretText::new(b64(keys.auth_key.as_bytes())),
            keyring: b64(&sealed),
            identity: b64(&identity.public().to_bytes()),
            identity_proof: b64(&proof),
        };
        transport
            .send(Request::post_json("/api/v1/accounts/register", &body)?)
            .await?
            .check()?;
        Self::sign_in(transport, &username, &keys, salt, params).await
    }

    /// Signs in: fetches the account's salt and Argon2id parameters (pre-login), refuses
    /// parameters weaker than `floor` or beyond [`Argon2Params::MAX`], derives the keys, logs
    /// in and opens the keyring. Use [`Argon2Params::DEFAULT`] as `floor` for real accounts.
    ///
    /// # Errors
    /// `account.weak_parameters` (nothing is derived or sent); `server.bad_credentials` (wrong
    /// username or password); `account.bad_keyring` or `account.identity_mismatch` when the
    /// server's keyring does not open to the account's identity; `server.*`, `network`.
    pub async fn login<T: Transport>(
        transport: &T,
        username: &str,
        password: &str,
        floor: Argon2Params,
    ) -> Result<Account> {
        let username = username.to_ascii_lowercase();
        let answer: PreloginAnswer = transport
            .send(Request::post_json(
                "/api/v1/accounts/prelogin",
                &PreloginBody {
                    username: username.clone(),
                },
            )?)
            .await?
            .json("pre-login")?;
        let params = Argon2Params::from(answer.argon2);
        if !params.at_least(&floor) {
            return Err(ClientError::new(
                "account.weak_parameters",
                "The server asks for a weaker password derivation than this client accepts; \
                 the password was not used.",
            ));
        }
        if !Argon2Params::MAX.at_least(&params) {
            return Err(ClientError::new(
                "account.weak_parameters",
                "The server asks for a password derivation beyond the limits this client \
                 accepts; the password was not used.",
            ));
        }
        let salt = unb64_array::<SALT_LEN>(&answer.salt, "pre-login")?;
        let keys = derive(password, &salt, params)?;
        Self::sign_in(transport, &username, &keys, salt, params).await
    }

    /// Logs in with derived keys and opens the keyring.
    async fn sign_in<T: Transport>(
        transport: &T,
        username: &str,
        keys: &Derived,
        salt: [u8; SALT_LEN],
        params: Argon2Params,
    ) -> Result<Account> {
        let body = LoginBody {
            username: username.to_owned(),
            auth_key: SecretText::new(b64(keys.auth_key.as_bytes())),
        };
        let answer: LoginAnswer = transport
            .send(Request::post_json("/api/v1/accounts/login", &body)?)
            .await?
            .json("the login")?;
        let sealed = unb64(&answer.keyring, "the login")?;
        let keyring = keys.keyring_key.open(&sealed).map_err(|_| {
            ClientError::new(
                "account.bad_keyring",
                "The server's copy of the keyring does not open with this password.",
            )
        })?;
        let identity = Identity::from_seed(&keyring.identity_seed);
        if unb64(&answer.identity, "the login")? != identity.public().to_bytes() {
            return Err(ClientError::new(
                "account.identity_mismatch",
                "The server names another identity for this account than its keyring holds.",
            ));
        }
        Ok(Account {
            username: username.to_owned(),
            account_id: answer.account_id,
            session: answer.session.into_zeroizing(),
            expires_at: answer.expires_at,
            salt,
            params,
            keyring,
            identity,
        })
    }

    /// Changes the password: proves the current one (its authentication key), and sends a new
    /// salt (from `rng`), `params`, authentication key and the same keyring re-sealed under the
    /// new keyring key, so the identity and every ticket stay. This session stays valid; the
    /// server revokes the account's other sessions.
    ///
    /// # Errors
    /// `server.bad_credentials` (wrong current password), `key_derivation`,
    /// `server.key_derivation`, `server.unauthorized` (session ended), `network`.
    pub async fn change_password<T: Transport>(
        &mut self,
        transport: &T,
        current_password: &str,
        new_password: &str,
        params: Argon2Params,
        rng: &mut impl CryptoRng,
    ) -> Result<()> {
        let current = derive(current_password, &self.salt, self.params)?;
        let salt = generate_salt(rng);
        let next = derive(new_password, &salt, params)?;
        let sealed = next.keyring_key.seal(&self.keyring, rng)?;
        let body = ChangeKeyringBody {
            current_auth_key: SecretText::new(b64(current.auth_key.as_bytes())),
            salt: b64(&salt),
            argon2: Argon2ParamsBody::from(params),
            auth_key: SecretText::new(b64(next.auth_key.as_bytes())),
            keyring: b64(&sealed),
        };
        transport
            .send(
                Request::put_json("/api/v1/accounts/keyring", &body)?.bearer(Some(self.session())),
            )
            .await?
            .check()?;
        self.salt = salt;
        self.params = params;
        Ok(())
    }

    /// Ends this session on the server.
    ///
    /// # Errors
    /// `server.unauthorized` (already ended), `network`.
    pub async fn logout<T: Transport>(self, transport: &T) -> Result<()> {
        self.end_session(transport, false).await
    }

    /// [`Account::logout`] (`everywhere: false`) or [`Account::logout_everywhere`] (`true`):
    /// one function, so the browser module carries one copy of it.
    ///
    /// # Errors
    /// `server.unauthorized` (this session ended already), `network`.
    pub async fn end_session<T: Transport>(self, transport: &T, everywhere: bool) -> Result<()> {
        let path = if everywhere {
            "/api/v1/accounts/logout-everywhere"
        } else {
            "/api/v1/accounts/logout"
        };
        transport
            .send(Request::post_json(path, &EmptyBody {})?.bearer(Some(self.session())))
            .await?
            .check()
    }

    /// Ends every session of the account on the server, this one included ("Sign out
    /// everywhere", `POST /api/v1/accounts/logout-everywhere`).
    ///
    /// # Errors
    /// `server.unauthorized` (this session ended already), `network`.
    pub async fn logout_everywhere<T: Transport>(self, transport: &T) -> Result<()> {
        self.end_session(transport, true).await
    }

    /// This signed-in account as bytes, for a device that remembers it (the web client wraps
    /// them with a non-extractable WebCrypto key before they are stored; spec/THREAT-MODEL.md
    /// "Remembered devices"): everything [`Account::from_remembered`] needs to go on without
    /// the password: the session token, the identity seed, the app data, and the salt and
    /// Argon2id parameters a password change needs. Layout (integers big-endian): version
    /// byte 1; username, account id and session token, each as a u16 length and UTF-8 bytes;
    /// `expires_at` (u64, Unix seconds); salt (16 bytes); `memory_kib`, `iterations`,
    /// `parallelism` (u32 each); identity seed (32 bytes); app data as a u32 length and its
    /// bytes. Zeroized on drop.
    pub fn to_remembered(&self) -> Zeroizing<Vec<u8>> {
        let texts = [
            self.username.as_bytes(),
            self.account_id.as_bytes(),
            self.session.as_bytes(),
        ];
        let length = 1
            + texts.iter().map(|t| 2 + t.len()).sum::<usize>()
            + 8
            + SALT_LEN
            + 12
            + 32
            + 4
            + self.keyring.app_data.len();
        // Allocated once at its final size, so no reallocation leaves a copy behind.
        let mut out = Zeroizing::new(Vec::with_capacity(length));
        out.push(REMEMBERED_VERSION);
        for text in texts {
            // Usernames (64), account ids (32) and tokens (43) are far below u16::MAX.
            out.extend_from_slice(&u16::try_from(text.len()).unwrap_or(u16::MAX).to_be_bytes());
            out.extend_from_slice(text);
        }
        out.extend_from_slice(&self.expires_at.to_be_bytes());
        out.extend_from_slice(&self.salt);
        for value in [
            self.params.memory_kib,
            self.params.iterations,
            self.params.parallelism,
        ] {
            out.extend_from_slice(&value.to_be_bytes());
        }
        out.extend_from_slice(self.keyring.identity_seed.as_bytes());
        let app_data = &self.keyring.app_data;
        out.extend_from_slice(
            &u32::try_from(app_data.len())
                .unwrap_or(u32::MAX)
                .to_be_bytes(),
        );
        out.extend_from_slice(app_data);
        out
    }

    /// The account [`Account::to_remembered`] wrote. Nothing is asked of the server: a session
    /// that ended since shows at the first request (`server.unauthorized`).
    ///
    /// # Errors
    /// `device.malformed` (not bytes this version wrote), `device.expired` (the session expired
    /// by `now`, Unix seconds).
    pub fn from_remembered(bytes: &[u8], now: u64) -> Result<Account> {
        let mut reader = RememberedReader { rest: bytes };
        if reader.take(1)? != [REMEMBERED_VERSION] {
            return Err(remembered_malformed());
        }
        let username = reader.text()?;
        let account_id = reader.text()?;
        let session = Zeroizing::new(reader.text()?);
        let expires_at = u64::from_be_bytes(reader.array::<8>()?);
        let salt = reader.array::<SALT_LEN>()?;
        let params = Argon2Params {
            memory_kib: u32::from_be_bytes(reader.array::<4>()?),
            iterations: u32::from_be_bytes(reader.array::<4>()?),
            parallelism: u32::from_be_bytes(reader.array::<4>()?),
        };
        let seed = Zeroizing::new(reader.array::<32>()?);
        let identity_seed = IdentitySeed::from_bytes(*seed);
        let app_len = u32::from_be_bytes(reader.array::<4>()?) as usize;
        let app_data = Zeroizing::new(reader.take(app_len)?.to_vec());
        if !reader.rest.is_empty() {
            return Err(remembered_malformed());
        }
        if expires_at <= now {
            return Err(ClientError::new(
                "device.expired",
                "The session this device remembered has expired; sign in again.",
            ));
        }
        let identity = Identity::from_seed(&identity_seed);
        Ok(Account {
            username,
            account_id,
            session,
            expires_at,
            salt,
            params,
            keyring: Keyring {
                identity_seed,
                app_data,
            },
            identity,
        })
    }

    /// Opens a ticket owned by this account, signed by its identity: the first message and
    /// the epoch-0 key for the account and every administrator of the verified `directory`,
    /// then the debug data, if any. The ticket id is drawn from `rng` with the key, salts
    /// and HPKE randomness.
    ///
    /// # Errors
    /// `server.*`, `network`, `content.*`, crypto errors.
    pub async fn create_ticket<T: Transport>(
        &self,
        transport: &T,
        directory: &Directory,
        opening: Opening,
        now: u64,
        rng: &mut impl CryptoRng,
    ) -> Result<AccountTicket> {
        let target = NewTicket {
            id: TicketId::generate(rng),
            owner: TicketOwner::Account {
                session: self.session(),
            },
            bearer: self.session(),
        };
        let (thread, messages) = create_ticket(
            transport,
            directory,
            &self.identity,
            target,
            opening,
            now,
            rng,
        )
        .await?;
        Ok(AccountTicket { thread, messages })
    }

    /// Where the reply notifications of the account's tickets go (spec/API.md, "Mail":
    /// `GET /api/v1/accounts/notifications`); empty: nowhere.
    ///
    /// # Errors
    /// `server.*`, `network`, `bad_response`.
    pub async fn notification_address<T: Transport>(&self, transport: &T) -> Result<String> {
        let answer: AccountNotifications = transport
            .send(Request::get("/api/v1/accounts/notifications").bearer(Some(self.session())))
            .await?
            .json("the notification address")?;
        Ok(answer.address)
    }

    /// Sets (or, empty, clears) the address of the reply notifications and returns it as
    /// stored (`PUT /api/v1/accounts/notifications`).
    ///
    /// # Errors
    /// `server.bad_email`, `server.mail_off`, `server.*`, `network`, `bad_response`.
    pub async fn set_notification_address<T: Transport>(
        &self,
        transport: &T,
        address: &str,
    ) -> Result<String> {
        let body = AccountNotifications {
            address: address.to_owned(),
        };
        let answer: AccountNotifications = transport
            .send(
                Request::put_json("/api/v1/accounts/notifications", &body)?
                    .bearer(Some(self.session())),
            )
            .await?
            .json("the notification address")?;
        Ok(answer.address)
    }

    /// The account's tickets, newest activity first (the server's metadata).
    ///
    /// # Errors
    /// `server.unauthorized`, `network`, `bad_response`.
    pub async fn list_tickets<T: Transport>(&self, transport: &T) -> Result<Vec<TicketSummary>> {
        let mut tickets = Vec::new();
        let mut query = AccountTicketsQuery::default();
        // Every page, each continuing after the last ticket of the one before (keyset cursor).
        loop {
            let answer: AccountTicketsAnswer = transport
                .send(Request::get(query.path()).bearer(Some(self.session())))
                .await?
                .json("the tickets")?;
            for ticket in answer.tickets {
                tickets.push(summary_of(ticket, "the tickets")?);
            }
            match answer.next_cursor {
                Some(cursor) if answer.more => query.cursor = Some(cursor),
                _ => return Ok(tickets),
            }
        }
    }

    /// Opens one of the account's tickets: reads and verifies the whole conversation from the
    /// first reporter key the server names, which is this account's identity for the
    /// account's own tickets; for an anonymous ticket the account keeps (PROTOCOL.md §8.2
    /// grounds `0x02`), a verified endorse message must have added the account's key.
    ///
    /// # Errors
    /// `account.wrong_reporter` when the account's key is not a reporter key of the verified
    /// conversation; verification errors; `server.*` (`server.not_found` for a ticket of someone else); `network`.
    pub async fn open_ticket<T: Transport>(
        &self,
        transport: &T,
        directory: &Directory,
        id: TicketId,
    ) -> Result<AccountTicket> {
        self.open_ticket_with_state(transport, directory, id, None)
            .await
    }

    /// [`Account::open_ticket`], then, when `kept` holds the state kept from an earlier visit
    /// ([`AccountTicket::state_bytes`]), checks that the conversation extends it
    /// (PROTOCOL.md §10.4; see [`crate::reporter::ReporterTicket::open_with_state`]).
    ///
    /// # Errors
    /// As [`Account::open_ticket`]; `transcript.unexpected_seq` (a rollback),
    /// `transcript.broken_link` (a fork), `kept.malformed`.
    pub async fn open_ticket_with_state<T: Transport>(
        &self,
        transport: &T,
        directory: &Directory,
        id: TicketId,
        kept: Option<&[u8]>,
    ) -> Result<AccountTicket> {
        let kept = kept::for_chain(kept, Chain::Conversation)?;
        let answer = fetch_ticket(transport, self.session(), id).await?;
        let reporter = unb64(&answer.reporter, "the ticket")?;
        // The account's own ticket has the account's key first; a ticket the account keeps
        // (PROTOCOL.md §8.2 grounds 0x02) starts from the link's key and must add this one.
        let kept_ticket = reporter != self.identity.public().to_bytes();
        let first = if kept_ticket {
            PublicIdentity::from_bytes(&reporter)?
        } else {
            self.identity.public().clone()
        };
        let members = Members::new(id, first);
        let mut ticket = AccountTicket {
            thread: Thread::new(members, Chain::Conversation),
            messages: Vec::new(),
        };
        ticket.refresh(transport, self, directory).await?;
        if kept_ticket && !ticket.thread.is_reporter(&self.identity.key_id()) {
            return Err(ClientError::new(
                "account.wrong_reporter",
                "No verified endorsement of this ticket adds this account's key: it is not \
                 the account's ticket.",
            ));
        }
        if let Some(kept) = kept {
            let who = Participant {
                identity: &self.identity,
                bearer: self.session(),
                directory,
            };
            kept::check_extends_kept(
                transport,
                who,
                &mut ticket.thread,
                &mut ticket.messages,
                &kept,
            )
            .await?;
        }
        Ok(ticket)
    }

    /// The normalised (lowercase) username.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The account id.
    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    /// The account's identity.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The identity seed from the account's keyring (32 secret bytes, PROTOCOL.md §12.3), for
    /// a client that keeps the identity in a keyring of its own (the command line's
    /// administrator keyring file). Keep it in memory only, or sealed.
    pub fn identity_seed(&self) -> &IdentitySeed {
        &self.keyring.identity_seed
    }

    /// The account's public identity.
    pub fn public(&self) -> &PublicIdentity {
        self.identity.public()
    }

    /// The session's expiry, Unix seconds.
    pub fn expires_at(&self) -> u64 {
        self.expires_at
    }

    /// The keyring's application data (JSON the web client keeps; `{}` for a new account).
    pub fn app_data(&self) -> &[u8] {
        &self.keyring.app_data
    }

    /// Replaces the keyring's application data in memory only and returns the previous data;
    /// [`Account::change_password`] (with the same password) stores it on the server.
    pub fn replace_app_data(&mut self, app_data: Zeroizing<Vec<u8>>) -> Zeroizing<Vec<u8>> {
        core::mem::replace(&mut self.keyring.app_data, app_data)
    }

    /// The account's current Argon2id parameters.
    pub fn argon2_params(&self) -> Argon2Params {
        self.params
    }

    /// The session token: the bearer credential of this account's requests (for the event
    /// stream, say). Keep it in memory only.
    pub fn session(&self) -> &str {
        &self.session
    }
}

/// One of an account's tickets: the verified conversation, read and written with the
/// account's session and identity.
#[derive(Debug)]
pub struct AccountTicket {
    thread: Thread,
    /// The verified conversation, in order.
    pub messages: Vec<Shown>,
}

impl AccountTicket {
    /// Fetches, verifies and decrypts the messages after the last one seen; returns how many
    /// were added (see [`crate::reporter::ReporterTicket::refresh`]).
    ///
    /// # Errors
    /// `transcript.*`, `server.*`, `network`.
    pub async fn refresh<T: Transport>(
        &mut self,
        transport: &T,
        account: &Account,
        directory: &Directory,
    ) -> Result<usize> {
        self.thread
            .refresh(
                transport,
                account.session(),
                &account.identity,
                directory,
                &mut self.messages,
            )
            .await
    }

    /// Sends a reply.
    ///
    /// # Errors
    /// As [`AccountTicket::send`].
    pub async fn reply<T: Transport>(
        &mut self,
        transport: &T,
        account: &Account,
        directory: &Directory,
        text: &str,
        now: u64,
        rng: &mut impl CryptoRng,
    ) -> Result<()> {
        let content = Outgoing::new(text, now).into_message();
        self.send(transport, account, directory, content, rng).await
    }

    /// Closes the ticket.
    ///
    /// # Errors
    /// As [`AccountTicket::send`].
    pub async fn close<T: Transport>(
        &mut self,
        transport: &T,
        account: &Account,
        directory: &Directory,
        now: u64,
        rng: &mut impl CryptoRng,
    ) -> Result<()> {
        self.send(transport, account, directory, Content::close(now), rng)
            .await
    }

    /// Seals and posts `content` as the next conversation message (see
    /// [`crate::reporter::ReporterTicket::send`]).
    ///
    /// # Errors
    /// `server.*`, `network`, verification errors while catching up, `content.*`.
    pub async fn send<T: Transport>(
        &mut self,
        transport: &T,
        account: &Account,
        directory: &Directory,
        content: Content,
        rng: &mut impl CryptoRng,
    ) -> Result<()> {
        let who = Participant {
            identity: &account.identity,
            bearer: account.session(),
            directory,
        };
        self.thread
            .send(transport, who, &content, rng, &mut self.messages)
            .await
    }

    /// The ticket.
    pub fn ticket_id(&self) -> TicketId {
        self.thread.ticket_id()
    }

    /// Whether the ticket is closed (after the verified messages).
    pub fn is_closed(&self) -> bool {
        self.thread.state().is_closed()
    }

    /// The ticket's status after the verified conversation (PROTOCOL.md §10.3).
    pub fn status(&self) -> ConversationStatus {
        self.thread.state().status()
    }

    /// The verified conversation state (persist it to detect rollbacks on the next visit).
    pub fn conversation(&self) -> &ChainState {
        self.thread.state()
    }

    /// The verified state to keep until the next visit (PROTOCOL.md §10.4), for
    /// [`Account::open_ticket_with_state`]: opaque bytes ([`crate::kept`]).
    pub fn state_bytes(&self) -> Vec<u8> {
        kept::encode(&[self.thread.state()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> Account {
        let identity_seed = IdentitySeed::from_bytes([7; 32]);
        let identity = Identity::from_seed(&identity_seed);
        Account {
            username: "alice".into(),
            account_id: "0123456789abcdef0123456789abcdef".into(),
            session: Zeroizing::new("session-token".into()),
            expires_at: 2_000,
            salt: [3; SALT_LEN],
            params: Argon2Params::TEST_ONLY_CHEAP,
            keyring: Keyring {
                identity_seed,
                app_data: Zeroizing::new(b"{\"names\":{}}".to_vec()),
            },
            identity,
        }
    }

    #[test]
    fn a_remembered_account_comes_back_whole() {
        let original = account();
        let bytes = original.to_remembered();
        let back = Account::from_remembered(&bytes, 1_000).unwrap();
        assert_eq!(back.username, "alice");
        assert_eq!(back.account_id, original.account_id);
        assert_eq!(back.session(), "session-token");
        assert_eq!(back.expires_at, 2_000);
        assert_eq!(back.salt, [3; SALT_LEN]);
        assert_eq!(back.params, Argon2Params::TEST_ONLY_CHEAP);
        assert_eq!(back.identity_seed().as_bytes(), &[7; 32]);
        assert_eq!(back.app_data(), b"{\"names\":{}}");
        assert_eq!(back.identity.key_id(), original.identity.key_id());
    }

    #[test]
    fn damaged_or_expired_remembered_bytes_are_refused() {
        let bytes = account().to_remembered();
        for cut in [0, 1, bytes.len() / 2, bytes.len() - 1] {
            let error = Account::from_remembered(&bytes[..cut], 1_000).unwrap_err();
            assert_eq!(error.code, "device.malformed", "cut at {cut}");
        }
        let mut longer = bytes.to_vec();
        longer.push(0);
        assert_eq!(
            Account::from_remembered(&longer, 1_000).unwrap_err().code,
            "device.malformed"
        );
        let mut other_version = bytes.to_vec();
        other_version[0] = 2;
        assert_eq!(
            Account::from_remembered(&other_version, 1_000)
                .unwrap_err()
                .code,
            "device.malformed"
        );
        assert_eq!(
            Account::from_remembered(&bytes, 2_000).unwrap_err().code,
            "device.expired"
        );
    }
}
