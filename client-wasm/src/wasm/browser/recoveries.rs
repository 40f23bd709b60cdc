//! Recovery in the panel ("resend access link", PROTOCOL.md §11.1): the pending claims, each
//! verified here with the address check, their approval (an endorse message and wraps) and
//! refusal.

use js_sys::Promise;
use sealdesk_crypto::system_rng;
use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::admin::AdminHandle;
use super::bridge::{FetchTransport, promise, to_js};
use crate::error::{ClientError, Result};
use crate::recovery;
use crate::wasm::input::parse_ticket_id;

/// A pending recovery claim as the panel shows it.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
pub struct RecoveryClaimView {
    /// The ticket id (hex).
    pub ticket_id: String,
    /// The claimed key id (base64url).
    pub key_id: String,
    /// Its fingerprint, computed here.
    pub fingerprint: String,
    /// The address of the request.
    pub email: String,
    /// Whether it is the address the reporter typed in the first message: `true`, `false`, or
    /// `null` when the first message has none or could not be read.
    pub email_matches: Option<bool>,
    /// Unix seconds.
    pub claimed_at: u64,
}

/// The pending recovery claims, oldest first, each checked here: its signature (claims that
/// fail are left out) and, decrypting the ticket's first message, whether the address typed
/// there is the request's. Resolves to `RecoveryClaimView[]`.
#[wasm_bindgen(unchecked_return_type = "Promise<RecoveryClaimView[]>")]
pub fn recoveries(admin: &AdminHandle) -> Promise {
    let core = admin.core();
    promise(async move {
        let mut role = core.state.acquire().await;
        let admin = role.admin_mut()?;
        let claims = admin.recoveries(&core.transport).await?;
        let mut views = Vec::new();
        for claim in claims {
            let email_matches = match admin.read_ticket(&core.transport, claim.ticket_id).await {
                Ok(ticket) => claim.email_matches(&ticket),
                Err(_) => None,
            };
            views.push(RecoveryClaimView {
                ticket_id: claim.ticket_id.to_hex(),
                key_id: crate::wasm::input::key_id_text(&claim.key_id()),
                fingerprint: claim.fingerprint.clone(),
                email: claim.email.clone(),
                email_matches,
                claimed_at: claim.claimed_at,
            });
        }
        core.pin.borrow_mut().accept(admin.directory())?;
        to_js(&views)
    })
}

/// The pending claim of `key_id` on `ticket_id`, as the server lists it now.
async fn find_claim(
    transport: &FetchTransport,
    admin: &crate::admin::Admin,
    ticket_id: &str,
    key_id: &str,
) -> Result<recovery::PendingClaim> {
    let id = parse_ticket_id(ticket_id)?;
    let key_id = crate::wasm::input::parse_key_id(key_id)?;
    admin
        .recoveries(transport)
        .await?
        .into_iter()
        .find(|c| c.ticket_id == id && c.key_id() == key_id)
        .ok_or_else(|| {
            ClientError::new(
                "recovery.not_pending",
                "This recovery is no longer waiting.",
            )
        })
}

/// Approves a recovery: posts the endorse message for the claimed key (everyone in the
/// conversation sees it) with the keys of the conversation, then lets its browser in.
/// Resolves to the number of keys wrapped for it.
#[wasm_bindgen(js_name = approveRecovery, unchecked_return_type = "Promise<number>")]
pub fn approve_recovery(admin: &AdminHandle, ticket_id: String, key_id: String) -> Promise {
    let core = admin.core();
    promise(async move {
        let mut role = core.state.acquire().await;
        let admin = role.admin_mut()?;
        let claim = find_claim(&core.transport, admin, &ticket_id, &key_id).await?;
        let mut ticket = admin.read_ticket(&core.transport, claim.ticket_id).await?;
        let stored = admin
            .approve_recovery(&core.transport, &mut ticket, &claim, &mut system_rng())
            .await?;
        core.pin.borrow_mut().accept(admin.directory())?;
        Ok((stored as f64).into())
    })
}

/// Declines a recovery. Resolves to `undefined`.
#[wasm_bindgen(js_name = declineRecovery, unchecked_return_type = "Promise<void>")]
pub fn decline_recovery(admin: &AdminHandle, ticket_id: String, key_id: String) -> Promise {
    let core = admin.core();
    promise(async move {
        let mut role = core.state.acquire().await;
        let admin = role.admin_mut()?;
        let claim = find_claim(&core.transport, admin, &ticket_id, &key_id).await?;
        admin.decline_recovery(&core.transport, &claim).await?;
        Ok(JsValue::UNDEFINED)
    })
}
