//! The HTTP API as an OpenAPI 3.1 document (spec/API.md is the prose; this is the machine-read
//! form), generated with `utoipa` from the handlers' own body types: the `sealdesk-wire` types,
//! whose `ToSchema`/`IntoParams` derives sealdesk-wire's `openapi` feature turns on (only the
//! server enables it). Served at `GET /api/v1/openapi.json` and written to `spec/openapi.json`,
//! which `tests/openapi.rs` keeps in sync; that test also fails for a route of [`super::router`]
//! the document does not describe.
//!
//! The operations are declared here, in one place, rather than as attributes on the handlers:
//! each declaration names the route's method and path, its authentication, path and query
//! parameters, its body and its success answer. Every error is the JSON [`ErrorBody`]
//! (`{"error", "message"}`, spec/API.md "Errors"), declared as the `default` answer.

use sealdesk_wire::accounts::{
    AccountTicketsAnswer, Argon2ParamsBody, ChangeKeyringBody, LoginAnswer, LoginBody,
    PreloginAnswer, PreloginBody, RegisterBody, Registered,
};
use sealdesk_wire::attachments::{AttachmentDeclared, DeclareAttachmentBody};
use sealdesk_wire::directory::{AppendEntryBody, DirectoryAnswer, DirectoryQuery, HeadBody};
use sealdesk_wire::errors::ErrorBody;
use sealdesk_wire::inbox::{
    AccountTicketsQuery, InboxAnswer, InboxAssigned, InboxCounts, InboxFilter, InboxQuery,
    ListOrder,
};
use sealdesk_wire::invites::{InviteCreated, InviteRedeemed, RedeemGenesisBody, RedeemInviteBody};
use sealdesk_wire::mail::{AccountNotifications, AdminMailPreferences, Unsubscribed};
use sealdesk_wire::pow::{ChallengeAnswer, ChallengeFor, ProofOfWork};
use sealdesk_wire::recovery::{
    PendingRecovery, PendingRecoveryList, RecoveryClaimBody, RecoveryClaimed, RecoveryRequestBody,
    RecoveryRequested, RecoveryStatus,
};
use sealdesk_wire::settings::{Category, ResponseTargets, Settings, SettingsAnswer};
use sealdesk_wire::snippets::{
    PutSnippetBody, SnippetItem, SnippetsAnswer, TeamEpoch, TeamKeysAnswer, TeamWrapsBody,
};
use sealdesk_wire::team::{
    AssignmentBody, HistoryWrapsBody, PendingAdministrator, PendingList, WrapsStored,
};
use sealdesk_wire::tickets::{
    ChainQuery, CreateAccountTicketBody, CreateTicketBody, MessageItem, MessagePosted,
    MessagesAnswer, PostMessageBody, TicketAnswer, TicketCreated, TicketListItem, TicketStatus,
    WrapsAnswer,
};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The path of the served document.
pub const PATH: &str = "/api/v1/openapi.json";

/// The description of every error answer.
const ERROR: &str = "An error: the status and a JSON body with a stable code and a sentence \
                     (spec/API.md, \"Errors\").";

