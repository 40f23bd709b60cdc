//! The JSON the pages show: verified messages, a conversation, an administrator's ticket (with
//! its notes, debug data and attachments), ticket lists, the inbox, the team and the results of
//! team changes. No view carries a key: an attachment's view has no `key`, and the page
//! downloads by `seq`.

use base64ct::{Base64UrlUnpadded, Encoding};
use sealdesk_crypto::{Chain, KeyId, Kind, PublicIdentity, TicketId};
use serde_json::{Value, json};

use super::input::{head_json, key_id_text};
use crate::account::TicketSummary;
use crate::admin::{
    AdminTicket, Approval, History, InboxItem, InboxPage, Invite, Pending, Redemption, Removal,
    TeamMember,
};
use crate::content::Content;
use crate::error::ClientError;
use crate::reporter::{ReporterTicket, Shown};

/// The name of a kind in the views: `message`, `debug_data`, `attachment`, `close`,
/// `reopen`, `internal_note`, `rotate`.
pub fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Message => "message",
        Kind::DebugData => "debug_data",
        Kind::AttachmentRef => "attachment",
        Kind::Close => "close",
        Kind::Reopen => "reopen",
        Kind::InternalNote => "internal_note",
        Kind::Rotate => "rotate",
    }
}

/// The content as the page shows it: PROTOCOL.md §14's JSON, except that an attachment
/// reference has no `key`.
pub fn content_view(content: &Content) -> Value {
    let encoded = match content {
        Content::Message(text) | Content::InternalNote(text) => serde_json::to_value(text),
        Content::DebugData(data) => serde_json::to_value(data),
        Content::AttachmentRef(reference) => {
            return json!({
                "attachment_id": reference.attachment_id,
                "name": reference.name,
                "type": reference.mime_type,
                "size": reference.size,
                "encrypted_size": reference.encrypted_size,
                "sent_at": reference.sent_at,
            });
        }
        Content::Close(change) | Content::Reopen(change) => serde_json::to_value(change),
        Content::Rotate => return json!({}),
    };
    encoded.unwrap_or(Value::Null)
}

/// An error as the views carry it: `{"code", "message"}`.
pub fn error_view(error: &ClientError) -> Value {
    json!({"code": error.code, "message": error.message})
}

/// A verified message as the page shows it: `{"seq", "received_at", "sender" (key id,
/// base64url), "from_support", "kind", "content"}`, where `content` is [`content_view`], or
/// `null` with `"error": {"code", "message"}` when the content cannot be read (the message
/// itself is verified: show a warning in its place).
pub fn message_view(shown: &Shown) -> Value {
    let mut view = json!({
        "seq": shown.seq,
        "received_at": shown.received_at,
        "sender": Base64UrlUnpadded::encode_string(&shown.sender.0),
        "from_support": shown.from_support,
        "kind": kind_name(shown.kind),
        "content": Value::Null,
    });
    match &shown.content {
        Ok(content) => view["content"] = content_view(content),
        Err(error) => view["error"] = error_view(error),
    }
    view
}

/// A conversation as the page shows it: `{"ticket_id", "closed", "messages": [message_view...]}`
/// (an anonymous reporter's or an account holder's ticket).
pub fn conversation_view(ticket_id: TicketId, closed: bool, messages: &[Shown]) -> Value {
    json!({
        "ticket_id": ticket_id.to_hex(),
        "closed": closed,
        "messages": messages.iter().map(message_view).collect::<Vec<_>>(),
    })
}

/// An anonymous ticket as the page shows it ([`conversation_view`]).
pub fn ticket_view(ticket: &ReporterTicket) -> Value {
    conversation_view(
        ticket.link().ticket_id(),
        ticket.is_closed(),
        &ticket.messages,
    )
}

/// How many messages support sent after `after` (the last seq the person saw): messages,
/// attachments, closes and reopens by an administrator, not key rotations. The badge of the
/// support tab.
pub fn unread_answers(messages: &[Shown], after: u64) -> usize {
    messages
        .iter()
        .filter(|m| m.seq > after && m.from_support && m.kind != Kind::Rotate)
        .count()
}

/// An identity as the views show it: `{"key_id", "fingerprint"}`, the fingerprint computed here
/// (PROTOCOL.md §4.3).
pub fn identity_view(identity: &PublicIdentity) -> Value {
    json!({"key_id": key_id_text(&identity.key_id()), "fingerprint": identity.fingerprint()})
}

