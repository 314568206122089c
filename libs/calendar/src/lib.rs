//! iCalendar text (RFC 5545) for Cloverleaf: `.ics` feeds (`METHOD:PUBLISH`) and iTIP invites sent by email
//! (RFC 5546/6047, `METHOD:REQUEST` and `METHOD:CANCEL`). With the `email` feature (on by default), the `email`
//! module wraps an invite in a lettre message (iMIP: text, HTML and the calendar in `multipart/alternative`).
//!
//! Build a [`Calendar`] of [`CalendarEvent`]s and call [`Calendar::to_ics`]. Event times are instants in UTC plus
//! the IANA zone they belong to; they are written as local wall-clock time with `TZID=<zone>`, and the calendar
//! carries a [`vtimezone`] block for every zone used, generated from chrono-tz's data: the zone's one full
//! definition (its history since 1970 and its current yearly rules), the same bytes in every message and feed, since
//! clients keep the first definition of a TZID they see. Events in UTC are written as `…Z` times. The output is deterministic — the same `Calendar` always gives the same bytes (scheduling uses it
//! for ETags) — with CRLF line ends, lines folded at 75 octets on UTF-8 boundaries and escaped TEXT values.
//!
//! **Why only part of it goes through the `icalendar` crate.** Each VEVENT is built with `icalendar::Event` and
//! serialised by the crate (its escaping, parameter quoting and folding are right once the input is prepared), but
//! the crate cannot write the rest correctly: it writes no VTIMEZONE, invents a random UID and the current time as
//! DTSTAMP in any component lacking them (a VTIMEZONE pushed through it gets both, and libical rejects that), lets a
//! bare CR through and leaves non-ASCII parameter values unquoted. So text is cleaned before it reaches the crate
//! (line breaks made LF, control characters dropped), UID and DTSTAMP are always set, CN values are passed
//! pre-quoted, and the VCALENDAR envelope and VTIMEZONE blocks are written here with [`escape_text`] and
//! [`fold_line`]. The tests check the whole output, crate-written lines included, against the same rules. Inside
//! a VEVENT the crate orders properties alphabetically (ATTENDEE and CATEGORIES last) and parameters too
//! (`CN;PARTSTAT;ROLE;RSVP`); order carries no meaning in iCalendar.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, LocalResult, TimeZone as _, Utc};
use chrono_tz::Tz;
use icalendar::{Component as _, EventLike as _};

#[cfg(feature = "email")]
pub mod email;
mod text;
mod timezone;

pub use text::{MAX_LINE_OCTETS, escape_text, fold_line};
pub use timezone::{HISTORY_FROM_YEAR, vtimezone};

use text::{clean_text, clean_uri, mailto, push_line, quoted_param};

/// Our product identifier (never the `icalendar` crate's default `ICALENDAR-RS`).
pub const PRODID: &str = "-//Cloverleaf//Cloverleaf Events 1.0//EN";

/// The iTIP method of a calendar object (RFC 5546). With the `sea-orm` feature, also an active enum stored as its
/// name (the same strings as [`Method::as_str`]), so a column holds exactly what `METHOD:` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(
    feature = "sea-orm",
    derive(sea_orm::DeriveActiveEnum, sea_orm::EnumIter),
    sea_orm(
        rs_type = "String",
        db_type = "String(sea_orm::sea_query::StringLen::None)"
    )
)]
pub enum Method {
    /// A feed or a plain copy: "add to calendar", no scheduling.
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "PUBLISH"))]
    Publish,
    /// An invitation, or an update of one (same UID, higher SEQUENCE).
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "REQUEST"))]
    Request,
    /// A cancellation: of the whole event (STATUS:CANCELLED) or of the attendees it names.
    #[cfg_attr(feature = "sea-orm", sea_orm(string_value = "CANCEL"))]
    Cancel,
}

