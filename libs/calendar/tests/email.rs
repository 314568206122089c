//! Invites as email (iMIP): whole messages from `email::invite_message` and `email::plain_message`, written as
//! `.eml` files and checked by `check-invite` (with libical), by a small MIME reader here and by Python's email parser.
#![cfg(feature = "email")]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use chrono::Duration;
use chrono_tz::{Asia, Europe};
use cloverleaf_calendar::email::{
    EmailContent, EmailError, INVITE_FILE_NAME, invite_message, plain_message,
};
use cloverleaf_calendar::{Calendar, EventStatus, Method, Person};
use support::{assert_checker_passes, at, event};

const DOMAIN: &str = "mail.cloverleaf.test";

fn office() -> Person {
    Person::new("Sino-EU PerMed Office", "office@permed.example.org")
}

fn no_reply() -> Person {
    Person::new("Cloverleaf · Sino-EU PerMed", "no-reply@events.example.org")
}

fn zhang_wei() -> Person {
    Person::new("张伟", "zhang.wei@example.cn")
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

/// The symposium in Berlin, organised by the office, inviting Zhang Wei.
fn symposium(method: Method, sequence: u32) -> Calendar {
    let mut e = event(
        "evt-7@cloverleaf.test",
        at(2026, 5, 12, 7, 0),
        Europe::Berlin,
        "Sino-EU PerMed Symposium — 中欧个性化医学研讨会, Charité",
    );
    e.sequence = sequence;
    e.dtstamp = at(2026, 2, 1, 12, 0) + Duration::days(i64::from(sequence));
    e.organizer = Some(office());
    e.attendees = vec![zhang_wei()];
    e.description = Some("Programme: keynote; panel, Q&A.\n议程：主题报告；小组讨论。".to_owned());
    e.location = Some("Charitéplatz 1, 10117 Berlin".to_owned());
    e.url = Some("https://events.example.org/e/7".to_owned());
    Calendar {
        method,
        name: None,
        events: vec![e],
    }
}

/// A workshop in Shanghai, with the same organiser and attendee.
fn workshop() -> Calendar {
    let mut e = event(
        "evt-8@cloverleaf.test",
        at(2026, 6, 3, 1, 30),
        Asia::Shanghai,
        "中德个性化医学合作研讨会 — Workshop",
    );
    e.organizer = Some(office());
    e.attendees = vec![zhang_wei()];
    e.location = Some("上海交通大学医学院，重庆南路227号".to_owned());
    Calendar {
        method: Method::Request,
        name: None,
        events: vec![e],
    }
}

fn content(subject: &str) -> EmailContent {
    EmailContent {
        subject: subject.to_owned(),
        text: format!("您好 张伟,\n\n{subject}\nGrüße aus Berlin — à bientôt.\n"),
        html: format!("<p>您好 张伟,</p><p>{subject}</p><p>Grüße aus Berlin — à bientôt.</p>"),
        inline_images: Vec::new(),
    }
}

fn write_eml(dir: &Path, name: &str, message: &lettre::Message) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, message.formatted()).expect("write the .eml file");
    path
}

// ---- a small MIME reader: enough to see the structure lettre wrote ------------------------------------------------

/// One entity: its headers (unfolded, in order) and its raw body.
struct Entity {
    headers: Vec<(String, String)>,
    body: String,
}

impl Entity {
    /// Headers end at the first blank line; a line starting with white space continues the previous header.
    fn parse(raw: &str) -> Entity {
        let (head, body) = raw
            .split_once("\r\n\r\n")
            .expect("a blank line after the headers");
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in head.split("\r\n") {
            if line.starts_with([' ', '\t']) {
                let last = headers
                    .last_mut()
                    .expect("a header before a continuation line");
                last.1.push_str(line);
            } else {
                let (name, value) = line.split_once(':').expect("a header line has a colon");
                headers.push((name.to_owned(), value.trim().to_owned()));
            }
        }
        Entity {
            headers,
            body: body.to_owned(),
        }
    }

    fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The only header of that name.
    fn one(&self, name: &str) -> &str {
        match self.all(name)[..] {
            [value] => value,
            ref values => panic!("expected one {name} header, found {values:?}"),
        }
    }

    /// The MIME type without parameters, lower case.
    fn mime_type(&self) -> String {
        let value = self
            .all("Content-Type")
            .first()
            .copied()
            .unwrap_or("text/plain");
        value
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
    }

