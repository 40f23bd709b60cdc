//! Fetching and verifying the administrator directory, pinned to the head this client saw
//! before (PROTOCOL.md §7.4).

use sealdesk_crypto::{Directory, DirectoryHead};
use sealdesk_wire::directory::DirectoryAnswer;

use crate::error::{ClientError, Result};
use crate::transport::{Request, Transport};
use crate::util::unb64;

/// Fetches the whole log, verifies it, and checks that it extends `pinned` (the head this
/// client saw last). The caller then pins the new head.
///
/// # Errors
/// `directory.<fault>`, `directory.rollback`, `directory.fork`, `server.*`, `network`,
/// `bad_response`; `directory.empty` when the instance has no administrator yet.
pub async fn fetch_verified<T: Transport>(
    transport: &T,
    pinned: Option<&DirectoryHead>,
) -> Result<Directory> {
    let answer: DirectoryAnswer = transport
        .send(Request::get("/api/v1/directory"))
        .await?
        .json("the directory")?;
    if answer.entries.is_empty() {
        return Err(match pinned {
            Some(_) => sealdesk_crypto::Error::DirectoryRollback.into(),
            None => ClientError::new("directory.empty", "This instance has no administrator yet."),
        });
    }
    let entries = answer
        .entries
        .iter()
        .map(|e| unb64(e, "the directory"))
        .collect::<Result<Vec<_>>>()?;
    let directory = Directory::verify_encoded(&entries)?;
    if let Some(pinned) = pinned {
        directory.check_extends(pinned)?;
    }
    Ok(directory)
}
