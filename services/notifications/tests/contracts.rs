//! What notifications does with the answers of this session's cross-service contracts (PLAN.md), end to end
//! through its inbox, a real SMTP server and `check-invite`, with a stand-in for scheduling and registration
//! (`fake`): the Chinese texts (1), registrations ended by a cancelled event (2), erasure (3), short manage links
//! (4), an agenda moved with its event (5), each end in its own zone (7), zones written as offsets (8). On SQLite, or
//! on PostgreSQL when CLOVERLEAF_TEST_DATABASE_URL is set.

mod fake;
mod support;

use std::time::Duration;

use cloverleaf_service_kit::config::{ServiceName, Settings};
use cloverleaf_service_kit::testing::check_invite;
use fake::{Fixture, event_json, item_json, keep_for_review, registration_json};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{calendar_of, property, text_of};
use uuid::Uuid;

const TITLE: &str = "Data sharing in personalised medicine";
const BEFORE: (&str, &str) = ("2027-03-10T09:00:00+01:00", "2027-03-10T11:00:00+01:00");
const MOVED: (&str, &str) = ("2027-03-10T10:00:00+01:00", "2027-03-10T12:00:00+01:00");
const KEYNOTE_BEFORE: (&str, &str) = ("2027-03-10T09:10:00+01:00", "2027-03-10T09:50:00+01:00");
const KEYNOTE_MOVED: (&str, &str) = ("2027-03-10T10:10:00+01:00", "2027-03-10T10:50:00+01:00");

/// The unfolded, unescaped DESCRIPTION of an email's invite.
fn description(mail: &std::path::Path) -> String {
    let ics = calendar_of(mail)
        .expect("an invite")
        .replace("\r\n ", "")
        .replace("\n ", "");
    property(&ics, "DESCRIPTION")
        .expect("DESCRIPTION")
        .replace("\\n", "\n")
        .replace("\\,", ",")
        .replace("\\;", ";")
}

/// `event.updated` for the webinar moved an hour later with its agenda (contract 5).
fn moved_with_agenda(event_id: Uuid, sequence: i32) -> Value {
    json!({
        "event_id": event_id, "sequence": sequence, "action": "updated",
        "changed_fields": ["starts_at", "ends_at", "agenda"], "item_ids": [], "calendar_visible": true,
        "changes": [
            { "field": "starts_at", "before": BEFORE.0, "after": MOVED.0 },
            { "field": "ends_at", "before": BEFORE.1, "after": MOVED.1 },
            { "field": "agenda", "before": null, "after": { "moved_by_seconds": 3600, "items": 1 } },
        ],
    })
}

fn webinar(fixture: &Fixture, id: Uuid, keynote: Uuid, moved: bool, sequence: i32) {
    let (times, keynote_times) = if moved {
        (MOVED, KEYNOTE_MOVED)
    } else {
        (BEFORE, KEYNOTE_BEFORE)
    };
    fixture.set_event(event_json(
        id,
        "webinar",
        TITLE,
        "Europe/Berlin",
        times,
        sequence,
    ));
    let mut item = item_json(
        keynote,
        "talk",
        "Keynote: federated cohorts",
        "Europe/Berlin",
        keynote_times,
    );
    item["title_zh"] = json!("主旨报告：联邦队列");
    fixture.set_agenda(id, vec![item]);
}

