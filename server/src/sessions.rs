//! Accounts, sessions and authentication (spec/API.md, "Accounts"; PROTOCOL.md §12). Argon2id
//! runs in the client: the server stores an account's salt and parameters, the hash of its
//! `auth_key` (never the key), its public identity and its sealed keyring. A session is a random
//! 32-byte bearer token of which only the hash is stored (PROTOCOL.md §11).
//!
//! Also here: who a request is. [`session`] finds the session of a bearer token, and
//! [`administrator_session`] requires that its identity is an administrator at the directory
//! head.

use axum::http::StatusCode;
use sealdesk_crypto::{
    AccessToken, Argon2Params, AuthKey, Directory, KEYRING_VERSION, MAX_KEYRING_LEN,
    PUBLIC_IDENTITY_LEN, PublicIdentity, SALT_LEN, SIGNATURE_LEN, TAG_LEN, system_rng,
};
use sealdesk_wire::accounts::Argon2ParamsBody;
use serde::{Deserialize, Serialize};

use crate::clock::now;
use crate::encoding::{from_b64, from_b64_array, from_record, to_record};
use crate::error::{ApiError, ApiResult};
use crate::instance_secret;
use crate::random;
use crate::state::AppState;
use crate::storage::{Owner, RecordKind, StoreError, TicketRecord};

/// Longest username, in characters.
pub const MAX_USERNAME_LEN: usize = 64;
/// Largest sealed keyring: version, 32-byte salt, at most [`MAX_KEYRING_LEN`] bytes of
/// keyring, tag.
pub const MAX_SEALED_KEYRING_LEN: usize = 1 + 32 + MAX_KEYRING_LEN + TAG_LEN;
/// Smallest sealed keyring: an empty app data (seed and length prefix only).
const MIN_SEALED_KEYRING_LEN: usize = 1 + 32 + 32 + 4 + TAG_LEN;
/// Compared against when the username is unknown, so both failures do the same work.
const DUMMY_AUTH_HASH: [u8; 32] = [0x5a; 32];
/// What this module's records are called when one is damaged.
const RECORDS: &str = "account or session record";

// ---- stored records ----

