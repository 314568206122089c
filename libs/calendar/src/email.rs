//! Calendar invites as email (iMIP, RFC 6047) and plain notification emails, built with lettre's message builder.
//!
//! [`invite_message`] gives one recipient one iTIP message (`METHOD:REQUEST` or `METHOD:CANCEL`):
//!
//! ```text
//! multipart/mixed                                  (only with attach_ics)
//! ├── multipart/alternative
//! │   ├── text/plain; charset=utf-8
//! │   ├── text/html; charset=utf-8                 (with inline images: multipart/related of it and image/png)
//! │   └── text/calendar; method=REQUEST; charset=utf-8   base64, no Content-Disposition
//! └── application/ics  attachment "invite.ics"      base64 (only with attach_ics)
//! ```
//!
//! The `method=` parameter is the calendar's METHOD in upper case; the calendar part is base64 (lettre would pick
//! quoted-printable by itself) and is never an attachment, or Evolution shows it as a plain file. The optional
//! `application/ics` copy helps clients that only offer attachments. One message carries one iCalendar object with
//! one METHOD and one UID, naming the recipient as ATTENDEE; anything else is refused with an [`EmailError`] before a
//! message exists, so nothing wrong can be sent. [`plain_message`] is the same without a calendar: text and HTML
//! in a `multipart/alternative`.
//!
//! Headers: From and To with display names (lettre writes non-ASCII names and subjects as RFC 2047 encoded words),
//! Subject, Date (now), `Message-ID: <uuid-v4@message_id_domain>` and `MIME-Version: 1.0`. The subject and the display
//! names are cleaned first — every control character (CR and LF included) and every run of white space becomes one
//! space — so a name such as `"Eve\r\nBcc: x@evil"` stays inside its own header. Addresses are parsed by lettre,
//! which rejects anything that is not a plain `user@domain`.

use lettre::Address;
use lettre::Message;
use lettre::message::header::{
    ContentDisposition, ContentTransferEncoding, ContentType, ContentTypeErr,
};
use lettre::message::{Mailbox, MultiPart, SinglePart};

use crate::text::mailto;
use crate::{Calendar, Method, Person};

/// The file name of the `application/ics` copy attached when `attach_ics` is set.
pub const INVITE_FILE_NAME: &str = "invite.ics";

/// The MIME type of the attached copy.
const ATTACHMENT_CONTENT_TYPE: &str = "application/ics";

/// What the recipient reads: the subject and the same text as plain text and as HTML (rendered by the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailContent {
    /// One line; control characters and line breaks are turned into spaces.
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Pictures the HTML shows as `<img src="cid:…">` (a check-in QR code): sent beside it in a
    /// `multipart/related`, since mail clients block `data:` URIs and remote images.
    pub inline_images: Vec<InlineImage>,
}

/// A PNG the HTML part refers to by its Content-ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlineImage {
    /// Without the angle brackets: `check-in-code@cloverleaf`.
    pub content_id: String,
    /// Shown by clients that list it as an attachment.
    pub file_name: String,
    pub png: Vec<u8>,
}

