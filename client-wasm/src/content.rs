//! The JSON inside messages (PROTOCOL.md §14). The server never sees it.

use std::collections::BTreeMap;

use sealdesk_crypto::{EndorseContent, Kind};
use serde::{Deserialize, Serialize};

use crate::error::{ClientError, Result};

/// Largest `text` in characters.
pub const MAX_TEXT_CHARS: usize = 65_536;
/// Largest `subject` in characters.
pub const MAX_SUBJECT_CHARS: usize = 200;
/// Most tags on a ticket (PROTOCOL.md §14, *Tags*).
pub const MAX_TAGS: usize = 20;
/// Longest tag, characters (all ASCII, so bytes too; PROTOCOL.md §14, *Tags*).
pub const MAX_TAG_CHARS: usize = 32;

/// A conversation message or an internal note; the first message of a ticket also carries
/// the opening form's fields.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Text {
    /// The message.
    pub text: String,
    /// Sender's clock, Unix seconds.
    pub sent_at: u64,
    /// Display name; absent for "the support team".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// First message only: the subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// First message only: the category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// First message only: marked urgent.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub urgent: bool,
    /// First message only: the name the reporter typed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// First message only: the email the reporter typed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// Debug data the reporter chose to send, field by field.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DebugData {
    /// Field name → value.
    pub fields: BTreeMap<String, String>,
    /// Sender's clock, Unix seconds.
    pub sent_at: u64,
}

/// A reference to an uploaded attachment, with its key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentRef {
    /// 32 hexadecimal characters.
    pub attachment_id: String,
    /// File name.
    pub name: String,
    /// MIME type.
    #[serde(rename = "type")]
    pub mime_type: String,
    /// Plaintext bytes.
    pub size: u64,
    /// Bytes of the encrypted stream (PROTOCOL.md §13).
    pub encrypted_size: u64,
    /// The 32-byte file key, unpadded base64url.
    pub key: String,
    /// Sender's clock, Unix seconds.
    pub sent_at: u64,
}

/// A close or reopen.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    /// Sender's clock, Unix seconds.
    pub sent_at: u64,
    /// Display name, optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
}

/// A ticket's tags (kind 11, PROTOCOL.md §14): the whole set after the change, on the notes
/// chain. Readable only when [`tags_are_valid`] holds for `tags`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagSet {
    /// The tags, sorted, without duplicates (at most [`MAX_TAGS`]).
    pub tags: Vec<String>,
    /// Sender's clock, Unix seconds.
    pub sent_at: u64,
    /// Display name, optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
}

/// Whether `tag` is one PROTOCOL.md §14 allows: 1 to [`MAX_TAG_CHARS`] characters of
/// `a`–`z`, `0`–`9`, `-`, `_`.
pub fn tag_is_valid(tag: &str) -> bool {
    (1..=MAX_TAG_CHARS).contains(&tag.len())
        && tag
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// Whether `tags` is a tag set PROTOCOL.md §14 allows: at most [`MAX_TAGS`] valid tags in
/// strictly increasing byte order (sorted, no duplicates).
pub fn tags_are_valid(tags: &[String]) -> bool {
    tags.len() <= MAX_TAGS
        && tags.iter().all(|t| tag_is_valid(t))
        && tags.windows(2).all(|pair| pair[0] < pair[1])
}

/// The tag set a person typed, as a writer sends it (PROTOCOL.md §14, *Tags*): each trimmed
/// and lowercased (Unicode lowercase; a tag that is still not `a`–`z0`–`9-_` is refused),
/// blanks dropped, sorted, duplicates dropped.
///
/// # Errors
/// `tags.invalid` naming the first tag that cannot be written, or when more than [`MAX_TAGS`]
/// remain.
pub fn normalise_tags<S: AsRef<str>>(typed: &[S]) -> Result<Vec<String>> {
    let mut tags = Vec::with_capacity(typed.len());
    for raw in typed {
        let tag = raw.as_ref().trim().to_lowercase();
        if tag.is_empty() {
            continue;
        }
        if !tag_is_valid(&tag) {
            return Err(ClientError::new(
                "tags.invalid",
                format!(
                    "\"{tag}\" is not a tag: use 1 to {MAX_TAG_CHARS} lowercase letters, digits, - or _."
                ),
            ));
        }
        tags.push(tag);
    }
    tags.sort();
    tags.dedup();
    if tags.len() > MAX_TAGS {
        return Err(ClientError::new(
            "tags.invalid",
            format!("A ticket has at most {MAX_TAGS} tags."),
        ));
    }
    Ok(tags)
}

/// Text a member writes after the opening: a reply on the conversation, or an administrator's
/// internal note (PROTOCOL.md §14, kinds 1 and 6). The one place replies and notes are built,
/// for every role.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outgoing {
    /// The message (at most [`MAX_TEXT_CHARS`] characters, checked when it is encoded).
    pub text: String,
    /// Display name it is signed with; `None` for "the support team" (and for reporters).
    pub author: Option<String>,
    /// Sender's clock, Unix seconds.
    pub sent_at: u64,
}

