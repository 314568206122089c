//! Add-to-calendar links: Google Calendar's event template, Outlook.com's compose deeplink, and (for Apple Calendar
//! and every other program) the event's `.ics` file.

use chrono::{DateTime, Utc};

/// Percent-encodes everything but RFC 3986's unreserved characters (spaces as `%20`, which both services read).
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn query(base: &str, pairs: &[(&str, &str)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect();
    format!("{base}?{}", parts.join("&"))
}

/// What a calendar entry needs.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub title: &'a str,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub details: &'a str,
    pub location: &'a str,
}

/// `https://calendar.google.com/calendar/render?action=TEMPLATE&text=…&dates=20270615T080000Z/20270615T100000Z…`
pub fn google(entry: &Entry<'_>) -> String {
    let dates = format!(
        "{}/{}",
        entry.starts_at.format("%Y%m%dT%H%M%SZ"),
        entry.ends_at.format("%Y%m%dT%H%M%SZ")
    );
    query(
        "https://calendar.google.com/calendar/render",
        &[
            ("action", "TEMPLATE"),
            ("text", entry.title),
            ("dates", &dates),
            ("details", entry.details),
            ("location", entry.location),
        ],
    )
}

/// `https://outlook.live.com/calendar/0/deeplink/compose?path=/calendar/action/compose&rru=addevent&subject=…`
pub fn outlook(entry: &Entry<'_>) -> String {
    let start = entry.starts_at.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let end = entry.ends_at.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    query(
        "https://outlook.live.com/calendar/0/deeplink/compose",
        &[
            ("path", "/calendar/action/compose"),
            ("rru", "addevent"),
            ("subject", entry.title),
            ("startdt", &start),
            ("enddt", &end),
            ("body", entry.details),
            ("location", entry.location),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn links_carry_the_event_in_utc() {
        let entry = Entry {
            title: "Webinar: AI & medicine",
            starts_at: Utc
                .with_ymd_and_hms(2027, 6, 15, 8, 0, 0)
                .single()
                .expect("t"),
            ends_at: Utc
                .with_ymd_and_hms(2027, 6, 15, 10, 0, 0)
                .single()
                .expect("t"),
            details: "https://events.example.org/events/ai",
            location: "",
        };
        assert_eq!(
            google(&entry),
            "https://calendar.google.com/calendar/render?action=TEMPLATE&text=Webinar%3A%20AI%20%26%20medicine\
             &dates=20270615T080000Z%2F20270615T100000Z&details=https%3A%2F%2Fevents.example.org%2Fevents%2Fai"
        );
        let outlook = outlook(&entry);
        assert!(outlook.starts_with("https://outlook.live.com/calendar/0/deeplink/compose?path=%2Fcalendar%2Faction%2Fcompose&rru=addevent&subject=Webinar"));
        assert!(
            outlook.contains("startdt=2027-06-15T08%3A00%3A00Z&enddt=2027-06-15T10%3A00%3A00Z")
        );
        assert_eq!(encode("张"), "%E5%BC%A0");
    }
}
