//! Just enough MIME to show a stored message in the delivery log: the decoded first part of a given type (the
//! `text/plain` text, the `text/calendar` invite) of a message as lettre formats it (multipart with boundaries;
//! 7bit, quoted-printable or base64 bodies; UTF-8 text).

use base64::Engine as _;

/// The first `text/plain` part of `raw`, decoded; `None` when there is none.
pub fn plain_text(raw: &str) -> Option<String> {
    part(raw, "text/plain")
}

/// The first part of media type `media` (e.g. `text/calendar`) in `raw`, decoded as UTF-8 text.
pub fn part(raw: &str, media: &str) -> Option<String> {
    find_part(raw, &media.to_ascii_lowercase(), 0)
}

fn find_part(entity: &str, wanted: &str, depth: usize) -> Option<String> {
    if depth > 8 {
        return None;
    }
    let (headers, body) = split_entity(entity);
    let headers = unfold(headers);
    let content_type = header(&headers, "content-type").unwrap_or("text/plain");
    let media = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if media.starts_with("multipart/") {
        let boundary = parameter(content_type, "boundary")?;
        let delimiter = format!("--{boundary}");
        let mut parts = body.split(delimiter.as_str());
        parts.next(); // the preamble
        for part in parts {
            if part.starts_with("--") {
                break; // the close delimiter
            }
            let part = part
                .strip_prefix("\r\n")
                .or_else(|| part.strip_prefix('\n'))?;
            if let Some(text) = find_part(part, wanted, depth + 1) {
                return Some(text);
            }
        }
        return None;
    }
    if media != wanted {
        return None;
    }
    let encoding = header(&headers, "content-transfer-encoding")
        .unwrap_or("7bit")
        .trim()
        .to_ascii_lowercase();
    // The line break before the next boundary belongs to the delimiter.
    let body = body
        .strip_suffix("\r\n")
        .or_else(|| body.strip_suffix('\n'))
        .unwrap_or(body);
    let bytes = match encoding.as_str() {
        "base64" => {
            let compact: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
            base64::engine::general_purpose::STANDARD
                .decode(compact)
                .ok()?
        }
        "quoted-printable" => quoted_printable(body),
        _ => body.as_bytes().to_vec(),
    };
    Some(String::from_utf8_lossy(&bytes).replace("\r\n", "\n"))
}

/// Headers and body, split at the first empty line.
fn split_entity(entity: &str) -> (&str, &str) {
    if let Some(i) = entity.find("\r\n\r\n") {
        (&entity[..i], &entity[i + 4..])
    } else if let Some(i) = entity.find("\n\n") {
        (&entity[..i], &entity[i + 2..])
    } else {
        (entity, "")
    }
}

/// Header lines with continuation lines joined.
fn unfold(headers: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for line in headers.lines() {
        if line.starts_with([' ', '\t'])
            && let Some(last) = lines.last_mut()
        {
            last.push(' ');
            last.push_str(line.trim_start());
        } else {
            lines.push(line.to_owned());
        }
    }
    lines
}

fn header<'a>(headers: &'a [String], name: &str) -> Option<&'a str> {
    headers.iter().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then_some(value.trim())
    })
}

fn parameter(value: &str, name: &str) -> Option<String> {
    value.split(';').skip(1).find_map(|p| {
        let (key, value) = p.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then(|| value.trim().trim_matches('"').to_owned())
    })
}

fn quoted_printable(body: &str) -> Vec<u8> {
    let bytes = body.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' {
            // A soft line break, or an escaped octet.
            if bytes[i + 1..].starts_with(b"\r\n") {
                i += 3;
                continue;
            }
            if bytes[i + 1..].starts_with(b"\n") {
                i += 2;
                continue;
            }
            if let Some(hex) = bytes.get(i + 1..i + 3)
                && let Ok(text) = std::str::from_utf8(hex)
                && let Ok(octet) = u8::from_str_radix(text, 16)
            {
                out.push(octet);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_and_decodes_the_text_part_of_a_multipart_message() {
        let raw = "From: a@example.org\r\nContent-Type: multipart/alternative;\r\n boundary=\"XyZ\"\r\n\r\n\
            --XyZ\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
            Gr=C3=BC=C3=9Fe aus Berlin, this line is long enough to be wrapped by a soft=\r\n break.\r\n\
            --XyZ\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>x</p>\r\n--XyZ--\r\n";
        assert_eq!(
            plain_text(raw).as_deref(),
            Some("Grüße aus Berlin, this line is long enough to be wrapped by a soft break.")
        );
        let base64 = "Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\n\
            Content-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\
            Content-Transfer-Encoding: base64\r\n\r\n5oKo5aW9\r\n--b--\r\n\r\n--a--\r\n";
        assert_eq!(plain_text(base64).as_deref(), Some("您好"));
        assert_eq!(plain_text("Content-Type: text/html\r\n\r\n<p>x</p>"), None);
    }
}