impl Method {
    /// The name as written after `METHOD:` and in the MIME `method=` parameter (upper case).
    pub fn as_str(&self) -> &'static str {
        match self {
            Method::Publish => "PUBLISH",
            Method::Request => "REQUEST",
            Method::Cancel => "CANCEL",
        }
    }

    /// Reads a method name, in any case.
    pub fn parse(s: &str) -> Option<Method> {
        [Method::Publish, Method::Request, Method::Cancel]
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// The MIME type of an iMIP calendar part, e.g. `text/calendar; method=REQUEST; charset=UTF-8`.
    pub fn content_type(&self) -> &'static str {
        match self {
            Method::Publish => "text/calendar; method=PUBLISH; charset=UTF-8",
            Method::Request => "text/calendar; method=REQUEST; charset=UTF-8",
            Method::Cancel => "text/calendar; method=CANCEL; charset=UTF-8",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// VEVENT STATUS (RFC 5545 §3.8.1.11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventStatus {
    Confirmed,
    Tentative,
    Cancelled,
}

impl EventStatus {
    /// The value as written after `STATUS:`.
    pub fn as_str(&self) -> &'static str {
        match self {
            EventStatus::Confirmed => "CONFIRMED",
            EventStatus::Tentative => "TENTATIVE",
            EventStatus::Cancelled => "CANCELLED",
        }
    }

    fn to_icalendar(self) -> icalendar::EventStatus {
        match self {
            EventStatus::Confirmed => icalendar::EventStatus::Confirmed,
            EventStatus::Tentative => icalendar::EventStatus::Tentative,
            EventStatus::Cancelled => icalendar::EventStatus::Cancelled,
        }
    }
}

impl fmt::Display for EventStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An organiser or attendee: written as `CN="name"` and `mailto:email`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub name: String,
    pub email: String,
}

impl Person {
    pub fn new(name: impl Into<String>, email: impl Into<String>) -> Self {
        Person {
            name: name.into(),
            email: email.into(),
        }
    }

    /// `ORGANIZER` or `ATTENDEE` with a quoted CN (omitted when the name is empty) and a `mailto:` value.
    fn property(&self, key: &str) -> icalendar::Property {
        let mut property = icalendar::Property::new(key, mailto(&self.email));
        let cn = quoted_param(&self.name);
        if cn != "\"\"" {
            property.add_parameter("CN", &cn);
        }
        property
    }
}

/// One VEVENT. Times are instants; they are written in `timezone` as local wall-clock time.
#[derive(Debug, Clone, PartialEq)]
pub struct CalendarEvent {
    /// Never changes for the life of the event (updates and cancellations reuse it).
    pub uid: String,
    /// Raised whenever an attendee-visible field changes after publishing; always written.
    pub sequence: u32,
    /// When this version of the object was made (written in UTC); pass a stored time, not "now", to keep the
    /// output stable.
    pub dtstamp: DateTime<Utc>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// DTSTART/DTEND are written as local time with `TZID=<IANA name>`. Written as `…Z` instead: events in UTC, and
    /// a time inside the repeated hour when clocks go back (readers disagree on which run a local time means).
    pub timezone: Tz,
    /// The zone DTEND is written in when the end belongs to another place than the start (a flight from Berlin
    /// lands in Guangzhou); `None`: the start's zone.
    pub end_timezone: Option<Tz>,
    pub summary: String,
    pub description: Option<String>,
    pub location: Option<String>,
    pub url: Option<String>,
    /// `ORGANIZER;CN="…":mailto:…` (required for REQUEST and CANCEL).
    pub organizer: Option<Person>,
    /// `ATTENDEE;CN="…";PARTSTAT=NEEDS-ACTION;ROLE=REQ-PARTICIPANT;RSVP=TRUE:mailto:…` each.
    pub attendees: Vec<Person>,
    pub status: Option<EventStatus>,
    pub created: Option<DateTime<Utc>>,
    pub last_modified: Option<DateTime<Utc>>,
    /// e.g. `["visit"]`; omitted when empty.
    pub categories: Vec<String>,
}

impl CalendarEvent {
    /// Local wall-clock time with TZID; UTC for UTC zones, and also inside a repeated hour (when clocks go back):
    /// RFC 5545 §3.3.5 reads a repeated local time as its first occurrence but libical reads the second, so only a
    /// UTC time means the same instant to every reader.
    fn when(&self, at: DateTime<Utc>, zone: Tz) -> icalendar::CalendarDateTime {
        if timezone::is_utc(zone) {
            return icalendar::CalendarDateTime::Utc(at);
        }
        let local = at.with_timezone(&zone).naive_local();
        match zone.from_local_datetime(&local) {
            LocalResult::Single(_) => icalendar::CalendarDateTime::WithTimezone {
                date_time: local,
                tzid: zone.name().to_owned(),
            },
            LocalResult::Ambiguous(..) | LocalResult::None => icalendar::CalendarDateTime::Utc(at),
        }
    }

    /// The zone of DTEND: its own when given, else the start's.
    pub fn end_zone(&self) -> Tz {
        self.end_timezone.unwrap_or(self.timezone)
    }

