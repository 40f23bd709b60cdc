//! Output for people: tickets, messages and the inbox as text. Everything another person
//! wrote (texts, names, file names, debug fields) is stripped of control characters and
//! bidirectional controls before it reaches the terminal, so a message cannot move the
//! cursor, rewrite earlier lines, set the window title or show its text in another order
//! than it is read. `--json` escapes the C1 controls (U+007F–U+009F) and bidirectional
//! controls too, which `serde_json` writes raw.

use std::fmt::Write as _;

use sealdesk_client::admin::InboxItem;
use sealdesk_client::content::{Content, Text};
use sealdesk_client::reporter::Shown;
use sealdesk_crypto::{ConversationStatus, EndorseGrounds, Kind};

/// `text` without control characters other than newlines and tabs, and without
/// bidirectional controls ([`is_bidi_control`]); each becomes `�`.
pub(crate) fn clean(text: &str) -> String {
    text.chars()
        .map(|c| {
            if (c.is_control() && c != '\n' && c != '\t') || is_bidi_control(c) {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect()
}

/// The bidirectional controls, which reorder how a line is shown (Unicode TR #9): the marks
/// U+200E and U+200F, the embeddings and overrides U+202A–U+202E, the isolates
/// U+2066–U+2069.
pub(crate) fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` on one line: [`clean`], with newlines and tabs as spaces.
pub(crate) fn clean_line(text: &str) -> String {
    clean(text).replace(['\n', '\t'], " ")
}

/// Prints `view` on standard output as indented JSON (`--json`), with [`escape_json`].
pub(crate) fn print_json<V: serde::Serialize>(view: &V) {
    println!(
        "{}",
        escape_json(&serde_json::to_string_pretty(view).unwrap_or_default())
    );
}

/// `json` with U+007F–U+009F and the bidirectional controls written as `\uXXXX` escapes:
/// `serde_json` escapes only what JSON requires (below U+0020), and a terminal obeys C1
/// controls such as U+009B (CSI). Outside strings JSON is ASCII, so every such character is
/// in a string, where the escape means the same character.
pub(crate) fn escape_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if ('\u{7f}'..='\u{9f}').contains(&c) || is_bidi_control(c) {
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

/// A ticket's status as `viewer` reads it (PROTOCOL.md §10.3): `open`, `closed`, `on hold`,
/// and `waiting for the reporter` (administrators) or `waiting for your reply` (the reporter).
pub(crate) fn status(status: ConversationStatus, viewer: Viewer<'_>) -> &'static str {
    match (status, viewer) {
        (ConversationStatus::Open, _) => "open",
        (ConversationStatus::Closed, _) => "closed",
        (ConversationStatus::OnHold, _) => "on hold",
        (ConversationStatus::Waiting, Viewer::Reporter) => "waiting for your reply",
        (ConversationStatus::Waiting, Viewer::Admin(_)) => "waiting for the reporter",
    }
}

/// `1 ticket`, `2 tickets`.
pub(crate) fn count(n: usize, singular: &str) -> String {
    if n == 1 {
        format!("1 {singular}")
    } else {
        format!("{n} {singular}s")
    }
}

/// Unix seconds as `YYYY-MM-DD HH:MM UTC`.
pub(crate) fn utc(seconds: u64) -> String {
    let days = i64::try_from(seconds / 86_400).unwrap_or(i64::MAX / 2);
    let rest = seconds % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rest / 3_600,
        rest % 3_600 / 60
    )
}

/// A size for people: `1.5 MiB (1,572,864 bytes)`, or `12 bytes`.
pub(crate) fn size(bytes: u64) -> String {
    let mut grouped = String::new();
    let digits = bytes.to_string();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    const UNITS: [&str; 3] = ["KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = None;
    for name in UNITS {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = Some(name);
    }
    match unit {
        Some(unit) => format!("{value:.1} {unit} ({grouped} bytes)"),
        None if bytes == 1 => "1 byte".to_owned(),
        None => format!("{grouped} bytes"),
    }
}

/// Who reads: the reporter (through the link) or an administrator (with the ticket id, for
/// the download hint).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Viewer<'a> {
    /// The reporter.
    Reporter,
    /// An administrator reading ticket `id` (hexadecimal).
    Admin(&'a str),
}

/// When a message was written: the sender's signed claim, else the server's receipt time.
fn when(shown: &Shown) -> String {
    let sent = match &shown.content {
        Ok(Content::Message(t) | Content::InternalNote(t)) => Some(t.sent_at),
        Ok(Content::DebugData(d)) => Some(d.sent_at),
        Ok(Content::AttachmentRef(r)) => Some(r.sent_at),
        Ok(Content::Tags(t)) => Some(t.sent_at),
        Ok(Content::Close(c) | Content::Reopen(c) | Content::Waiting(c) | Content::OnHold(c)) => {
            Some(c.sent_at)
        }
        Ok(Content::Rotate | Content::Endorse(_)) | Err(_) => None,
    };
    match sent.filter(|&t| t > 0).or(Some(shown.received_at)) {
        Some(0) | None => "just now".to_owned(),
        Some(t) => utc(t),
    }
}

fn author(shown: &Shown) -> Option<&str> {
    match &shown.content {
        Ok(Content::Message(t) | Content::InternalNote(t)) => t.author.as_deref(),
        Ok(Content::Close(c) | Content::Reopen(c) | Content::Waiting(c) | Content::OnHold(c)) => {
            c.author.as_deref()
        }
        Ok(Content::Tags(t)) => t.author.as_deref(),
        _ => None,
    }
}

fn who(shown: &Shown, viewer: Viewer<'_>) -> String {
    if shown.from_support {
        let name = author(shown).map_or_else(
            || "support team".to_owned(),
            |a| format!("{} (support)", clean_line(a)),
        );
        match viewer {
            Viewer::Reporter => name,
            // The first two groups of the sender's fingerprint tell administrators apart.
            Viewer::Admin(_) => format!("{name} [key {}]", &shown.sender.fingerprint()[..11]),
        }
    } else {
        match viewer {
            Viewer::Reporter => "you".to_owned(),
            Viewer::Admin(_) => "reporter".to_owned(),
        }
    }
}

fn what(kind: Kind) -> &'static str {
    match kind {
        Kind::Message => "",
        Kind::DebugData => " · debug data",
        Kind::AttachmentRef => " · attachment",
        Kind::Close => " · closed the ticket",
        Kind::Reopen => " · reopened the ticket",
        Kind::InternalNote => " · internal note",
        Kind::Rotate => " · new ticket key (the team changed)",
        Kind::Endorse => " · reporter key added",
        Kind::Waiting => " · waiting for the reporter",
        Kind::OnHold => " · put the ticket on hold",
        Kind::Tags => " · tags",
    }
}

fn indented(out: &mut String, text: &str) {
    for line in clean(text).lines() {
        let _ = writeln!(out, "    {line}");
    }
}

/// One message: a header line `[seq] when · who · what`, then its content indented. Returns
/// whether its content could be read (else a warning stands in its place).
pub(crate) fn message(out: &mut String, shown: &Shown, viewer: Viewer<'_>) -> bool {
    let _ = writeln!(
        out,
        "[{}] {} · {}{}",
        shown.seq,
        when(shown),
        who(shown, viewer),
        what(shown.kind)
    );
    match &shown.content {
        Ok(Content::Message(text) | Content::InternalNote(text)) => indented(out, &text.text),
        Ok(Content::Tags(set)) if set.tags.is_empty() => indented(out, "(no tags)"),
        Ok(Content::Tags(set)) => indented(out, &set.tags.join(", ")),
        Ok(Content::DebugData(data)) => {
            for (field, value) in &data.fields {
                indented(
                    out,
                    &format!("{}: {}", clean_line(field), clean_line(value)),
                );
            }
        }
        Ok(Content::AttachmentRef(reference)) => {
            let _ = writeln!(
                out,
                "    {} ({}, {})",
                clean_line(&reference.name),
                size(reference.size),
                clean_line(&reference.mime_type)
            );
            let hint = match viewer {
                Viewer::Reporter => format!(
                    "sealdesk ticket download LINK --seq {} --out FILE",
                    shown.seq
                ),
                Viewer::Admin(id) => format!(
                    "sealdesk admin download {id} --seq {} --out FILE",
                    shown.seq
                ),
            };
            let _ = writeln!(out, "    save it with: {hint}");
        }
        Ok(Content::Endorse(endorse)) => {
            // PROTOCOL.md §8.2: the line names who endorsed, in the grounds' words.
            let _ = match endorse.grounds {
                EndorseGrounds::Administrator => writeln!(
                    out,
                    "    A new device was added for the reporter by the administrator with key \
                     {}, fingerprint {}",
                    shown.sender.fingerprint(),
                    endorse.endorsed.key_id().fingerprint()
                ),
                EndorseGrounds::Reporter => writeln!(
                    out,
                    "    This ticket was added to an account by the reporter, fingerprint {}",
                    endorse.endorsed.key_id().fingerprint()
                ),
            };
        }
        Ok(
            Content::Close(_)
            | Content::Reopen(_)
            | Content::Waiting(_)
            | Content::OnHold(_)
            | Content::Rotate,
        ) => {}
        Err(error) => {
            let _ = writeln!(
                out,
                "    warning: this message verified but cannot be read: {} ({})",
                clean_line(&error.message),
                error.code
            );
        }
    }
    shown.content.is_ok()
}

/// The opening form's fields: subject, who, category and urgency.
pub(crate) fn opening(out: &mut String, text: &Text) {
    if let Some(subject) = &text.subject {
        let _ = writeln!(out, "Subject: {}", clean_line(subject));
    }
    let from = match (&text.name, &text.email) {
        (Some(name), Some(email)) => Some(format!("{} <{}>", clean_line(name), clean_line(email))),
        (Some(name), None) => Some(clean_line(name)),
        (None, Some(email)) => Some(format!("<{}>", clean_line(email))),
        (None, None) => None,
    };
    if let Some(from) = from {
        let _ = writeln!(out, "From: {from}");
    }
    let mut flags = Vec::new();
    if let Some(category) = &text.category {
        flags.push(format!("Category: {}", clean_line(category)));
    }
    if text.urgent {
        flags.push("urgent".to_owned());
    }
    if !flags.is_empty() {
        let _ = writeln!(out, "{}", flags.join(" · "));
    }
}

/// Messages one after another, a blank line between them; returns how many could not be
/// read.
pub(crate) fn messages(out: &mut String, shown: &[Shown], viewer: Viewer<'_>) -> usize {
    let mut unreadable = 0;
    for m in shown {
        out.push('\n');
        if !message(out, m, viewer) {
            unreadable += 1;
        }
    }
    unreadable
}

/// One inbox line: id, status, answered, last activity, then the subject with its flags (or
/// the reason it cannot be shown).
pub(crate) fn inbox_line(out: &mut String, item: &InboxItem) {
    let summary = &item.summary;
    let subject = match &item.opening {
        Ok(text) => {
            let mut subject = clean_line(text.subject.as_deref().unwrap_or("(no subject)"));
            if text.urgent {
                subject.push_str(" [urgent]");
            }
            if let Some(category) = &text.category {
                let _ = write!(subject, " ({})", clean_line(category));
            }
            subject
        }
        Err(error) => format!(
            "warning: cannot be shown: {} ({})",
            clean_line(&error.message),
            error.code
        ),
    };
    let _ = writeln!(
        out,
        "{}  {:<6}  {:<10}  {}  {}",
        summary.ticket_id.to_hex(),
        status(summary.status, Viewer::Admin("")),
        if summary.answered {
            "answered"
        } else {
            "unanswered"
        },
        utc(summary.last_activity),
        subject
    );
}

#[cfg(test)]
mod tests {
    use sealdesk_client::ClientError;
    use sealdesk_client::content::AttachmentRef;
    use sealdesk_crypto::KeyId;

    use super::*;

    #[test]
    fn times_and_sizes() {
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc(1_700_000_000), "2023-11-14 22:13 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(size(0), "0 bytes");
        assert_eq!(size(1), "1 byte");
        assert_eq!(size(1023), "1,023 bytes");
        assert_eq!(size(150_000), "146.5 KiB (150,000 bytes)");
        assert_eq!(size(3 << 20), "3.0 MiB (3,145,728 bytes)");
    }

    #[test]
    fn control_characters_never_reach_the_terminal() {
        assert_eq!(clean("a\u{1b}[2Jb\nc\td\r"), "a\u{fffd}[2Jb\nc\td\u{fffd}");
        assert_eq!(clean("\u{9b}x\u{7f}"), "\u{fffd}x\u{fffd}");
        assert_eq!(clean_line("a\nb\tc"), "a b c");
    }

    #[test]
    fn bidirectional_controls_never_reach_the_terminal() {
        for c in [
            '\u{200e}', '\u{200f}', '\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}', '\u{202e}',
            '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}',
        ] {
            assert_eq!(
                clean(&format!("a{c}b")),
                "a\u{fffd}b",
                "{:04x}",
                u32::from(c)
            );
        }
        assert_eq!(clean("\u{200d}\u{2070}"), "\u{200d}\u{2070}");
    }

    #[test]
    fn json_escapes_c1_and_bidirectional_controls() {
        let value = serde_json::json!({"name": "x\u{9b}2J\u{7f}\u{202e}txt.exe\u{a0}é"});
        let json = escape_json(&serde_json::to_string(&value).unwrap());
        assert_eq!(
            json,
            "{\"name\":\"x\\u009b2J\\u007f\\u202etxt.exe\u{a0}é\"}"
        );
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back, value);
    }

    fn shown(seq: u64, from_support: bool, content: Result<Content, ClientError>) -> Shown {
        Shown {
            seq,
            received_at: 1_700_000_100,
            sender: KeyId([3; 32]),
            from_support,
            kind: match &content {
                Ok(c) => c.kind(),
                Err(_) => Kind::Message,
            },
            content,
        }
    }

    #[test]
    fn messages_show_who_when_and_what() {
        let mut out = String::new();
        let first = Text {
            text: "It broke.\n\u{1b}]0;pwned\u{7}".into(),
            sent_at: 1_700_000_000,
            subject: Some("Broken".into()),
            name: Some("Robin".into()),
            ..Text::default()
        };
        let reply = Text {
            text: "On it.".into(),
            sent_at: 1_700_000_060,
            author: Some("Sam".into()),
            ..Text::default()
        };
        let file = AttachmentRef {
            attachment_id: "0".repeat(32),
            name: "trace.txt".into(),
            mime_type: "text/plain".into(),
            size: 2048,
            encrypted_size: 2080,
            key: "k".into(),
            sent_at: 1_700_000_120,
        };
        let list = [
            shown(1, false, Ok(Content::Message(first.clone()))),
            shown(2, true, Ok(Content::Message(reply))),
            shown(3, false, Ok(Content::AttachmentRef(file))),
            shown(4, true, Err(ClientError::new("wrap.missing", "No key."))),
        ];
        opening(&mut out, &first);
        assert_eq!(messages(&mut out, &list, Viewer::Reporter), 1);
        assert!(!out.contains('\u{1b}') && !out.contains('\u{7}'), "{out}");
        for expected in [
            "Subject: Broken\nFrom: Robin\n",
            "[1] 2023-11-14 22:13 UTC · you\n    It broke.\n",
            "[2] 2023-11-14 22:14 UTC · Sam (support)\n    On it.\n",
            "[3] 2023-11-14 22:15 UTC · you · attachment\n    trace.txt (2.0 KiB (2,048 bytes), text/plain)\n",
            "sealdesk ticket download LINK --seq 3 --out FILE",
            "[4] 2023-11-14 22:15 UTC · support team\n    warning: this message verified but cannot be read: No key. (wrap.missing)",
        ] {
            assert!(out.contains(expected), "{expected:?} in\n{out}");
        }
        let mut admin = String::new();
        message(&mut admin, &list[1], Viewer::Admin("ab"));
        assert!(admin.contains("Sam (support) [key "), "{admin}");
        message(&mut admin, &list[0], Viewer::Admin("ab"));
        assert!(admin.contains("· reporter\n"), "{admin}");
    }
}
