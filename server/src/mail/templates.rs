//! The text of every mail (spec/API.md, "Mail"). A mail carries references and links only:
//! the instance's name, a short ticket reference (the first 8 hex digits of its id), links
//! without any secret, and the recipient's unsubscribe link; never a subject, message, name,
//! category, file name or secret of a ticket (the server has none of them). Every mail has
//! `List-Unsubscribe` and `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058), a
//! `Message-ID` made of the outbox id (so a mail retried after a crash can be recognised as
//! the same) and `Auto-Submitted: auto-generated` (RFC 3834).

use lettre::Message;
use lettre::message::Mailbox;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};

use super::outbox::{MailKind, OutboxRecord};
use crate::services::mail::MailSettings;

/// Everything a mail's text needs besides its outbox record.
pub struct RenderContext<'a> {
    /// The mail settings (sender, links, instance name).
    pub settings: &'a MailSettings,
    /// The recipient's address.
    pub to: &'a str,
    /// The unsubscribe token issued for this mail.
    pub unsubscribe_token: &'a str,
    /// The instance's support hours (public settings), possibly empty.
    pub support_hours: &'a str,
    /// The instance's expected response time (public settings), possibly empty.
    pub response_time: &'a str,
}

/// A ticket's short reference: `#` and the first 8 hex digits of its id.
pub fn short_reference(id: &[u8; 16]) -> String {
    format!("#{}", hex::encode(&id[..4]).to_uppercase())
}

const WHY_NO_CONTENT: &str = "Why this mail says nothing about the ticket: tickets here are end-to-end \
encrypted. The server that sends this mail cannot read them, so it cannot summarise them, and \
mail is not encrypted on its way to you.";

/// The subject and body of `record` (plain text).
pub fn text(record: &OutboxRecord, context: &RenderContext<'_>) -> (String, String) {
    let settings = context.settings;
    let base = &settings.public_url;
    let name = &settings.instance_name;
    let reference = record
        .ticket
        .as_ref()
        .map(short_reference)
        .unwrap_or_default();
    let ticket_link = record
        .ticket
        .map(|id| format!("{base}/help/ticket/{}", hex::encode(id)))
        .unwrap_or_default();
    let panel_link = record
        .ticket
        .map(|id| format!("{base}/admin#ticket={}", hex::encode(id)))
        .unwrap_or_else(|| format!("{base}/admin"));
    let unsubscribe = format!("{base}/help/unsubscribe/{}", context.unsubscribe_token);
    let mut lines: Vec<String> = Vec::new();
    let subject = match record.kind {
        MailKind::Confirmation => {
            lines.push(format!("{name} received your ticket {reference}."));
            lines.push(String::new());
            if !context.support_hours.is_empty() {
                lines.push(format!("Support hours: {}", context.support_hours));
            }
            if !context.response_time.is_empty() {
                lines.push(format!("Expected response time: {}", context.response_time));
            }
            lines.push(String::new());
            lines.push("Open your ticket in the browser you wrote it in:".to_owned());
            lines.push(ticket_link);
            lines.push(
                "This link holds no secret: it opens the ticket only in a browser that saved \
                 the ticket's private link."
                    .to_owned(),
            );
            lines.push(String::new());
            lines.push(format!(
                "Lost the link, or using another browser? Ask for a recovery link at \
                 {base}/help/recover with this address; an administrator then confirms the new \
                 browser before it can read the ticket."
            ));
            lines.push(String::new());
            lines.push(format!(
                "We will mail you when support answers. {WHY_NO_CONTENT}"
            ));
            format!("{name}: ticket {reference} received")
        }
        MailKind::ReplyNotification => {
            lines.push(format!(
                "Support answered your ticket {reference} at {name}."
            ));
            lines.push(String::new());
            lines.push("Read the answer in the browser you wrote the ticket in:".to_owned());
            lines.push(ticket_link);
            lines.push(String::new());
            lines.push(format!(
                "Lost the link? Ask for a recovery link at {base}/help/recover."
            ));
            lines.push(String::new());
            lines.push(WHY_NO_CONTENT.to_owned());
            format!("{name}: support answered ticket {reference}")
        }
        MailKind::AdminNewTicket => {
            lines.push(format!("A new ticket {reference} arrived at {name}."));
            lines.push(panel_link);
            format!("{name}: new ticket {reference}")
        }
        MailKind::AdminReporterReply => {
            lines.push(format!(
                "The reporter answered on ticket {reference} at {name}."
            ));
            lines.push(panel_link);
            format!("{name}: reporter answered on {reference}")
        }
        MailKind::AdminAssigned => {
            lines.push(format!("Ticket {reference} at {name} was assigned to you."));
            lines.push(panel_link);
            format!("{name}: ticket {reference} assigned to you")
        }
        MailKind::AdminPendingRecovery => {
            lines.push(format!(
                "A recovery of ticket {reference} at {name} waits for an administrator's \
                 approval."
            ));
            lines.push(panel_link);
            format!("{name}: recovery of {reference} waits for approval")
        }
        MailKind::RecoveryLink => {
            // The fragment (ticket id and single-use token) never reaches a server when the
            // link is followed; without one the mail says so rather than send a dead link.
            let link = record.link_fragment.as_deref().map_or_else(
                || format!("{base}/help/recover"),
                |fragment| format!("{base}/help/recover#{fragment}"),
            );
            lines.push(format!(
                "Someone asked {name} for a recovery link for ticket {reference}, giving this                  address."
            ));
            lines.push(String::new());
            lines.push("Open this link in the browser you want to use from now on:".to_owned());
            lines.push(link);
            lines.push(String::new());
            lines.push(
                "It works once and for a short time. It makes a new key in that browser; an                  administrator confirms the key before it can read the ticket, and everyone in                  the conversation sees that it was added."
                    .to_owned(),
            );
            lines.push(
                "If you did not ask for this, ignore this mail: nothing changes without an                  administrator's confirmation."
                    .to_owned(),
            );
            lines.push(String::new());
            lines.push(WHY_NO_CONTENT.to_owned());
            format!("{name}: recovery link for ticket {reference}")
        }
    };
    lines.push(String::new());
    lines.push("--".to_owned());
    lines.push(format!("Stop these mails: {unsubscribe}"));
    (subject, lines.join("\n") + "\n")
}