    /// The parts of a multipart entity.
    fn parts(&self) -> Vec<Entity> {
        let content_type = self.one("Content-Type");
        let boundary = content_type
            .split(';')
            .filter_map(|p| p.trim().strip_prefix("boundary="))
            .next()
            .expect("a multipart Content-Type has a boundary")
            .trim_matches('"');
        let delimiter = format!("\r\n--{boundary}");
        let body = format!("\r\n{}", self.body);
        let mut chunks = body.split(delimiter.as_str());
        chunks.next(); // the preamble
        chunks
            .take_while(|chunk| !chunk.starts_with("--"))
            .map(|chunk| Entity::parse(chunk.strip_prefix("\r\n").expect("CRLF after a boundary")))
            .collect()
    }

    fn decoded(&self) -> String {
        assert!(
            self.one("Content-Transfer-Encoding")
                .eq_ignore_ascii_case("base64")
        );
        let compact: String = self.body.split_whitespace().collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(compact)
            .expect("valid base64");
        String::from_utf8(bytes).expect("UTF-8")
    }
}

fn parse_message(message: &lettre::Message) -> Entity {
    let raw = message.formatted();
    assert!(raw.is_ascii(), "the whole message is 7-bit ASCII");
    let raw = String::from_utf8(raw).expect("ASCII is UTF-8");
    assert!(
        !raw.replace("\r\n", "").contains(['\r', '\n']),
        "CRLF line ends only"
    );
    Entity::parse(&raw)
}

/// The top-level headers every message has, once each.
fn assert_headers(top: &Entity) {
    for name in [
        "From",
        "To",
        "Subject",
        "Date",
        "Message-ID",
        "MIME-Version",
    ] {
        top.one(name);
    }
    assert_eq!(top.one("MIME-Version"), "1.0");
    let id = top.one("Message-ID");
    let uuid = id
        .strip_prefix('<')
        .and_then(|id| id.strip_suffix(&format!("@{DOMAIN}>")))
        .unwrap_or_else(|| panic!("Message-ID {id} is not <uuid@{DOMAIN}>"));
    assert_eq!(uuid.len(), 36, "a hyphenated UUID: {uuid}");
    assert_eq!(uuid.as_bytes()[14], b'4', "a version 4 UUID: {uuid}");
    assert!(top.all("Bcc").is_empty() && top.all("Cc").is_empty());
}

/// The alternative part holds text/plain, text/html and the calendar, base64, not an attachment; returns the
/// decoded calendar.
fn assert_invite_alternative(alternative: &Entity, method: Method) -> String {
    assert_eq!(alternative.mime_type(), "multipart/alternative");
    let parts = alternative.parts();
    let kinds: Vec<String> = parts.iter().map(Entity::mime_type).collect();
    assert_eq!(kinds, ["text/plain", "text/html", "text/calendar"]);
    for text in &parts[..2] {
        assert!(
            text.one("Content-Type")
                .to_ascii_lowercase()
                .ends_with("; charset=utf-8")
        );
    }
    let calendar = &parts[2];
    let content_type = calendar.one("Content-Type");
    let expected = format!("text/calendar; method={method}; charset=");
    assert!(
        content_type.starts_with(&expected)
            && content_type[expected.len()..].eq_ignore_ascii_case("UTF-8"),
        "calendar part Content-Type: {content_type}"
    );
    assert_eq!(
        content_type.to_ascii_lowercase(),
        method.content_type().to_ascii_lowercase()
    );
    assert_eq!(calendar.one("Content-Transfer-Encoding"), "base64");
    assert!(calendar.all("Content-Disposition").is_empty());
    calendar.decoded()
}

