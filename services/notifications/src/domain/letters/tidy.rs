//! Tidying rendered text: subjects on one line, bodies in paragraphs, no trailing spaces or blank-line runs.

/// All whitespace runs as single spaces, trimmed.
pub(super) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The paragraphs of a rendered body: blocks of lines separated by blank lines, trailing spaces removed.
pub(super) fn paragraphs(body: &str) -> Vec<String> {
    let mut paragraphs = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in body.lines().map(str::trim_end) {
        if line.is_empty() {
            if !current.is_empty() {
                paragraphs.push(current.join("\n"));
                current.clear();
            }
        } else {
            current.push(line);
        }
    }
    if !current.is_empty() {
        paragraphs.push(current.join("\n"));
    }
    paragraphs
}

/// A rendered email with trailing spaces removed, at most one blank line in a row, and one final newline.
pub(super) fn tidy(text: &str) -> String {
    let mut tidied = String::with_capacity(text.len());
    let mut blank = false;
    for line in text.trim().lines().map(str::trim_end) {
        if line.is_empty() {
            blank = true;
            continue;
        }
        if blank {
            tidied.push('\n');
            blank = false;
        }
        tidied.push_str(line);
        tidied.push('\n');
    }
    tidied
}
