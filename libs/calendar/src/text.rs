//! Content-line text rules of RFC 5545 §3.1 and §3.3.11: TEXT escaping, parameter values, folding.

/// The longest physical line RFC 5545 allows, in octets, without the CRLF.
pub const MAX_LINE_OCTETS: usize = 75;

/// Normalises user text before it becomes a TEXT value: every line break (CRLF, lone CR, lone LF) becomes one LF,
/// and every other control character except TAB (which TEXT allows) is dropped, so no bare CR can ever pass through.
pub(crate) fn clean_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push('\n');
            }
            '\n' | '\t' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Escapes a TEXT value (RFC 5545 §3.3.11): `\` → `\\`, `;` → `\;`, `,` → `\,`, and every line break (CRLF, CR or
/// LF) → `\n`. Other control characters are dropped (TAB is kept: TEXT allows it). The result holds no CR or LF.
pub fn escape_text(s: &str) -> String {
    let clean = clean_text(s);
    let mut out = String::with_capacity(clean.len() + 8);
    for c in clean.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// A parameter value (such as CN) as a quoted string with RFC 6868 escapes, which keep what a quoted value cannot
/// hold: `^` → `^^`, `"` → `^'`, and every line break (CRLF, CR or LF) → `^n`. Other control characters are
/// dropped; white space at either end is trimmed. Always quoted, so `:`, `;`, `,` and non-ASCII text are safe.
pub(crate) fn quoted_param(s: &str) -> String {
    let clean = clean_text(s);
    let mut out = String::with_capacity(clean.len() + 2);
    out.push('"');
    for c in clean.trim().chars() {
        match c {
            '^' => out.push_str("^^"),
            '"' => out.push_str("^'"),
            '\n' => out.push_str("^n"),
            // TAB is the one control character clean_text keeps; a parameter value (SAFE-CHAR) has none.
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A bare value that is not TEXT (URI, CAL-ADDRESS): control characters, CR and LF included, are dropped.
pub(crate) fn clean_uri(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .to_owned()
}

/// `mailto:` address for ORGANIZER and ATTENDEE; an address given with its own `mailto:` keeps just one.
pub(crate) fn mailto(email: &str) -> String {
    let email = clean_uri(email);
    let bare = match email.get(..7) {
        Some(prefix) if prefix.eq_ignore_ascii_case("mailto:") => &email[7..],
        _ => email.as_str(),
    };
    format!("mailto:{bare}")
}

/// Folds one unfolded content line (RFC 5545 §3.1): no physical line is longer than 75 octets, continuation lines
/// start with a single space, and a fold never splits a UTF-8 character. The breaks are CRLF; no CRLF is appended
/// at the end.
pub fn fold_line(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / 60 * 3);
    // The first physical line has 75 octets of room, every continuation line 74 after its leading space.
    let mut room = MAX_LINE_OCTETS;
    let mut used = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if used + len > room {
            out.push_str("\r\n ");
            room = MAX_LINE_OCTETS - 1;
            used = 0;
        }
        out.push(c);
        used += len;
    }
    out
}

/// Appends one content line, folded and ended by CRLF.
pub(crate) fn push_line(out: &mut String, line: &str) {
    out.push_str(&fold_line(line));
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_the_four_specials() {
        assert_eq!(escape_text(r"a\b;c,d"), r"a\\b\;c\,d");
        assert_eq!(escape_text("colon: stays"), "colon: stays");
        assert_eq!(escape_text(r"\n is not a newline"), r"\\n is not a newline");
    }

    #[test]
    fn every_kind_of_line_break_becomes_backslash_n() {
        assert_eq!(escape_text("a\r\nb\rc\nd"), r"a\nb\nc\nd");
        assert_eq!(escape_text("\r\r\n\n"), r"\n\n\n");
        assert_eq!(escape_text("end\r"), r"end\n");
        let escaped = escape_text("x\r\ny\rz\n");
        assert!(!escaped.contains('\r') && !escaped.contains('\n'));
    }

    #[test]
    fn other_control_characters_are_dropped_tab_kept() {
        assert_eq!(escape_text("a\u{0}b\u{7}c\u{1b}d\u{7f}e\u{85}f"), "abcdef");
        assert_eq!(escape_text("col1\tcol2"), "col1\tcol2");
    }

    #[test]
    fn non_ascii_text_passes_unchanged() {
        assert_eq!(
            escape_text("中德合作；研讨会，北京"),
            "中德合作；研讨会，北京"
        );
        assert_eq!(escape_text("Café, Zürich"), r"Café\, Zürich");
    }

    #[test]
    fn parameter_values_are_quoted_with_rfc_6868_escapes() {
        assert_eq!(quoted_param("张伟"), "\"张伟\"");
        assert_eq!(quoted_param("Doe, John"), "\"Doe, John\"");
        assert_eq!(quoted_param("Ann \"Nan\" Lee"), "\"Ann ^'Nan^' Lee\"");
        assert_eq!(
            quoted_param("O'Neil"),
            "\"O'Neil\"",
            "a single quote is no escape"
        );
        assert_eq!(quoted_param("a^b ^n ^'"), "\"a^^b ^^n ^^'\"");
        assert_eq!(
            quoted_param("Evil\r\nATTENDEE:mailto:x@y"),
            "\"Evil^nATTENDEE:mailto:x@y\""
        );
        assert_eq!(quoted_param("a\rb\nc\r\n"), "\"a^nb^nc\"");
        assert_eq!(quoted_param(" tab\there\u{7} "), "\"tabhere\"");
        assert_eq!(quoted_param(""), "\"\"");
    }

    #[test]
    fn mailto_strips_line_breaks_and_a_doubled_scheme() {
        assert_eq!(mailto("a@example.org"), "mailto:a@example.org");
        assert_eq!(mailto("MAILTO:a@example.org"), "mailto:a@example.org");
        assert_eq!(
            mailto("a@example.org\r\nX-EVIL:1"),
            "mailto:a@example.orgX-EVIL:1"
        );
        assert_eq!(mailto(" a@example.org\n"), "mailto:a@example.org");
    }

    fn assert_well_folded(folded: &str, original: &str) {
        for (n, physical) in folded.split("\r\n").enumerate() {
            assert!(
                physical.len() <= MAX_LINE_OCTETS,
                "line {n} has {} octets",
                physical.len()
            );
            if n > 0 {
                assert!(
                    physical.starts_with(' '),
                    "continuation line {n} starts with a space"
                );
            }
        }
        assert!(!folded.replace("\r\n", "").contains(['\r', '\n']));
        assert_eq!(
            folded.replace("\r\n ", ""),
            original,
            "unfolding gives the line back"
        );
    }

    #[test]
    fn short_lines_are_not_folded() {
        assert_eq!(fold_line("SUMMARY:short"), "SUMMARY:short");
        let exactly = format!("SUMMARY:{}", "x".repeat(75 - 8));
        assert_eq!(exactly.len(), 75);
        assert_eq!(fold_line(&exactly), exactly);
    }

    #[test]
    fn ascii_lines_fold_at_75_octets() {
        let line = format!("DESCRIPTION:{}", "abcdefghij".repeat(30));
        let folded = fold_line(&line);
        assert_well_folded(&folded, &line);
        let physical: Vec<&str> = folded.split("\r\n").collect();
        assert_eq!(physical[0].len(), 75);
        assert_eq!(physical[1].len(), 75);
    }

    #[test]
    fn chinese_text_folds_on_character_boundaries() {
        let line = format!("SUMMARY:{}", "中德个性化医学合作研讨会".repeat(12));
        let folded = fold_line(&line);
        assert_well_folded(&folded, &line);
        assert!(folded.split("\r\n").count() > 5);
    }

    #[test]
    fn folding_with_every_alignment_of_multibyte_characters() {
        // Shift the 3- and 4-octet characters across the fold point one octet at a time.
        for prefix in 0..8 {
            for unit in ["é", "中", "😀", "aé中😀"] {
                let line = format!("DESCRIPTION:{}{}", "x".repeat(prefix), unit.repeat(60));
                assert_well_folded(&fold_line(&line), &line);
            }
        }
    }

    #[test]
    fn accented_text_folds_on_character_boundaries() {
        let line = format!(
            "LOCATION:{}",
            escape_text("Université Paris-Saclay, Bâtiment Éole, salle «Gödel», Gif-sur-Yvette; ")
                .repeat(4)
        );
        assert_well_folded(&fold_line(&line), &line);
    }
}