/// Item 4: a webinar moved with its agenda. One replica confirmed Ada (reading the event and agenda), the other
/// handled the move, then the first confirms Li. Each invite — Ada's update and Li's confirmation — shows the new
/// time and the moved agenda. While reads were kept 5 s for the whole process, the first replica used what it had
/// read before the move: Li's invite carried the old time and the old agenda, and nothing corrected it.
#[tokio::test]
async fn every_invite_after_a_move_shows_the_moved_agenda_whichever_replica_read_before() {
    // Each replica works only when its own inbox is posted to, so the test says who handles what.
    let woken_only = |s: &mut Settings| {
        s.set("inbox.poll_interval_ms", 600_000);
    };
    let fixture = Fixture::start_with(woken_only).await;
    let other = fixture.replica(woken_only).await;
    let first = &fixture.notifications;
    let (event_id, keynote) = (Uuid::now_v7(), Uuid::now_v7());
    webinar(&fixture, event_id, keynote, false, 1);
    let ada = registration_json(
        event_id,
        ("ada@example.org", "Ada Lovelace"),
        "en",
        None,
        "confirmed",
    );
    let li = registration_json(
        event_id,
        ("li.na@example.cn", "李娜"),
        "zh-CN",
        Some("Asia/Shanghai"),
        "confirmed",
    );
    fixture.add_registration(ada.clone());
    fixture.registration_event(first, "confirmed", &ada).await;
    let before = fixture.wait_for("ada@example.org", 1).await;
    assert!(description(&before[0]).contains("09:10–09:50"));

    webinar(&fixture, event_id, keynote, true, 2);
    fixture
        .post(
            &other,
            ServiceName::Scheduling,
            "event.updated",
            moved_with_agenda(event_id, 2),
        )
        .await;
    let ada_mail = fixture.wait_for("ada@example.org", 2).await;
    fixture.add_registration(li.clone());
    fixture.registration_event(first, "confirmed", &li).await;
    let li_mail = fixture.wait_for("li.na@example.cn", 1).await;

    for mail in [&ada_mail[1], &li_mail[0]] {
        let ics = calendar_of(mail).expect("an invite");
        assert!(
            ics.contains("DTSTART;TZID=Europe/Berlin:20270310T100000"),
            "{ics}"
        );
        let agenda = description(mail);
        assert!(agenda.contains("10:10–10:50 UTC+1"), "{agenda}");
        assert!(!agenda.contains("09:10"), "the old agenda: {agenda}");
    }
    assert!(description(&li_mail[0]).contains("主旨报告：联邦队列"));
    let update = text_of(&ada_mail[1]);
    assert!(
        update.contains("- Start: Wednesday 10 March 2027, 09:00 UTC+1 → 10:00 UTC+1"),
        "{update}"
    );
    assert!(
        update.contains("- Agenda: the item moved 1 hour later, with the start"),
        "{update}"
    );
    assert!(check_invite(&ada_mail, true).contains("2 passed, 0 failed"));
    keep_for_review("moved-agenda", &[ada_mail[1].clone(), li_mail[0].clone()]);
}

/// Item 4: scheduling answers with the event as it was before the change being handled (a read from before the
/// commit, a lagging replica). The update waits until the answer is at the change's sequence, then shows it. It
/// used to be handled with the old answer: the invite looked unchanged, so Ada was never told of the move.
#[tokio::test]
async fn an_update_waits_for_the_version_it_announces() {
    let fixture = Fixture::start_with(|s| {
        s.set("inbox.poll_interval_ms", 100)
            .set("inbox.initial_backoff_ms", 100)
            .set("inbox.max_backoff_secs", 1);
    })
    .await;
    let app = &fixture.notifications;
    let (event_id, keynote) = (Uuid::now_v7(), Uuid::now_v7());
    webinar(&fixture, event_id, keynote, false, 1);
    let ada = registration_json(
        event_id,
        ("ada@example.org", "Ada Lovelace"),
        "en",
        None,
        "confirmed",
    );
    fixture.add_registration(ada.clone());
    fixture.registration_event(app, "confirmed", &ada).await;
    fixture.wait_for("ada@example.org", 1).await;

    fixture
        .post(
            app,
            ServiceName::Scheduling,
            "event.updated",
            moved_with_agenda(event_id, 2),
        )
        .await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(fixture.mailbox("ada@example.org").len(), 1);
    webinar(&fixture, event_id, keynote, true, 2);
    let mail = fixture.wait_for("ada@example.org", 2).await;
    assert!(description(&mail[1]).contains("10:10–10:50"));
    assert!(check_invite(&mail, true).contains("2 passed, 0 failed"));
}

