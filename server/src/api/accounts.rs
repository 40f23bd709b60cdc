//! Accounts and sessions (spec/API.md, "Accounts"; PROTOCOL.md §12). Argon2id runs in the
//! client: the server stores an account's salt and parameters, the hash of its `auth_key`
//! (never the key), its public identity and its sealed keyring. A session is a random 32-byte
//! bearer token of which only the hash is stored (PROTOCOL.md §11).
//!
//! Also here: the routes that need a session (an account's tickets, the administrators'
//! inbox) and the session lookup used by the ticket routes.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use sealdesk_crypto::{
    AccessToken, Argon2Params, AuthKey, ChainState, CryptoRng, Directory, KEYRING_VERSION,
    MAX_KEYRING_LEN, PUBLIC_IDENTITY_LEN, PublicIdentity, SALT_LEN, SIGNATURE_LEN, TAG_LEN,
    TicketId, system_rng,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::encoding::{b64, from_b64, from_b64_array};
use super::error::{ApiError, ApiResult};
use super::extract::{Json, Query};
use super::tickets::{Created, open_ticket};
use super::{AppState, now};
use crate::storage::{Owner, RecordKind, Status, StoreError, TicketRecord};

/// Longest username, in characters.
pub const MAX_USERNAME_LEN: usize = 64;
/// Weakest Argon2id parameters accepted at registration and password change. Clients refuse
/// parameters below their own floor (the documented ones by default, PROTOCOL.md §12.1); the
/// server's floor is the tests' cheap parameters until the configuration gets a setting.
pub const ARGON2_FLOOR: Argon2Params = Argon2Params::TEST_ONLY_CHEAP;
/// Largest sealed keyring: version, 32-byte salt, at most [`MAX_KEYRING_LEN`] bytes of
/// keyring, tag.
pub const MAX_SEALED_KEYRING_LEN: usize = 1 + 32 + MAX_KEYRING_LEN + TAG_LEN;
/// Smallest sealed keyring: an empty app data (seed and length prefix only).
const MIN_SEALED_KEYRING_LEN: usize = 1 + 32 + 32 + 4 + TAG_LEN;
/// Label of the fake pre-login salt of unknown usernames.
const PRELOGIN_SALT_LABEL: &str = "sealdesk/v1/server/prelogin-salt";
/// Name of the setting that holds the per-instance pre-login secret.
const PRELOGIN_SECRET: &[u8] = b"prelogin-secret";
/// Inbox page size.
const INBOX_PAGE: usize = 50;
/// Compared against when the username is unknown, so both failures do the same work.
const DUMMY_AUTH_HASH: [u8; 32] = [0x5a; 32];

// ---- stored records ----

/// Byte fields of stored records as unpadded base64url strings (compact JSON).
mod bytes_b64 {
    use base64ct::{Base64UrlUnpadded, Encoding};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&Base64UrlUnpadded::encode_string(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(deserializer)?;
        Base64UrlUnpadded::decode_vec(&text).map_err(serde::de::Error::custom)
    }
}

/// Argon2id parameters as they appear in bodies and records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Argon2Json {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl From<Argon2Params> for Argon2Json {
    fn from(p: Argon2Params) -> Self {
        Argon2Json {
            memory_kib: p.memory_kib,
            iterations: p.iterations,
            parallelism: p.parallelism,
        }
    }
}

impl From<Argon2Json> for Argon2Params {
    fn from(p: Argon2Json) -> Self {
        Argon2Params {
            memory_kib: p.memory_kib,
            iterations: p.iterations,
            parallelism: p.parallelism,
        }
    }
}

