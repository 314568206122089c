//! Calendar invites for one attendee, and the rules of the invite ledger that keep every calendar right.
//!
//! An attendee's invite is one VEVENT for the whole event (UID `{event id}@cloverleaf`, never changing), with the
//! agenda listed in its description; tours and workshops also link their `.ics` feed, which has every item.
//!
//! **The ledger rules** (per attendee and event; [`plan`] applies them):
//! - never an older SEQUENCE after a newer one;
//! - a REQUEST whose shown fields (start, end, zone, title, location, URL, status) changed always has a higher
//!   SEQUENCE than the last one sent (if scheduling's sequence did not rise, ours does: an offset kept per attendee);
//! - nothing is sent again when nothing changed (an event arriving twice, an update that does not touch the invite);
//! - never a REQUEST after a CANCEL unless the person registered again; that REQUEST has a higher SEQUENCE.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use cloverleaf_calendar::{Calendar, CalendarEvent, EventStatus, Method, Person};
use sha2::{Digest, Sha256};

use crate::directory::{AgendaItem, Event, Venue};
use cloverleaf_locale::{Locale, text, time};

/// At most this many agenda items are listed in an invite's description; the feed has them all.
const AGENDA_LINES: usize = 40;

/// What the ledger holds for one attendee of one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    pub sequence: i32,
    /// Added to the event's sequence for this attendee (see the module rules).
    pub offset: i32,
    pub method: Method,
    pub content_hash: String,
    pub fingerprint: String,
}

/// What is to be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    /// The attendee's entry: an invitation, or an update of it.
    Request {
        /// The person registered (again): a REQUEST after their CANCEL is allowed.
        registered: bool,
    },
    /// Remove the attendee (their registration was cancelled or rejected).
    Withdraw,
    /// The whole event is cancelled.
    CancelEvent,
}

/// The outcome of [`plan`]: the SEQUENCE to write and the attendee's offset from now on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Planned {
    pub method: Method,
    pub sequence: i32,
    pub offset: i32,
}

/// What to send to one attendee, given what was sent before (`None`: nothing to send).
pub fn plan(
    last: Option<&LedgerEntry>,
    intent: Intent,
    event_sequence: i32,
    content_hash: &str,
    fingerprint: &str,
) -> Option<Planned> {
    match intent {
        Intent::Request { registered } => match last {
            None => Some(Planned {
                method: Method::Request,
                sequence: event_sequence,
                offset: 0,
            }),
            Some(last) if last.method == Method::Cancel => {
                if !registered {
                    return None;
                }
                let offset = last.offset.max(last.sequence + 1 - event_sequence);
                Some(Planned {
                    method: Method::Request,
                    sequence: event_sequence + offset,
                    offset,
                })
            }
            Some(last) => {
                let mut offset = last.offset;
                let sequence = event_sequence + offset;
                if sequence < last.sequence {
                    // Older news than what the calendar has (a stale read): never go back.
                    return None;
                }
                if sequence == last.sequence && content_hash == last.content_hash {
                    return None;
                }
                if fingerprint != last.fingerprint && sequence <= last.sequence {
                    offset += last.sequence + 1 - sequence;
                }
                Some(Planned {
                    method: Method::Request,
                    sequence: event_sequence + offset,
                    offset,
                })
            }
        },
        Intent::Withdraw | Intent::CancelEvent => match last {
            Some(last) if last.method == Method::Request => Some(Planned {
                method: Method::Cancel,
                sequence: (event_sequence + last.offset).max(last.sequence),
                offset: last.offset,
            }),
            _ => None,
        },
    }
}

/// The links an invite carries.
#[derive(Debug, Clone, Default)]
pub struct Links {
    /// The event's public page.
    pub page: Option<String>,
    /// Its subscribable `.ics` feed (every agenda item).
    pub feed: Option<String>,
}

/// A venue as one line: "name, address, city, country"; in Chinese joined with "，".
pub fn venue_line(venue: &Venue, locale: Locale) -> String {
    let separator = match locale {
        Locale::En => ", ",
        Locale::ZhCn => "，",
    };
    [
        Some(venue.name.as_str()),
        venue.address.as_deref(),
        venue.city.as_deref(),
    ]
    .into_iter()
    .flatten()
    .map(str::trim)
    .filter(|part| !part.is_empty())
    .map(str::to_owned)
    .chain(
        venue
            .country
            .as_deref()
            .map(str::trim)
            .filter(|code| !code.is_empty())
            .map(|code| country_name(code, locale)),
    )
    .collect::<Vec<_>>()
    .join(separator)
}

