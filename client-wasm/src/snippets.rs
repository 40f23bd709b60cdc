//! Canned replies: the team key and the administrators' snippets (PROTOCOL.md §18, API.md
//! "Team key and snippets"). An [`Admin`] reads the team key's epochs, opens a new one when an
//! administrator was removed since the current one opened (or when there is none), shares the
//! keys it holds with administrators who lack them, and reads, writes and deletes snippets,
//! verifying each (signer an administrator at the verified head, signature, id, epoch) before
//! decrypting it. [`fill_placeholders`] turns a snippet's body into reply text.

use sealdesk_crypto::{
    CryptoRng, KeyId, Snippet, SnippetContent, SnippetId, TeamKey, TeamWrap, TeamWrapContext,
};
use sealdesk_wire::snippets::{PutSnippetBody, SnippetsAnswer, TeamKeysAnswer, TeamWrapsBody};

use crate::admin::Admin;
use crate::error::{ClientError, Result};
use crate::transport::{Request, Transport};
use crate::util::{b64, unb64, unb64_array};

/// How often opening a team epoch is retried when another administrator took the number.
const EPOCH_ATTEMPTS: usize = 3;

/// The team keys this administrator holds, verified (§18.2) and opened.
#[derive(Debug, Default)]
pub struct TeamKeys {
    /// Team key by epoch, lowest first (a list: a map's code costs the module's size budget).
    keys: Vec<(u32, TeamKey)>,
    /// The epoch new snippets are encrypted under, if one is writable at the verified head.
    writable: Option<u32>,
    /// The server's listing: each epoch's `opened_at` and recipients.
    listing: Vec<(u32, u64, Vec<KeyId>)>,
}

impl TeamKeys {
    /// The epoch new snippets go under, if any is writable.
    pub fn writable_epoch(&self) -> Option<u32> {
        self.writable
    }

    /// The key of `epoch`, if held.
    pub fn key(&self, epoch: u32) -> Option<&TeamKey> {
        self.keys
            .iter()
            .find(|(e, _)| *e == epoch)
            .map(|(_, key)| key)
    }

    /// The epochs whose keys this administrator holds, lowest first.
    pub fn epochs(&self) -> Vec<u32> {
        self.keys.iter().map(|(e, _)| *e).collect()
    }
}

/// A snippet read from the server: verified and decrypted, or refused with the reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CannedReply {
    /// The snippet id.
    pub id: SnippetId,
    /// Key id of the administrator who wrote this version (as the snippet says; trusted only
    /// when `content` is `Ok`).
    pub signer: KeyId,
    /// When the server stored this version, Unix seconds (the server's claim).
    pub updated_at: u64,
    /// The title and body, or why the snippet is not trusted (`snippet.*`,
    /// `decryption_failed`, ...).
    pub content: core::result::Result<SnippetContent, ClientError>,
}

/// The values of the placeholders of PROTOCOL.md §18.4; `None` leaves a placeholder as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Placeholders {
    /// `{reporter_name}`: the `name` of the ticket's first message.
    pub reporter_name: Option<String>,
    /// `{ticket_ref}`: the first 8 hexadecimal characters of the ticket id.
    pub ticket_ref: Option<String>,
    /// `{admin_name}`: the inserting administrator's username.
    pub admin_name: Option<String>,
}

/// Replaces the placeholders of `body` (PROTOCOL.md §18.4): each occurrence literally, left to
/// right, the replacement not scanned again; unknown values and other braces stay as they are.
pub fn fill_placeholders(body: &str, values: &Placeholders) -> String {
    let table = [
        ("{reporter_name}", values.reporter_name.as_deref()),
        ("{ticket_ref}", values.ticket_ref.as_deref()),
        ("{admin_name}", values.admin_name.as_deref()),
    ];
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    'scan: while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        for (name, value) in table {
            if let (true, Some(value)) = (tail.starts_with(name), value) {
                out.push_str(value);
                rest = &tail[name.len()..];
                continue 'scan;
            }
        }
        out.push('{');
        rest = &tail[1..];
    }
    out.push_str(rest);
    out
}

fn key_id_of(text: &str) -> Result<KeyId> {
    Ok(KeyId(unb64_array(text, "the team keys")?))
}

fn snippet_path(id: &SnippetId) -> String {
    format!("/api/v1/admin/snippets/{}", hex::encode(id.0))
}