/// An account, stored under `name/<username>` in [`RecordKind::Account`] (usernames never
/// change, and one key makes registration and password change single atomic writes).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AccountRecord {
    /// Random 16 bytes, hex; owners of account tickets are recorded by it.
    pub account_id: String,
    /// The normalised username.
    pub username: String,
    /// Argon2id salt (16 bytes).
    #[serde(with = "bytes_b64")]
    pub salt: Vec<u8>,
    /// Argon2id parameters.
    pub argon2: Argon2Json,
    /// `H("sealdesk/v1/account/auth-hash", auth_key)`.
    #[serde(with = "bytes_b64")]
    pub auth_hash: Vec<u8>,
    /// The sealed keyring (PROTOCOL.md §12.3).
    #[serde(with = "bytes_b64")]
    pub keyring: Vec<u8>,
    /// The account's public identity (64 bytes).
    #[serde(with = "bytes_b64")]
    pub identity: Vec<u8>,
    /// Incremented at every password change; sessions of an older generation are invalid.
    pub generation: u64,
    /// Unix seconds.
    pub created_at: u64,
    /// Unix seconds of the last password change (or creation).
    pub updated_at: u64,
}

impl AccountRecord {
    /// The account's public identity (stored after validation).
    fn public_identity(&self) -> Option<PublicIdentity> {
        PublicIdentity::from_bytes(&self.identity).ok()
    }
}

/// A session, stored under the token's hash in [`RecordKind::Session`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SessionRecord {
    /// The account's id.
    pub account_id: String,
    /// The account's normalised username (the account record's key).
    pub username: String,
    /// The account's generation when the session was made.
    pub generation: u64,
    /// Unix seconds.
    pub created_at: u64,
    /// Unix seconds from which the session is refused.
    pub expires_at: u64,
}

fn account_key(username: &str) -> Vec<u8> {
    [b"name/".as_slice(), username.as_bytes()].concat()
}

fn encode<T: Serialize>(value: &T) -> ApiResult<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| StoreError::Backend(e.to_string()).into())
}

fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(bytes).map_err(|_| {
        tracing::error!("a stored account or session record does not decode");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "storage",
            "A stored account or session record is damaged; nothing was changed.",
        )
    })
}

fn load_account(state: &AppState, username: &str) -> ApiResult<Option<AccountRecord>> {
    state
        .store
        .get(RecordKind::Account, &account_key(username))?
        .map(|bytes| decode(&bytes))
        .transpose()
}

// ---- sessions ----

/// A valid session with its account.
pub struct Session {
    /// The hash of the session token (the record's key).
    pub token_hash: [u8; 32],
    /// The session record.
    pub record: SessionRecord,
    /// The account.
    pub account: AccountRecord,
}

impl Session {
    /// Whether the ticket belongs to this session's account.
    pub fn owns(&self, ticket: &TicketRecord) -> bool {
        matches!(&ticket.owner, Owner::Account { account_id } if *account_id == self.account.account_id)
    }

    /// Whether the account's identity is an administrator at the directory head.
    pub fn is_administrator(&self, directory: &Directory) -> bool {
        self.account.public_identity().is_some_and(|identity| {
            directory
                .admin_at(directory.head_seq(), &identity.key_id())
                .is_some()
        })
    }
}

/// The `Authorization: Bearer <token>` header's token, if it is well formed.
fn bearer(headers: &HeaderMap) -> Option<AccessToken> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .and_then(|token| AccessToken::from_base64url(token.trim()).ok())
}

/// The session of the request's bearer token, if it is a valid one. Expired sessions and
/// sessions outdated by a password change are removed on sight.
///
/// # Errors
/// Storage failures.
pub fn session(state: &AppState, headers: &HeaderMap) -> ApiResult<Option<Session>> {
    let Some(token) = bearer(headers) else {
        return Ok(None);
    };
    let token_hash = token.hash();
    let Some(bytes) = state.store.get(RecordKind::Session, &token_hash)? else {
        return Ok(None);
    };
    let record: SessionRecord = decode(&bytes)?;
    if now() >= record.expires_at {
        state.store.take(RecordKind::Session, &token_hash)?;
        return Ok(None);
    }
    let account = load_account(state, &record.username)?;
    match account {
        Some(account)
            if account.account_id == record.account_id
                && account.generation == record.generation =>
        {
            Ok(Some(Session {
                token_hash,
                record,
                account,
            }))
        }
        _ => {
            state.store.take(RecordKind::Session, &token_hash)?;
            Ok(None)
        }
    }
}