/// An administrator's ticket as the panel shows it: the conversation and the internal notes
/// (each a list of [`message_view`]), the reporter's key, the first message's content as
/// `opening` (`null` when it cannot be read), and, gathered from the conversation,
/// `debug_data: [{"seq", "fields", "sent_at"}]` and `attachments: [{"seq", "attachment_id",
/// "name", "type", "size", "encrypted_size", "sent_at"}]` (without keys).
pub fn admin_ticket_view(ticket: &AdminTicket) -> Value {
    admin_view(
        ticket.ticket_id(),
        ticket.is_closed(),
        ticket.reporter(),
        &ticket.messages,
        &ticket.notes,
    )
}

/// [`admin_ticket_view`] from its parts.
pub fn admin_view(
    ticket_id: TicketId,
    closed: bool,
    reporter: &PublicIdentity,
    messages: &[Shown],
    notes: &[Shown],
) -> Value {
    let opening = match messages.first().map(|m| &m.content) {
        Some(Ok(content @ Content::Message(_))) => content_view(content),
        _ => Value::Null,
    };
    let with_seq = |seq: u64, mut view: Value| {
        view["seq"] = seq.into();
        view
    };
    let debug_data: Vec<Value> = messages
        .iter()
        .filter_map(|m| match &m.content {
            Ok(content @ Content::DebugData(_)) => Some(with_seq(m.seq, content_view(content))),
            _ => None,
        })
        .collect();
    let attachments: Vec<Value> = messages
        .iter()
        .filter_map(|m| match &m.content {
            Ok(content @ Content::AttachmentRef(_)) => Some(with_seq(m.seq, content_view(content))),
            _ => None,
        })
        .collect();
    json!({
        "ticket_id": ticket_id.to_hex(),
        "closed": closed,
        "reporter": identity_view(reporter),
        "opening": opening,
        "messages": messages.iter().map(message_view).collect::<Vec<_>>(),
        "notes": notes.iter().map(message_view).collect::<Vec<_>>(),
        "debug_data": debug_data,
        "attachments": attachments,
    })
}

/// A ticket in a list, as the server describes it (unsigned metadata): `{"ticket_id",
/// "closed", "answered", "created_at", "last_activity", "conversation_seq"}`, and in the inbox
/// `"assigned_to"` (a key id or `null`).
pub fn summary_view(summary: &TicketSummary, with_assignee: bool) -> Value {
    let mut view = json!({
        "ticket_id": summary.ticket_id.to_hex(),
        "closed": summary.closed,
        "answered": summary.answered,
        "created_at": summary.created_at,
        "last_activity": summary.last_activity,
        "conversation_seq": summary.conversation_seq,
    });
    if with_assignee {
        view["assigned_to"] = summary
            .assigned_to
            .as_ref()
            .map_or(Value::Null, |k| key_id_text(k).into());
    }
    view
}

/// An inbox entry: [`summary_view`] with `"opening"`, the verified and decrypted first message
/// (`subject`, `category`, `urgent`, `name`, `email`, `text`, `sent_at`), or `null` and
/// `"error": {"code", "message"}` when the ticket cannot be read.
pub fn inbox_item_view(item: &InboxItem) -> Value {
    let mut view = summary_view(&item.summary, true);
    match &item.opening {
        Ok(text) => view["opening"] = content_view(&Content::Message(text.clone())),
        Err(error) => {
            view["opening"] = Value::Null;
            view["error"] = error_view(error);
        }
    }
    view
}

/// One page of the inbox: `{"tickets": [inbox_item_view...], "more"}`.
pub fn inbox_view(page: &InboxPage) -> Value {
    json!({
        "tickets": page.tickets.iter().map(inbox_item_view).collect::<Vec<_>>(),
        "more": page.more,
    })
}

/// The keys waiting for approval: `[{"key_id", "fingerprint", "username", "redeemed_at"}]`,
/// fingerprints computed here.
pub fn pending_view(pending: &[Pending]) -> Value {
    pending
        .iter()
        .map(|p| {
            json!({
                "key_id": key_id_text(&p.key_id()),
                "fingerprint": p.fingerprint,
                "username": p.username,
                "redeemed_at": p.redeemed_at,
            })
        })
        .collect()
}

/// The administrators of the verified head: `[{"key_id", "fingerprint", "me"}]`.
pub fn team_view(team: &[TeamMember], me: &KeyId) -> Value {
    team.iter()
        .map(|member| {
            let key_id = member.identity.key_id();
            json!({
                "key_id": key_id_text(&key_id),
                "fingerprint": member.fingerprint,
                "me": key_id == *me,
            })
        })
        .collect()
}