/// A country's name in `locale` from CLDR (`IT` → "Italy" / "意大利"); what is no ISO 3166 code stays as written.
pub fn country_name(code: &str, locale: Locale) -> String {
    use icu_experimental::displaynames::DisplayNamesOptions;
    use icu_experimental::displaynames::multi::RegionDisplayNames;
    use icu_locale_core::subtags::Region;
    // ICU4X's names are not Sync: one copy per thread, made on first use.
    thread_local! {
        static NAMES: [Option<RegionDisplayNames>; 2] = [Locale::En, Locale::ZhCn].map(|l| {
            let tag = match l {
                Locale::En => "en",
                Locale::ZhCn => "zh-CN",
            };
            let locale: icu_locale_core::Locale = tag.parse().ok()?;
            RegionDisplayNames::try_new((&locale).into(), DisplayNamesOptions::default()).ok()
        });
    }
    let index = match locale {
        Locale::En => 0,
        Locale::ZhCn => 1,
    };
    let region = Region::try_from_str(&code.to_ascii_uppercase()).ok();
    NAMES
        .with(|names| {
            region.and_then(|region| names[index].as_ref()?.of(region).map(str::to_owned))
        })
        .unwrap_or_else(|| code.to_owned())
}

/// The attendee's VEVENT for the event as it is now, in their language (SUMMARY and DESCRIPTION).
#[allow(clippy::too_many_arguments)]
pub fn vevent(
    event: &Event,
    agenda: &[AgendaItem],
    links: &Links,
    attendee: &Person,
    locale: Locale,
    sequence: i32,
    status: Option<EventStatus>,
    dtstamp: DateTime<Utc>,
) -> Result<CalendarEvent, String> {
    let timezone: Tz = event.timezone.parse().map_err(|_| {
        format!(
            "event {} has an unknown time zone {:?}",
            event.id, event.timezone
        )
    })?;
    let location = match (&event.venue, &event.online_url) {
        (Some(venue), _) => Some(venue_line(venue, locale)),
        (None, Some(online)) => Some(online.clone()),
        (None, None) => None,
    };
    // A tour from Berlin ends in Nanjing: DTEND in the end's own zone (an unknown one falls back to the start's).
    let end_timezone = event
        .end_zone()
        .parse::<Tz>()
        .ok()
        .filter(|end| *end != timezone);
    Ok(CalendarEvent {
        end_timezone,
        uid: event.calendar_uid.clone(),
        sequence: u32::try_from(sequence.max(0)).unwrap_or(0),
        dtstamp,
        starts_at: event.starts_at.with_timezone(&Utc),
        ends_at: event.ends_at.with_timezone(&Utc),
        timezone,
        summary: locale
            .pick(&event.title, event.title_zh.as_deref())
            .to_owned(),
        description: Some(description(event, agenda, links, locale)),
        location,
        url: event.online_url.clone().or_else(|| links.page.clone()),
        organizer: Some(Person::new(&event.organiser.name, &event.organiser.email)),
        attendees: vec![attendee.clone()],
        status,
        created: None,
        last_modified: None,
        categories: vec![event.kind.clone()],
    })
}

/// When an agenda item takes place, each end in its own zone and with its date, in `locale` (an overnight item
/// keeps its end date: "Saturday 15 May 2027, 18:00 – Sunday 16 May 2027, 06:30 UTC+8 (Asia/Shanghai)").
pub fn item_when(item: &AgendaItem, event_zone: Tz, locale: Locale) -> String {
    let start_zone = item.timezone.parse::<Tz>().unwrap_or(event_zone);
    let end_zone = item.end_zone().parse::<Tz>().unwrap_or(start_zone);
    time::labelled_span(
        item.starts_at.with_timezone(&Utc),
        start_zone,
        item.ends_at.with_timezone(&Utc),
        end_zone,
        locale,
    )
}

