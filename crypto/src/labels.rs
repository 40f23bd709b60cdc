//! Every domain-separation label of protocol version 1 (spec/PROTOCOL.md §3.1), the label of the
//! HTTP API's proof of work ([`POW`], spec/API.md "Proof of work") and the labels of the server's
//! keyed lookups ([`crate::email_lookup`], [`crate::prelogin_salt`]), kept here so that no two
//! labels can collide unnoticed.
//!
//! A label is always encoded as `u8 length || ASCII bytes`, so no label is a prefix of another's
//! encoding.

/// Identity seed → Ed25519 secret key.
pub const IDENTITY_ED25519: &str = "sealdesk/v1/identity/ed25519";
/// Identity seed → X25519 secret key.
pub const IDENTITY_X25519: &str = "sealdesk/v1/identity/x25519";
/// Key id hash of a public identity.
pub const KEY_ID: &str = "sealdesk/v1/key-id";
/// HPKE `info` prefix of a wrapped ticket key.
pub const WRAP_INFO: &str = "sealdesk/v1/wrap";
/// Signature prefix of a wrapped ticket key.
pub const WRAP_SIG: &str = "sealdesk/v1/wrap-sig";
/// Per-message content key derivation.
pub const MESSAGE_KEY: &str = "sealdesk/v1/message-key";
/// Signature prefix of a message.
pub const MESSAGE_SIG: &str = "sealdesk/v1/message-sig";
/// Hash of a message, linked by the next message.
pub const MESSAGE_HASH: &str = "sealdesk/v1/message-hash";
/// Signature prefix of a directory entry.
pub const DIRECTORY_SIG: &str = "sealdesk/v1/directory-sig";
/// Hash of a directory entry, linked by the next entry.
pub const DIRECTORY_HASH: &str = "sealdesk/v1/directory-hash";
/// Ticket secret → reporter identity seed.
pub const ANON_IDENTITY: &str = "sealdesk/v1/anon/identity";
/// Ticket secret → access token.
pub const ANON_ACCESS_TOKEN: &str = "sealdesk/v1/anon/access-token";
/// Ticket secret → ticket id.
pub const ANON_TICKET_ID: &str = "sealdesk/v1/anon/ticket-id";
/// Hash under which the server stores any bearer token (access tokens, sessions).
pub const TOKEN_HASH: &str = "sealdesk/v1/token-hash";
/// Master key → authentication key.
pub const ACCOUNT_AUTH_KEY: &str = "sealdesk/v1/account/auth-key";
/// Master key → keyring key.
pub const ACCOUNT_KEYRING_KEY: &str = "sealdesk/v1/account/keyring-key";
/// Hash under which the server stores an account's authentication key.
pub const ACCOUNT_AUTH_HASH: &str = "sealdesk/v1/account/auth-hash";
/// Signature prefix of an account's identity proof.
pub const ACCOUNT_IDENTITY_PROOF: &str = "sealdesk/v1/account/identity-proof";
/// Keyring encryption key and nonce derivation.
pub const KEYRING: &str = "sealdesk/v1/keyring";
/// Signature prefix of a recovery claim (a new reporter key after email recovery, §11.1).
pub const RECOVERY_CLAIM: &str = "sealdesk/v1/recovery-claim";
/// Attachment payload key derivation.
pub const ATTACHMENT_PAYLOAD: &str = "sealdesk/v1/attachment-payload";
/// HPKE `info` prefix of a wrapped team key (spec §18.2).
pub const TEAM_WRAP_INFO: &str = "sealdesk/v1/team-wrap";
/// Signature prefix of a wrapped team key (spec §18.2).
pub const TEAM_WRAP_SIG: &str = "sealdesk/v1/team-wrap-sig";
/// Per-snippet content key derivation (spec §18.3).
pub const SNIPPET_KEY: &str = "sealdesk/v1/snippet-key";
/// Signature prefix of a snippet (spec §18.3).
pub const SNIPPET_SIG: &str = "sealdesk/v1/snippet-sig";
/// Proof of work of an anonymous ticket creation: `H("sealdesk/v1/pow", challenge ||
/// u64be(nonce))`. It belongs to the HTTP API (spec/API.md, "Proof of work"), not to the
/// end-to-end protocol, so PROTOCOL.md §3.1 does not list it.
pub const POW: &str = "sealdesk/v1/pow";
/// The server's email lookup key of a ticket's notification address (spec/API.md,
/// `POST /api/v1/tickets`; [`crate::email_lookup`]).
pub const SERVER_EMAIL_LOOKUP: &str = "sealdesk/v1/server/email-lookup";
/// The server's fake pre-login salt of an unknown username (spec/API.md,
/// `POST /api/v1/accounts/prelogin`; [`crate::prelogin_salt`]).
pub const SERVER_PRELOGIN_SALT: &str = "sealdesk/v1/server/prelogin-salt";