impl Admin {
    /// The team keys this administrator holds, after re-reading the directory: every wrap
    /// addressed to it verified (§18.2) and opened, and the epoch it may write under.
    ///
    /// # Errors
    /// `team_key.*` for a wrap that fails verification (the server gave a bad one),
    /// `directory.*`, `admin.not_an_administrator`, `server.*`, `network`, `bad_response`.
    pub async fn team_keys<T: Transport>(&mut self, transport: &T) -> Result<TeamKeys> {
        self.refresh_directory(transport).await?;
        let answer: TeamKeysAnswer = transport
            .send(Request::get("/api/v1/admin/team-keys").bearer(Some(self.account().session())))
            .await?
            .json("the team keys")?;
        let me = self.account().identity();
        let mut keys = TeamKeys::default();
        let mut writable: Option<(u32, bool)> = None;
        for encoded in &answer.wraps {
            let wrap = TeamWrap::from_bytes(&unb64(encoded, "the team keys")?)?;
            wrap.verify(self.directory())?;
            let epoch = wrap.context.epoch;
            let key = wrap.open(me)?;
            match keys.keys.iter_mut().find(|(e, _)| *e == epoch) {
                Some(slot) => slot.1 = key,
                None => keys.keys.push((epoch, key)),
            }
            if writable.is_none_or(|(highest, _)| epoch > highest) {
                writable = Some((epoch, wrap.writable_at(self.directory())));
            }
        }
        keys.writable = writable.and_then(|(epoch, ok)| ok.then_some(epoch));
        for epoch in &answer.epochs {
            let recipients = epoch
                .recipients
                .iter()
                .map(|r| key_id_of(r))
                .collect::<Result<Vec<_>>>()?;
            keys.listing
                .push((epoch.epoch, epoch.opened_at, recipients));
        }
        // A writable epoch must be the newest the server lists, or the next write would be
        // under an older key than another administrator's.
        let newest = keys.listing.iter().map(|(e, _, _)| *e).max();
        if keys.writable.is_some() && keys.writable != newest {
            keys.writable = None;
        }
        Ok(keys)
    }

    /// The epoch and key to encrypt new snippets under: the writable one, or a new epoch
    /// opened at the verified head for exactly its administrators (§18.1, §18.2 "Writing"),
    /// retried when another administrator took the number. Then wraps, as history, every
    /// epoch held for each current administrator the server lists without one.
    /// Draws the key and HPKE randomness from `rng`.
    ///
    /// # Errors
    /// As [`Admin::team_keys`]; `server.epoch_taken` after repeated races.
    pub async fn writable_team_key<T: Transport>(
        &mut self,
        transport: &T,
        rng: &mut impl CryptoRng,
    ) -> Result<(u32, TeamKey, TeamKeys)> {
        let mut attempt = 0;
        loop {
            let keys = self.team_keys(transport).await?;
            if let Some(epoch) = keys.writable {
                let key = keys.key(epoch).cloned();
                if let Some(key) = key {
                    self.share_team_history(transport, &keys, rng).await?;
                    return Ok((epoch, key, keys));
                }
            }
            attempt += 1;
            match self.open_team_epoch(transport, &keys, rng).await {
                Err(error) if error.is_conflict() && attempt < EPOCH_ATTEMPTS => continue,
                Err(error) => return Err(error),
                Ok(()) => {}
            }
        }
    }

    /// Opens the next team epoch at the verified head, wrapped for every current
    /// administrator (§18.1).
    async fn open_team_epoch<T: Transport>(
        &self,
        transport: &T,
        keys: &TeamKeys,
        rng: &mut impl CryptoRng,
    ) -> Result<()> {
        let epoch = keys
            .listing
            .iter()
            .map(|(e, _, _)| e.saturating_add(1))
            .max()
            .unwrap_or(0);
        let head = self.directory().head_seq();
        let key = TeamKey::generate(rng);
        let me = self.account().identity();
        let mut wraps = Vec::new();
        for admin in self.directory().current_admins() {
            let context = TeamWrapContext {
                epoch,
                opened_at: head,
                dir_seq: head,
                recipient: admin.key_id(),
                wrapper: me.key_id(),
            };
            wraps.push(b64(
                &TeamWrap::seal(me, admin, context, &key, rng)?.to_bytes()
            ));
        }
        self.post_team_wraps(transport, wraps).await
    }

    /// Wraps each held epoch for each current administrator the listing shows without a wrap
    /// of it (with the epoch's `opened_at` and `dir_seq` at the verified head).
    async fn share_team_history<T: Transport>(
        &self,
        transport: &T,
        keys: &TeamKeys,
        rng: &mut impl CryptoRng,
    ) -> Result<()> {
        let head = self.directory().head_seq();
        let me = self.account().identity();
        let mut wraps = Vec::new();
        for (epoch, opened_at, recipients) in &keys.listing {
            let Some(key) = keys.key(*epoch) else {
                continue;
            };
            for admin in self.directory().current_admins() {
                if recipients.contains(&admin.key_id()) {
                    continue;
                }
                let context = TeamWrapContext {
                    epoch: *epoch,
                    opened_at: *opened_at,
                    dir_seq: head,
                    recipient: admin.key_id(),
                    wrapper: me.key_id(),
                };
                wraps.push(b64(
                    &TeamWrap::seal(me, admin, context, key, rng)?.to_bytes()
                ));
            }
        }
        for batch in wraps.chunks(64) {
            self.post_team_wraps(transport, batch.to_vec()).await?;
        }
        Ok(())
    }

    async fn post_team_wraps<T: Transport>(&self, transport: &T, wraps: Vec<String>) -> Result<()> {
        transport
            .send(
                Request::post_json("/api/v1/admin/team-keys", &TeamWrapsBody { wraps })?
                    .bearer(Some(self.account().session())),
            )
            .await?
            .check()
    }

