//! The reporter's pin file: the directory head this machine last verified for a server
//! (PROTOCOL.md §7.4), so that `sealdesk ticket ...` refuses a directory that does not extend
//! what it saw before, as the administrator's keyring does.
//!
//! `~/.config/sealdesk/reporter-<host>[-<port>].pin` (or `--pin-file FILE`), mode 0600, JSON:
//! `{"server": "http://host:port", "seq": N, "hash": "<64 hex digits>"}`. Created on first
//! contact (or from the head a link carries), replaced by each newer verified head.

use std::path::{Path, PathBuf};

use sealdesk_client::directory::fetch_verified;
use sealdesk_client::transport::NativeTransport;
use sealdesk_crypto::{Directory, DirectoryHead};
use serde::{Deserialize, Serialize};

use crate::failure::Failure;
use crate::server::Server;
use crate::{files, keyring};

#[derive(Serialize, Deserialize)]
struct PinFile {
    server: String,
    seq: u64,
    hash: String,
}

/// Where the pin of `server` lives: `explicit` if given, else the default in the
/// configuration folder.
///
/// # Errors
/// `config.no_home` (a usage error) when neither is available.
pub(crate) fn locate(explicit: Option<&Path>, server: &Server) -> Result<PathBuf, Failure> {
    if let Some(path) = explicit {
        return Ok(path.to_owned());
    }
    keyring::config_dir()
        .map(|dir| dir.join(format!("reporter-{}.pin", server.label)))
        .ok_or_else(|| {
            Failure::usage(
                "config.no_home",
                "Neither HOME nor XDG_CONFIG_HOME is set: give the pin file with --pin-file FILE.",
            )
        })
}

/// The head kept in `path`, `None` when there is no file yet.
///
/// # Errors
/// `config.bad_pin_file` when the file exists but cannot be read or parsed.
pub(crate) fn load(path: &Path) -> Result<Option<DirectoryHead>, Failure> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(bad_pin(path, &error.to_string())),
    };
    let pin: PinFile =
        serde_json::from_str(&text).map_err(|error| bad_pin(path, &error.to_string()))?;
    let mut hash = [0u8; 32];
    hex::decode_to_slice(&pin.hash, &mut hash)
        .map_err(|error| bad_pin(path, &error.to_string()))?;
    Ok(Some(DirectoryHead { seq: pin.seq, hash }))
}

fn bad_pin(path: &Path, why: &str) -> Failure {
    Failure::usage(
        "config.bad_pin_file",
        format!("The pin file {} cannot be read: {why}.", path.display()),
    )
}

/// Saves `head` for `server` in `path` (atomically, mode 0600, creating the folder).
///
/// # Errors
/// `config.pin_write` when the file cannot be written.
pub(crate) fn save(path: &Path, server: &Server, head: &DirectoryHead) -> Result<(), Failure> {
    let pin = PinFile {
        server: server.base.clone(),
        seq: head.seq,
        hash: hex::encode(head.hash),
    };
    let text = serde_json::to_string_pretty(&pin).unwrap_or_default();
    files::write_private(path, text.as_bytes(), true).map_err(|error| {
        Failure::new(
            "config.pin_write",
            format!(
                "The pin file {} cannot be written: {error}.",
                path.display()
            ),
        )
    })
}

/// Fetches and verifies the directory of `server`, requires that it extends the head kept in
/// the pin file (`pin_file` or the default) and `link_head` (the head a ticket link carries,
/// if any), then keeps its head in the pin file.
///
/// # Errors
/// `directory.rollback` or `directory.fork` for a directory that does not extend a kept head
/// (the pin file is left as it was); the errors of `fetch_verified`; the pin file's.
pub(crate) async fn verified_directory(
    transport: &NativeTransport,
    server: &Server,
    pin_file: Option<&Path>,
    link_head: Option<DirectoryHead>,
) -> Result<Directory, Failure> {
    let path = locate(pin_file, server)?;
    let kept = load(&path)?;
    let directory = fetch_verified(transport, kept.as_ref()).await?;
    if let Some(head) = link_head {
        directory.check_extends(&head)?;
    }
    save(&path, server, &directory.head())?;
    Ok(directory)
}