/// Like [`session`], but a missing or invalid session is `401 unauthorized`.
///
/// # Errors
/// `unauthorized`, storage failures.
pub fn require_session(state: &AppState, headers: &HeaderMap) -> ApiResult<Session> {
    session(state, headers)?.ok_or_else(ApiError::unauthorized)
}

/// Whether the request carries a valid session of the account that owns `ticket`.
///
/// # Errors
/// Storage failures.
pub fn session_owns(
    state: &AppState,
    headers: &HeaderMap,
    ticket: &TicketRecord,
) -> ApiResult<bool> {
    if !matches!(ticket.owner, Owner::Account { .. }) {
        return Ok(false);
    }
    Ok(session(state, headers)?.is_some_and(|s| s.owns(ticket)))
}

// ---- validation ----

/// Checks and normalises a username: 1 to 64 characters of `[A-Za-z0-9._-]`, lowercased.
fn normalise_username(username: &str) -> ApiResult<String> {
    let ok = !username.is_empty()
        && username.len() <= MAX_USERNAME_LEN
        && username
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(username.to_ascii_lowercase())
    } else {
        Err(ApiError::bad_request(
            "bad_username",
            "A username has 1 to 64 characters: letters a-z, digits, '.', '_' and '-'.",
        ))
    }
}

fn check_argon2(params: Argon2Json) -> ApiResult<Argon2Params> {
    let params = Argon2Params::from(params);
    if Argon2Params::MAX.at_least(&params) && params.at_least(&ARGON2_FLOOR) {
        Ok(params)
    } else {
        Err(ApiError::rejected(
            &sealdesk_crypto::Error::KeyDerivation,
            "Argon2id parameters",
        ))
    }
}

fn check_keyring(text: &str) -> ApiResult<Vec<u8>> {
    let sealed = from_b64("keyring", text, MAX_SEALED_KEYRING_LEN)?;
    if sealed.len() < MIN_SEALED_KEYRING_LEN || sealed[0] != KEYRING_VERSION {
        return Err(ApiError::rejected(
            &sealdesk_crypto::Error::Malformed("sealed keyring"),
            "keyring",
        ));
    }
    Ok(sealed)
}

/// The credentials every registration and password change sends.
struct Credentials {
    salt: [u8; SALT_LEN],
    argon2: Argon2Params,
    auth_hash: [u8; 32],
    keyring: Vec<u8>,
}

fn check_credentials(
    salt: &str,
    argon2: Argon2Json,
    auth_key: &str,
    keyring: &str,
) -> ApiResult<Credentials> {
    let salt = from_b64_array::<SALT_LEN>("salt", salt)?;
    let argon2 = check_argon2(argon2)?;
    let auth_key = AuthKey::from_bytes(from_b64_array::<32>("auth_key", auth_key)?);
    let keyring = check_keyring(keyring)?;
    Ok(Credentials {
        salt,
        argon2,
        auth_hash: auth_key.server_hash(),
        keyring,
    })
}

/// Checks that the registrant holds the identity's signing key (PROTOCOL.md §12.4): `proof`
/// signs the normalised username and this registration's `auth_hash`.
fn check_identity_proof(
    identity: &PublicIdentity,
    proof: &[u8],
    username: &str,
    auth_hash: &[u8; 32],
) -> ApiResult<()> {
    identity
        .verify_identity_proof(username, auth_hash, proof)
        .map_err(|_| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "bad_identity_proof",
                "The identity proof does not verify for this identity, username and key.",
            )
        })
}

fn random_bytes<const N: usize>(rng: &mut impl CryptoRng) -> [u8; N] {
    let mut bytes = [0u8; N];
    rng.fill_bytes(&mut bytes);
    bytes
}

// ---- pre-login ----