    /// After a removal: opens a new team epoch unless the current one opened after the last
    /// removal of the verified directory (§18.2, "Removing an administrator"). Returns whether
    /// it opened one. Draws from `rng`.
    ///
    /// # Errors
    /// As [`Admin::writable_team_key`].
    pub async fn rotate_team_key<T: Transport>(
        &mut self,
        transport: &T,
        rng: &mut impl CryptoRng,
    ) -> Result<bool> {
        let keys = self.team_keys(transport).await?;
        if keys.listing.is_empty() || keys.writable.is_some() {
            return Ok(false);
        }
        self.writable_team_key(transport, rng).await?;
        Ok(true)
    }

    /// Every snippet, verified (§18.3) and decrypted with the team keys held; a snippet that
    /// fails is listed with its error, not its content. In the server's order (by id).
    ///
    /// # Errors
    /// As [`Admin::team_keys`]; `server.*`, `network`, `bad_response` for the listing.
    pub async fn canned_replies<T: Transport>(
        &mut self,
        transport: &T,
    ) -> Result<Vec<CannedReply>> {
        let keys = self.team_keys(transport).await?;
        let answer: SnippetsAnswer = transport
            .send(Request::get("/api/v1/admin/snippets").bearer(Some(self.account().session())))
            .await?
            .json("the snippets")?;
        let mut replies = Vec::with_capacity(answer.snippets.len());
        for item in &answer.snippets {
            let bytes: [u8; 16] = hex::decode(&item.id)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| ClientError::bad_response("the snippets"))?;
            let id = SnippetId(bytes);
            let (signer, content) =
                match Snippet::from_bytes(&unb64(&item.snippet, "the snippets")?) {
                    Ok(snippet) => (
                        snippet.header.signer,
                        self.read_snippet(&snippet, &id, &keys),
                    ),
                    Err(error) => (KeyId([0; 32]), Err(error.into())),
                };
            replies.push(CannedReply {
                id,
                signer,
                updated_at: item.updated_at,
                content,
            });
        }
        // In the server's order (by id): the pages sort by title with the reader's collation,
        // and the module stays free of Unicode case tables (its size budget).
        Ok(replies)
    }

    /// §18.3 reading, steps 1 to 5.
    fn read_snippet(
        &self,
        snippet: &Snippet,
        id: &SnippetId,
        keys: &TeamKeys,
    ) -> core::result::Result<SnippetContent, ClientError> {
        snippet.verify(id, self.directory())?;
        let key = keys.key(snippet.header.epoch).ok_or_else(|| {
            ClientError::from(sealdesk_crypto::Error::Snippet(
                sealdesk_crypto::Fault::BadEpoch,
            ))
        })?;
        Ok(snippet.open(key)?)
    }

    /// Creates (`id` `None`: a fresh random id) or replaces a snippet, encrypted under the
    /// writable team epoch (opening one if needed) and signed by this administrator. Returns
    /// its id. Draws the id, the salt and any new epoch's randomness from `rng`.
    ///
    /// # Errors
    /// `too_large` / `malformed` for a title or body out of range (1 to 200 and 1 to 8,192
    /// code points); as [`Admin::writable_team_key`]; `server.*`, `network`.
    pub async fn save_canned_reply<T: Transport>(
        &mut self,
        transport: &T,
        id: Option<SnippetId>,
        content: &SnippetContent,
        rng: &mut impl CryptoRng,
    ) -> Result<SnippetId> {
        content.check()?;
        let id = id.unwrap_or_else(|| SnippetId::generate(rng));
        let (epoch, key, _) = self.writable_team_key(transport, rng).await?;
        let snippet = Snippet::seal(self.account().identity(), id, epoch, &key, content, rng)?;
        transport
            .send(
                Request::put_json(
                    snippet_path(&id),
                    &PutSnippetBody {
                        snippet: b64(&snippet.to_bytes()),
                    },
                )?
                .bearer(Some(self.account().session())),
            )
            .await?
            .check()?;
        Ok(id)
    }

    /// Deletes a snippet.
    ///
    /// # Errors
    /// `server.not_found`, `server.*`, `network`.
    pub async fn delete_canned_reply<T: Transport>(
        &self,
        transport: &T,
        id: &SnippetId,
    ) -> Result<()> {
        transport
            .send(Request::delete(snippet_path(id)).bearer(Some(self.account().session())))
            .await?
            .check()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn placeholders_are_filled_literally_and_unknown_ones_stay() {
        let values = Placeholders {
            reporter_name: Some("Dana {admin_name}".into()),
            ticket_ref: Some("0a1b2c3d".into()),
            admin_name: None,
        };
        assert_eq!(
            fill_placeholders(
                "Hi {reporter_name}, ref {ticket_ref} {{x}} {admin_name} {reporter_name}",
                &values
            ),
            "Hi Dana {admin_name}, ref 0a1b2c3d {{x}} {admin_name} Dana {admin_name}"
        );
        assert_eq!(fill_placeholders("é{", &values), "é{");
        assert_eq!(fill_placeholders("", &values), "");
    }
}