    /// The VEVENT as the `icalendar` crate builds it. TEXT values go in cleaned but unescaped (the crate escapes
    /// them); UID and DTSTAMP are always set, so the crate invents neither.
    fn to_icalendar(&self) -> icalendar::Event {
        let mut event = icalendar::Event::new();
        event
            .uid(&clean_text(&self.uid))
            .sequence(self.sequence)
            .timestamp(self.dtstamp)
            .starts(self.when(self.starts_at, self.timezone))
            .ends(self.when(self.ends_at, self.end_zone()))
            .summary(&clean_text(&self.summary));
        if let Some(description) = &self.description {
            event.description(&clean_text(description));
        }
        if let Some(location) = &self.location {
            event.location(&clean_text(location));
        }
        if let Some(url) = &self.url {
            event.url(&clean_uri(url));
        }
        if let Some(organizer) = &self.organizer {
            event.append_property(organizer.property("ORGANIZER"));
        }
        for attendee in &self.attendees {
            let mut property = attendee.property("ATTENDEE");
            property
                .add_parameter("ROLE", "REQ-PARTICIPANT")
                .add_parameter("PARTSTAT", "NEEDS-ACTION")
                .add_parameter("RSVP", "TRUE");
            event.append_multi_property(property);
        }
        if let Some(status) = self.status {
            event.status(status.to_icalendar());
        }
        if let Some(created) = self.created {
            event.created(created);
        }
        if let Some(last_modified) = self.last_modified {
            event.last_modified(last_modified);
        }
        let categories: Vec<String> = self
            .categories
            .iter()
            .map(|c| clean_text(c))
            .filter(|c| !c.is_empty())
            .collect();
        if !categories.is_empty() {
            event.categories(categories);
        }
        event
    }

    /// The VEVENT block, CRLF line ends.
    pub fn to_vevent(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = self.to_icalendar().fmt_write(&mut out);
        out
    }
}

/// A VCALENDAR: one METHOD, the events, and a VTIMEZONE for every zone they use.
#[derive(Debug, Clone, PartialEq)]
pub struct Calendar {
    pub method: Method,
    /// X-WR-CALNAME, the name a subscribed feed is shown under.
    pub name: Option<String>,
    pub events: Vec<CalendarEvent>,
}

impl Calendar {
    /// The full VCALENDAR text with CRLF line ends: header, one VTIMEZONE per zone used (sorted by name; each the
    /// zone's one full definition, the same in every calendar — see [`vtimezone`]), then the VEVENTs in the given
    /// order.
    pub fn to_ics(&self) -> String {
        let mut out = String::new();
        push_line(&mut out, "BEGIN:VCALENDAR");
        push_line(&mut out, "VERSION:2.0");
        push_line(&mut out, &format!("PRODID:{}", escape_text(PRODID)));
        push_line(&mut out, "CALSCALE:GREGORIAN");
        push_line(&mut out, &format!("METHOD:{}", self.method.as_str()));
        if let Some(name) = &self.name {
            push_line(&mut out, &format!("X-WR-CALNAME:{}", escape_text(name)));
        }
        for tz in self.zones().into_values() {
            out.push_str(&vtimezone(tz));
        }
        for event in &self.events {
            out.push_str(&event.to_vevent());
        }
        push_line(&mut out, "END:VCALENDAR");
        out
    }

    /// What RFC 5546 and the mail clients would object to in this calendar (empty when nothing): libical's iTIP
    /// tables want one ORGANIZER on every event, also for PUBLISH; REQUEST and CANCEL need attendees and one UID per
    /// message; a CANCEL is either of the whole event (STATUS:CANCELLED) or names exactly one attendee; a REQUEST
    /// must not carry STATUS:CANCELLED; an event must end after it starts. [`Calendar::to_ics`] writes what it is
    /// given either way.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let method = self.method.as_str();
        if self.events.is_empty() && self.method != Method::Publish {
            problems.push(format!("METHOD:{method} carries no event"));
        }
        for event in &self.events {
            let uid = &event.uid;
            if event.uid.trim().is_empty() {
                problems.push("an event has an empty UID".to_owned());
            }
            if event.ends_at <= event.starts_at {
                problems.push(format!("{uid}: ends_at is not after starts_at"));
            }
            if event.organizer.is_none() {
                problems.push(format!("{uid}: METHOD:{method} needs an ORGANIZER"));
            }
            match self.method {
                Method::Publish => {}
                Method::Request => {
                    if event.attendees.is_empty() {
                        problems.push(format!("{uid}: METHOD:REQUEST needs at least one ATTENDEE"));
                    }
                    if event.status == Some(EventStatus::Cancelled) {
                        problems.push(format!(
                            "{uid}: cancel with METHOD:CANCEL, not a REQUEST with STATUS:CANCELLED"
                        ));
                    }
                }
                Method::Cancel => {
                    if event.attendees.is_empty() {
                        problems.push(format!("{uid}: METHOD:CANCEL needs at least one ATTENDEE"));
                    }
                    if event.status != Some(EventStatus::Cancelled) && event.attendees.len() != 1 {
                        problems.push(format!(
                            "{uid}: a CANCEL has STATUS:CANCELLED (whole event) or names exactly one ATTENDEE"
                        ));
                    }
                }
            }
        }
        if self.method != Method::Publish {
            let mut uids: Vec<&str> = self.events.iter().map(|e| e.uid.as_str()).collect();
            uids.sort_unstable();
            uids.dedup();
            if uids.len() > 1 {
                problems.push(format!(
                    "METHOD:{method} must carry one UID, found {}",
                    uids.len()
                ));
            }
        }
        problems
    }

    /// Every non-UTC zone the events use, by name.
    fn zones(&self) -> BTreeMap<&'static str, Tz> {
        self.events
            .iter()
            .flat_map(|e| [e.timezone, e.end_zone()])
            .filter(|tz| !timezone::is_utc(*tz))
            .map(|tz| (tz.name(), tz))
            .collect()
    }
}