/// Body of `POST /api/v1/accounts/prelogin`.
#[derive(Deserialize)]
pub struct PreloginBody {
    /// The username (normalised to lowercase).
    pub username: String,
}

/// Answer of `POST /api/v1/accounts/prelogin`.
#[derive(Serialize)]
pub struct PreloginOut {
    /// The Argon2id salt (16 bytes).
    pub salt: String,
    /// The Argon2id parameters.
    pub argon2: Argon2Json,
}

/// The server-side label of email lookup keys (see [`email_lookup`]).
const EMAIL_LOOKUP_LABEL: &str = "sealdesk/v1/server/email-lookup";

/// The key under which a ticket's notification address is recognised, without storing the
/// address: `HMAC-SHA-256(instance secret, lp("sealdesk/v1/server/email-lookup") ||
/// lowercase(email))`. "Resend access link" compares the address a reporter types with it.
///
/// # Errors
/// Storage failures (creating the instance secret on first use).
pub(super) async fn email_lookup(state: &AppState, email: &str) -> ApiResult<[u8; 32]> {
    let secret = prelogin_secret(state).await?;
    let label = [
        &[EMAIL_LOOKUP_LABEL.len() as u8][..],
        EMAIL_LOOKUP_LABEL.as_bytes(),
    ]
    .concat();
    Ok(hmac_sha256(
        &secret,
        &[&label, email.to_lowercase().as_bytes()],
    ))
}

/// HMAC-SHA-256 (RFC 2104) of the concatenated `parts` under a 32-byte key.
fn hmac_sha256(key: &[u8; 32], parts: &[&[u8]]) -> [u8; 32] {
    let mut inner_pad = [0x36u8; 64];
    let mut outer_pad = [0x5cu8; 64];
    for (i, byte) in key.iter().enumerate() {
        inner_pad[i] ^= byte;
        outer_pad[i] ^= byte;
    }
    let mut inner = Sha256::new();
    inner.update(inner_pad);
    for part in parts {
        inner.update(part);
    }
    let inner = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(outer_pad);
    outer.update(inner);
    outer.finalize().into()
}

/// The per-instance secret (of the fake salts and the email lookup keys), drawn and stored on
/// first use.
async fn prelogin_secret(state: &AppState) -> ApiResult<[u8; 32]> {
    let stored = match state.store.get(RecordKind::Setting, PRELOGIN_SECRET)? {
        Some(bytes) => bytes,
        None => {
            let fresh: [u8; 32] = random_bytes(&mut system_rng());
            match state
                .store
                .put(RecordKind::Setting, PRELOGIN_SECRET, &fresh, true)
            {
                // Durable before any fake salt derived from it is answered.
                Ok(()) => state.commit().await.map(|()| fresh.to_vec())?,
                // Another request stored one first: use that.
                Err(StoreError::Conflict(_)) => state
                    .store
                    .get(RecordKind::Setting, PRELOGIN_SECRET)?
                    .unwrap_or_default(),
                Err(other) => return Err(other.into()),
            }
        }
    };
    stored
        .try_into()
        .map_err(|_| StoreError::Backend("the pre-login secret is not 32 bytes".into()).into())
}

/// `POST /api/v1/accounts/prelogin`: the salt and Argon2id parameters of a username. An
/// unknown username gets a fake salt that is stable per username and the default
/// parameters, so the answer does not say whether the account exists.
pub async fn prelogin(
    State(state): State<Arc<AppState>>,
    Json(body): Json<PreloginBody>,
) -> ApiResult<Json<PreloginOut>> {
    let username = normalise_username(&body.username)?;
    if let Some(account) = load_account(&state, &username)? {
        return Ok(Json(PreloginOut {
            salt: b64(&account.salt),
            argon2: account.argon2,
        }));
    }
    let secret = prelogin_secret(&state).await?;
    let label = [
        &[PRELOGIN_SALT_LABEL.len() as u8][..],
        PRELOGIN_SALT_LABEL.as_bytes(),
    ]
    .concat();
    let mac = hmac_sha256(&secret, &[&label, username.as_bytes()]);
    Ok(Json(PreloginOut {
        salt: b64(&mac[..SALT_LEN]),
        argon2: Argon2Params::DEFAULT.into(),
    }))
}

