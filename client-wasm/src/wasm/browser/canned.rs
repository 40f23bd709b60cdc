//! Canned replies in the panel (PROTOCOL.md §18): listing, saving and deleting the team's
//! snippets, and filling a snippet's placeholders for the composer. The rules are
//! [`crate::snippets`]'s.

use js_sys::Promise;
use sealdesk_crypto::{SnippetContent, SnippetId, system_rng};
use serde::{Deserialize, Serialize};
use tsify::{Ts, Tsify};
use wasm_bindgen::prelude::*;

use super::admin::AdminHandle;
use super::bridge::{from_js, js_error, promise, to_js};
use crate::error::{ClientError, Result};
use crate::snippets::{CannedReply, Placeholders, fill_placeholders};
use crate::wasm::input::key_id_text;

/// A canned reply as the panel shows it. `title` and `body` are empty and `error` set when the
/// snippet failed verification or cannot be read (`snippet.not_a_member` for one written by an
/// administrator removed since, `snippet.bad_signature`, `decryption_failed`, ...).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Tsify)]
pub struct CannedReplyView {
    /// 32 hexadecimal characters.
    pub id: String,
    /// The title.
    pub title: String,
    /// The body, with its placeholders.
    pub body: String,
    /// Key id (base64url) of the administrator who wrote this version.
    pub signer: String,
    /// When the server stored this version, Unix seconds (the server's claim).
    pub updated_at: u64,
    /// The stable error code when the snippet is not trusted, else `null`.
    pub error: Option<String>,
}

fn view(reply: &CannedReply) -> CannedReplyView {
    let (title, body, error) = match &reply.content {
        Ok(content) => (content.title.clone(), content.body.clone(), None),
        Err(error) => (String::new(), String::new(), Some(error.code.clone())),
    };
    CannedReplyView {
        id: hex::encode(reply.id.0),
        title,
        body,
        signer: key_id_text(&reply.signer),
        updated_at: reply.updated_at,
        error,
    }
}

/// The values of `fillPlaceholders`; a missing or `null` value leaves its placeholder.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Tsify)]
pub struct PlaceholderValues {
    /// `{reporter_name}`: the name the reporter typed in the first message.
    #[serde(default)]
    #[tsify(optional)]
    pub reporter_name: Option<String>,
    /// `{ticket_ref}`: the first 8 hexadecimal characters of the ticket id.
    #[serde(default)]
    #[tsify(optional)]
    pub ticket_ref: Option<String>,
    /// `{admin_name}`: the inserting administrator's username.
    #[serde(default)]
    #[tsify(optional)]
    pub admin_name: Option<String>,
}

fn snippet_id(text: &str) -> Result<SnippetId> {
    hex::decode(text)
        .ok()
        .filter(|_| text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .and_then(|b| b.try_into().ok())
        .map(SnippetId)
        .ok_or_else(|| {
            ClientError::new(
                "input.invalid",
                "A canned reply id is 32 lowercase hexadecimal characters.",
            )
        })
}

/// Every canned reply, each verified and decrypted (or listed with its error), by title.
#[wasm_bindgen(js_name = cannedReplies, unchecked_return_type = "Promise<CannedReplyView[]>")]
pub fn canned_replies(admin: &AdminHandle) -> Promise {
    let core = admin.core();
    promise(async move {
        let mut role = core.state.acquire().await;
        let admin = role.admin_mut()?;
        let replies = admin.canned_replies(&core.transport).await?;
        core.pin.borrow_mut().accept(admin.directory())?;
        to_js(&replies.iter().map(view).collect::<Vec<_>>())
    })
}

/// Creates (`id` null) or replaces a canned reply: `title` 1 to 200 and `body` 1 to 8,192
/// characters (`too_large`, `malformed`). Encrypted under the team key (a new epoch is opened
/// when an administrator was removed since the current one). Resolves to its id.
#[wasm_bindgen(js_name = saveCannedReply, unchecked_return_type = "Promise<string>")]
pub fn save_canned_reply(
    admin: &AdminHandle,
    id: Option<String>,
    title: String,
    body: String,
) -> Promise {
    let core = admin.core();
    promise(async move {
        let id = id.as_deref().map(snippet_id).transpose()?;
        let content = SnippetContent { title, body };
        let mut role = core.state.acquire().await;
        let admin = role.admin_mut()?;
        let id = admin
            .save_canned_reply(&core.transport, id, &content, &mut system_rng())
            .await?;
        core.pin.borrow_mut().accept(admin.directory())?;
        Ok(JsValue::from_str(&hex::encode(id.0)))
    })
}

/// Deletes a canned reply. Resolves to `undefined`.
#[wasm_bindgen(js_name = deleteCannedReply, unchecked_return_type = "Promise<void>")]
pub fn delete_canned_reply(admin: &AdminHandle, id: String) -> Promise {
    let core = admin.core();
    promise(async move {
        let id = snippet_id(&id)?;
        let mut role = core.state.acquire().await;
        role.admin_mut()?
            .delete_canned_reply(&core.transport, &id)
            .await?;
        Ok(JsValue::UNDEFINED)
    })
}

/// A canned reply's body with its placeholders filled (PROTOCOL.md §18.4); a placeholder
/// whose value is missing stays as it is.
///
/// # Errors
/// `input.invalid` for values that are not `{reporter_name?, ticket_ref?, admin_name?}`.
#[wasm_bindgen(js_name = fillPlaceholders)]
pub fn fill_placeholders_js(
    body: String,
    values: Ts<PlaceholderValues>,
) -> core::result::Result<String, JsValue> {
    let values: PlaceholderValues = from_js(&values, "the placeholders").map_err(js_error)?;
    Ok(fill_placeholders(
        &body,
        &Placeholders {
            reporter_name: values.reporter_name,
            ticket_ref: values.ticket_ref,
            admin_name: values.admin_name,
        },
    ))
}