impl Outgoing {
    /// `text` sent at `sent_at` (Unix seconds), without a display name.
    pub fn new(text: &str, sent_at: u64) -> Self {
        Outgoing {
            text: text.to_owned(),
            author: None,
            sent_at,
        }
    }

    /// The same text under the display name `author` (`None`: "the support team").
    pub fn with_author(self, author: Option<String>) -> Self {
        Outgoing { author, ..self }
    }

    fn into_text(self) -> Text {
        Text {
            text: self.text,
            sent_at: self.sent_at,
            author: self.author,
            ..Text::default()
        }
    }

    /// As a conversation message (kind 1).
    pub fn into_message(self) -> Content {
        Content::Message(self.into_text())
    }

    /// As an internal note (kind 6).
    pub fn into_note(self) -> Content {
        Content::InternalNote(self.into_text())
    }
}

/// The decrypted content of a message, by kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Content {
    /// Kind 1.
    Message(Text),
    /// Kind 2.
    DebugData(DebugData),
    /// Kind 3.
    AttachmentRef(AttachmentRef),
    /// Kind 4.
    Close(StatusChange),
    /// Kind 5.
    Reopen(StatusChange),
    /// Kind 6.
    InternalNote(Text),
    /// Kind 7 (empty).
    Rotate,
    /// Kind 8: a further reporter key endorsed by an administrator (binary, PROTOCOL.md §8.2).
    Endorse(Box<EndorseContent>),
    /// Kind 9: waiting for the reporter (administrators, PROTOCOL.md §10.3).
    Waiting(StatusChange),
    /// Kind 10: on hold (administrators, PROTOCOL.md §10.3).
    OnHold(StatusChange),
    /// Kind 11: the ticket's tags (notes chain, PROTOCOL.md §14).
    Tags(TagSet),
}

impl Content {
    /// The message kind that carries this content.
    pub fn kind(&self) -> Kind {
        match self {
            Content::Message(_) => Kind::Message,
            Content::DebugData(_) => Kind::DebugData,
            Content::AttachmentRef(_) => Kind::AttachmentRef,
            Content::Close(_) => Kind::Close,
            Content::Reopen(_) => Kind::Reopen,
            Content::InternalNote(_) => Kind::InternalNote,
            Content::Rotate => Kind::Rotate,
            Content::Endorse(_) => Kind::Endorse,
            Content::Waiting(_) => Kind::Waiting,
            Content::OnHold(_) => Kind::OnHold,
            Content::Tags(_) => Kind::Tags,
        }
    }

    /// A close (kind 4) sent at `sent_at`, Unix seconds, without a display name.
    pub fn close(sent_at: u64) -> Content {
        Content::Close(StatusChange {
            sent_at,
            author: None,
        })
    }

    /// A reopen (kind 5) sent at `sent_at`, Unix seconds, without a display name.
    pub fn reopen(sent_at: u64) -> Content {
        Content::Reopen(StatusChange {
            sent_at,
            author: None,
        })
    }