/// A tour Berlin → Guangzhou → Nanjing (ends in Shanghai's zone), with a flight across zones, a dinner in
/// Shanghai and a night train.
fn tour(fixture: &Fixture, id: Uuid, items: &[Uuid; 3], with_dinner: bool, sequence: i32) {
    let mut event = event_json(
        id,
        "tour",
        "Clover Leaf delegation tour 2027",
        "Europe/Berlin",
        ("2027-05-10T09:00:00+02:00", "2027-05-14T17:00:00+08:00"),
        sequence,
    );
    event["title_zh"] = json!("2027年四叶草代表团考察");
    event["summary_zh"] = json!("中欧精准医学合作");
    event["end_timezone"] = json!("Asia/Shanghai");
    fixture.set_event(event);
    let mut flight = item_json(
        items[0],
        "transfer",
        "Flight Berlin → Guangzhou",
        "Europe/Berlin",
        ("2027-05-10T20:00:00+02:00", "2027-05-11T13:30:00+08:00"),
    );
    flight["end_timezone"] = json!("Asia/Shanghai");
    flight["title_zh"] = json!("柏林—广州航班");
    let mut dinner = item_json(
        items[1],
        "meal",
        "Welcome dinner",
        "Asia/Shanghai",
        ("2027-05-12T19:00:00+08:00", "2027-05-12T21:00:00+08:00"),
    );
    dinner["title_zh"] = json!("欢迎晚宴");
    let mut train = item_json(
        items[2],
        "transfer",
        "Night train Guangzhou → Nanjing",
        "Asia/Shanghai",
        ("2027-05-13T18:00:00+08:00", "2027-05-14T06:30:00+08:00"),
    );
    train["title_zh"] = json!("广州—南京夜车");
    let agenda = if with_dinner {
        vec![flight, dinner, train]
    } else {
        vec![flight, train]
    };
    fixture.set_agenda(id, agenda);
}

