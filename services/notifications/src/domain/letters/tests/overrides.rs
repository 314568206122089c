//! Loading templates: overrides, errors at start-up, the names templates may use.

use super::*;

#[test]
fn an_override_replaces_one_built_in() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("zh-CN")).unwrap();
    std::fs::write(
        dir.path().join("zh-CN/confirmed.txt"),
        "{% block subject %}欢迎参加：{{ event.title }}{% endblock %}\n{% block body %}{{ name }}，我们为您保留了席位。{% endblock %}\n",
    )
    .unwrap();
    let templates = Templates::new(Some(dir.path())).unwrap();
    let event = webinar();
    let changes = ChangeSet::default();
    let zh = recipient(Locale::ZhCn, None);
    let letter = templates
        .render(&context(LetterKind::Confirmed, &event, &zh, &changes))
        .unwrap();
    assert_eq!(
        letter.subject,
        "欢迎参加：Data sharing in personalised medicine"
    );
    assert!(letter.text.contains("张伟，我们为您保留了席位。"));
    assert!(
        letter
            .html
            .contains("<p style=\"margin:0 0 16px;\">张伟，我们为您保留了席位。</p>")
    );
    // The layout and the other locale are still the built-ins.
    assert!(letter.text.starts_with("张伟，您好：\n"));
    let en = recipient(Locale::En, None);
    let letter = templates
        .render(&context(LetterKind::Confirmed, &event, &en, &changes))
        .unwrap();
    assert_eq!(
        letter.subject,
        "Confirmed: Data sharing in personalised medicine"
    );
}

#[test]
fn a_syntax_error_in_an_override_fails_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("en")).unwrap();
    std::fs::write(
        dir.path().join("en/reminder.txt"),
        "{% block subject %}Reminder: {{ event.title }{% endblock %}\n",
    )
    .unwrap();
    let err = Templates::new(Some(dir.path())).unwrap_err();
    assert!(matches!(err, TemplateError::Syntax { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("en/reminder.txt"), "{message}");
    assert!(
        message.contains(&dir.path().display().to_string()),
        "{message}"
    );
}

#[test]
fn an_unknown_variable_in_an_override_fails_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("zh-CN")).unwrap();
    std::fs::write(
        dir.path().join("zh-CN/waitlisted.txt"),
        "{% block subject %}候补：{{ event.titel }}{% endblock %}{% block body %}{{ name }}{% endblock %}",
    )
    .unwrap();
    let err = Templates::new(Some(dir.path())).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("zh-CN/waitlisted.txt"), "{message}");
    assert!(message.contains("event.titel"), "{message}");
}

#[test]
fn a_missing_override_directory_fails_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let err = Templates::new(Some(&missing)).unwrap_err();
    assert!(matches!(err, TemplateError::OverrideDir { .. }), "{err:?}");
}

#[test]
fn undefined_and_none_values_are_errors_when_rendering() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("en")).unwrap();
    // Both pass the start-up check (the variables exist) but fail when rendered: a string has no
    // attribute `initial` (undefined values are errors), and the webinar has no location (printing none is
    // an error).
    std::fs::write(
        dir.path().join("en/rejected.txt"),
        "{% block subject %}No{% endblock %}{% block body %}{{ event.title.initial }}{% endblock %}",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("en/cancelled.txt"),
        "{% block subject %}No{% endblock %}{% block body %}{{ event.location }}{% endblock %}",
    )
    .unwrap();
    let templates = Templates::new(Some(dir.path())).unwrap();
    let event = webinar();
    let changes = ChangeSet::default();
    let recipient = recipient(Locale::En, None);
    for (kind, name) in [
        (LetterKind::Rejected, "en/rejected.txt"),
        (LetterKind::Cancelled, "en/cancelled.txt"),
    ] {
        let err = templates
            .render(&context(kind, &event, &recipient, &changes))
            .unwrap_err();
        assert!(matches!(err, TemplateError::Render { .. }), "{err:?}");
        assert!(err.to_string().contains(name), "{err}");
    }
}

#[test]
fn names_outside_the_template_directory_are_not_loaded() {
    assert!(is_relative_name("zh-CN/confirmed.txt"));
    for name in [
        "../secret.txt",
        "/etc/passwd",
        "en/../../x",
        "en//x",
        "./en/x",
        "en\\x",
    ] {
        assert!(!is_relative_name(name), "{name}");
    }
    assert!(load(None, "../../Cargo.toml").unwrap().is_none());
    assert!(load(None, "en/confirmed.txt").unwrap().is_some());
}

#[test]
fn known_variables_match_what_templates_receive() {
    let event = webinar();
    let recipient = recipient(Locale::En, Some(chrono_tz::Asia::Shanghai));
    let changes = ChangeSet::default();
    let ctx = context(LetterKind::Confirmed, &event, &recipient, &changes);
    let vars = Vars::new(&ctx);
    let json = serde_json::to_value(&vars).unwrap();
    let top = json
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect::<BTreeSet<_>>();
    let expected = LETTER_VARIABLES
        .iter()
        .map(|s| (*s).to_owned())
        .collect::<BTreeSet<_>>();
    assert_eq!(top, expected);
    let fields = json["event"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect::<BTreeSet<_>>();
    let expected = EVENT_FIELDS
        .iter()
        .map(|s| (*s).to_owned())
        .collect::<BTreeSet<_>>();
    assert_eq!(fields, expected);
    let paragraphs = vec!["x".to_owned()];
    let layout = LayoutVars {
        letter: &vars,
        subject: "s",
        body: "b",
        paragraphs: &paragraphs,
    };
    let json = serde_json::to_value(&layout).unwrap();
    let top = json
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect::<BTreeSet<_>>();
    let expected = LETTER_VARIABLES
        .iter()
        .chain(LAYOUT_VARIABLES)
        .map(|s| (*s).to_owned())
        .collect::<BTreeSet<_>>();
    assert_eq!(top, expected);
}

#[test]
fn an_override_rewords_change_lines() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("en")).unwrap();
    let built_in = load(None, "en/changes.txt").unwrap().unwrap();
    std::fs::write(
        dir.path().join("en/changes.txt"),
        built_in.replace("{{ label }} changed", "New {{ label|lower }}"),
    )
    .unwrap();
    let templates = Templates::new(Some(dir.path())).unwrap();
    let tz = chrono_tz::Europe::Berlin;
    assert_eq!(
        templates
            .describe_changes(&start_change(), tz, tz, Locale::En)
            .unwrap(),
        vec![
            "Start: Saturday 15 May 2027, 09:30 UTC+2 → 10:30 UTC+2",
            "New online link"
        ]
    );
    // Chinese keeps the built-in wording.
    assert_eq!(
        templates
            .describe_changes(&start_change(), tz, tz, Locale::ZhCn)
            .unwrap()[1],
        "在线参会链接已更改"
    );
}

#[test]
fn change_wording_without_a_macro_fails_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("zh-CN")).unwrap();
    std::fs::write(
        dir.path().join("zh-CN/changes.txt"),
        "{% macro label(field) %}{{ field }}{% endmacro %}\n",
    )
    .unwrap();
    let err = Templates::new(Some(dir.path())).unwrap_err();
    assert!(
        matches!(&err, TemplateError::MissingMacro { name, r#macro, .. }
            if name == "zh-CN/changes.txt" && r#macro == "kind_name"),
        "{err}"
    );
    assert!(err.to_string().contains("zh-CN/changes.txt"), "{err}");
}