// ---- registration ----

/// Body of `POST /api/v1/accounts/register`.
#[derive(Deserialize)]
pub struct RegisterBody {
    /// The username (normalised to lowercase).
    pub username: String,
    /// Argon2id salt (16 bytes).
    pub salt: String,
    /// Argon2id parameters.
    pub argon2: Argon2Json,
    /// `auth_key` (32 bytes); only its hash is stored.
    pub auth_key: String,
    /// The sealed keyring.
    pub keyring: String,
    /// The account's public identity (64 bytes).
    pub identity: String,
    /// The identity proof (PROTOCOL.md §12.4, a 64-byte signature) showing the registrant
    /// holds the identity's signing key.
    pub identity_proof: String,
}

/// Answer of `POST /api/v1/accounts/register`.
#[derive(Serialize)]
pub struct Registered {
    /// The new account's id.
    pub account_id: String,
}

/// `POST /api/v1/accounts/register`: creates an account. `409 username_taken` if the
/// username exists.
pub async fn register(
    State(state): State<Arc<AppState>>,
    Json(body): Json<RegisterBody>,
) -> ApiResult<(StatusCode, Json<Registered>)> {
    let username = normalise_username(&body.username)?;
    let credentials = check_credentials(&body.salt, body.argon2, &body.auth_key, &body.keyring)?;
    let identity_bytes = from_b64_array::<PUBLIC_IDENTITY_LEN>("identity", &body.identity)?;
    let identity = PublicIdentity::from_bytes(&identity_bytes)
        .map_err(|e| ApiError::rejected(&e, "identity"))?;
    let proof = from_b64_array::<SIGNATURE_LEN>("identity_proof", &body.identity_proof)?;
    check_identity_proof(&identity, &proof, &username, &credentials.auth_hash)?;

    let time = now();
    let account_id = hex::encode(random_bytes::<16>(&mut system_rng()));
    let record = AccountRecord {
        account_id: account_id.clone(),
        username: username.clone(),
        salt: credentials.salt.to_vec(),
        argon2: credentials.argon2.into(),
        auth_hash: credentials.auth_hash.to_vec(),
        keyring: credentials.keyring,
        identity: identity_bytes.to_vec(),
        generation: 0,
        created_at: time,
        updated_at: time,
    };
    match state.store.put(
        RecordKind::Account,
        &account_key(&username),
        &encode(&record)?,
        true,
    ) {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "username_taken",
                "This username is taken; choose another.",
            ));
        }
        Err(other) => return Err(other.into()),
    }
    state.commit().await?;
    tracing::info!(account = %account_id, "account registered");
    Ok((StatusCode::CREATED, Json(Registered { account_id })))
}

// ---- login and logout ----

/// Body of `POST /api/v1/accounts/login`.
#[derive(Deserialize)]
pub struct LoginBody {
    /// The username.
    pub username: String,
    /// `auth_key` (32 bytes).
    pub auth_key: String,
}

/// Answer of `POST /api/v1/accounts/login`.
#[derive(Serialize)]
pub struct LoginOut {
    /// The session token (32 bytes), for `Authorization: Bearer`.
    pub session: String,
    /// Unix seconds from which the session is refused.
    pub expires_at: u64,
    /// The account's id.
    pub account_id: String,
    /// The sealed keyring.
    pub keyring: String,
    /// The account's public identity.
    pub identity: String,
    /// The Argon2id salt.
    pub salt: String,
    /// The Argon2id parameters.
    pub argon2: Argon2Json,
}

fn bad_credentials() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "bad_credentials",
        "The username or password is wrong.",
    )
}