/// Contracts 1, 4, 7 and 8 and item 8: a Chinese participant reads the tour in Chinese — subject, text, SUMMARY and
/// DESCRIPTION — with Chinese punctuation and 周 weekdays; everyone reads zones as UTC offsets (never "CST"), each
/// end of the flight and of the tour in its own zone, the night train's end with its date, the removed dinner in
/// Shanghai's time labelled as such; and the manage link is `{public_url}/manage/{token}`.
#[tokio::test]
async fn a_tour_reads_right_in_chinese_and_english() {
    let fixture = Fixture::start().await;
    let app = &fixture.notifications;
    let event_id = Uuid::now_v7();
    let items = [Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7()];
    tour(&fixture, event_id, &items, true, 1);
    let zhang = registration_json(
        event_id,
        ("zhang.wei@example.cn", "张伟"),
        "zh-CN",
        Some("Asia/Shanghai"),
        "confirmed",
    );
    let ada = registration_json(
        event_id,
        ("ada@example.org", "Ada Lovelace"),
        "en",
        Some("Europe/London"),
        "confirmed",
    );
    for who in [&zhang, &ada] {
        fixture.add_registration(who.clone());
        fixture.registration_event(app, "confirmed", who).await;
    }
    fixture.wait_for("zhang.wei@example.cn", 1).await;
    fixture.wait_for("ada@example.org", 1).await;

    tour(&fixture, event_id, &items, false, 2);
    fixture
        .post(
            app,
            ServiceName::Scheduling,
            "event.updated",
            json!({
                "event_id": event_id, "sequence": 2, "action": "item_removed", "item_ids": [items[1]],
                "changed_fields": [], "calendar_visible": true,
                "changes": [
                    { "field": "kind", "before": "meal", "after": null },
                    { "field": "title", "before": "Welcome dinner", "after": null },
                    { "field": "title_zh", "before": "欢迎晚宴", "after": null },
                    { "field": "timezone", "before": "Asia/Shanghai", "after": null },
                    { "field": "starts_at", "before": "2027-05-12T19:00:00+08:00", "after": null },
                    { "field": "ends_at", "before": "2027-05-12T21:00:00+08:00", "after": null },
                ],
            }),
        )
        .await;
    let zh = fixture.wait_for("zhang.wei@example.cn", 2).await;
    let en = fixture.wait_for("ada@example.org", 2).await;
    keep_for_review("tour-zh", &zh);
    keep_for_review("tour-en", &en);
    assert!(check_invite(&zh, true).contains("2 passed, 0 failed"));
    assert!(check_invite(&en, true).contains("2 passed, 0 failed"));

    // Chinese.
    let raw = std::fs::read_to_string(&zh[0]).expect("read");
    let subject = raw
        .lines()
        .find(|l| l.starts_with("Subject:"))
        .expect("subject");
    assert!(!subject.contains("Clover Leaf"), "{subject}");
    let confirmation = text_of(&zh[0]);
    for expected in [
        "您已成功报名“2027年四叶草代表团考察”",
        "活动：2027年四叶草代表团考察",
        "时间：2027年5月10日（周一）09:00 UTC+2（Europe/Berlin）至 2027年5月14日（周五）17:00 UTC+8（Asia/Shanghai）",
        "您所在时区的时间：2027年5月10日（周一）15:00 至 2027年5月14日（周五）17:00 UTC+8（Asia/Shanghai）",
        "地点：Charité Campus Mitte，Charitéplatz 1，Berlin，德国",
        &format!(
            "查看、修改或取消报名：https://events.example.org/manage/{}",
            zhang["manage_token"].as_str().expect("token")
        ),
    ] {
        assert!(
            confirmation.contains(expected),
            "{expected}\n{confirmation}"
        );
    }
    for wrong in ["CST", "星期", ", ", ": ", "(", "?token="] {
        assert!(
            !confirmation.contains(wrong),
            "{wrong:?} in\n{confirmation}"
        );
    }
    let ics = calendar_of(&zh[0]).expect("invite");
    assert_eq!(
        property(&ics, "SUMMARY").as_deref(),
        Some("2027年四叶草代表团考察")
    );
    let agenda = description(&zh[0]);
    for expected in [
        "中欧精准医学合作",
        "日程：",
        "2027年5月10日（周一）20:00 UTC+2（Europe/Berlin）至 2027年5月11日（周二）13:30 UTC+8（Asia/Shanghai）· 柏林—广州航班",
        "2027年5月12日（周三）19:00–21:00 UTC+8（Asia/Shanghai）· 欢迎晚宴",
        "2027年5月13日（周四）18:00 至 2027年5月14日（周五）06:30 UTC+8（Asia/Shanghai）· 广州—南京夜车",
        "活动页面：https://events.example.org/events/",
    ] {
        assert!(agenda.contains(expected), "{expected}\n{agenda}");
    }
    let update = text_of(&zh[1]);
    assert!(
        update.contains(
            "- 日程：原定于2027年5月12日（周三）19:00–21:00 UTC+8（Asia/Shanghai）的“欢迎晚宴”已取消"
        ),
        "{update}"
    );
    assert!(!description(&zh[1]).contains("欢迎晚宴"));

    // English.
    let confirmation = text_of(&en[0]);
    for expected in [
        "Your registration for Clover Leaf delegation tour 2027 is confirmed.",
        "When: Monday 10 May 2027, 09:00 UTC+2 (Europe/Berlin) – Friday 14 May 2027, 17:00 UTC+8 (Asia/Shanghai)",
        "In your time zone: Monday 10 May 2027, 08:00 – Friday 14 May 2027, 10:00 UTC+1 (Europe/London)",
        &format!(
            "Manage or cancel your registration: https://events.example.org/manage/{}",
            ada["manage_token"].as_str().expect("token")
        ),
    ] {
        assert!(
            confirmation.contains(expected),
            "{expected}\n{confirmation}"
        );
    }
    assert!(!confirmation.contains("CST"), "{confirmation}");
    let ics = calendar_of(&en[0]).expect("invite");
    assert_eq!(
        property(&ics, "SUMMARY").as_deref(),
        Some("Clover Leaf delegation tour 2027")
    );
    let agenda = description(&en[0]);
    for expected in [
        "Agenda:",
        "Monday 10 May 2027, 20:00 UTC+2 (Europe/Berlin) – Tuesday 11 May 2027, 13:30 UTC+8 (Asia/Shanghai) · Flight Berlin → Guangzhou",
        "Thursday 13 May 2027, 18:00 – Friday 14 May 2027, 06:30 UTC+8 (Asia/Shanghai) · Night train Guangzhou → Nanjing",
    ] {
        assert!(agenda.contains(expected), "{expected}\n{agenda}");
    }
    let update = text_of(&en[1]);
    assert!(
        update.contains(
            "- Agenda: “Welcome dinner” removed – it was on Wednesday 12 May 2027, 19:00–21:00 UTC+8 (Asia/Shanghai)"
        ),
        "{update}"
    );
}

