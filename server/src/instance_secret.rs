//! The per-instance secret: 32 random bytes drawn on first use and stored as the setting
//! `prelogin-secret`. It keys the fake pre-login salts of unknown usernames and the email
//! lookup keys of tickets (spec/API.md); the keyed functions themselves are
//! `sealdesk_crypto`'s ([`sealdesk_crypto::email_lookup`], [`sealdesk_crypto::prelogin_salt`]).

use sealdesk_crypto::{INSTANCE_SECRET_LEN, SALT_LEN};

use crate::error::ApiResult;
use crate::random;
use crate::state::AppState;
use crate::storage::{RecordKind, StoreError};

/// Name of the setting that holds the per-instance secret.
const SETTING: &[u8] = b"prelogin-secret";

/// The per-instance secret, drawn and stored (durably) on first use.
///
/// # Errors
/// Storage failures.
pub async fn instance_secret(state: &AppState) -> ApiResult<[u8; INSTANCE_SECRET_LEN]> {
    let stored = match state.store.get(RecordKind::Setting, SETTING)? {
        Some(bytes) => bytes,
        None => {
            let fresh: [u8; INSTANCE_SECRET_LEN] = random::bytes();
            match state.store.put(RecordKind::Setting, SETTING, &fresh, true) {
                // Durable before any fake salt derived from it is answered.
                Ok(()) => state.commit().await.map(|()| fresh.to_vec())?,
                // Another request stored one first: use that.
                Err(StoreError::Conflict(_)) => state
                    .store
                    .get(RecordKind::Setting, SETTING)?
                    .unwrap_or_default(),
                Err(other) => return Err(other.into()),
            }
        }
    };
    stored
        .try_into()
        .map_err(|_| StoreError::Backend("the pre-login secret is not 32 bytes".into()).into())
}

/// The key under which a ticket's notification address is recognised, without storing the
/// address ([`sealdesk_crypto::email_lookup`] under the instance secret). "Resend access link"
/// compares the address a reporter types with it.
///
/// # Errors
/// Storage failures (creating the instance secret on first use).
pub async fn email_lookup(state: &AppState, email: &str) -> ApiResult<[u8; 32]> {
    Ok(sealdesk_crypto::email_lookup(
        &instance_secret(state).await?,
        email,
    ))
}

/// The fake Argon2id salt of an unknown (normalised) username, stable per username
/// ([`sealdesk_crypto::prelogin_salt`] under the instance secret).
///
/// # Errors
/// Storage failures (creating the instance secret on first use).
pub async fn prelogin_salt(state: &AppState, username: &str) -> ApiResult<[u8; SALT_LEN]> {
    Ok(sealdesk_crypto::prelogin_salt(
        &instance_secret(state).await?,
        username,
    ))
}