/// `POST /api/v1/accounts/login`: checks the `auth_key` against the stored hash and opens a
/// session. A wrong password and an unknown username answer the same `401 bad_credentials`
/// after the same comparison.
pub async fn login(
    State(state): State<Arc<AppState>>,
    Json(body): Json<LoginBody>,
) -> ApiResult<Json<LoginOut>> {
    let username = normalise_username(&body.username).map_err(|_| bad_credentials())?;
    let auth_key = AuthKey::from_bytes(from_b64_array::<32>("auth_key", &body.auth_key)?);
    let account = load_account(&state, &username)?;
    let stored: [u8; 32] = account
        .as_ref()
        .and_then(|a| a.auth_hash.as_slice().try_into().ok())
        .unwrap_or(DUMMY_AUTH_HASH);
    let matches = auth_key.matches_hash(&stored);
    let account = match account {
        Some(account) if matches => account,
        _ => return Err(bad_credentials()),
    };

    let token = AccessToken::generate(&mut system_rng());
    let time = now();
    let expires_at = time.saturating_add(state.limits.session_ttl_seconds);
    let record = SessionRecord {
        account_id: account.account_id.clone(),
        username: account.username.clone(),
        generation: account.generation,
        created_at: time,
        expires_at,
    };
    state
        .store
        .put(RecordKind::Session, &token.hash(), &encode(&record)?, true)?;
    state.commit().await?;
    Ok(Json(LoginOut {
        session: token.to_base64url(),
        expires_at,
        account_id: account.account_id,
        keyring: b64(&account.keyring),
        identity: b64(&account.identity),
        salt: b64(&account.salt),
        argon2: account.argon2,
    }))
}