/// Contract 2: registration may end the registrations of a cancelled event (`event_cancelled`) before
/// notifications handles `event.cancelled`. Ada (invited) still gets her CANCEL, Bob (was on the waiting list) his
/// letter, and Carol (still confirmed in this answer) hers. The lookup asked only for `confirmed`, so Ada's
/// calendar kept a cancelled event.
#[tokio::test]
async fn a_cancellation_reaches_registrations_registration_ended_first() {
    let fixture = Fixture::start().await;
    let app = &fixture.notifications;
    let (event_id, keynote) = (Uuid::now_v7(), Uuid::now_v7());
    webinar(&fixture, event_id, keynote, false, 1);
    let ada = registration_json(
        event_id,
        ("ada@example.org", "Ada Lovelace"),
        "en",
        None,
        "confirmed",
    );
    let carol = registration_json(
        event_id,
        ("carol@example.org", "Carol Chen"),
        "zh-CN",
        None,
        "confirmed",
    );
    let mut bob = registration_json(
        event_id,
        ("bob@example.org", "Bob Berg"),
        "en",
        None,
        "waitlisted",
    );
    bob["waitlist_position"] = json!(1);
    for who in [&ada, &carol, &bob] {
        fixture.add_registration(who.clone());
    }
    fixture.registration_event(app, "confirmed", &ada).await;
    fixture.registration_event(app, "confirmed", &carol).await;
    fixture.registration_event(app, "waitlisted", &bob).await;
    fixture.wait_for("ada@example.org", 1).await;
    fixture.wait_for("carol@example.org", 1).await;
    fixture.wait_for("bob@example.org", 1).await;

    let mut cancelled = event_json(event_id, "webinar", TITLE, "Europe/Berlin", BEFORE, 2);
    cancelled["status"] = json!("cancelled");
    cancelled["cancel_reason"] = json!("Speaker unavailable");
    fixture.set_event(cancelled);
    fixture.set_status(&ada["id"], "event_cancelled");
    fixture.set_status(&bob["id"], "event_cancelled");
    fixture
        .post(
            app,
            ServiceName::Scheduling,
            "event.cancelled",
            json!({ "event_id": event_id, "sequence": 2, "reason": "Speaker unavailable" }),
        )
        .await;
    let ada_mail = fixture.wait_for("ada@example.org", 2).await;
    let carol_mail = fixture.wait_for("carol@example.org", 2).await;
    let bob_mail = fixture.wait_for("bob@example.org", 2).await;
    for mail in [&ada_mail, &carol_mail] {
        let ics = calendar_of(&mail[1]).expect("a CANCEL");
        assert_eq!(property(&ics, "METHOD").as_deref(), Some("CANCEL"));
        assert_eq!(property(&ics, "STATUS").as_deref(), Some("CANCELLED"));
        assert!(check_invite(mail, true).contains("2 passed, 0 failed"));
    }
    assert!(text_of(&ada_mail[1]).contains("Speaker unavailable"));
    assert!(calendar_of(&bob_mail[1]).is_none());
    let letter = text_of(&bob_mail[1]);
    assert!(
        letter.contains("Your place on the waiting list has been closed"),
        "{letter}"
    );
}

