//! Change lines: what each kind of change reads like, in both languages.

use super::*;

#[test]
fn describes_a_start_time_change() {
    let tz = chrono_tz::Europe::Berlin;
    let changes = start_change();
    assert_eq!(
        describe(&changes, tz, tz, Locale::En),
        vec![
            "Start: Saturday 15 May 2027, 09:30 UTC+2 → 10:30 UTC+2",
            "Online link changed"
        ]
    );
    assert_eq!(
        describe(&changes, tz, tz, Locale::ZhCn),
        vec![
            "开始时间：2027年5月15日（周六）09:30 UTC+2 → 10:30 UTC+2",
            "在线参会链接已更改"
        ]
    );
    // Moved to another day, given in UTC: shown in the event's zone with the new date.
    let moved = ChangeSet {
        action: "updated".to_owned(),
        changes: vec![FieldChange {
            field: "ends_at".to_owned(),
            before: json!("2027-05-15T11:00:00+02:00"),
            after: json!("2027-05-16T09:00:00Z"),
        }],
        item_title: None,
        ..ChangeSet::default()
    };
    assert_eq!(
        describe(&moved, tz, tz, Locale::En),
        vec!["End: Saturday 15 May 2027, 11:00 UTC+2 → Sunday 16 May 2027, 11:00 UTC+2"]
    );
    assert_eq!(
        describe(&moved, tz, tz, Locale::ZhCn),
        vec!["结束时间：2027年5月15日（周六）11:00 UTC+2 → 2027年5月16日（周日）11:00 UTC+2"]
    );
}

#[test]
fn describes_an_item_added_and_removed() {
    let tz = chrono_tz::Europe::Berlin;
    let added = ChangeSet {
        action: "item_added".to_owned(),
        changes: vec![
            FieldChange {
                field: "kind".to_owned(),
                before: json!(null),
                after: json!("talk"),
            },
            FieldChange {
                field: "title".to_owned(),
                before: json!(null),
                after: json!("Keynote"),
            },
            FieldChange {
                field: "starts_at".to_owned(),
                before: json!(null),
                after: json!("2027-05-15T10:00:00+02:00"),
            },
            FieldChange {
                field: "ends_at".to_owned(),
                before: json!(null),
                after: json!("2027-05-15T11:00:00+02:00"),
            },
        ],
        item_title: Some("Keynote".to_owned()),
        ..ChangeSet::default()
    };
    assert_eq!(
        describe(&added, tz, tz, Locale::En),
        vec!["Agenda: “Keynote” added, Saturday 15 May 2027, 10:00–11:00 UTC+2 (Europe/Berlin)"]
    );
    assert_eq!(
        describe(&added, tz, tz, Locale::ZhCn),
        vec!["日程：新增“Keynote”，2027年5月15日（周六）10:00–11:00 UTC+2（Europe/Berlin）"]
    );

    let removed = ChangeSet {
        action: "item_removed".to_owned(),
        changes: vec![
            FieldChange {
                field: "title".to_owned(),
                before: json!("Lunch"),
                after: json!(null),
            },
            FieldChange {
                field: "starts_at".to_owned(),
                before: json!("2027-05-15T12:00:00+02:00"),
                after: json!(null),
            },
            FieldChange {
                field: "ends_at".to_owned(),
                before: json!("2027-05-15T13:00:00+02:00"),
                after: json!(null),
            },
        ],
        item_title: None,
        ..ChangeSet::default()
    };
    assert_eq!(
        describe(&removed, tz, tz, Locale::En),
        vec![
            "Agenda: “Lunch” removed – it was on Saturday 15 May 2027, 12:00–13:00 UTC+2 (Europe/Berlin)"
        ]
    );
    assert_eq!(
        describe(&removed, tz, tz, Locale::ZhCn),
        vec!["日程：原定于2027年5月15日（周六）12:00–13:00 UTC+2（Europe/Berlin）的“Lunch”已取消"]
    );

    let bare = ChangeSet {
        action: "item_removed".to_owned(),
        changes: vec![],
        item_title: Some("Lunch".to_owned()),
        ..ChangeSet::default()
    };
    assert_eq!(
        describe(&bare, tz, tz, Locale::En),
        vec!["Agenda: “Lunch” removed"]
    );
    assert_eq!(
        describe(&bare, tz, tz, Locale::ZhCn),
        vec!["日程：“Lunch”已取消"]
    );
}