/// Byte fields of stored records as unpadded base64url strings (compact JSON).
mod bytes_b64 {
    use sealdesk_wire::b64;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&b64::encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(deserializer)?;
        b64::decode(&text).map_err(|_| serde::de::Error::custom("not unpadded base64url"))
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
    /// Argon2id parameters (the JSON of bodies: `{"memory_kib", "iterations",
    /// "parallelism"}`).
    pub argon2: Argon2ParamsBody,
    /// `H("sealdesk/v1/account/auth-hash", auth_key)`.
    #[serde(with = "bytes_b64")]
    pub auth_hash: Vec<u8>,
    /// The sealed keyring (PROTOCOL.md §12.3).
    #[serde(with = "bytes_b64")]
    pub keyring: Vec<u8>,
    /// The account's public identity (64 bytes).
    #[serde(with = "bytes_b64")]
    pub identity: Vec<u8>,
    /// Incremented at every password change and every "sign out everywhere"; sessions of an
    /// older generation are invalid.
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

fn load_account(state: &AppState, username: &str) -> ApiResult<Option<AccountRecord>> {
    state
        .store
        .get(RecordKind::Account, &account_key(username))?
        .map(|bytes| from_record(&bytes, RECORDS))
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
    /// Whether this session's account opened the ticket (not one it only keeps).
    pub fn opened(&self, ticket: &TicketRecord) -> bool {
        matches!(&ticket.owner, Owner::Account { account_id } if *account_id == self.account.account_id)
    }

    /// Whether the ticket belongs to this session's account: the account opened it, or keeps
    /// it (an anonymous ticket whose reporter endorsed the account's key, [`TicketRecord::kept_by`]).
    pub fn owns(&self, ticket: &TicketRecord) -> bool {
        self.opened(ticket) || ticket.kept_by.contains(&self.account.account_id)
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

/// The session of the request's bearer token (`Authorization: Bearer`, read by the HTTP
/// layer), if it is a valid one. Expired sessions and sessions outdated by a password change
/// are removed on sight.
///
/// # Errors
/// Storage failures.
pub fn session(state: &AppState, token: Option<&AccessToken>) -> ApiResult<Option<Session>> {
    let Some(token) = token else {
        return Ok(None);
    };
    let token_hash = token.hash();
    let Some(bytes) = state.store.get(RecordKind::Session, &token_hash)? else {
        return Ok(None);
    };
    let record: SessionRecord = from_record(&bytes, RECORDS)?;
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
pub fn require_session(state: &AppState, token: Option<&AccessToken>) -> ApiResult<Session> {
    session(state, token)?.ok_or_else(ApiError::unauthorized)
}

/// Whether the request carries a valid session of the account that owns `ticket`.
///
/// # Errors
/// Storage failures.
pub fn session_owns(
    state: &AppState,
    token: Option<&AccessToken>,
    ticket: &TicketRecord,
) -> ApiResult<bool> {
    if !matches!(ticket.owner, Owner::Account { .. }) && ticket.kept_by.is_empty() {
        return Ok(false);
    }
    Ok(session(state, token)?.is_some_and(|s| s.owns(ticket)))
}

// ---- administrators ----

fn not_an_administrator() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "not_an_administrator",
        "Only administrators may do this.",
    )
}

/// The session account's public identity.
///
/// # Errors
/// `500 storage` if the stored identity does not decode.
pub fn identity_of(session: &Session) -> ApiResult<PublicIdentity> {
    PublicIdentity::from_bytes(&session.account.identity).map_err(|_| {
        tracing::error!("a stored account identity does not decode");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "storage",
            "A stored account record is damaged; nothing was changed.",
        )
    })
}

/// The session's identity if it is an administrator at the directory head, else
/// `403 not_an_administrator`.
///
/// # Errors
/// `not_an_administrator`.
pub fn require_administrator(
    session: &Session,
    directory: Option<&Directory>,
) -> ApiResult<PublicIdentity> {
    match directory {
        Some(directory) if session.is_administrator(directory) => identity_of(session),
        _ => Err(not_an_administrator()),
    }
}

/// A valid session of an administrator (at the directory head now), with its identity.
///
/// # Errors
/// `unauthorized` without a valid session, `not_an_administrator` otherwise.
pub async fn administrator_session(
    state: &AppState,
    token: Option<&AccessToken>,
) -> ApiResult<(Session, PublicIdentity)> {
    let session = require_session(state, token)?;
    let identity = require_administrator(&session, state.directory.read().await.as_ref())?;
    Ok((session, identity))
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

/// Checks Argon2id parameters against the instance's floor (options `argon2_min_*`, by
/// default the documented parameters of PROTOCOL.md §12.1) and the clients' ceiling
/// ([`Argon2Params::MAX`]).
///
/// # Errors
/// `422 crypto.key_derivation` outside those bounds.
fn check_argon2(params: Argon2ParamsBody, floor: &Argon2Params) -> ApiResult<Argon2Params> {
    let params = Argon2Params::from(params);
    if Argon2Params::MAX.at_least(&params) && params.at_least(floor) {
        Ok(params)
    } else {
        Err(ApiError::rejected(
            &sealdesk_crypto::Error::KeyDerivation,
            &format!(
                "Argon2id parameters (this instance needs at least memory_kib {}, iterations \
                 {}, parallelism {})",
                floor.memory_kib, floor.iterations, floor.parallelism
            ),
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
    floor: &Argon2Params,
    salt: &str,
    argon2: Argon2ParamsBody,
    auth_key: &str,
    keyring: &str,
) -> ApiResult<Credentials> {
    let salt = from_b64_array::<SALT_LEN>("salt", salt)?;
    let argon2 = check_argon2(argon2, floor)?;
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

// ---- pre-login ----

/// The salt and Argon2id parameters of `username` (`POST /api/v1/accounts/prelogin`). An
/// unknown username gets a fake salt that is stable per username
/// ([`instance_secret::prelogin_salt`]) and the default parameters, so the answer does not
/// say whether the account exists.
///
/// # Errors
/// `bad_username`, storage failures.
pub async fn prelogin(state: &AppState, username: &str) -> ApiResult<(Vec<u8>, Argon2ParamsBody)> {
    let username = normalise_username(username)?;
    if let Some(account) = load_account(state, &username)? {
        return Ok((account.salt, account.argon2));
    }
    let salt = instance_secret::prelogin_salt(state, &username).await?;
    Ok((salt.to_vec(), Argon2Params::DEFAULT.into()))
}

// ---- registration ----

/// A registration as sent (`POST /api/v1/accounts/register`): byte fields in base64url.
pub struct Registration<'a> {
    /// The username (normalised to lowercase).
    pub username: &'a str,
    /// Argon2id salt (16 bytes).
    pub salt: &'a str,
    /// Argon2id parameters.
    pub argon2: Argon2ParamsBody,
    /// `auth_key` (32 bytes); only its hash is stored.
    pub auth_key: &'a str,
    /// The sealed keyring.
    pub keyring: &'a str,
    /// The account's public identity (64 bytes).
    pub identity: &'a str,
    /// The identity proof (PROTOCOL.md §12.4, a 64-byte signature).
    pub identity_proof: &'a str,
}

/// Creates an account and returns its id.
///
/// # Errors
/// `409 username_taken` if the username exists; the field and verification errors.
pub async fn register(state: &AppState, registration: &Registration<'_>) -> ApiResult<String> {
    let username = normalise_username(registration.username)?;
    let credentials = check_credentials(
        &state.limits.argon2_floor,
        registration.salt,
        registration.argon2,
        registration.auth_key,
        registration.keyring,
    )?;
    let identity_bytes = from_b64_array::<PUBLIC_IDENTITY_LEN>("identity", registration.identity)?;
    let identity = PublicIdentity::from_bytes(&identity_bytes)
        .map_err(|e| ApiError::rejected(&e, "identity"))?;
    let proof = from_b64_array::<SIGNATURE_LEN>("identity_proof", registration.identity_proof)?;
    check_identity_proof(&identity, &proof, &username, &credentials.auth_hash)?;
    let time = now();
    let account_id = hex::encode(random::bytes::<16>());
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
        &to_record(&record)?,
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
    Ok(account_id)
}

// ---- login and logout ----

fn bad_credentials() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "bad_credentials",
        "The username or password is wrong.",
    )
}

/// A new session and the account it signs in to.
pub struct SignedIn {
    /// The session token, for `Authorization: Bearer`; only its hash is stored.
    pub token: AccessToken,
    /// Unix seconds from which the session is refused.
    pub expires_at: u64,
    /// The account.
    pub account: AccountRecord,
}

/// Checks `auth_key` (base64url, 32 bytes) against the stored hash and opens a session
/// (`POST /api/v1/accounts/login`). A wrong password and an unknown username answer the same
/// `401 bad_credentials` after the same comparison.
///
/// # Errors
/// `bad_credentials`, field errors, storage failures.
pub async fn login(state: &AppState, username: &str, auth_key: &str) -> ApiResult<SignedIn> {
    let username = normalise_username(username).map_err(|_| bad_credentials())?;
    let auth_key = AuthKey::from_bytes(from_b64_array::<32>("auth_key", auth_key)?);
    // Refused while the username is locked, whether or not it exists.
    let backoff = &state.rate_limits.login_backoff;
    backoff.check(&username)?;
    let account = load_account(state, &username)?;
    let stored: [u8; 32] = account
        .as_ref()
        .and_then(|a| a.auth_hash.as_slice().try_into().ok())
        .unwrap_or(DUMMY_AUTH_HASH);
    let matches = auth_key.matches_hash(&stored);
    let account = match account {
        Some(account) if matches => account,
        _ => {
            backoff.failed(&username);
            return Err(bad_credentials());
        }
    };
    backoff.succeeded(&username);

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
    state.store.put(
        RecordKind::Session,
        &token.hash(),
        &to_record(&record)?,
        true,
    )?;
    state.commit().await?;
    Ok(SignedIn {
        token,
        expires_at,
        account,
    })
}

/// Ends `session` (`POST /api/v1/accounts/logout`).
///
/// # Errors
/// Storage failures.
pub async fn logout(state: &AppState, session: &Session) -> ApiResult<()> {
    state.store.take(RecordKind::Session, &session.token_hash)?;
    state.commit().await
}

/// Ends every session of `session`'s account, `session` included ("Sign out everywhere",
/// `POST /api/v1/accounts/logout-everywhere`): the account's credential generation goes up
/// in one write, which outdates every session made before it (see [`session`]), then the
/// outdated records are removed.
///
/// # Errors
/// Storage failures.
pub async fn logout_everywhere(state: &AppState, mut session: Session) -> ApiResult<()> {
    let account = &mut session.account;
    account.generation += 1;
    account.updated_at = now();
    state.store.put(
        RecordKind::Account,
        &account_key(&account.username),
        &to_record(&*account)?,
        false,
    )?;
    remove_stale_sessions(state, &account.account_id, account.generation)?;
    state.commit().await?;
    tracing::info!(account = %account.account_id, "every session ended");
    Ok(())
}

/// Removes the sessions of `account_id` older than `generation`, and expired ones of anyone.
fn remove_stale_sessions(state: &AppState, account_id: &str, generation: u64) -> ApiResult<()> {
    let time = now();
    for (key, value) in state.store.scan(RecordKind::Session, &[])? {
        let stale = serde_json::from_slice::<SessionRecord>(&value).map_or(true, |s| {
            time >= s.expires_at || (s.account_id == account_id && s.generation != generation)
        });
        if stale {
            state.store.take(RecordKind::Session, &key)?;
        }
    }
    Ok(())
}

// ---- password change ----

/// A password change as sent (`PUT /api/v1/accounts/keyring`): byte fields in base64url.
pub struct PasswordChange<'a> {
    /// The CURRENT `auth_key` (32 bytes): a session alone cannot change the password, so a
    /// stolen session cannot replace (and so destroy) the account's keyring.
    pub current_auth_key: &'a str,
    /// The new Argon2id salt (16 bytes).
    pub salt: &'a str,
    /// The new Argon2id parameters.
    pub argon2: Argon2ParamsBody,
    /// The new `auth_key` (32 bytes).
    pub auth_key: &'a str,
    /// The keyring sealed under the new keyring key.
    pub keyring: &'a str,
}

/// Password change: replaces the salt, parameters, auth hash and keyring in one write and
/// revokes every other session of the account (`session` stays valid).
///
/// # Errors
/// `bad_credentials` if the current key is wrong; field errors; storage failures.
pub async fn change_password(
    state: &AppState,
    mut session: Session,
    change: &PasswordChange<'_>,
) -> ApiResult<()> {
    let current = AuthKey::from_bytes(from_b64_array::<32>(
        "current_auth_key",
        change.current_auth_key,
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
    let credentials = check_credentials(
        &state.limits.argon2_floor,
        change.salt,
        change.argon2,
        change.auth_key,
        change.keyring,
    )?;
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
        &to_record(&*account)?,
        false,
    )?;
    session.record.generation = account.generation;
    state.store.put(
        RecordKind::Session,
        &session.token_hash,
        &to_record(&session.record)?,
        false,
    )?;
    // Housekeeping: remove the revoked sessions (and any expired ones) now.
    remove_stale_sessions(state, &account.account_id, account.generation)?;
    state.commit().await?;
    tracing::info!(account = %account.account_id, "password changed; other sessions revoked");
    Ok(())
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
    fn argon2_bounds() {
        let cheap = Argon2Params::TEST_ONLY_CHEAP;
        assert!(check_argon2(cheap.into(), &cheap).is_ok());
        assert!(check_argon2(Argon2Params::DEFAULT.into(), &cheap).is_ok());
        assert!(check_argon2(Argon2Params::MAX.into(), &cheap).is_ok());
        let mut weak: Argon2ParamsBody = cheap.into();
        weak.memory_kib -= 1;
        assert!(check_argon2(weak, &cheap).is_err());
        let mut huge: Argon2ParamsBody = Argon2Params::MAX.into();
        huge.parallelism += 1;
        assert!(check_argon2(huge, &cheap).is_err());
        // The default floor is the documented parameters: the cheap ones are refused.
        let floor = crate::state::Limits::default().argon2_floor;
        assert_eq!(floor, Argon2Params::DEFAULT);
        assert!(check_argon2(cheap.into(), &floor).is_err());
        assert!(check_argon2(Argon2Params::DEFAULT.into(), &floor).is_ok());
    }

    /// Account records stored before the wire types (`argon2` as `{"memory_kib",
    /// "iterations", "parallelism"}`) still read, and are written back the same.
    #[test]
    fn stored_account_records_stay_readable() {
        let stored = r#"{"account_id":"00112233445566778899aabbccddeeff","username":"alice","salt":"AAAAAAAAAAAAAAAAAAAAAA","argon2":{"memory_kib":65536,"iterations":3,"parallelism":1},"auth_hash":"AQ","keyring":"Ag","identity":"Aw","generation":2,"created_at":10,"updated_at":20}"#;
        let record: AccountRecord = from_record(stored.as_bytes(), RECORDS).unwrap();
        assert_eq!(Argon2Params::from(record.argon2), Argon2Params::DEFAULT);
        assert_eq!(record.salt, vec![0; 16]);
        assert_eq!(record.identity, vec![3]);
        assert_eq!(to_record(&record).unwrap(), stored.as_bytes());
    }
}