fn failures_view(failures: &[(TicketId, ClientError)]) -> Value {
    failures
        .iter()
        .map(|(id, error)| {
            json!({"ticket_id": id.to_hex(), "code": error.code, "message": error.message})
        })
        .collect()
}

fn chain_name(chain: Chain) -> &'static str {
    match chain {
        Chain::Conversation => "conversation",
        Chain::Notes => "notes",
    }
}

/// What sharing the history did: `{"tickets", "wraps", "unavailable": [{"ticket_id", "chain",
/// "epoch"}], "failures": [{"ticket_id", "code", "message"}]}`.
pub fn history_view(history: &History) -> Value {
    json!({
        "tickets": history.tickets,
        "wraps": history.wraps,
        "unavailable": history
            .unavailable
            .iter()
            .map(|(id, chain, epoch)| {
                json!({"ticket_id": id.to_hex(), "chain": chain_name(*chain), "epoch": epoch})
            })
            .collect::<Vec<_>>(),
        "failures": failures_view(&history.failures),
    })
}

/// What approving did: `{"head": {"seq", "hash"}, "history": history_view}`.
pub fn approval_view(approval: &Approval) -> Value {
    json!({"head": head_json(&approval.head), "history": history_view(&approval.history)})
}

/// What removing did: `{"head", "tickets", "rotated", "failures"}`.
pub fn removal_view(removal: &Removal) -> Value {
    json!({
        "head": head_json(&removal.head),
        "tickets": removal.tickets,
        "rotated": removal.rotated,
        "failures": failures_view(&removal.failures),
    })
}

/// A redeemed invite: `{"key_id", "fingerprint"}` (read the fingerprint out to the approver).
pub fn redemption_view(redemption: &Redemption) -> Value {
    json!({"key_id": key_id_text(&redemption.key_id), "fingerprint": redemption.fingerprint})
}

/// A new invite: `{"link": "/admin/invite#<token>", "expires_at"}`.
pub fn invite_view(invite: &Invite) -> Value {
    json!({"link": invite.path(), "expires_at": invite.expires_at})
}

#[cfg(test)]
mod tests {
    //! The views, natively and in headless Chromium.

    use std::collections::BTreeMap;

    use sealdesk_crypto::{DirectoryHead, Identity, system_rng};

    use super::*;
    use crate::account::TicketSummary;
    use crate::content::{AttachmentRef, DebugData, StatusChange, Text};

    fn shown(kind: Kind, content: core::result::Result<Content, ClientError>) -> Shown {
        Shown {
            seq: 3,
            received_at: 1_700_000_000,
            sender: KeyId([1; 32]),
            from_support: true,
            kind,
            content,
        }
    }

    fn text(text: &str) -> Text {
        Text {
            text: text.into(),
            sent_at: 5,
            ..Text::default()
        }
    }

    fn reference() -> AttachmentRef {
        AttachmentRef {
            attachment_id: "0123456789abcdef0123456789abcdef".into(),
            name: "log.txt".into(),
            mime_type: "text/plain".into(),
            size: 150_000,
            encrypted_size: 150_064,
            key: Base64UrlUnpadded::encode_string(&[0xab; 32]),
            sent_at: 6,
        }
    }

