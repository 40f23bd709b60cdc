//! Administrator invites. An invite is a random 256-bit token; only its hash is stored
//! (PROTOCOL.md §11 `token_hash`). Invites made on the command line (`sealdesk admin invite`)
//! are files in `DATA_DIR/invites/`, one per invite, because the command must work while
//! `sealdesk serve` holds the database lock. Redeeming the first invite creates the genesis
//! entry of the directory log ([`crate::directory::redeem_genesis`]).

use std::path::{Path, PathBuf};

use sealdesk_crypto::{AccessToken, system_rng};
use serde::{Deserialize, Serialize};

use crate::clock::now;

/// A stored invite: what the file (or record) holds.
#[derive(Serialize, Deserialize)]
struct InviteRecord {
    /// Hex of the token hash (also the file name).
    token_hash: String,
    /// Unix seconds.
    created_at: u64,
    /// Unix seconds after which the invite is refused.
    expires_at: u64,
}

/// Creates a command-line invite valid for `ttl_seconds` and returns its token (base64url):
/// the caller prints it inside a URL and never stores it.
///
/// # Errors
/// An I/O error writing `DATA_DIR/invites/`.
pub fn create_cli_invite(data_dir: &Path, ttl_seconds: u64) -> std::io::Result<String> {
    let token = AccessToken::generate(&mut system_rng());
    let hash = hex::encode(token.hash());
    let dir = invites_dir(data_dir);
    crate::storage::permissions::create_private_dir(&dir)?;
    let created_at = now();
    let record = InviteRecord {
        token_hash: hash.clone(),
        created_at,
        expires_at: created_at.saturating_add(ttl_seconds),
    };
    let path = dir.join(format!("{hash}.json"));
    let tmp = dir.join(format!("{hash}.tmp"));
    let text = serde_json::to_vec(&record).map_err(std::io::Error::other)?;
    {
        use std::io::Write;
        let mut file = crate::storage::permissions::create_private_file(&tmp)?;
        file.write_all(&text)?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, &path)?;
    if let Ok(dir_handle) = std::fs::File::open(&dir) {
        // Make the rename durable too (best effort on platforms without directory fsync).
        let _ = dir_handle.sync_all();
    }
    Ok(token.to_base64url())
}

fn invites_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("invites")
}

/// Consumes a command-line invite: true if `token` matches an unexpired invite file, which is
/// removed (a second redemption finds nothing). Expired files are removed on sight.
pub fn take_cli_invite(data_dir: &Path, token: &AccessToken) -> bool {
    let hash = hex::encode(token.hash());
    let path = invites_dir(data_dir).join(format!("{hash}.json"));
    let Ok(text) = std::fs::read(&path) else {
        return false;
    };
    // Removing first makes redemption single-use even under concurrent requests: only one
    // `remove_file` of the same path succeeds.
    if std::fs::remove_file(&path).is_err() {
        return false;
    }
    serde_json::from_slice::<InviteRecord>(&text)
        .is_ok_and(|record| record.token_hash == hash && record.expires_at >= now())
}
