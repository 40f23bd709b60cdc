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
    write_invite(data_dir, &format!("{hash}.json"), &hash, ttl_seconds)?;
    Ok(token.to_base64url())
}

/// The file, in the data directory, that holds the link of the outstanding first-administrator
/// invite (mode 0600), for an operator who did not keep the standard output.
pub const FIRST_INVITE_FILE: &str = "first-invite.txt";

/// The record of the one first-administrator invite, in `DATA_DIR/invites/`.
const FIRST_INVITE_RECORD: &str = "first.json";

/// Creates THE first-administrator invite, valid for `ttl_seconds`, replacing (and so
/// revoking) any earlier one: at most one is outstanding. Writes `link_of(token)` to
/// [`FIRST_INVITE_FILE`] (mode 0600) and returns the link. The invite is redeemable only for
/// the genesis entry ([`take_first_invite`]).
///
/// # Errors
/// An I/O error writing the data directory.
pub fn create_first_invite(
    data_dir: &Path,
    ttl_seconds: u64,
    link_of: impl Fn(&str) -> String,
) -> std::io::Result<String> {
    let token = AccessToken::generate(&mut system_rng());
    let hash = hex::encode(token.hash());
    write_invite(data_dir, FIRST_INVITE_RECORD, &hash, ttl_seconds)?;
    let link = link_of(&token.to_base64url());
    write_private(data_dir, FIRST_INVITE_FILE, format!("{link}\n").as_bytes())?;
    Ok(link)
}

/// Consumes the first-administrator invite: true if `token` is the outstanding, unexpired one.
/// Its record and [`FIRST_INVITE_FILE`] are removed.
pub fn take_first_invite(data_dir: &Path, token: &AccessToken) -> bool {
    let path = invites_dir(data_dir).join(FIRST_INVITE_RECORD);
    let Ok(text) = std::fs::read(&path) else {
        return false;
    };
    let hash = hex::encode(token.hash());
    let valid = serde_json::from_slice::<InviteRecord>(&text)
        .is_ok_and(|record| record.token_hash == hash && record.expires_at >= now());
    // Removing first makes redemption single-use even under concurrent requests.
    if !valid || std::fs::remove_file(&path).is_err() {
        return false;
    }
    let _ = std::fs::remove_file(data_dir.join(FIRST_INVITE_FILE));
    true
}

/// Removes the first-administrator invite, if any (once an administrator exists).
pub fn remove_first_invite(data_dir: &Path) {
    let _ = std::fs::remove_file(invites_dir(data_dir).join(FIRST_INVITE_RECORD));
    let _ = std::fs::remove_file(data_dir.join(FIRST_INVITE_FILE));
}

/// Writes an invite record named `name` in `DATA_DIR/invites/`.
fn write_invite(
    data_dir: &Path,
    name: &str,
    token_hash: &str,
    ttl_seconds: u64,
) -> std::io::Result<()> {
    let dir = invites_dir(data_dir);
    crate::storage::permissions::create_private_dir(&dir)?;
    let created_at = now();
    let record = InviteRecord {
        token_hash: token_hash.to_owned(),
        created_at,
        expires_at: created_at.saturating_add(ttl_seconds),
    };
    let text = serde_json::to_vec(&record).map_err(std::io::Error::other)?;
    write_private(&dir, name, &text)
}

/// Writes `bytes` to `dir/name` (mode 0600) through a temporary file, durably.
fn write_private(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let path = dir.join(name);
    let tmp = dir.join(format!("{name}.tmp"));
    {
        use std::io::Write;
        let mut file = crate::storage::permissions::create_private_file(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, &path)?;
    if let Ok(dir_handle) = std::fs::File::open(dir) {
        // Make the rename durable too (best effort on platforms without directory fsync).
        let _ = dir_handle.sync_all();
    }
    Ok(())
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