/// Contract 3: after `registration.erased`, the delivery log keeps Ada's messages and the counts, but neither the
/// list nor a message shows her address, her name or what was sent to her; the invite ledger and the stored
/// payloads hold neither. They did, in full.
#[tokio::test]
async fn erasure_leaves_no_trace_of_the_person_in_the_delivery_log() {
    let fixture = Fixture::start().await;
    let app = &fixture.notifications;
    let (event_id, keynote) = (Uuid::now_v7(), Uuid::now_v7());
    webinar(&fixture, event_id, keynote, false, 1);
    let ada = registration_json(
        event_id,
        ("Ada.Lovelace@example.org", "Ada Lovelace"),
        "en",
        None,
        "confirmed",
    );
    let bob = registration_json(
        event_id,
        ("bob@example.org", "Bob Berg"),
        "en",
        None,
        "confirmed",
    );
    for who in [&ada, &bob] {
        fixture.add_registration(who.clone());
        fixture.registration_event(app, "confirmed", who).await;
    }
    fixture
        .registration_event(app, "manage_link_requested", &ada)
        .await;
    fixture.wait_for("ada.lovelace@example.org", 2).await;
    fixture.wait_for("bob@example.org", 1).await;
    fixture.settle().await;
    let organiser = app.organiser_token();
    let log = |path: String| {
        let request = app.http.get(app.url(&path)).bearer_auth(&organiser);
        async move {
            let response = request.send().await.expect("log");
            assert_eq!(response.status(), StatusCode::OK);
            response.text().await.expect("body")
        }
    };
    let before: Value =
        serde_json::from_str(&log(format!("/v1/messages?event_id={event_id}")).await)
            .expect("json");
    assert!(before.to_string().contains("Ada Lovelace"));

    fixture
        .answers
        .lock()
        .expect("lock")
        .registrations
        .retain(|r| r["id"] != ada["id"]);
    fixture
        .post(
            app,
            ServiceName::Registration,
            "registration.erased",
            json!({ "registration_id": ada["id"], "event_id": event_id }),
        )
        .await;
    fixture.settle().await;

    let after_text = log(format!("/v1/messages?event_id={event_id}")).await;
    let after: Value = serde_json::from_str(&after_text).expect("json");
    assert!(
        !after_text.to_lowercase().contains("lovelace"),
        "{after_text}"
    );
    assert_eq!(after["counts"], before["counts"], "{after}");
    let items = after["items"].as_array().expect("items");
    assert_eq!(items.len(), 3);
    let erased: Vec<&Value> = items
        .iter()
        .filter(|m| m["registration_id"] == ada["id"])
        .collect();
    assert_eq!(erased.len(), 2);
    for message in erased {
        assert_eq!(message["to"], "erased");
        assert_eq!(message["to_name"], "");
        let one = log(format!(
            "/v1/messages/{}",
            message["id"].as_str().expect("id")
        ))
        .await;
        assert!(!one.to_lowercase().contains("lovelace"), "{one}");
        let one: Value = serde_json::from_str(&one).expect("json");
        assert!(
            one["text"].as_str().is_none_or(|t| !t.contains("Dear")),
            "{one}"
        );
    }
    // Bob's messages are as they were, and so is asking for them by address.
    let bob_log = log(format!(
        "/v1/messages?event_id={event_id}&to=bob@example.org"
    ))
    .await;
    assert!(bob_log.contains("Bob Berg"), "{bob_log}");
    let ada_log: Value = serde_json::from_str(
        &log(format!(
            "/v1/messages?event_id={event_id}&to=ada.lovelace@example.org"
        ))
        .await,
    )
    .expect("json");
    assert_eq!(ada_log["items"], json!([]));

    // Nor the ledger nor the stored events hold her.
    let db = cloverleaf_service_kit::db::connect(app.database.url(), 1)
        .await
        .expect("db");
    use sea_orm::EntityTrait;
    let ledger = cloverleaf_notifications::store::invites::invite::Entity::find()
        .all(&db)
        .await
        .expect("ledger");
    assert_eq!(ledger.len(), 2);
    assert!(
        ledger
            .iter()
            .all(|row| !row.attendee_email.contains("lovelace")),
        "{ledger:?}"
    );
    let stored = cloverleaf_notifications::store::inbox::inbox_event::Entity::find()
        .all(&db)
        .await
        .expect("inbox");
    assert!(
        stored
            .iter()
            .all(|row| !row.payload.to_lowercase().contains("lovelace")),
        "{stored:?}"
    );
}