/// The document; [`document`] renders it.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Sealdesk HTTP API",
        description = "An end-to-end encrypted support channel: the server stores only \
                       ciphertext. Byte strings are unpadded base64url. The prose and every \
                       error code: spec/API.md.",
        license(name = "see the repository"),
    ),
    paths(
        paths::healthz, paths::metrics, paths::openapi, paths::pow_challenge,
        paths::read_settings, paths::replace_settings, paths::read_directory,
        paths::append_directory, paths::redeem_genesis, paths::create_ticket,
        paths::read_messages, paths::post_message, paths::read_wraps, paths::add_wraps,
        paths::assign, paths::create_invite, paths::redeem_invite, paths::list_pending,
        paths::decline_pending, paths::ticket_events, paths::inbox_events, paths::read_ticket, paths::delete_ticket,
        paths::declare_attachment, paths::download_attachment, paths::put_chunk,
        paths::complete_attachment, paths::prelogin, paths::register, paths::login,
        paths::logout, paths::logout_everywhere, paths::replace_keyring, paths::account_tickets,
        paths::create_account_ticket, paths::inbox, paths::unsubscribe,
        paths::read_admin_mail, paths::replace_admin_mail, paths::read_account_notifications,
        paths::replace_account_notifications, paths::request_recovery, paths::claim_recovery,
        paths::recovery_status, paths::list_recoveries, paths::approve_recovery,
        paths::decline_recovery,
        paths::team_keys, paths::add_team_wraps, paths::list_snippets, paths::put_snippet,
        paths::delete_snippet,
    ),
    components(schemas(
        AccountTicketsAnswer, Argon2ParamsBody, ChangeKeyringBody, LoginAnswer, LoginBody,
        PreloginAnswer, PreloginBody, RegisterBody, Registered, AttachmentDeclared,
        DeclareAttachmentBody, AppendEntryBody, DirectoryAnswer, HeadBody, ErrorBody,
        InboxAnswer, InboxFilter, InboxAssigned, InboxCounts, ListOrder, InviteCreated, InviteRedeemed, RedeemGenesisBody,
        RedeemInviteBody, ChallengeAnswer, ChallengeFor, ProofOfWork, Category, ResponseTargets, Settings, SettingsAnswer,
        AssignmentBody, HistoryWrapsBody, PendingAdministrator, PendingList, WrapsStored,
        PutSnippetBody, SnippetItem, SnippetsAnswer, TeamEpoch, TeamKeysAnswer, TeamWrapsBody,
        CreateAccountTicketBody, CreateTicketBody, MessageItem, MessagePosted, MessagesAnswer,
        PostMessageBody, TicketAnswer, TicketCreated, TicketListItem, TicketStatus, WrapsAnswer,
        AccountNotifications, AdminMailPreferences, Unsubscribed, PendingRecovery,
        PendingRecoveryList, RecoveryClaimBody, RecoveryClaimed, RecoveryRequestBody,
        RecoveryRequested, RecoveryStatus,
    )),
    modifiers(&BearerScheme),
)]
struct ApiDoc;

/// Adds the `bearer` security scheme: a session token, an anonymous ticket's access token or
/// an administrator's session (32 bytes, base64url), as `Authorization: Bearer`.
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The OpenAPI document as pretty-printed JSON, ending with a newline (the content of
/// `spec/openapi.json`).
///
/// # Errors
/// A serialization failure (none is expected: the document is built from static types).
pub fn document() -> Result<String, serde_json::Error> {
    let mut document = ApiDoc::openapi();
    document.info.version = env!("CARGO_PKG_VERSION").to_owned();
    let mut document = serde_json::to_value(document)?;
    merge_flattened(&mut document);
    let mut json = serde_json::to_string_pretty(&document)?;
    json.push('\n');
    Ok(json)
}

/// Rewrites each component schema that is an `allOf` of objects (what utoipa writes for a
/// `#[serde(flatten)]` member) as the one object it describes. Needed because a flattened
/// strict type (`Settings`, `deny_unknown_fields`: `additionalProperties: false`) would
/// otherwise refuse the members the other parts add (`SettingsAnswer`'s `version`), so the
/// server's true answers would not conform to the document.
fn merge_flattened(document: &mut serde_json::Value) {
    use serde_json::{Map, Value};
    let Some(schemas) = document
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    let originals = schemas.clone();
    let resolve = |part: &Value| -> Option<Map<String, Value>> {
        let part = match part.get("$ref").and_then(Value::as_str) {
            Some(reference) => originals.get(reference.strip_prefix("#/components/schemas/")?)?,
            None => part,
        };
        part.as_object().cloned()
    };
    for schema in schemas.values_mut() {
        let Some(parts) = schema.get("allOf").and_then(Value::as_array) else {
            continue;
        };
        let Some(parts) = parts.iter().map(resolve).collect::<Option<Vec<_>>>() else {
            continue;
        };
        if !parts
            .iter()
            .all(|part| part.get("type") == Some(&Value::from("object")))
        {
            continue;
        }
        let mut properties = Map::new();
        let mut required = Vec::new();
        let mut strict = false;
        for part in parts {
            if let Some(Value::Object(more)) = part.get("properties") {
                properties.extend(more.clone());
            }
            if let Some(Value::Array(more)) = part.get("required") {
                required.extend(more.iter().cloned());
            }
            strict |= part.get("additionalProperties") == Some(&Value::Bool(false));
        }
        let mut merged = Map::new();
        merged.insert("type".to_owned(), Value::from("object"));
        if let Some(description) = schema.get("description") {
            merged.insert("description".to_owned(), description.clone());
        }
        merged.insert("required".to_owned(), Value::Array(required));
        merged.insert("properties".to_owned(), Value::Object(properties));
        if strict {
            merged.insert("additionalProperties".to_owned(), Value::Bool(false));
        }
        *schema = Value::Object(merged);
    }
}

/// `GET /api/v1/openapi.json`: the document.
pub async fn serve() -> axum::response::Response {
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse;
    match document() {
        Ok(json) => ([(header::CONTENT_TYPE, "application/json")], json).into_response(),
        Err(error) => crate::error::ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "openapi",
            format!("The API description could not be written: {error}."),
        )
        .into_response(),
    }
}

