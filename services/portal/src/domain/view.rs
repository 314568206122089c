//! How pages show the contracts' event and agenda item: in the reader's language (the Chinese texts on Chinese
//! pages when there are some) and in their zones as `chrono_tz` zones. Extension traits, since the types are the
//! contracts' and these helpers are only the portal's.

use chrono_tz::Tz;

use super::model::{AgendaItem, Event};
use crate::i18n::Locale;

/// The Chinese text when the reader reads Chinese and there is one, else the English.
pub(crate) fn in_language(english: &mut String, chinese: Option<&String>, locale: Locale) {
    if locale == Locale::ZhCn
        && let Some(text) = chinese.filter(|t| !t.trim().is_empty())
    {
        english.clone_from(text);
    }
}

pub(crate) fn optional_in_language(
    english: &mut Option<String>,
    chinese: Option<&String>,
    locale: Locale,
) {
    if locale == Locale::ZhCn
        && let Some(text) = chinese.filter(|t| !t.trim().is_empty())
    {
        *english = Some(text.clone());
    }
}

/// The zone named `name`, else `fallback`.
fn zone_or(name: &str, fallback: Tz) -> Tz {
    crate::domain::time::zone(name).unwrap_or(fallback)
}

/// An event as pages show it.
pub trait EventView {
    /// The event as a reader of `locale` sees it: its Chinese texts on Chinese pages when it has them.
    fn localized(&self, locale: Locale) -> Event;

    /// The zone the event starts in (UTC for a name that is no zone).
    fn zone(&self) -> Tz;

    /// The zones of its start and its end. The end's is `end_timezone`, else (an older scheduling sent none, or a
    /// name that is no zone) the start's.
    fn zones(&self) -> (Tz, Tz);

    /// Where the event happens, for calendars: the venue's name and city, or the online link.
    fn location(&self) -> Option<String>;
}

impl EventView for Event {
    fn localized(&self, locale: Locale) -> Event {
        let mut event = self.clone();
        in_language(&mut event.title, self.title_zh.as_ref(), locale);
        optional_in_language(&mut event.summary, self.summary_zh.as_ref(), locale);
        optional_in_language(&mut event.description, self.description_zh.as_ref(), locale);
        event
    }

    fn zone(&self) -> Tz {
        zone_or(&self.timezone, Tz::UTC)
    }

    fn zones(&self) -> (Tz, Tz) {
        let start = self.zone();
        // The contract's `end_zone()` is the name: `end_timezone`, or `timezone` when that is blank.
        (start, zone_or(self.end_zone(), start))
    }

    fn location(&self) -> Option<String> {
        match &self.venue {
            Some(v) => {
                let parts: Vec<&str> = [Some(v.name.as_str()), v.city.as_deref()]
                    .into_iter()
                    .flatten()
                    .filter(|p| !p.is_empty())
                    .collect();
                (!parts.is_empty()).then(|| parts.join(", "))
            }
            None => self.online_url.clone(),
        }
    }
}

/// An agenda item as pages show it.
pub trait ItemView {
    /// The item's Chinese texts on Chinese pages when it has them.
    fn localize(&mut self, locale: Locale);

    /// The zones of its start and its end (`fallback` for a name that is no zone; the end's is the start's when
    /// it has none of its own).
    fn zones(&self, fallback: Tz) -> (Tz, Tz);
}

impl ItemView for AgendaItem {
    fn localize(&mut self, locale: Locale) {
        let (title_zh, description_zh) = (self.title_zh.clone(), self.description_zh.clone());
        in_language(&mut self.title, title_zh.as_ref(), locale);
        optional_in_language(&mut self.description, description_zh.as_ref(), locale);
    }

    fn zones(&self, fallback: Tz) -> (Tz, Tz) {
        let start = zone_or(&self.timezone, fallback);
        (start, zone_or(self.end_zone(), start))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(extra: serde_json::Value) -> Event {
        let mut value = json!({
            "id": "0190a0a0-0000-7000-8000-0000000000a1", "slug": "tour", "kind": "tour", "title": "Tour",
            "title_zh": "考察", "summary": "Ten days", "summary_zh": " ", "timezone": "Europe/Berlin",
            "starts_at": "2027-09-01T09:00:00+02:00", "ends_at": "2027-09-05T18:00:00+08:00", "status": "published",
        });
        if let (Some(value), Some(extra)) = (value.as_object_mut(), extra.as_object()) {
            value.extend(extra.clone());
        }
        serde_json::from_value(value).expect("event")
    }

    #[test]
    fn an_event_ends_in_its_end_zone_else_in_its_own() {
        let berlin = time_zone("Europe/Berlin");
        let shanghai = time_zone("Asia/Shanghai");
        assert_eq!(
            event(json!({ "end_timezone": "Asia/Shanghai" })).zones(),
            (berlin, shanghai)
        );
        // An older scheduling sent no end zone; a name that is no zone counts as none.
        assert_eq!(event(json!({})).zones(), (berlin, berlin));
        assert_eq!(
            event(json!({ "end_timezone": "Mars/Olympus" })).zones(),
            (berlin, berlin)
        );
        assert_eq!(
            event(json!({ "timezone": "Nowhere" })).zones(),
            (Tz::UTC, Tz::UTC)
        );
    }

    #[test]
    fn chinese_pages_show_the_chinese_texts_there_are() {
        let tour = event(json!({}));
        let zh = tour.localized(Locale::ZhCn);
        assert_eq!(zh.title, "考察");
        assert_eq!(
            zh.summary.as_deref(),
            Some("Ten days"),
            "a blank one is none"
        );
        assert_eq!(tour.localized(Locale::En).title, "Tour");
    }

    #[test]
    fn an_event_is_at_its_venue_else_online() {
        let at_venue = event(json!({ "venue": { "name": "Charité", "city": "Berlin" } }));
        assert_eq!(at_venue.location().as_deref(), Some("Charité, Berlin"));
        let online = event(json!({ "online_url": "https://meet.example.org/x" }));
        assert_eq!(
            online.location().as_deref(),
            Some("https://meet.example.org/x")
        );
        assert_eq!(event(json!({})).location(), None);
    }

    fn time_zone(name: &str) -> Tz {
        crate::domain::time::zone(name).expect("zone")
    }
}