/// `POST /api/v1/accounts/logout`: ends the bearer's session.
pub async fn logout(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let session = require_session(&state, &headers)?;
    state.store.take(RecordKind::Session, &session.token_hash)?;
    state.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- password change ----

/// Body of `PUT /api/v1/accounts/keyring`.
#[derive(Deserialize)]
pub struct KeyringBody {
    /// The CURRENT `auth_key` (32 bytes): a session alone cannot change the password, so a
    /// stolen session cannot replace (and so destroy) the account's keyring.
    pub current_auth_key: String,
    /// The new Argon2id salt (16 bytes).
    pub salt: String,
    /// The new Argon2id parameters.
    pub argon2: Argon2Json,
    /// The new `auth_key` (32 bytes).
    pub auth_key: String,
    /// The keyring sealed under the new keyring key.
    pub keyring: String,
}

/// `PUT /api/v1/accounts/keyring`: password change. Replaces the salt, parameters, auth hash
/// and keyring in one write and revokes every other session of the account (the caller's
/// stays valid).
pub async fn replace_keyring(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Json(body): Json<KeyringBody>,
) -> ApiResult<StatusCode> {
    let mut session = require_session(&state, &headers)?;
    let current = AuthKey::from_bytes(from_b64_array::<32>(
        "current_auth_key",
        &body.current_auth_key,
    )?);
    let stored: [u8; 32] = session
        .account
        .auth_hash
        .as_slice()
        .try_into()
        .unwrap_or(DUMMY_AUTH_HASH);
    if !current.matches_hash(&stored) {
        return Err(bad_credentials());
    }
    let credentials = check_credentials(&body.salt, body.argon2, &body.auth_key, &body.keyring)?;
    let account = &mut session.account;
    account.salt = credentials.salt.to_vec();
    account.argon2 = credentials.argon2.into();
    account.auth_hash = credentials.auth_hash.to_vec();
    account.keyring = credentials.keyring;
    account.generation += 1;
    account.updated_at = now();
    // This one write changes the credentials and, through the generation, invalidates every
    // session made before it.
    state.store.put(
        RecordKind::Account,
        &account_key(&account.username),
        &encode(&*account)?,
        false,
    )?;
    session.record.generation = account.generation;
    state.store.put(
        RecordKind::Session,
        &session.token_hash,
        &encode(&session.record)?,
        false,
    )?;
    // Housekeeping: remove the revoked sessions (and any expired ones) now.
    let time = now();
    for (key, value) in state.store.scan(RecordKind::Session, &[])? {
        let stale = serde_json::from_slice::<SessionRecord>(&value).map_or(true, |s| {
            time >= s.expires_at
                || (s.account_id == account.account_id && s.generation != account.generation)
        });
        if stale {
            state.store.take(RecordKind::Session, &key)?;
        }
    }
    state.commit().await?;
    tracing::info!(account = %account.account_id, "password changed; other sessions revoked");
    Ok(StatusCode::NO_CONTENT)
}

// ---- an account's tickets ----

/// Body of `POST /api/v1/tickets/account`: as the anonymous body, without an access token.
#[derive(Deserialize)]
pub struct AccountTicketBody {
    /// The account's public identity (must be the session's).
    pub reporter: String,
    /// The first conversation message (epoch 0, seq 1), signed by the account's identity.
    pub message: String,
    /// The epoch-0 conversation key wrapped for the account and every current administrator.
    pub wraps: Vec<String>,
    /// Optional address for "resend access link" (only a keyed hash is stored).
    #[serde(default)]
    pub notify_email: Option<String>,
}

/// `POST /api/v1/tickets/account`: opens a ticket owned by the session's account.
pub async fn create_ticket(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Json(body): Json<AccountTicketBody>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let session = require_session(&state, &headers)?;
    let reporter = from_b64("reporter", &body.reporter, PUBLIC_IDENTITY_LEN)?;
    if reporter != session.account.identity {
        return Err(ApiError::bad_request(
            "wrong_reporter",
            "An account's ticket is opened with the account's own identity.",
        ));
    }
    open_ticket(
        &state,
        Owner::Account {
            account_id: session.account.account_id,
        },
        &body.reporter,
        &body.message,
        &body.wraps,
        body.notify_email,
    )
    .await
}

/// One ticket in a list: metadata only.
#[derive(Serialize)]
pub struct TicketSummary {
    /// The ticket id (hex).
    pub ticket_id: String,
    /// `open` or `closed`.
    pub status: &'static str,
    /// Whether the last conversation message is an administrator's.
    pub answered: bool,
    /// Unix seconds.
    pub created_at: u64,
    /// Unix seconds of the last message.
    pub last_activity: u64,
    /// The conversation's last seq.
    pub conversation_seq: u64,
    /// In the inbox only: key id (base64url) of the assigned administrator, or `null`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assigned_to: Option<Option<String>>,
}

fn summary(record: &TicketRecord, with_assignee: bool) -> TicketSummary {
    let conversation_seq = ChainState::from_bytes(&record.chain_states[0])
        .map(|state| state.last_seq())
        .unwrap_or_else(|_| {
            tracing::error!("a stored ticket record does not decode");
            0
        });
    TicketSummary {
        ticket_id: TicketId(record.id).to_hex(),
        status: match record.status {
            Status::Open => "open",
            Status::Closed => "closed",
        },
        answered: record.answered,
        created_at: record.created_at,
        last_activity: record.last_activity,
        conversation_seq,
        assigned_to: with_assignee.then(|| record.assigned_to.as_ref().map(|k| b64(k))),
    }
}

/// Newest activity first; ties by id, so pages are stable.
fn newest_first(tickets: &mut [TicketRecord]) {
    tickets.sort_by(|a, b| {
        b.last_activity
            .cmp(&a.last_activity)
            .then_with(|| a.id.cmp(&b.id))
    });
}

/// Answer of `GET /api/v1/accounts/tickets`.
#[derive(Serialize)]
pub struct AccountTicketsOut {
    /// The account's tickets, newest activity first.
    pub tickets: Vec<TicketSummary>,
}

/// `GET /api/v1/accounts/tickets`: the session's account's tickets.
pub async fn list_tickets(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> ApiResult<Json<AccountTicketsOut>> {
    let session = require_session(&state, &headers)?;
    let mut tickets: Vec<TicketRecord> = state
        .store
        .tickets()?
        .into_iter()
        .filter(|t| session.owns(t))
        .collect();
    newest_first(&mut tickets);
    Ok(Json(AccountTicketsOut {
        tickets: tickets.iter().map(|t| summary(t, false)).collect(),
    }))
}

// ---- the administrators' inbox ----

/// Which tickets the inbox lists.
#[derive(Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum InboxFilter {
    /// Open tickets.
    Open,
    /// Closed tickets.
    Closed,
    /// Open tickets whose last conversation message is not an administrator's.
    Unanswered,
}

/// Query of `GET /api/v1/inbox`.
#[derive(Deserialize)]
pub struct InboxQuery {
    /// The filter (default: every ticket).
    #[serde(default)]
    pub status: Option<InboxFilter>,
    /// Zero-based page number.
    #[serde(default)]
    pub page: u64,
}

/// Answer of `GET /api/v1/inbox`.
#[derive(Serialize)]
pub struct InboxOut {
    /// Up to 50 tickets, newest activity first.
    pub tickets: Vec<TicketSummary>,
    /// Whether further pages follow.
    pub more: bool,
}

/// `GET /api/v1/inbox?status=open|closed|unanswered&page=N`: ticket metadata for
/// administrators.
pub async fn inbox(
    State(state): State<Arc<AppState>>,
    Query(query): Query<InboxQuery>,
    headers: HeaderMap,
) -> ApiResult<Json<InboxOut>> {
    super::team::administrator_session(&state, &headers).await?;
    let mut tickets: Vec<TicketRecord> = state
        .store
        .tickets()?
        .into_iter()
        .filter(|t| match query.status {
            None => true,
            Some(InboxFilter::Open) => t.status == Status::Open,
            Some(InboxFilter::Closed) => t.status == Status::Closed,
            Some(InboxFilter::Unanswered) => t.status == Status::Open && !t.answered,
        })
        .collect();
    newest_first(&mut tickets);
    let skip = usize::try_from(query.page)
        .unwrap_or(usize::MAX)
        .saturating_mul(INBOX_PAGE);
    let more = tickets.len() > skip.saturating_add(INBOX_PAGE);
    Ok(Json(InboxOut {
        tickets: tickets
            .iter()
            .skip(skip)
            .take(INBOX_PAGE)
            .map(|t| summary(t, true))
            .collect(),
        more,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_checked_and_lowercased() {
        assert_eq!(normalise_username("Alice.B-2_x").unwrap(), "alice.b-2_x");
        assert!(normalise_username("").is_err());
        assert!(normalise_username(&"a".repeat(65)).is_err());
        assert!(normalise_username(&"a".repeat(64)).is_ok());
        for bad in ["a b", "a/b", "é", "a@b", "a\0"] {
            assert!(normalise_username(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn hmac_matches_rfc_4231_case_1() {
        // RFC 4231 test case 1 uses a 20-byte key; ours is 32 bytes, zero-padded like any
        // HMAC key shorter than the block. Check against the key padded to 32 bytes.
        let mut key = [0u8; 32];
        key[..20].copy_from_slice(&[0x0b; 20]);
        let mac = hmac_sha256(&key, &[b"Hi ", b"There"]);
        assert_eq!(
            hex::encode(mac),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
    }

    #[test]
    fn argon2_bounds() {
        assert!(check_argon2(Argon2Params::TEST_ONLY_CHEAP.into()).is_ok());
        assert!(check_argon2(Argon2Params::DEFAULT.into()).is_ok());
        assert!(check_argon2(Argon2Params::MAX.into()).is_ok());
        let mut weak: Argon2Json = Argon2Params::TEST_ONLY_CHEAP.into();
        weak.memory_kib -= 1;
        assert!(check_argon2(weak).is_err());
        let mut huge: Argon2Json = Argon2Params::MAX.into();
        huge.parallelism += 1;
        assert!(check_argon2(huge).is_err());
    }
}
