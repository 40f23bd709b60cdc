//! Verified ticket state kept between commands (PROTOCOL.md §10.4), so that a server that
//! drops the last messages of a conversation, or serves another branch of it, between two
//! commands is caught as tampering (`transcript.unexpected_seq`, `transcript.broken_link`).
//!
//! - A reporter keeps one file per ticket, `~/.config/sealdesk/tickets/<ticket id>.state`
//!   (or `--state FILE`).
//! - An administrator keeps one file beside the keyring (`admin-HOST.keyring` →
//!   `admin-HOST.state`) with the state of every ticket it read.
//!
//! Both are JSON, written atomically with mode 0600; the state itself is the client's opaque
//! bytes (`sealdesk_client::kept`), base64url. A state is replaced only by the state of a
//! conversation that verified against it, never by a shorter or forked one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sealdesk_crypto::TicketId;
use sealdesk_wire::b64;
use serde::{Deserialize, Serialize};

use crate::failure::Failure;
use crate::files::write_private;
use crate::keyring::config_dir;

const REPORTER_FORMAT: &str = "sealdesk-ticket-state/1";
const ADMIN_FORMAT: &str = "sealdesk-admin-state/1";

/// A reporter's state file.
#[derive(Serialize, Deserialize)]
struct ReporterFile {
    format: String,
    /// The ticket id, hexadecimal.
    ticket: String,
    /// The kept state, base64url.
    state: String,
}

/// An administrator's state file: the kept state of each ticket (hex id → base64url).
#[derive(Serialize, Deserialize)]
struct AdminFile {
    format: String,
    tickets: BTreeMap<String, String>,
}

fn unreadable(path: &Path, why: impl std::fmt::Display) -> Failure {
    Failure::new(
        "state.unreadable",
        format!(
            "Cannot read the kept ticket state {}: {why}. Move it away to start afresh \
             (a server that rolled the ticket back is then no longer detected).",
            path.display()
        ),
    )
}

fn unwritable(path: &Path, why: impl std::fmt::Display) -> Failure {
    Failure::new(
        "state.write",
        format!(
            "Cannot write the kept ticket state {}: {why}.",
            path.display()
        ),
    )
}

/// Reads `path` as JSON of type `F`, or `None` when there is no such file.
fn read_json<F: for<'de> Deserialize<'de>>(path: &Path) -> Result<Option<F>, Failure> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| unreadable(path, e)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(unreadable(path, error)),
    }
}

fn write_json<F: Serialize>(path: &Path, file: &F) -> Result<(), Failure> {
    let mut bytes = serde_json::to_vec_pretty(file).map_err(|e| unwritable(path, e))?;
    bytes.push(b'\n');
    write_private(path, &bytes, true).map_err(|e| unwritable(path, e))
}

fn unb64(path: &Path, text: &str) -> Result<Vec<u8>, Failure> {
    b64::decode(text).map_err(|_| unreadable(path, "not base64url"))
}

/// The state file of reporter ticket `id`: `chosen` if given, else
/// `~/.config/sealdesk/tickets/<id>.state`, else (no home folder) none: nothing is kept.
pub(crate) fn reporter_path(chosen: Option<&Path>, id: TicketId) -> Option<PathBuf> {
    match chosen {
        Some(path) => Some(path.to_owned()),
        None => config_dir().map(|dir| dir.join("tickets").join(format!("{}.state", id.to_hex()))),
    }
}

/// The kept state of reporter ticket `id` in `path`, if any.
///
/// # Errors
/// `state.unreadable` for a damaged file, or one of another ticket.
pub(crate) fn load_reporter(path: &Path, id: TicketId) -> Result<Option<Vec<u8>>, Failure> {
    let Some(file) = read_json::<ReporterFile>(path)? else {
        return Ok(None);
    };
    if file.format != REPORTER_FORMAT {
        return Err(unreadable(
            path,
            format!("unknown format {:?}", file.format),
        ));
    }
    if file.ticket != id.to_hex() {
        return Err(unreadable(path, "it is the state of another ticket"));
    }
    unb64(path, &file.state).map(Some)
}

/// Keeps `state` ([`sealdesk_client::reporter::ReporterTicket::state_bytes`]) of ticket `id`
/// in `path`.
///
/// # Errors
/// `state.write`.
pub(crate) fn save_reporter(path: &Path, id: TicketId, state: &[u8]) -> Result<(), Failure> {
    let file = ReporterFile {
        format: REPORTER_FORMAT.to_owned(),
        ticket: id.to_hex(),
        state: b64::encode(state),
    };
    write_json(path, &file)
}

/// The kept states of an administrator's tickets, beside its keyring.
pub(crate) struct AdminStates {
    path: PathBuf,
    tickets: BTreeMap<String, String>,
    changed: bool,
}

impl AdminStates {
    /// Reads the states kept beside `keyring` (`X.keyring` → `X.state`); none when there is
    /// no such file yet.
    ///
    /// # Errors
    /// `state.unreadable`.
    pub(crate) fn load(keyring: &Path) -> Result<AdminStates, Failure> {
        let path = keyring.with_extension("state");
        let tickets = match read_json::<AdminFile>(&path)? {
            None => BTreeMap::new(),
            Some(file) if file.format == ADMIN_FORMAT => file.tickets,
            Some(file) => {
                return Err(unreadable(
                    &path,
                    format!("unknown format {:?}", file.format),
                ));
            }
        };
        Ok(AdminStates {
            path,
            tickets,
            changed: false,
        })
    }

    /// The kept state of ticket `id`, if any.
    ///
    /// # Errors
    /// `state.unreadable`.
    pub(crate) fn get(&self, id: TicketId) -> Result<Option<Vec<u8>>, Failure> {
        self.tickets
            .get(&id.to_hex())
            .map(|text| unb64(&self.path, text))
            .transpose()
    }

    /// Keeps `state` (verified against the kept one) for ticket `id`.
    pub(crate) fn set(&mut self, id: TicketId, state: &[u8]) {
        let text = b64::encode(state);
        if self.tickets.get(&id.to_hex()) != Some(&text) {
            self.tickets.insert(id.to_hex(), text);
            self.changed = true;
        }
    }

    /// Writes the file if a state changed.
    ///
    /// # Errors
    /// `state.write`.
    pub(crate) fn save(&self) -> Result<(), Failure> {
        if !self.changed {
            return Ok(());
        }
        let file = AdminFile {
            format: ADMIN_FORMAT.to_owned(),
            tickets: self.tickets.clone(),
        };
        write_json(&self.path, &file)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn states_round_trip_and_another_tickets_file_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let id = TicketId([1; 16]);
        let path = dir.path().join("tickets").join("a.state");
        assert_eq!(load_reporter(&path, id), Ok(None));
        save_reporter(&path, id, b"kept").expect("save");
        assert_eq!(load_reporter(&path, id), Ok(Some(b"kept".to_vec())));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let other = load_reporter(&path, TicketId([2; 16])).map_err(|f| f.code);
        assert_eq!(other, Err("state.unreadable".to_owned()));

        let keyring = dir.path().join("admin-host.keyring");
        let mut states = AdminStates::load(&keyring).expect("none yet");
        states.set(id, b"kept");
        states.save().expect("save");
        let states = AdminStates::load(&keyring).expect("load");
        assert_eq!(states.get(id), Ok(Some(b"kept".to_vec())));
        assert!(dir.path().join("admin-host.state").exists());
    }
}