/// Why no message was built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmailError {
    /// Only REQUEST and CANCEL are invitations; a PUBLISH calendar lands as "add to calendar" at best.
    #[error("METHOD:{0} is not an invitation: send METHOD:REQUEST or METHOD:CANCEL")]
    NotAnInvite(Method),
    /// [`Calendar::problems`] was not empty.
    #[error("the calendar is not a valid iTIP message: {}", .0.join("; "))]
    InvalidCalendar(Vec<String>),
    /// Some event of the invite does not list the recipient among its attendees.
    #[error("{0} is not an ATTENDEE of the invite")]
    RecipientNotAttendee(String),
    /// An address lettre does not accept as `user@domain`.
    #[error("invalid email address {address:?}: {source}")]
    InvalidAddress {
        address: String,
        #[source]
        source: lettre::address::AddressError,
    },
    /// The domain for the Message-ID must be a plain host name.
    #[error("invalid Message-ID domain {0:?}")]
    InvalidMessageIdDomain(String),
    #[error("invalid MIME type: {0}")]
    ContentType(#[from] ContentTypeErr),
    #[error("cannot build the message: {0}")]
    Build(#[from] lettre::error::Error),
}

/// An email carrying a calendar invite (iMIP): one recipient, and one [`Calendar`] with METHOD REQUEST or CANCEL
/// whose events (one UID) all name the recipient as ATTENDEE. `from` may be a no-reply address; the ORGANIZER inside
/// the calendar is what calendar clients reply to. With `attach_ics` the message also carries an `application/ics`
/// copy named [`INVITE_FILE_NAME`]. Refuses (without building anything) a PUBLISH calendar, a calendar with
/// [`Calendar::problems`], and a recipient who is not an attendee.
pub fn invite_message(
    from: &Person,
    to: &Person,
    content: &EmailContent,
    calendar: &Calendar,
    attach_ics: bool,
    message_id_domain: &str,
) -> Result<Message, EmailError> {
    if calendar.method == Method::Publish {
        return Err(EmailError::NotAnInvite(calendar.method));
    }
    let problems = calendar.problems();
    if !problems.is_empty() {
        return Err(EmailError::InvalidCalendar(problems));
    }
    let recipient = mailbox(to)?;
    let address = recipient.email.to_string();
    let named = |attendee: &Person| {
        mailto(&attendee.email)
            .get("mailto:".len()..)
            .is_some_and(|a| a.trim().eq_ignore_ascii_case(&address))
    };
    if !calendar
        .events
        .iter()
        .all(|e| e.attendees.iter().any(named))
    {
        return Err(EmailError::RecipientNotAttendee(address));
    }

    let ics = calendar.to_ics();
    let calendar_part = SinglePart::builder()
        .header(ContentType::parse(calendar.method.content_type())?)
        .header(ContentTransferEncoding::Base64)
        .body(ics.clone());
    let alternative = alternative(content)?.singlepart(calendar_part);
    let body = if attach_ics {
        // What `lettre::message::Attachment` builds, plus base64 (it would pick quoted-printable).
        let copy = SinglePart::builder()
            .header(ContentDisposition::attachment(INVITE_FILE_NAME))
            .header(ContentType::parse(ATTACHMENT_CONTENT_TYPE)?)
            .header(ContentTransferEncoding::Base64)
            .body(ics);
        MultiPart::mixed().multipart(alternative).singlepart(copy)
    } else {
        alternative
    };
    Ok(headers(from, recipient, content, message_id_domain)?.multipart(body)?)
}

/// An email without an invite (waiting list, pending approval, reminders): `multipart/alternative` with the text
/// and the HTML version, and the same headers as [`invite_message`].
pub fn plain_message(
    from: &Person,
    to: &Person,
    content: &EmailContent,
    message_id_domain: &str,
) -> Result<Message, EmailError> {
    let recipient = mailbox(to)?;
    Ok(headers(from, recipient, content, message_id_domain)?.multipart(alternative(content)?)?)
}

/// From, To, Subject and Message-ID (lettre adds Date and MIME-Version).
fn headers(
    from: &Person,
    to: Mailbox,
    content: &EmailContent,
    message_id_domain: &str,
) -> Result<lettre::message::MessageBuilder, EmailError> {
    Ok(Message::builder()
        .from(mailbox(from)?)
        .to(to)
        .subject(header_text(&content.subject))
        .message_id(Some(message_id(message_id_domain)?)))
}

/// `multipart/alternative` holding text/plain then text/html (both UTF-8, encoded as lettre sees fit); with inline
/// images the HTML is a `multipart/related` of the HTML and its pictures.
fn alternative(content: &EmailContent) -> Result<MultiPart, EmailError> {
    let text = MultiPart::alternative().singlepart(SinglePart::plain(content.text.clone()));
    if content.inline_images.is_empty() {
        return Ok(text.singlepart(SinglePart::html(content.html.clone())));
    }
    let mut related = MultiPart::related().singlepart(SinglePart::html(content.html.clone()));
    for image in &content.inline_images {
        related = related.singlepart(
            lettre::message::Attachment::new_inline_with_name(
                image.content_id.clone(),
                image.file_name.clone(),
            )
            .body(image.png.clone(), ContentType::parse("image/png")?),
        );
    }
    Ok(text.multipart(related))
}

/// A person as a lettre mailbox: the address parsed by lettre, the display name cleaned by [`header_text`] (none
/// when it is empty).
fn mailbox(person: &Person) -> Result<Mailbox, EmailError> {
    let email: Address =
        person
            .email
            .trim()
            .parse()
            .map_err(|source| EmailError::InvalidAddress {
                address: person.email.clone(),
                source,
            })?;
    let name = header_text(&person.name);
    Ok(Mailbox::new((!name.is_empty()).then_some(name), email))
}

/// `<uuid-v4@domain>`; the domain must be a plain host name (ASCII letters, digits, `-` and `.`).
fn message_id(domain: &str) -> Result<String, EmailError> {
    let domain = domain.trim();
    let valid = !domain.is_empty()
        && domain
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    if !valid {
        return Err(EmailError::InvalidMessageIdDomain(domain.to_owned()));
    }
    Ok(format!("<{}@{domain}>", uuid::Uuid::new_v4()))
}

/// Text for a header (subject, display name): every control character (CR and LF included) and every run of white
/// space becomes a single space, and the ends are trimmed, so the value cannot start a new header line.
pub fn header_text(s: &str) -> String {
    s.split(|c: char| c.is_control() || c.is_whitespace())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_text_keeps_one_line() {
        assert_eq!(header_text("Eve\r\nBcc: x@evil"), "Eve Bcc: x@evil");
        assert_eq!(header_text("  a\u{0}b\tc\u{2028}d\u{85}e  "), "a b c d e");
        assert_eq!(header_text("张伟"), "张伟");
        assert_eq!(header_text("\r\n"), "");
    }

    #[test]
    fn message_ids() {
        let id = message_id("mail.example.org").expect("a valid domain");
        assert!(id.starts_with('<') && id.ends_with("@mail.example.org>"));
        assert_eq!(id.len(), 1 + 36 + 1 + "mail.example.org".len() + 1);
        assert!(message_id("evil>\r\nBcc: x").is_err());
        assert!(message_id("").is_err());
    }
}