/// Python's email parser (the checker's interpreter) reads the decoded headers back.
fn python_reads(path: &Path) -> Vec<String> {
    const SCRIPT: &str = r#"
import email, email.policy, sys
msg = email.message_from_bytes(open(sys.argv[1], "rb").read(), policy=email.policy.default)
for h in ("From", "To"):
    for a in msg[h].addresses:
        print(h, repr(a.display_name), a.addr_spec)
print("Subject", str(msg["Subject"]))
print("Headers", sorted(k.lower() for k in msg.keys()))
"#;
    let python = support::checker_python();
    let output = Command::new(&python)
        .arg("-c")
        .arg(SCRIPT)
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

// ---- the tests ----------------------------------------------------------------------------------------------------

#[test]
fn request_update_and_cancel_emails_pass_check_invite_in_series() {
    let request = symposium(Method::Request, 0);
    let mut update = symposium(Method::Request, 1);
    update.events[0].starts_at += Duration::hours(2);
    update.events[0].ends_at += Duration::hours(2);
    let mut cancel = symposium(Method::Cancel, 2);
    cancel.events[0].status = Some(EventStatus::Cancelled);

    let dir = tempdir();
    let mut files = Vec::new();
    for (name, calendar, subject) in [
        (
            "1-request.eml",
            &request,
            "Einladung: Sino-EU PerMed Symposium — 邀请：中欧个性化医学研讨会",
        ),
        (
            "2-update.eml",
            &update,
            "Geändert: neue Uhrzeit — 更新：时间已更改",
        ),
        (
            "3-cancel.eml",
            &cancel,
            "Abgesagt: Sino-EU PerMed Symposium — 取消：研讨会",
        ),
    ] {
        let message = invite_message(
            &no_reply(),
            &zhang_wei(),
            &content(subject),
            calendar,
            false,
            DOMAIN,
        )
        .expect("an invite");
        let top = parse_message(&message);
        assert_headers(&top);
        let ics = assert_invite_alternative(&top, calendar.method);
        assert_eq!(ics, calendar.to_ics(), "the calendar part is the calendar");
        assert!(ics.contains("\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n"));
        assert!(ics.contains(&format!("\r\nMETHOD:{}\r\n", calendar.method)));
        assert!(ics.contains(&format!("\r\nSEQUENCE:{}\r\n", calendar.events[0].sequence)));
        assert!(
            top.one("To").contains("=?utf-8?b?"),
            "the non-ASCII name is an encoded word: {}",
            top.one("To")
        );

        let path = write_eml(dir.path(), name, &message);
        let read = python_reads(&path);
        assert_eq!(
            read[0],
            "From 'Cloverleaf · Sino-EU PerMed' no-reply@events.example.org"
        );
        assert_eq!(read[1], "To '张伟' zhang.wei@example.cn");
        assert_eq!(read[2], format!("Subject {subject}"));
        files.push(path);
    }
    assert!(
        parse_message(
            &invite_message(
                &no_reply(),
                &zhang_wei(),
                &content("x"),
                &cancel,
                false,
                DOMAIN
            )
            .expect("an invite")
        )
        .parts()[2]
            .decoded()
            .contains("\r\nSTATUS:CANCELLED\r\n")
    );

    for file in &files {
        assert_checker_passes(&[file]);
    }
    let mut args: Vec<&Path> = vec![Path::new("--series")];
    args.extend(files.iter().map(PathBuf::as_path));
    let report = assert_checker_passes(&args);
    assert!(report.contains("3 passed, 0 failed"));
}

#[test]
fn with_an_attached_copy_the_alternative_comes_first_in_multipart_mixed() {
    let calendar = workshop();
    let message = invite_message(
        &office(),
        &zhang_wei(),
        &content("邀请：中德个性化医学合作研讨会（上海）"),
        &calendar,
        true,
        DOMAIN,
    )
    .expect("an invite");
    let top = parse_message(&message);
    assert_headers(&top);
    assert_eq!(top.mime_type(), "multipart/mixed");
    let parts = top.parts();
    assert_eq!(parts.len(), 2);
    let ics = assert_invite_alternative(&parts[0], Method::Request);
    assert_eq!(ics, calendar.to_ics());
    assert!(ics.contains("\r\nBEGIN:VTIMEZONE\r\nTZID:Asia/Shanghai\r\n"));
    assert!(ics.contains("\r\nDTSTART;TZID=Asia/Shanghai:20260603T093000\r\n"));

    let copy = &parts[1];
    assert_eq!(copy.one("Content-Type"), "application/ics");
    assert_eq!(copy.one("Content-Transfer-Encoding"), "base64");
    assert_eq!(
        copy.one("Content-Disposition"),
        format!("attachment; filename=\"{INVITE_FILE_NAME}\"")
    );
    assert_eq!(copy.decoded(), ics);

    let dir = tempdir();
    let path = write_eml(dir.path(), "attached.eml", &message);
    assert_checker_passes(&[&path]);
}

#[test]
fn a_plain_message_has_no_calendar() {
    let message = plain_message(
        &no_reply(),
        &zhang_wei(),
        &content("候补名单：您已在候补名单上 — Warteliste"),
        DOMAIN,
    )
    .expect("a message");
    let raw = String::from_utf8(message.formatted()).expect("ASCII");
    assert!(!raw.to_ascii_lowercase().contains("text/calendar"));
    assert!(!raw.contains("BEGIN:VCALENDAR"));
    let top = parse_message(&message);
    assert_headers(&top);
    assert_eq!(top.mime_type(), "multipart/alternative");
    let kinds: Vec<String> = top.parts().iter().map(Entity::mime_type).collect();
    assert_eq!(kinds, ["text/plain", "text/html"]);

    let dir = tempdir();
    let path = write_eml(dir.path(), "plain.eml", &message);
    let read = python_reads(&path);
    assert_eq!(read[1], "To '张伟' zhang.wei@example.cn");
    assert_eq!(read[2], "Subject 候补名单：您已在候补名单上 — Warteliste");
}

#[test]
fn names_and_subjects_cannot_add_headers() {
    let eve = Person::new("Eve\r\nBcc: x@evil.example", "eve@example.org");
    let from = Person::new(
        "Office\nBcc: y@evil.example\r\n",
        "office@permed.example.org",
    );
    let mut calendar = symposium(Method::Request, 0);
    calendar.events[0].attendees = vec![eve.clone()];
    let mut evil = content("Hello\r\nBcc: z@evil.example\r\n\r\nInjected body");
    evil.subject.push_str("\rX-Injected: 1\u{85}\u{2028}end");

    let dir = tempdir();
    let messages = [
        invite_message(&from, &eve, &evil, &calendar, false, DOMAIN).expect("an invite"),
        plain_message(&from, &eve, &evil, DOMAIN).expect("a message"),
    ];
    for (n, message) in messages.iter().enumerate() {
        let top = parse_message(message);
        assert_headers(&top);
        assert!(top.all("Bcc").is_empty());
        assert!(top.all("X-Injected").is_empty());
        assert_eq!(top.all("To").len(), 1);
        let recipients: Vec<String> = message
            .envelope()
            .to()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(recipients, ["eve@example.org"]);

        let path = write_eml(dir.path(), &format!("{n}.eml"), message);
        let read = python_reads(&path);
        assert_eq!(
            read[0],
            "From 'Office Bcc: y@evil.example' office@permed.example.org"
        );
        assert_eq!(read[1], "To 'Eve Bcc: x@evil.example' eve@example.org");
        assert_eq!(
            read[2],
            "Subject Hello Bcc: z@evil.example Injected body X-Injected: 1 end"
        );
        assert!(!read[3].contains("'bcc'") && !read[3].contains("'x-injected'"));
        if n == 0 {
            assert_checker_passes(&[&path]);
        }
    }

    // An address is taken whole or not at all.
    for bad in [
        "eve@example.org\r\nBcc: x@evil.example",
        "Eve <eve@example.org>",
        "eve",
        "",
    ] {
        let err = plain_message(&from, &Person::new("Eve", bad), &evil, DOMAIN)
            .expect_err("an invalid address is refused");
        assert!(matches!(err, EmailError::InvalidAddress { .. }), "{err}");
    }
    let err = plain_message(&from, &eve, &evil, "evil>\r\nBcc: x@evil.example")
        .expect_err("an invalid Message-ID domain is refused");
    assert!(
        matches!(err, EmailError::InvalidMessageIdDomain(_)),
        "{err}"
    );
}

#[test]
fn refuses_what_is_not_an_invite_for_this_recipient() {
    let mut publish = symposium(Method::Request, 0);
    publish.method = Method::Publish;
    let err = invite_message(
        &no_reply(),
        &zhang_wei(),
        &content("x"),
        &publish,
        false,
        DOMAIN,
    )
    .expect_err("PUBLISH is not an invite");
    assert!(
        matches!(err, EmailError::NotAnInvite(Method::Publish)),
        "{err}"
    );

    let stranger = Person::new("Max Mustermann", "max@example.de");
    let err = invite_message(
        &no_reply(),
        &stranger,
        &content("x"),
        &symposium(Method::Request, 0),
        false,
        DOMAIN,
    )
    .expect_err("the recipient must be an attendee");
    assert!(
        matches!(&err, EmailError::RecipientNotAttendee(a) if a == "max@example.de"),
        "{err}"
    );

    let mut cancelled_request = symposium(Method::Request, 1);
    cancelled_request.events[0].status = Some(EventStatus::Cancelled);
    let err = invite_message(
        &no_reply(),
        &zhang_wei(),
        &content("x"),
        &cancelled_request,
        false,
        DOMAIN,
    )
    .expect_err("a calendar with problems is refused");
    assert!(matches!(err, EmailError::InvalidCalendar(_)), "{err}");

    // The attendee is found whatever the case of the address.
    let shouting = Person::new("张伟", "ZHANG.WEI@EXAMPLE.CN");
    invite_message(
        &no_reply(),
        &shouting,
        &content("x"),
        &symposium(Method::Request, 0),
        false,
        DOMAIN,
    )
    .expect("the same address in another case");
}