/// The invite's description in the attendee's language: the summary, the agenda (each item in its own zones, with
/// its dates), and the links.
fn description(event: &Event, agenda: &[AgendaItem], links: &Links, locale: Locale) -> String {
    let event_zone = event.timezone.parse::<Tz>().unwrap_or(Tz::UTC);
    let label = |en: &'static str, zh: &'static str| match locale {
        Locale::En => en,
        Locale::ZhCn => zh,
    };
    let mut out = String::new();
    let summary = locale.pick(
        event.summary.as_deref().unwrap_or(""),
        event.summary_zh.as_deref(),
    );
    if !summary.trim().is_empty() {
        out.push_str(summary.trim());
        out.push_str("\n\n");
    }
    if !agenda.is_empty() {
        out.push_str(label("Agenda:\n", "日程：\n"));
        for item in agenda.iter().take(AGENDA_LINES) {
            let title = locale.pick(&item.title, item.title_zh.as_deref());
            let mut line = format!("{} · {title}", item_when(item, event_zone, locale));
            if let Some(location) = item.location.as_deref().filter(|l| !l.trim().is_empty()) {
                match locale {
                    Locale::En => line.push_str(&format!(" ({})", location.trim())),
                    Locale::ZhCn => line.push_str(&format!("（{}）", location.trim())),
                }
            }
            match locale {
                Locale::En => out.push_str(&line),
                Locale::ZhCn => out.push_str(&text::zh_tidy(&line)),
            }
            out.push('\n');
        }
        if agenda.len() > AGENDA_LINES {
            let more = agenda.len() - AGENDA_LINES;
            match locale {
                Locale::En => out.push_str(&format!("… and {more} more\n")),
                Locale::ZhCn => out.push_str(&format!("……另有{more}项\n")),
            }
        }
        out.push('\n');
    }
    if let Some(online) = &event.online_url {
        out.push_str(&format!(
            "{}{online}\n",
            label("Join online: ", "在线参会链接：")
        ));
    }
    if let Some(page) = &links.page {
        out.push_str(&format!("{}{page}\n", label("Event page: ", "活动页面：")));
    }
    if let Some(feed) = &links.feed {
        out.push_str(&format!(
            "{}{feed}\n",
            label(
                "Full agenda for your calendar: ",
                "在日历应用中订阅完整日程："
            )
        ));
    }
    out.trim_end().to_owned()
}

/// The hash of everything the attendee's calendar shows of the VEVENT except DTSTAMP and SEQUENCE: when it is
/// unchanged, nothing is sent.
pub fn content_hash(vevent: &CalendarEvent) -> String {
    let mut neutral = vevent.clone();
    neutral.dtstamp = DateTime::<Utc>::UNIX_EPOCH;
    neutral.sequence = 0;
    hex(Sha256::digest(neutral.to_vevent().as_bytes()))
}

/// The hash of the fields whose change needs a higher SEQUENCE (what calendar clients compare).
pub fn fingerprint(vevent: &CalendarEvent) -> String {
    let shown = format!(
        "{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}",
        vevent.starts_at.to_rfc3339(),
        vevent.ends_at.to_rfc3339(),
        vevent.timezone.name(),
        vevent.summary,
        vevent.location.as_deref().unwrap_or(""),
        vevent.url.as_deref().unwrap_or(""),
        vevent.status.map(|s| s.as_str()).unwrap_or(""),
    );
    hex(Sha256::digest(shown.as_bytes()))
}