    /// Every kind's content survives its encoding (§14) and shows as its JSON.
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn content_round_trips_and_views() {
        let text = Text {
            author: Some("Sam".into()),
            ..text("Hello ✓")
        };
        let contents = [
            Content::Message(text.clone()),
            Content::DebugData(DebugData {
                fields: BTreeMap::from([("time_zone".into(), "Europe/Berlin".into())]),
                sent_at: 7,
            }),
            Content::AttachmentRef(reference()),
            Content::Close(StatusChange::default()),
            Content::Reopen(StatusChange {
                sent_at: 8,
                author: None,
            }),
            Content::InternalNote(text),
            Content::Rotate,
        ];
        for content in contents {
            let bytes = content.to_bytes().expect("encode");
            let parsed = Content::parse(content.kind(), &bytes).expect("parse");
            assert_eq!(parsed, content);
            let view = message_view(&shown(content.kind(), Ok(parsed)));
            assert_eq!(view["kind"], kind_name(content.kind()));
            assert_eq!(view["seq"], 3);
            assert_eq!(view["from_support"], true);
            assert!(view.get("error").is_none());
            let shown_content = &view["content"];
            assert!(shown_content.is_object(), "{view}");
            assert!(shown_content.get("key").is_none(), "no file key in a view");
            if content.kind() != Kind::Rotate {
                // The view is the content's own JSON, less the key.
                let mut json: Value = serde_json::from_slice(&bytes).expect("json");
                if let Some(object) = json.as_object_mut() {
                    object.remove("key");
                }
                assert_eq!(*shown_content, json);
            }
        }
        let view = message_view(&shown(
            Kind::Message,
            Err(ClientError::new("content.unreadable", "No.")),
        ));
        assert_eq!(view["content"], Value::Null);
        assert_eq!(view["error"]["code"], "content.unreadable");
        // A member of the wrong type makes the content unreadable (§14).
        assert_eq!(
            Content::parse(Kind::Message, br#"{"text": 1, "sent_at": 0}"#).map_err(|e| e.code),
            Err("content.unreadable".to_owned())
        );
        // Unknown members are ignored.
        assert!(Content::parse(Kind::Close, br#"{"sent_at": 0, "later": true}"#).is_ok());
    }

    fn at(seq: u64, from_support: bool, content: Content) -> Shown {
        Shown {
            seq,
            received_at: 0,
            sender: KeyId([seq as u8; 32]),
            from_support,
            kind: content.kind(),
            content: Ok(content),
        }
    }

    /// A conversation: opened by the reporter with debug data, answered, an attachment from
    /// support, a rotation, a close.
    fn conversation() -> Vec<Shown> {
        let opening = Text {
            subject: Some("VPN".into()),
            category: Some("Network".into()),
            urgent: true,
            name: Some("Robin".into()),
            ..text("It drops.")
        };
        vec![
            at(1, false, Content::Message(opening)),
            at(
                2,
                false,
                Content::DebugData(DebugData {
                    fields: BTreeMap::from([("platform".into(), "Linux".into())]),
                    sent_at: 5,
                }),
            ),
            at(3, true, Content::Message(text("Which client?"))),
            at(4, true, Content::AttachmentRef(reference())),
            at(5, true, Content::Rotate),
            at(6, false, Content::Message(text("WireGuard."))),
            at(7, true, Content::Close(StatusChange::default())),
        ]
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn unread_answers_count_support_messages_after_the_last_seen() {
        let messages = conversation();
        assert_eq!(unread_answers(&messages, 0), 3, "answer, attachment, close");
        assert_eq!(unread_answers(&messages, 3), 2);
        assert_eq!(unread_answers(&messages, 4), 1, "not the rotation");
        assert_eq!(unread_answers(&messages, 7), 0);
        assert_eq!(unread_answers(&messages, u64::MAX), 0);
        assert_eq!(unread_answers(&[], 0), 0);
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn conversation_and_admin_views() {
        let mut rng = system_rng();
        let id = TicketId::generate(&mut rng);
        let messages = conversation();
        let view = conversation_view(id, true, &messages);
        assert_eq!(view["ticket_id"], id.to_hex());
        assert_eq!(view["closed"], true);
        assert_eq!(view["messages"].as_array().map(Vec::len), Some(7));
        assert_eq!(view["messages"][0]["content"]["subject"], "VPN");

        let reporter = Identity::generate(&mut rng).1;
        let notes = vec![at(1, true, Content::InternalNote(text("Known issue.")))];
        let view = admin_view(id, false, reporter.public(), &messages, &notes);
        assert_eq!(view["reporter"]["key_id"], key_id_text(&reporter.key_id()));
        assert_eq!(
            view["reporter"]["fingerprint"],
            reporter.public().fingerprint()
        );
        assert_eq!(view["opening"]["subject"], "VPN");
        assert_eq!(view["opening"]["category"], "Network");
        assert_eq!(view["opening"]["urgent"], true);
        assert_eq!(view["notes"][0]["kind"], "internal_note");
        assert_eq!(view["notes"][0]["content"]["text"], "Known issue.");
        assert_eq!(view["debug_data"][0]["seq"], 2);
        assert_eq!(view["debug_data"][0]["fields"]["platform"], "Linux");
        assert_eq!(view["attachments"][0]["seq"], 4);
        assert_eq!(view["attachments"][0]["name"], "log.txt");
        assert!(view["attachments"][0].get("key").is_none());
        assert!(
            !view.to_string().contains(&reference().key),
            "no key anywhere"
        );

        // An unreadable first message: no opening, the message shows its error.
        let mut broken = messages;
        broken[0].content = Err(ClientError::new("wrap.missing", "No key."));
        let view = admin_view(id, false, reporter.public(), &broken, &[]);
        assert_eq!(view["opening"], Value::Null);
        assert_eq!(view["messages"][0]["error"]["code"], "wrap.missing");
        assert_eq!(view["notes"], json!([]));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn lists_and_team_views() {
        let mut rng = system_rng();
        let id = TicketId::generate(&mut rng);
        let summary = TicketSummary {
            ticket_id: id,
            closed: false,
            answered: true,
            created_at: 10,
            last_activity: 20,
            conversation_seq: 4,
            assigned_to: Some(KeyId([2; 32])),
        };
        let view = summary_view(&summary, false);
        assert_eq!(
            view,
            json!({"ticket_id": id.to_hex(), "closed": false, "answered": true,
                   "created_at": 10, "last_activity": 20, "conversation_seq": 4})
        );
        let opening = Text {
            subject: Some("VPN".into()),
            ..text("It drops.")
        };
        let page = InboxPage {
            tickets: vec![
                InboxItem {
                    summary: summary.clone(),
                    opening: Ok(opening),
                },
                InboxItem {
                    summary: TicketSummary {
                        assigned_to: None,
                        ..summary
                    },
                    opening: Err(ClientError::new("transcript.bad_signature", "Altered.")),
                },
            ],
            more: true,
        };
        let view = inbox_view(&page);
        assert_eq!(view["more"], true);
        assert_eq!(
            view["tickets"][0]["assigned_to"],
            key_id_text(&KeyId([2; 32]))
        );
        assert_eq!(view["tickets"][0]["opening"]["subject"], "VPN");
        assert!(view["tickets"][0].get("error").is_none());
        assert_eq!(view["tickets"][1]["assigned_to"], Value::Null);
        assert_eq!(view["tickets"][1]["opening"], Value::Null);
        assert_eq!(
            view["tickets"][1]["error"]["code"],
            "transcript.bad_signature"
        );

        let [a, b] = [(); 2].map(|()| Identity::generate(&mut rng).1);
        let pending = [Pending {
            identity: b.public().clone(),
            username: "bob".into(),
            redeemed_at: 30,
            fingerprint: b.public().fingerprint(),
        }];
        let view = pending_view(&pending);
        assert_eq!(view[0]["key_id"], key_id_text(&b.key_id()));
        assert_eq!(view[0]["fingerprint"], b.key_id().fingerprint());
        assert_eq!(view[0]["username"], "bob");
        assert_eq!(view[0]["redeemed_at"], 30);
        let team: Vec<TeamMember> = [&a, &b]
            .iter()
            .map(|i| TeamMember {
                identity: i.public().clone(),
                fingerprint: i.public().fingerprint(),
            })
            .collect();
        let view = team_view(&team, &a.key_id());
        assert_eq!(view[0]["me"], true);
        assert_eq!(view[1]["me"], false);
        assert_eq!(view[1]["fingerprint"], b.public().fingerprint());

        let head = DirectoryHead {
            seq: 2,
            hash: [3; 32],
        };
        let history = History {
            tickets: 2,
            wraps: 3,
            unavailable: vec![(id, Chain::Notes, 0)],
            failures: vec![(id, ClientError::new("network", "Down."))],
        };
        let view = approval_view(&Approval { head, history });
        assert_eq!(view["head"], head_json(&head));
        assert_eq!(view["history"]["wraps"], 3);
        assert_eq!(view["history"]["unavailable"][0]["chain"], "notes");
        assert_eq!(view["history"]["failures"][0]["code"], "network");
        let view = removal_view(&Removal {
            head,
            tickets: 4,
            rotated: 5,
            failures: Vec::new(),
        });
        assert_eq!(
            view,
            json!({"head": head_json(&head), "tickets": 4, "rotated": 5, "failures": []})
        );
        let view = invite_view(&Invite {
            token: "abc".into(),
            expires_at: 9,
        });
        assert_eq!(view, json!({"link": "/admin/invite#abc", "expires_at": 9}));
        let view = redemption_view(&Redemption {
            key_id: b.key_id(),
            fingerprint: b.key_id().fingerprint(),
        });
        assert_eq!(view["fingerprint"], b.key_id().fingerprint());
    }
}