/// The operations. The functions exist only to carry the declarations (utoipa reads them
/// from the attribute); the handlers are in the files of `super`.
#[allow(dead_code)]
mod paths {
    use super::*;

    #[utoipa::path(
        get,
        path = "/healthz",
        tag = "operations",
        summary = "The process is up and its storage answers",
        security(()),
        responses((status = 200, description = "Success.", body = String, content_type = "text/plain"), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn healthz() {}

    #[utoipa::path(
        get,
        path = "/api/v1/openapi.json",
        tag = "operations",
        summary = "This document",
        security(()),
        responses((status = 200, description = "Success.", body = Object, content_type = "application/json"), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn openapi() {}

    #[utoipa::path(
        get,
        path = "/metrics",
        tag = "operations",
        summary = "Prometheus text format, version 0.0.4",
        security(()),
        responses((status = 200, description = "Success.", body = String, content_type = "text/plain; version=0.0.4"), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn metrics() {}

    #[utoipa::path(
        get,
        path = "/api/v1/pow/challenge",
        tag = "tickets",
        summary = "A proof-of-work challenge for ticket creation (anonymous, or account with `?for=account`)",
        security(()),
        params(sealdesk_wire::pow::ChallengeQuery),
        responses((status = 200, description = "Success.", body = ChallengeAnswer), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn pow_challenge() {}

    #[utoipa::path(
        get,
        path = "/api/v1/settings",
        tag = "settings",
        summary = "The public instance settings",
        security(()),
        responses((status = 200, description = "Success.", body = SettingsAnswer), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn read_settings() {}

    #[utoipa::path(
        put,
        path = "/api/v1/settings",
        tag = "settings",
        summary = "Replace the instance settings (administrators)",
        security(("bearer" = [])),
        request_body = Settings,
        responses((status = 200, description = "Success.", body = SettingsAnswer), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn replace_settings() {}

    #[utoipa::path(
        get,
        path = "/api/v1/directory",
        tag = "directory",
        summary = "The administrator directory log from `since` on",
        security(()),
        params(DirectoryQuery),
        responses((status = 200, description = "Success.", body = DirectoryAnswer), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn read_directory() {}

    #[utoipa::path(
        post,
        path = "/api/v1/directory",
        tag = "directory",
        summary = "Append a signed directory entry (administrators)",
        security(("bearer" = [])),
        request_body = AppendEntryBody,
        responses((status = 201, description = "Success.", body = HeadBody), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn append_directory() {}

    #[utoipa::path(
        post,
        path = "/api/v1/invites/redeem-genesis",
        tag = "directory",
        summary = "The first administrator redeems the command-line invite with the genesis entry",
        security(()),
        request_body = RedeemGenesisBody,
        responses((status = 201, description = "Success.", body = HeadBody), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn redeem_genesis() {}

    #[utoipa::path(
        post,
        path = "/api/v1/tickets",
        tag = "tickets",
        summary = "Open an anonymous ticket",
        security(()),
        request_body = CreateTicketBody,
        responses((status = 201, description = "Success.", body = TicketCreated), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn create_ticket() {}

    #[utoipa::path(
        get,
        path = "/api/v1/tickets/{id}/messages",
        tag = "tickets",
        summary = "Messages of a chain after `after`",
        security(("bearer" = []), ()),
        params(("id" = String, Path, description = "The ticket id: 32 lowercase hexadecimal characters"), ChainQuery),
        responses((status = 200, description = "Success.", body = MessagesAnswer), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn read_messages() {}

    #[utoipa::path(
        post,
        path = "/api/v1/tickets/{id}/messages",
        tag = "tickets",
        summary = "Append the next message of a chain",
        security(("bearer" = []), ()),
        params(("id" = String, Path, description = "The ticket id: 32 lowercase hexadecimal characters")),
        request_body = PostMessageBody,
        responses((status = 201, description = "Success.", body = MessagePosted), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn post_message() {}

    #[utoipa::path(
        get,
        path = "/api/v1/tickets/{id}/wraps",
        tag = "tickets",
        summary = "Wrapped keys of a chain for a recipient",
        security(("bearer" = []), ()),
        params(("id" = String, Path, description = "The ticket id: 32 lowercase hexadecimal characters"), ChainQuery),
        responses((status = 200, description = "Success.", body = WrapsAnswer), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn read_wraps() {}

    #[utoipa::path(
        post,
        path = "/api/v1/tickets/{id}/wraps",
        tag = "team",
        summary = "Store history wraps for a later member (administrators; an account that keeps the ticket, for its own key)",
        security(("bearer" = [])),
        params(("id" = String, Path, description = "The ticket id: 32 lowercase hexadecimal characters")),
        request_body = HistoryWrapsBody,
        responses((status = 201, description = "Success.", body = WrapsStored), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn add_wraps() {}

    #[utoipa::path(
        put,
        path = "/api/v1/tickets/{id}/assignment",
        tag = "team",
        summary = "Assign a ticket to an administrator, or unassign it",
        security(("bearer" = [])),
        params(("id" = String, Path, description = "The ticket id: 32 lowercase hexadecimal characters")),
        request_body = AssignmentBody,
        responses((status = 204, description = "Success, without a body."), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn assign() {}

    #[utoipa::path(
        post,
        path = "/api/v1/admin/invites",
        tag = "team",
        summary = "Create an administrator invite (administrators)",
        security(("bearer" = [])),
        responses((status = 201, description = "Success.", body = InviteCreated), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn create_invite() {}

    #[utoipa::path(
        post,
        path = "/api/v1/admin/invites/redeem",
        tag = "team",
        summary = "Redeem an administrator invite with the signed-in account",
        security(("bearer" = [])),
        request_body = RedeemInviteBody,
        responses((status = 201, description = "Success.", body = InviteRedeemed), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn redeem_invite() {}

    #[utoipa::path(
        get,
        path = "/api/v1/admin/pending",
        tag = "team",
        summary = "Redeemed invites waiting for a directory entry (administrators)",
        security(("bearer" = [])),
        responses((status = 200, description = "Success.", body = PendingList), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn list_pending() {}

    #[utoipa::path(
        delete,
        path = "/api/v1/admin/pending/{key_id}",
        tag = "team",
        summary = "Decline a pending administrator (administrators)",
        security(("bearer" = [])),
        params(("key_id" = String, Path, description = "The pending administrator's key id (32 bytes, base64url)")),
        responses((status = 204, description = "Success, without a body."), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn decline_pending() {}

    #[utoipa::path(
        get,
        path = "/api/v1/admin/team-keys",
        tag = "team",
        summary = "The team key's epochs and the caller's wraps (administrators)",
        security(("bearer" = [])),
        responses((status = 200, description = "Success.", body = TeamKeysAnswer), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn team_keys() {}

    #[utoipa::path(
        post,
        path = "/api/v1/admin/team-keys",
        tag = "team",
        summary = "Open a team epoch, or store history wraps of the team key (administrators)",
        security(("bearer" = [])),
        request_body = TeamWrapsBody,
        responses((status = 201, description = "Success.", body = WrapsStored), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn add_team_wraps() {}

    #[utoipa::path(
        get,
        path = "/api/v1/admin/snippets",
        tag = "team",
        summary = "Every snippet (canned reply), encrypted (administrators)",
        security(("bearer" = [])),
        responses((status = 200, description = "Success.", body = SnippetsAnswer), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn list_snippets() {}

    #[utoipa::path(
        put,
        path = "/api/v1/admin/snippets/{id}",
        tag = "team",
        summary = "Create or replace a snippet (administrators)",
        security(("bearer" = [])),
        params(("id" = String, Path, description = "The snippet id: 32 lowercase hexadecimal characters")),
        request_body = PutSnippetBody,
        responses((status = 200, description = "Replaced.", body = SnippetItem), (status = 201, description = "Created.", body = SnippetItem), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn put_snippet() {}

    #[utoipa::path(
        delete,
        path = "/api/v1/admin/snippets/{id}",
        tag = "team",
        summary = "Delete a snippet (administrators)",
        security(("bearer" = [])),
        params(("id" = String, Path, description = "The snippet id: 32 lowercase hexadecimal characters")),
        responses((status = 204, description = "Success, without a body."), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn delete_snippet() {}

    #[utoipa::path(
        get,
        path = "/api/v1/tickets/{id}/events",
        tag = "events",
        summary = "Live updates of one ticket (server-sent events)",
        security(("bearer" = []), ()),
        params(("id" = String, Path, description = "The ticket id: 32 lowercase hexadecimal characters")),
        responses((status = 200, description = "Success.", body = String, content_type = "text/event-stream"), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn ticket_events() {}

    #[utoipa::path(
        get,
        path = "/api/v1/inbox/events",
        tag = "events",
        summary = "Live updates of every ticket (server-sent events, administrators)",
        security(("bearer" = [])),
        responses((status = 200, description = "Success.", body = String, content_type = "text/event-stream"), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn inbox_events() {}

    #[utoipa::path(
        get,
        path = "/api/v1/tickets/{id}",
        tag = "tickets",
        summary = "A ticket's metadata",
        security(("bearer" = []), ()),
        params(("id" = String, Path, description = "The ticket id: 32 lowercase hexadecimal characters")),
        responses((status = 200, description = "Success.", body = TicketAnswer), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn read_ticket() {}

    #[utoipa::path(
        delete,
        path = "/api/v1/tickets/{id}",
        tag = "team",
        summary = "Delete a closed ticket with everything stored for it (administrators)",
        security(("bearer" = [])),
        params(("id" = String, Path, description = "The ticket id: 32 lowercase hexadecimal characters")),
        responses((status = 204, description = "Success, without a body."), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn delete_ticket() {}

    #[utoipa::path(
        post,
        path = "/api/v1/tickets/{id}/attachments",
        tag = "attachments",
        summary = "Declare an upload and reserve its size from the ticket's quota",
        security(("bearer" = []), ()),
        params(("id" = String, Path, description = "The ticket id: 32 lowercase hexadecimal characters")),
        request_body = DeclareAttachmentBody,
        responses((status = 201, description = "Success.", body = AttachmentDeclared), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn declare_attachment() {}

    #[utoipa::path(
        get,
        path = "/api/v1/tickets/{id}/attachments/{aid}",
        tag = "attachments",
        summary = "The encrypted stream of a completed upload",
        security(("bearer" = []), ()),
        params(("id" = String, Path, description = "The ticket id: 32 lowercase hexadecimal characters"), ("aid" = String, Path, description = "The attachment id: 32 lowercase hexadecimal characters")),
        responses((status = 200, description = "Success.", body = String, content_type = "application/octet-stream"), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn download_attachment() {}

    #[utoipa::path(
        put,
        path = "/api/v1/tickets/{id}/attachments/{aid}/chunks/{index}",
        tag = "attachments",
        summary = "One chunk of the encrypted stream (raw bytes)",
        security(("bearer" = []), ()),
        params(("id" = String, Path, description = "The ticket id: 32 lowercase hexadecimal characters"), ("aid" = String, Path, description = "The attachment id: 32 lowercase hexadecimal characters"), ("index" = String, Path, description = "The chunk's index, from 0 (decimal)")),
        request_body(content = Vec<u8>, content_type = "application/octet-stream"),
        responses((status = 204, description = "Success, without a body."), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn put_chunk() {}

    #[utoipa::path(
        post,
        path = "/api/v1/tickets/{id}/attachments/{aid}/complete",
        tag = "attachments",
        summary = "Complete an upload whose chunks all arrived",
        security(("bearer" = []), ()),
        params(("id" = String, Path, description = "The ticket id: 32 lowercase hexadecimal characters"), ("aid" = String, Path, description = "The attachment id: 32 lowercase hexadecimal characters")),
        responses((status = 204, description = "Success, without a body."), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn complete_attachment() {}

    #[utoipa::path(
        post,
        path = "/api/v1/accounts/prelogin",
        tag = "accounts",
        summary = "The salt and Argon2id parameters of a username (of the same shape for an unknown one)",
        security(()),
        request_body = PreloginBody,
        responses((status = 200, description = "Success.", body = PreloginAnswer), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn prelogin() {}

    #[utoipa::path(
        post,
        path = "/api/v1/accounts/register",
        tag = "accounts",
        summary = "Register an account",
        security(()),
        request_body = RegisterBody,
        responses((status = 201, description = "Success.", body = Registered), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn register() {}

    #[utoipa::path(
        post,
        path = "/api/v1/accounts/login",
        tag = "accounts",
        summary = "Sign in: a session and the sealed keyring",
        security(()),
        request_body = LoginBody,
        responses((status = 200, description = "Success.", body = LoginAnswer), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn login() {}

    #[utoipa::path(
        post,
        path = "/api/v1/accounts/logout",
        tag = "accounts",
        summary = "End the session",
        security(("bearer" = [])),
        responses((status = 204, description = "Success, without a body."), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn logout() {}

    #[utoipa::path(
        post,
        path = "/api/v1/accounts/logout-everywhere",
        tag = "accounts",
        summary = "End every session of the account",
        security(("bearer" = [])),
        responses((status = 204, description = "Success, without a body."), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn logout_everywhere() {}

    #[utoipa::path(
        put,
        path = "/api/v1/accounts/keyring",
        tag = "accounts",
        summary = "Change the password: new salt, parameters, authentication key and keyring",
        security(("bearer" = [])),
        request_body = ChangeKeyringBody,
        responses((status = 204, description = "Success, without a body."), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn replace_keyring() {}

    #[utoipa::path(
        get,
        path = "/api/v1/accounts/tickets",
        tag = "accounts",
        summary = "The signed-in account's tickets (50 a page, keyset cursor)",
        security(("bearer" = [])),
        params(AccountTicketsQuery),
        responses((status = 200, description = "Success.", body = AccountTicketsAnswer), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn account_tickets() {}

    #[utoipa::path(
        post,
        path = "/api/v1/tickets/account",
        tag = "accounts",
        summary = "Open a ticket owned by the signed-in account",
        security(("bearer" = [])),
        request_body = CreateAccountTicketBody,
        responses((status = 201, description = "Success.", body = TicketCreated), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn create_account_ticket() {}

    #[utoipa::path(
        get,
        path = "/api/v1/inbox",
        tag = "inbox",
        summary = "The administrators' ticket list (50 a page, keyset cursor, counts per filter)",
        security(("bearer" = [])),
        params(InboxQuery),
        responses((status = 200, description = "Success.", body = InboxAnswer), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn inbox() {}

    #[utoipa::path(
        post,
        path = "/api/v1/unsubscribe/{token}",
        tag = "mail",
        summary = "Stop the mails of the token's recipient (RFC 8058 one-click; any body is ignored)",
        security(()),
        params(("token" = String, Path, description = "The unsubscribe token from the mail (32 bytes, base64url)")),
        responses((status = 200, description = "Success.", body = Unsubscribed), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn unsubscribe() {}

    #[utoipa::path(
        get,
        path = "/api/v1/admin/mail",
        tag = "mail",
        summary = "My mail preferences (administrators)",
        security(("bearer" = [])),
        responses((status = 200, description = "Success.", body = AdminMailPreferences), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn read_admin_mail() {}

    #[utoipa::path(
        put,
        path = "/api/v1/admin/mail",
        tag = "mail",
        summary = "Replace my mail preferences; an empty address deletes them (administrators)",
        security(("bearer" = [])),
        request_body = AdminMailPreferences,
        responses((status = 200, description = "Success: the stored preferences.", body = AdminMailPreferences), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn replace_admin_mail() {}

    #[utoipa::path(
        get,
        path = "/api/v1/accounts/notifications",
        tag = "mail",
        summary = "The signed-in account's notification address",
        security(("bearer" = [])),
        responses((status = 200, description = "Success.", body = AccountNotifications), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn read_account_notifications() {}

    #[utoipa::path(
        put,
        path = "/api/v1/accounts/notifications",
        tag = "mail",
        summary = "Set, or clear with an empty address, the signed-in account's notification address",
        security(("bearer" = [])),
        request_body = AccountNotifications,
        responses((status = 200, description = "Success: the stored address.", body = AccountNotifications), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn replace_account_notifications() {}

    #[utoipa::path(
        post,
        path = "/api/v1/recovery/request",
        tag = "recovery",
        summary = "Mail a recovery link to a reporter's notification address (the same answer for an unknown address)",
        security(()),
        request_body = RecoveryRequestBody,
        responses((status = 202, description = "Accepted.", body = RecoveryRequested), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn request_recovery() {}

    #[utoipa::path(
        post,
        path = "/api/v1/recovery/claim",
        tag = "recovery",
        summary = "Claim a ticket with a mailed recovery token and a new reporter key (pending until an administrator approves)",
        security(()),
        request_body = RecoveryClaimBody,
        responses((status = 201, description = "Success.", body = RecoveryClaimed), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn claim_recovery() {}

    #[utoipa::path(
        get,
        path = "/api/v1/recovery/status",
        tag = "recovery",
        summary = "The status of a recovery claim (bearer: the claim's reader token)",
        security(("bearer" = [])),
        responses((status = 200, description = "Success.", body = RecoveryStatus), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn recovery_status() {}

    #[utoipa::path(
        get,
        path = "/api/v1/admin/recoveries",
        tag = "recovery",
        summary = "The pending recovery claims, oldest first (administrators)",
        security(("bearer" = [])),
        responses((status = 200, description = "Success.", body = PendingRecoveryList), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn list_recoveries() {}

    #[utoipa::path(
        post,
        path = "/api/v1/admin/recoveries/{id}/{key_id}/approve",
        tag = "recovery",
        summary = "Approve a pending claim whose key the conversation already endorses (administrators)",
        security(("bearer" = [])),
        params(("id" = String, Path, description = "The ticket id: 32 lowercase hexadecimal characters"), ("key_id" = String, Path, description = "The claimed key's id (32 bytes, base64url)")),
        responses((status = 204, description = "Success, without a body."), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn approve_recovery() {}

    #[utoipa::path(
        delete,
        path = "/api/v1/admin/recoveries/{id}/{key_id}",
        tag = "recovery",
        summary = "Decline a pending recovery claim (administrators)",
        security(("bearer" = [])),
        params(("id" = String, Path, description = "The ticket id: 32 lowercase hexadecimal characters"), ("key_id" = String, Path, description = "The claimed key's id (32 bytes, base64url)")),
        responses((status = 204, description = "Success, without a body."), (status = "default", description = ERROR, body = ErrorBody)),
    )]
    fn decline_recovery() {}
}