fn hex(bytes: impl AsRef<[u8]>) -> String {
    bytes.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// The iTIP message for one attendee: `vevent` with the method's rules applied (a whole-event CANCEL has
/// STATUS:CANCELLED; removing one attendee has no STATUS).
pub fn calendar(method: Method, mut vevent: CalendarEvent, whole_event: bool) -> Calendar {
    vevent.status = match (method, whole_event) {
        (Method::Cancel, true) => Some(EventStatus::Cancelled),
        (Method::Cancel, false) => None,
        _ => Some(EventStatus::Confirmed),
    };
    Calendar {
        method,
        name: None,
        events: vec![vevent],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A venue's country is written by its name in the reader's language, never as the bare code the API stores.
    #[test]
    fn a_venue_names_its_country_in_the_readers_language() {
        let venue = Venue {
            id: None,
            name: "Università di Siena".into(),
            address: Some("Banchi di Sotto 55".into()),
            city: Some("Siena".into()),
            country: Some("IT".into()),
        };
        assert_eq!(
            venue_line(&venue, Locale::En),
            "Università di Siena, Banchi di Sotto 55, Siena, Italy"
        );
        assert_eq!(
            venue_line(&venue, Locale::ZhCn),
            "Università di Siena，Banchi di Sotto 55，Siena，意大利"
        );
        assert_eq!(country_name("cn", Locale::ZhCn), "中国");
        assert_eq!(country_name("Atlantis", Locale::En), "Atlantis");
    }

    fn entry(method: Method, sequence: i32, offset: i32) -> LedgerEntry {
        LedgerEntry {
            sequence,
            offset,
            method,
            content_hash: "h".into(),
            fingerprint: "f".into(),
        }
    }

    #[test]
    fn a_first_request_takes_the_event_sequence() {
        let planned = plan(None, Intent::Request { registered: true }, 3, "h", "f");
        assert_eq!(
            planned,
            Some(Planned {
                method: Method::Request,
                sequence: 3,
                offset: 0
            })
        );
    }

    #[test]
    fn nothing_is_sent_twice() {
        let last = entry(Method::Request, 3, 0);
        assert_eq!(
            plan(
                Some(&last),
                Intent::Request { registered: true },
                3,
                "h",
                "f"
            ),
            None
        );
        assert_eq!(
            plan(
                Some(&last),
                Intent::Request { registered: false },
                3,
                "h",
                "f"
            ),
            None
        );
    }

    #[test]
    fn a_description_change_keeps_the_sequence_but_a_shown_change_raises_it() {
        let last = entry(Method::Request, 3, 0);
        let agenda_only = plan(
            Some(&last),
            Intent::Request { registered: false },
            3,
            "h2",
            "f",
        )
        .expect("something to send");
        assert_eq!(agenda_only.sequence, 3);
        // The time moved but scheduling's sequence did not rise (should not happen): ours rises anyway.
        let moved = plan(
            Some(&last),
            Intent::Request { registered: false },
            3,
            "h2",
            "f2",
        )
        .expect("something to send");
        assert_eq!((moved.sequence, moved.offset), (4, 1));
        let normal = plan(
            Some(&last),
            Intent::Request { registered: false },
            4,
            "h2",
            "f2",
        )
        .expect("something to send");
        assert_eq!((normal.sequence, normal.offset), (4, 0));
    }

    #[test]
    fn never_an_older_sequence() {
        let last = entry(Method::Request, 5, 0);
        assert_eq!(
            plan(
                Some(&last),
                Intent::Request { registered: false },
                4,
                "x",
                "y"
            ),
            None
        );
    }

    #[test]
    fn no_request_after_a_cancel_unless_registered_again_then_higher() {
        let last = entry(Method::Cancel, 2, 0);
        assert_eq!(
            plan(
                Some(&last),
                Intent::Request { registered: false },
                2,
                "h",
                "f"
            ),
            None
        );
        let again = plan(
            Some(&last),
            Intent::Request { registered: true },
            2,
            "h",
            "f",
        )
        .expect("something to send");
        assert_eq!(
            (again.method, again.sequence, again.offset),
            (Method::Request, 3, 1)
        );
        // Later updates keep the offset, so the sequence keeps rising with the event's.
        let after = entry(Method::Request, 3, 1);
        let update = plan(
            Some(&after),
            Intent::Request { registered: false },
            3,
            "h2",
            "f2",
        )
        .expect("something to send");
        assert_eq!(update.sequence, 4);
    }

    #[test]
    fn cancels_only_follow_a_request() {
        assert_eq!(plan(None, Intent::Withdraw, 1, "h", "f"), None);
        let cancelled = entry(Method::Cancel, 1, 0);
        assert_eq!(
            plan(Some(&cancelled), Intent::CancelEvent, 2, "h", "f"),
            None
        );
        let invited = entry(Method::Request, 4, 1);
        let cancel =
            plan(Some(&invited), Intent::CancelEvent, 4, "h", "f").expect("something to send");
        assert_eq!((cancel.method, cancel.sequence), (Method::Cancel, 5));
    }
}