/// A digest: one mail listing `records` (all to the same administrator).
pub fn digest_text(records: &[OutboxRecord], context: &RenderContext<'_>) -> (String, String) {
    let settings = context.settings;
    let base = &settings.public_url;
    let mut lines = vec![
        format!(
            "{} events at {} since the last digest:",
            records.len(),
            settings.instance_name
        ),
        String::new(),
    ];
    for record in records {
        let reference = record
            .ticket
            .as_ref()
            .map(short_reference)
            .unwrap_or_default();
        let what = match record.kind {
            MailKind::AdminNewTicket => "new ticket",
            MailKind::AdminReporterReply => "reporter answered",
            MailKind::AdminAssigned => "assigned to you",
            MailKind::AdminPendingRecovery => "recovery waits for approval",
            MailKind::Confirmation | MailKind::ReplyNotification | MailKind::RecoveryLink => {
                "event"
            }
        };
        let link = record
            .ticket
            .map(|id| format!("{base}/admin#ticket={}", hex::encode(id)))
            .unwrap_or_else(|| format!("{base}/admin"));
        lines.push(format!("- {reference} {what}: {link}"));
    }
    lines.push(String::new());
    lines.push("--".to_owned());
    lines.push(format!(
        "Stop these mails: {base}/help/unsubscribe/{}",
        context.unsubscribe_token
    ));
    (
        format!(
            "{}: digest of {} events",
            settings.instance_name,
            records.len()
        ),
        lines.join("\n") + "\n",
    )
}

/// The whole message: headers (From, To, Subject, Message-ID, Auto-Submitted and the RFC 8058
/// pair) and the plain-text body.
///
/// # Errors
/// A recipient address that is not one (it was checked when stored), or a body lettre refuses.
pub fn message(
    id: &[u8; 16],
    (subject, body): (String, String),
    context: &RenderContext<'_>,
) -> Result<Message, String> {
    let settings = context.settings;
    let to: Mailbox = context
        .to
        .parse()
        .map_err(|_| "the stored address does not parse".to_owned())?;
    let host = settings
        .public_url
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split(['/', ':']).next())
        .unwrap_or("sealdesk.invalid");
    let one_click = format!(
        "<{}/api/v1/unsubscribe/{}>",
        settings.public_url, context.unsubscribe_token
    );
    Message::builder()
        .from(settings.from.clone())
        .to(to)
        .subject(subject)
        .message_id(Some(format!("<{}@{host}>", hex::encode(id))))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Unsubscribe"),
            one_click,
        ))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
            "List-Unsubscribe=One-Click".to_owned(),
        ))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-generated".to_owned(),
        ))
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(|e| format!("cannot build the mail: {e}"))
}