#[test]
fn a_removed_item_is_shown_in_its_own_zone_labelled() {
    // A tour kept in Berlin's zone; the dinner in Shanghai was 19:00–21:00 there (13:00–15:00 in Berlin).
    let berlin = chrono_tz::Europe::Berlin;
    let removed = ChangeSet {
        action: "item_removed".to_owned(),
        changes: vec![
            FieldChange {
                field: "title".to_owned(),
                before: json!("Welcome dinner"),
                after: json!(null),
            },
            FieldChange {
                field: "title_zh".to_owned(),
                before: json!("欢迎晚宴"),
                after: json!(null),
            },
            FieldChange {
                field: "timezone".to_owned(),
                before: json!("Asia/Shanghai"),
                after: json!(null),
            },
            FieldChange {
                field: "starts_at".to_owned(),
                before: json!("2027-05-12T19:00:00+08:00"),
                after: json!(null),
            },
            FieldChange {
                field: "ends_at".to_owned(),
                before: json!("2027-05-12T21:00:00+08:00"),
                after: json!(null),
            },
        ],
        ..ChangeSet::default()
    };
    assert_eq!(
        describe(&removed, berlin, berlin, Locale::En),
        vec![
            "Agenda: “Welcome dinner” removed – it was on Wednesday 12 May 2027, 19:00–21:00 UTC+8 (Asia/Shanghai)"
        ]
    );
    assert_eq!(
        describe(&removed, berlin, berlin, Locale::ZhCn),
        vec![
            "日程：原定于2027年5月12日（周三）19:00–21:00 UTC+8（Asia/Shanghai）的“欢迎晚宴”已取消"
        ]
    );
}

#[test]
fn an_agenda_moved_with_its_event_says_so() {
    let berlin = chrono_tz::Europe::Berlin;
    let moved = ChangeSet {
        action: "updated".to_owned(),
        changes: vec![FieldChange {
            field: "agenda".to_owned(),
            before: json!(null),
            after: json!({ "moved_by_seconds": 3600, "items": 3 }),
        }],
        ..ChangeSet::default()
    };
    assert_eq!(
        describe(&moved, berlin, berlin, Locale::En),
        vec!["Agenda: all 3 items moved 1 hour later, with the start"]
    );
    assert_eq!(
        describe(&moved, berlin, berlin, Locale::ZhCn),
        vec!["日程：全部3项安排随开始时间推迟1小时"]
    );
}

#[test]
fn describes_an_item_update() {
    let tz = chrono_tz::Europe::Berlin;
    let updated = ChangeSet {
        action: "item_updated".to_owned(),
        changes: vec![
            FieldChange {
                field: "starts_at".to_owned(),
                before: json!("2027-05-15T10:00:00+02:00"),
                after: json!("2027-05-15T10:30:00+02:00"),
            },
            FieldChange {
                field: "room_id".to_owned(),
                before: json!("6c1f1ad2-0000-0000-0000-000000000001"),
                after: json!("6c1f1ad2-0000-0000-0000-000000000002"),
            },
            FieldChange {
                field: "kind".to_owned(),
                before: json!("talk"),
                after: json!("panel"),
            },
        ],
        item_title: Some("Keynote".to_owned()),
        ..ChangeSet::default()
    };
    assert_eq!(
        describe(&updated, tz, tz, Locale::En),
        vec![
            "Agenda: “Keynote” – Start: Saturday 15 May 2027, 10:00 UTC+2 → 10:30 UTC+2",
            "Agenda: “Keynote” – Room changed",
            "Agenda: “Keynote” – Type: talk → panel",
        ]
    );
    assert_eq!(
        describe(&updated, tz, tz, Locale::ZhCn),
        vec![
            "日程“Keynote”的开始时间：2027年5月15日（周六）10:00 UTC+2 → 10:30 UTC+2",
            "日程“Keynote”的会议室已更改",
            "日程“Keynote”的类型：报告 → 圆桌讨论",
        ]
    );
}

#[test]
fn describes_title_location_unknown_and_empty_values() {
    let tz = chrono_tz::Europe::Berlin;
    let changes = ChangeSet {
        action: "updated".to_owned(),
        changes: vec![
            FieldChange {
                field: "title".to_owned(),
                before: json!("Old"),
                after: json!("New"),
            },
            FieldChange {
                field: "venue".to_owned(),
                before: json!(null),
                after: json!({"id": null, "name": "Hall B", "address": "Main St 1", "city": "Heidelberg", "country": "Germany"}),
            },
            FieldChange {
                field: "location".to_owned(),
                before: json!("A"),
                after: json!("B"),
            },
            FieldChange {
                field: "capacity".to_owned(),
                before: json!(40),
                after: json!(60),
            },
            FieldChange {
                field: "summary".to_owned(),
                before: json!("same"),
                after: json!("same"),
            },
        ],
        item_title: None,
        ..ChangeSet::default()
    };
    assert_eq!(
        describe(&changes, tz, tz, Locale::En),
        vec![
            "Title: Old → New",
            "Location: (none) → Hall B, Main St 1, Heidelberg, Germany",
            "Location: A → B",
            "capacity changed",
        ]
    );
    assert_eq!(
        describe(&changes, tz, tz, Locale::ZhCn),
        vec![
            "标题：Old → New",
            "地点：（无）→ Hall B，Main St 1，Heidelberg，Germany",
            "地点：A → B",
            "capacity已更改",
        ]
    );
}

#[test]
fn change_sets_deserialise_from_the_event_payload() {
    let change: FieldChange = serde_json::from_value(json!({
        "field": "title", "before": "Old", "after": "New"
    }))
    .unwrap();
    assert_eq!(change.field, "title");
    assert_eq!(change.after, json!("New"));
}