impl fmt::Display for Calendar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_ics())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(summary: &str) -> CalendarEvent {
        let start = Utc
            .with_ymd_and_hms(2026, 3, 30, 7, 0, 0)
            .single()
            .expect("valid date");
        CalendarEvent {
            end_timezone: None,
            uid: "u@test".to_owned(),
            sequence: 0,
            dtstamp: start,
            starts_at: start,
            ends_at: start + chrono::Duration::hours(1),
            timezone: chrono_tz::Europe::Berlin,
            summary: summary.to_owned(),
            description: None,
            location: None,
            url: None,
            organizer: None,
            attendees: Vec::new(),
            status: None,
            created: None,
            last_modified: None,
            categories: Vec::new(),
        }
    }

    #[test]
    fn method_names() {
        assert_eq!(Method::Publish.as_str(), "PUBLISH");
        assert_eq!(Method::Request.as_str(), "REQUEST");
        assert_eq!(Method::Cancel.as_str(), "CANCEL");
        assert_eq!(Method::parse("request"), Some(Method::Request));
        assert_eq!(Method::parse(" CANCEL "), Some(Method::Cancel));
        assert_eq!(Method::parse("REPLY"), None);
        assert_eq!(Method::Cancel.to_string(), "CANCEL");
        assert_eq!(
            Method::Request.content_type(),
            "text/calendar; method=REQUEST; charset=UTF-8"
        );
        assert_eq!(EventStatus::Cancelled.as_str(), "CANCELLED");
    }

    /// What a column stores is what `METHOD:` says, and every stored name reads back.
    #[cfg(feature = "sea-orm")]
    #[test]
    fn stored_methods_are_their_names() {
        use sea_orm::{ActiveEnum, Iterable};
        for method in Method::iter() {
            assert_eq!(method.to_value(), method.as_str());
            assert_eq!(
                Method::try_from_value(&method.to_value()).ok(),
                Some(method)
            );
        }
    }

    /// The crate escapes the VEVENT's TEXT values; it must agree with `escape_text` (after our cleaning), so that a
    /// change in the crate shows up here.
    #[test]
    fn the_crate_escapes_text_exactly_like_escape_text() {
        let corpus = [
            "plain",
            r"back\slash, comma; semicolon: colon",
            "CRLF\r\nCR\rLF\n",
            "\\n literal and \\\\ double",
            "控制\u{0}字符\u{7}与制表\t符",
            "中德个性化医学合作研讨会，上海；北京",
        ];
        for text in corpus {
            let vevent = sample(text).to_vevent();
            let unfolded = vevent.replace("\r\n ", "");
            let summary = unfolded
                .split("\r\n")
                .find(|l| l.starts_with("SUMMARY:"))
                .expect("a SUMMARY line");
            assert_eq!(summary, format!("SUMMARY:{}", escape_text(text)));
            assert!(!vevent.replace("\r\n", "").contains(['\r', '\n']));
        }
    }

    #[test]
    fn the_crate_invents_nothing() {
        let vevent = sample("x").to_vevent();
        assert_eq!(vevent.matches("UID:").count(), 1);
        assert!(vevent.contains("\r\nUID:u@test\r\n"));
        assert_eq!(vevent.matches("DTSTAMP:").count(), 1);
        assert!(vevent.contains("\r\nDTSTAMP:20260330T070000Z\r\n"));
    }
}
