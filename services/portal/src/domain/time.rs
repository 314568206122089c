//! Times as pages show them: in a zone (the event's, an item's own, or the visitor's), in the visitor's language.
//!
//! The formatter is `cloverleaf_locale::time`, the one the emails use too, so a time reads the same on the page
//! and in the mail (Chinese weekdays 周一…周日 in both); pages use its compact layout (offsets, the zone named once).

pub use cloverleaf_locale::time::{
    clock, date, from_wall_clock, item_span, moment, offset, span, wall_clock, zone, zone_label,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Locale;
    use chrono::{DateTime, TimeZone, Utc};

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
            .single()
            .expect("time")
    }

    #[test]
    fn spans_read_in_the_zone_and_language_with_offsets() {
        let (start, end) = (at(2027, 6, 15, 8, 0), at(2027, 6, 15, 10, 0));
        let brussels = zone("Europe/Brussels").expect("zone");
        let shanghai = zone("Asia/Shanghai").expect("zone");
        assert_eq!(
            span(start, end, brussels, brussels, Locale::En),
            "Tue 15 Jun 2027, 10:00–12:00 UTC+2"
        );
        assert_eq!(
            span(start, end, shanghai, shanghai, Locale::ZhCn),
            "2027年6月15日（周二）16:00–18:00 UTC+8"
        );
        assert_eq!(
            zone_label(shanghai, start, Locale::En),
            "Asia/Shanghai (UTC+8)"
        );
        assert_eq!(
            zone_label(shanghai, start, Locale::ZhCn),
            "Asia/Shanghai（UTC+8）"
        );
        let late = at(2027, 6, 15, 20, 0);
        assert_eq!(
            span(start, late, shanghai, shanghai, Locale::En),
            "Tue 15 Jun 2027, 16:00 UTC+8 – Wed 16 Jun 2027, 04:00 UTC+8"
        );
        // A tour from Berlin to Nanjing ends in Nanjing's zone.
        let berlin = zone("Europe/Berlin").expect("zone");
        assert_eq!(
            span(
                at(2027, 9, 1, 7, 0),
                at(2027, 9, 5, 10, 0),
                berlin,
                shanghai,
                Locale::En
            ),
            "Wed 1 Sep 2027, 09:00 UTC+2 – Sun 5 Sep 2027, 18:00 UTC+8"
        );
        // The repeated hour of 31 October 2027 reads differently before and after the change.
        assert_eq!(
            item_span(
                at(2027, 10, 31, 0, 30),
                at(2027, 10, 31, 2, 0),
                berlin,
                berlin,
                Locale::En
            ),
            "02:30 UTC+2 – 03:00 UTC+1"
        );
        assert_eq!(
            item_span(
                at(2027, 10, 31, 1, 30),
                at(2027, 10, 31, 2, 0),
                berlin,
                berlin,
                Locale::En
            ),
            "02:30–03:00 UTC+1"
        );
        assert_eq!(
            offset(zone("Asia/Kolkata").expect("zone"), start),
            "UTC+5:30"
        );
        assert_eq!(
            offset(zone("America/New_York").expect("zone"), start),
            "UTC-4"
        );
        assert_eq!(
            offset(zone("Europe/London").expect("zone"), at(2027, 1, 5, 0, 0)),
            "UTC"
        );
        assert_eq!(moment(start, brussels), "2027-06-15 10:00 UTC+2");
        assert_eq!(from_wall_clock("2027-06-15T10:00", brussels), Some(start));
        assert_eq!(from_wall_clock("2027-03-28T02:30", brussels), None);
    }
}