    /// The UTF-8 JSON encoding (empty for a rotation, binary for an endorsement, §14).
    ///
    /// # Errors
    /// `content.too_long` when a text or subject exceeds its limit; `tags.invalid` for a tag
    /// set [`tags_are_valid`] refuses (build it with [`normalise_tags`]).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let check = |text: &Text| {
            if text.text.chars().count() > MAX_TEXT_CHARS
                || text
                    .subject
                    .as_ref()
                    .is_some_and(|s| s.chars().count() > MAX_SUBJECT_CHARS)
            {
                Err(ClientError::new(
                    "content.too_long",
                    "The message or subject is too long.",
                ))
            } else {
                Ok(())
            }
        };
        let json = match self {
            Content::Message(text) | Content::InternalNote(text) => {
                check(text)?;
                serde_json::to_vec(text)
            }
            Content::DebugData(data) => serde_json::to_vec(data),
            Content::AttachmentRef(reference) => serde_json::to_vec(reference),
            Content::Close(change)
            | Content::Reopen(change)
            | Content::Waiting(change)
            | Content::OnHold(change) => serde_json::to_vec(change),
            Content::Tags(set) => {
                if !tags_are_valid(&set.tags) {
                    return Err(ClientError::new(
                        "tags.invalid",
                        "The tags are not a sorted set of at most 20 valid tags.",
                    ));
                }
                serde_json::to_vec(set)
            }
            Content::Rotate => return Ok(Vec::new()),
            Content::Endorse(endorse) => return Ok(endorse.to_bytes()),
        };
        json.map_err(|_| ClientError::new("content.encode", "The content could not be encoded."))
    }

    /// Parses decrypted content of `kind`.
    ///
    /// # Errors
    /// `content.unreadable` when it is not the JSON this kind carries (the message itself is
    /// still verified; the interface shows a warning instead of the content).
    pub fn parse(kind: Kind, bytes: &[u8]) -> Result<Content> {
        let unreadable = |_| {
            ClientError::new(
                "content.unreadable",
                "This message's content cannot be read.",
            )
        };
        Ok(match kind {
            Kind::Message => Content::Message(serde_json::from_slice(bytes).map_err(unreadable)?),
            Kind::DebugData => {
                Content::DebugData(serde_json::from_slice(bytes).map_err(unreadable)?)
            }
            Kind::AttachmentRef => {
                Content::AttachmentRef(serde_json::from_slice(bytes).map_err(unreadable)?)
            }
            Kind::Close => Content::Close(serde_json::from_slice(bytes).map_err(unreadable)?),
            Kind::Reopen => Content::Reopen(serde_json::from_slice(bytes).map_err(unreadable)?),
            Kind::InternalNote => {
                Content::InternalNote(serde_json::from_slice(bytes).map_err(unreadable)?)
            }
            Kind::Waiting => Content::Waiting(serde_json::from_slice(bytes).map_err(unreadable)?),
            Kind::OnHold => Content::OnHold(serde_json::from_slice(bytes).map_err(unreadable)?),
            Kind::Tags => {
                let set: TagSet = serde_json::from_slice(bytes).map_err(unreadable)?;
                // §14: a reader never repairs a tag set; one it cannot read changes nothing.
                if !tags_are_valid(&set.tags) {
                    return Err(ClientError::new(
                        "content.unreadable",
                        "This message's content cannot be read.",
                    ));
                }
                Content::Tags(set)
            }
            Kind::Rotate => Content::Rotate,
            Kind::Endorse => Content::Endorse(Box::new(
                EndorseContent::from_bytes(bytes).map_err(|_| {
                    ClientError::new(
                        "content.unreadable",
                        "This message's content cannot be read.",
                    )
                })?,
            )),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn read(bytes: &[u8]) -> Result<Content> {
        Content::parse(Kind::Tags, bytes)
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn tags_round_trip_and_the_latest_set_is_whole() {
        let set = Content::Tags(TagSet {
            tags: normalise_tags(&["VIP", " billing ", "vip", ""]).unwrap(),
            sent_at: 7,
            author: None,
        });
        let bytes = set.to_bytes().unwrap();
        assert_eq!(bytes, br#"{"tags":["billing","vip"],"sent_at":7}"#);
        assert_eq!(read(&bytes).unwrap(), set);
        assert_eq!(set.kind(), Kind::Tags);
        let none = read(br#"{"tags":[],"sent_at":1}"#).unwrap();
        assert_eq!(
            none,
            Content::Tags(TagSet {
                tags: vec![],
                sent_at: 1,
                author: None
            })
        );
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn malformed_tags_are_unreadable() {
        let long = format!(r#"{{"tags":["{}"],"sent_at":1}}"#, "a".repeat(33));
        let many = format!(
            r#"{{"tags":[{}],"sent_at":1}}"#,
            (0..21)
                .map(|i| format!("\"t{i:02}\""))
                .collect::<Vec<_>>()
                .join(",")
        );
        for bad in [
            r#"{"sent_at":1}"#,
            r#"{"tags":"vip","sent_at":1}"#,
            r#"{"tags":null,"sent_at":1}"#,
            r#"{"tags":[1],"sent_at":1}"#,
            r#"{"tags":[""],"sent_at":1}"#,
            r#"{"tags":["Vip"],"sent_at":1}"#,
            r#"{"tags":["v ip"],"sent_at":1}"#,
            r#"{"tags":["café"],"sent_at":1}"#,
            r#"{"tags":["vip","bug"],"sent_at":1}"#,
            r#"{"tags":["vip","vip"],"sent_at":1}"#,
            r#"{"tags":["vip"]}"#,
            r#"{"tags":["vip"],"tags":["bug"],"sent_at":1}"#,
            long.as_str(),
            many.as_str(),
        ] {
            assert_eq!(
                read(bad.as_bytes()).unwrap_err().code,
                "content.unreadable",
                "{bad}"
            );
        }
        let max = format!(
            r#"{{"tags":[{}],"sent_at":1}}"#,
            (0..20u8)
                .map(|i| format!("\"{}\"", char::from(b'a' + i).to_string().repeat(32)))
                .collect::<Vec<_>>()
                .join(",")
        );
        assert!(read(max.as_bytes()).is_ok());
        assert!(read(br#"{"tags":["-x","0","_a","a-b_c9"],"sent_at":1}"#).is_ok());
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn writers_refuse_what_they_cannot_send() {
        assert_eq!(normalise_tags(&["a b"]).unwrap_err().code, "tags.invalid");
        assert_eq!(normalise_tags(&["café"]).unwrap_err().code, "tags.invalid");
        let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
        assert_eq!(normalise_tags(&many).unwrap_err().code, "tags.invalid");
        let unsorted = Content::Tags(TagSet {
            tags: vec!["vip".into(), "bug".into()],
            sent_at: 1,
            author: None,
        });
        assert_eq!(unsorted.to_bytes().unwrap_err().code, "tags.invalid");
    }
}
