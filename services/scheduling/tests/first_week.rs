//! What broke in a programme office's first week (issue 15), through HTTP on SQLite (or PostgreSQL when
//! CLOVERLEAF_TEST_DATABASE_URL is set): moving an event takes its agenda along; visits and transfers can be
//! planned before their hosts are confirmed; each end of a time is in its own place's zone; events and items have
//! Chinese texts; and no number or text from a request crashes on its way to the database.

use cloverleaf_scheduling::build;
use cloverleaf_service_kit::config::ServiceName;
use cloverleaf_service_kit::outbox;
use cloverleaf_service_kit::testing::{TestApp, check_invite};
use reqwest::StatusCode;
use sea_orm::EntityTrait;
use serde_json::{Value, json};

struct Api {
    app: TestApp,
    token: String,
}

impl Api {
    async fn start() -> Self {
        let app = TestApp::spawn(ServiceName::Scheduling, build).await;
        let token = app.organiser_token();
        Self { app, token }
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .app
            .http
            .request(method, self.app.url(path))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let text = response.text().await.expect("body");
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, value)
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::PATCH, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::GET, path, None).await
    }

    async fn ok(&self, path: &str) -> Value {
        let (status, value) = self.get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {value}");
        value
    }

    async fn created(&self, path: &str, body: Value) -> Value {
        let (status, value) = self.post(path, body).await;
        assert_eq!(status, StatusCode::CREATED, "{path}: {value}");
        value
    }

    async fn patched(&self, path: &str, body: Value) -> Value {
        let (status, value) = self.patch(path, body).await;
        assert_eq!(status, StatusCode::OK, "{path}: {value}");
        value
    }

    async fn ics(&self, path: &str) -> String {
        let response = self
            .app
            .http
            .get(self.app.url(path))
            .send()
            .await
            .expect("ics");
        assert_eq!(response.status(), 200, "{path}");
        response.text().await.expect("text")
    }

    /// The domain events written so far, as (type, payload).
    async fn domain_events(&self) -> Vec<(String, Value)> {
        let db = cloverleaf_service_kit::db::connect(self.app.database.url(), 1)
            .await
            .expect("db");
        let mut rows = outbox::event::Entity::find()
            .all(&db)
            .await
            .expect("outbox");
        rows.sort_by_key(|r| r.position);
        rows.into_iter()
            .map(|r| {
                (
                    r.event_type,
                    serde_json::from_str(&r.payload).expect("payload"),
                )
            })
            .collect()
    }
}

fn organiser() -> Value {
    json!({ "name": "Sino-EU PerMed Office", "email": "office@permed.example.org" })
}

/// Writes `.ics` text to a file and runs check-invite on it.
fn checked(ics: &str, name: &str) {
    let dir = std::env::temp_dir().join(format!("cloverleaf-ics-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join(format!("{name}.ics"));
    std::fs::write(&path, ics).expect("write");
    check_invite(std::slice::from_ref(&path), false);
}

fn unfolded(ics: &str) -> String {
    ics.replace("\r\n ", "")
}

#[tokio::test]
async fn moving_an_event_with_move_items_moves_its_agenda_in_one_change() {
    let api = Api::start().await;
    let workshop = api
        .created("/v1/events", json!({
            "kind": "workshop", "title": "Stakeholder workshop: data sharing", "timezone": "Europe/Rome",
            "starts_at": "2027-06-10T09:00", "ends_at": "2027-06-10T17:00", "organiser": organiser(),
            "venue": { "name": "Santa Maria della Scala", "city": "Siena", "country": "IT" },
        }))
        .await;
    let id = workshop["id"].as_str().expect("id").to_owned();
    let items = format!("/v1/events/{id}/items");
    let opening = api
        .created(
            &items,
            json!({ "kind": "talk", "title": "Opening", "starts_at": "2027-06-10T09:00",
            "ends_at": "2027-06-10T09:30" }),
        )
        .await;
    api.created(
        &items,
        json!({ "kind": "panel", "title": "Biobanks", "starts_at": "2027-06-10T15:30",
        "ends_at": "2027-06-10T17:00" }),
    )
    .await;
    let (status, _) = api
        .post(&format!("/v1/events/{id}/publish"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let before = api.ok(&format!("/v1/events/{id}")).await;
    let events_before = api.domain_events().await.len();

    // Without move_items (the API's default) the agenda stays where it was.
    let moved = api
        .patched(
            &format!("/v1/events/{id}"),
            json!({ "starts_at": "2027-06-10T08:00", "ends_at": "2027-06-10T17:00" }),
        )
        .await;
    assert_eq!(
        moved["sequence"],
        before["sequence"].as_i64().expect("seq") + 1
    );
    let agenda = api.ok(&items).await;
    assert_eq!(agenda["items"][0]["starts_at"], "2027-06-10T09:00:00+02:00");

    // With it, every item moves by as much as the start, in the same change.
    let moved = api
        .patched(
            &format!("/v1/events/{id}"),
            json!({
                "starts_at": "2027-06-10T10:00", "ends_at": "2027-06-10T19:00", "move_items": true,
            }),
        )
        .await;
    assert_eq!(moved["starts_at"], "2027-06-10T10:00:00+02:00");
    assert_eq!(
        moved["sequence"],
        before["sequence"].as_i64().expect("seq") + 2,
        "one step for the move and its agenda"
    );
    let agenda = api.ok(&items).await;
    let times: Vec<(&str, &str, i64)> = agenda["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            (
                i["starts_at"].as_str().expect("start"),
                i["ends_at"].as_str().expect("end"),
                i["sequence"].as_i64().expect("sequence"),
            )
        })
        .collect();
    assert_eq!(
        times,
        [
            ("2027-06-10T11:00:00+02:00", "2027-06-10T11:30:00+02:00", 1),
            ("2027-06-10T17:30:00+02:00", "2027-06-10T19:00:00+02:00", 1),
        ]
    );
    let one = api
        .ok(&format!(
            "{items}/{}",
            opening["id"].as_str().expect("item")
        ))
        .await;
    assert_eq!(one["starts_at"], "2027-06-10T11:00:00+02:00");

    // The history and the one event.updated say the agenda moved.
    let changes = api.ok(&format!("/v1/events/{id}/changes")).await;
    let last = changes["items"]
        .as_array()
        .expect("changes")
        .last()
        .expect("last")
        .clone();
    let fields: Vec<&str> = last["changes"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|c| c["field"].as_str().expect("field"))
        .collect();
    assert_eq!(fields, ["starts_at", "ends_at", "agenda"]);
    assert_eq!(
        last["changes"][2]["after"],
        json!({ "moved_by_seconds": 7200, "items": 2 })
    );
    assert_eq!(last["sequence"], moved["sequence"]);
    let events = api.domain_events().await;
    assert_eq!(
        events.len(),
        events_before + 2,
        "one event.updated per change"
    );
    let (kind, payload) = events.last().expect("updated");
    assert_eq!(kind, "event.updated");
    assert_eq!(payload["sequence"], moved["sequence"]);
    assert!(
        payload["changed_fields"]
            .as_array()
            .expect("fields")
            .contains(&json!("agenda"))
    );
    assert_eq!(payload["calendar_visible"], true);

    // The feed shows the moved agenda.
    let ics = api.ics(&format!("/v1/events/{id}/calendar.ics")).await;
    assert!(
        ics.contains("DTSTART;TZID=Europe/Rome:20270610T110000"),
        "{ics}"
    );
    assert!(
        ics.contains("DTSTART;TZID=Europe/Rome:20270610T173000"),
        "{ics}"
    );
    assert!(!ics.contains("T090000"), "{ics}");
    checked(&ics, "moved");
}

/// The documented contract: `{kind, title, starts_at, ends_at, timezone?, location?, host?, speakers?}`.
#[tokio::test]
async fn every_kind_takes_the_contracts_fields_and_missing_details_are_listed_as_incomplete() {
    let api = Api::start().await;
    let tour = api
        .created("/v1/events", json!({
            "kind": "tour", "title": "Clover Leaf tour", "timezone": "Europe/Berlin",
            "starts_at": "2027-05-10T08:00", "ends_at": "2027-05-20T20:00", "organiser": organiser(),
        }))
        .await;
    let id = tour["id"].as_str().expect("id").to_owned();
    let items = format!("/v1/events/{id}/items");
    let host = api
        .created(
            "/v1/people",
            json!({ "name": "Li Na", "affiliation": "Nanjing Medical University" }),
        )
        .await;
    let mut created = Vec::new();
    for (day, kind) in [
        "session", "talk", "panel", "break", "meal", "visit", "transfer", "hotel", "other",
    ]
    .into_iter()
    .enumerate()
    {
        let item = api
            .created(&items, json!({
                "kind": kind, "title": format!("A {kind}"),
                "starts_at": format!("2027-05-1{day}T09:00"), "ends_at": format!("2027-05-1{day}T10:00"),
                "timezone": null, "location": "Main hall", "host": host["id"], "speakers": null,
            }))
            .await;
        assert_eq!(item["kind"], kind);
        assert_eq!(item["host"]["name"], "Li Na");
        created.push(item);
    }
    let visit = created[5]["id"].as_str().expect("visit").to_owned();
    let transfer = created[6]["id"].as_str().expect("transfer").to_owned();
    // Partly known details are kept; the rest can follow.
    api.created(
        &items,
        json!({ "kind": "transfer", "title": "Train", "starts_at": "2027-05-19T09:00",
        "ends_at": "2027-05-19T12:00", "transfer": { "from": "Guangzhou" } }),
    )
    .await;

    let conflicts = api.ok(&format!("/v1/events/{id}/conflicts")).await;
    let incomplete: Vec<(String, Value)> = conflicts["items"]
        .as_array()
        .expect("conflicts")
        .iter()
        .filter(|c| c["kind"] == "incomplete")
        .map(|c| {
            (
                c["item_id"].as_str().expect("item").to_owned(),
                c["missing"].clone(),
            )
        })
        .collect();
    assert_eq!(incomplete.len(), 3, "{conflicts}");
    assert!(incomplete.contains(&(visit.clone(), json!(["institution", "address"]))));
    assert!(incomplete.contains(&(transfer.clone(), json!(["from", "to"]))));
    assert!(
        incomplete
            .iter()
            .any(|(_, missing)| missing == &json!(["to"]))
    );
    let first = conflicts["items"]
        .as_array()
        .expect("conflicts")
        .iter()
        .find(|c| c["item_id"] == visit.as_str())
        .expect("visit listed");
    assert_eq!(first["items"][0]["id"], visit.as_str());
    assert!(
        first["message"]
            .as_str()
            .expect("message")
            .contains("institution")
    );

    // Publishing is allowed, and lists them.
    let (status, published) = api
        .post(&format!("/v1/events/{id}/publish"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{published}");
    assert_eq!(published["status"], "published");
    assert!(
        published["conflicts"]
            .as_array()
            .expect("listed")
            .iter()
            .any(|c| c["kind"] == "incomplete")
    );

    // Once the host confirms, the visit is complete.
    api.patched(&format!("{items}/{visit}"), json!({
        "visit": { "institution": "Nanjing Medical University", "address": "101 Longmian Ave", "city": "Nanjing" },
    }))
    .await;
    let conflicts = api.ok(&format!("/v1/events/{id}/conflicts")).await;
    assert!(
        !conflicts["items"]
            .as_array()
            .expect("conflicts")
            .iter()
            .any(|c| c["item_id"] == visit.as_str())
    );
}

#[tokio::test]
async fn each_end_is_in_its_own_zone_in_every_view_and_feed() {
    let api = Api::start().await;
    let tour = api
        .created("/v1/events", json!({
            "kind": "tour", "title": "Clover Leaf tour: Berlin, Guangzhou, Nanjing", "timezone": "Europe/Berlin",
            "starts_at": "2027-05-10T08:00", "ends_at": "2027-05-16T20:00+08:00", "organiser": organiser(),
        }))
        .await;
    let id = tour["id"].as_str().expect("id").to_owned();
    assert_eq!(
        tour["end_timezone"], "Europe/Berlin",
        "no agenda yet: its own zone"
    );
    let items = format!("/v1/events/{id}/items");
    let flight = api
        .created(&items, json!({ "kind": "transfer", "title": "Flight BER → CAN", "starts_at": "2027-05-11T14:00",
            "end_timezone": "Asia/Shanghai", "ends_at": "2027-05-12T14:40",
            "transfer": { "from": "Berlin", "to": "Guangzhou" } }))
        .await;
    assert_eq!(flight["starts_at"], "2027-05-11T14:00:00+02:00");
    assert_eq!(flight["timezone"], "Europe/Berlin");
    assert_eq!(flight["end_timezone"], "Asia/Shanghai");
    assert_eq!(flight["own_end_timezone"], true);
    assert_eq!(
        flight["ends_at"], "2027-05-12T14:40:00+08:00",
        "read and shown in the arrival's zone"
    );
    let visit = api
        .created(&items, json!({ "kind": "visit", "title": "Jiangsu Province Hospital", "timezone": "Asia/Shanghai",
            "starts_at": "2027-05-15T09:30", "ends_at": "2027-05-15T12:00",
            "visit": { "institution": "Jiangsu Province Hospital", "address": "300 Guangzhou Rd", "city": "Nanjing" } }))
        .await;
    assert_eq!(
        visit["end_timezone"], "Asia/Shanghai",
        "an item without one ends in its zone"
    );

    // The event ends where its last item ends: in every view.
    let event = api.ok(&format!("/v1/events/{id}")).await;
    assert_eq!(event["timezone"], "Europe/Berlin");
    assert_eq!(event["end_timezone"], "Asia/Shanghai");
    assert_eq!(event["own_end_timezone"], false);
    assert_eq!(event["ends_at"], "2027-05-16T20:00:00+08:00");
    let list = api.ok("/v1/events?kind=tour").await;
    assert_eq!(list["items"][0]["end_timezone"], "Asia/Shanghai");
    let (status, published) = api
        .post(&format!("/v1/events/{id}/publish"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(published["end_timezone"], "Asia/Shanghai");
    let (kind, payload) = api
        .domain_events()
        .await
        .last()
        .cloned()
        .expect("published");
    assert_eq!(kind, "event.published");
    assert_eq!(payload["end_timezone"], "Asia/Shanghai");

    // The feeds write each DTEND in its zone, with its VTIMEZONE.
    // check-invite reads the text as served (folded); the assertions read it unfolded.
    let agenda_served = api.ics(&format!("/v1/events/{id}/calendar.ics")).await;
    let agenda = unfolded(&agenda_served);
    assert!(
        agenda.contains("DTSTART;TZID=Europe/Berlin:20270511T140000\r\n"),
        "{agenda}"
    );
    assert!(
        agenda.contains("DTEND;TZID=Asia/Shanghai:20270512T144000\r\n"),
        "{agenda}"
    );
    assert!(agenda.contains("TZID:Asia/Shanghai\r\n") && agenda.contains("TZID:Europe/Berlin\r\n"));
    checked(&agenda_served, "agenda");
    let all_served = api.ics("/v1/events.ics").await;
    let all = unfolded(&all_served);
    assert!(
        all.contains("DTSTART;TZID=Europe/Berlin:20270510T080000\r\n"),
        "{all}"
    );
    assert!(
        all.contains("DTEND;TZID=Asia/Shanghai:20270516T200000\r\n"),
        "{all}"
    );
    checked(&all_served, "events");

    // An end zone set on the event wins; null goes back to the derived one.
    let set = api
        .patched(
            &format!("/v1/events/{id}"),
            json!({ "end_timezone": "Asia/Tokyo" }),
        )
        .await;
    assert_eq!(set["end_timezone"], "Asia/Tokyo");
    assert_eq!(set["ends_at"], "2027-05-16T21:00:00+09:00");
    assert_eq!(set["sequence"], 1, "calendars show the end's zone");
    let cleared = api
        .patched(&format!("/v1/events/{id}"), json!({ "end_timezone": null }))
        .await;
    assert_eq!(cleared["end_timezone"], "Asia/Shanghai");
    let (status, problem) = api
        .patch(
            &format!("{items}/{}", flight["id"].as_str().expect("flight")),
            json!({ "end_timezone": "Asia/Nowhere" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "end_timezone");
}

#[tokio::test]
async fn events_and_items_have_chinese_texts_in_views_payloads_changes_and_feeds() {
    let api = Api::start().await;
    let webinar = api
        .created("/v1/events", json!({
            "kind": "webinar", "title": "Science and technology webinar", "title_zh": "科技网络研讨会",
            "summary": "AI in diagnostics", "summary_zh": "人工智能辅助诊断",
            "description": "Talks and questions.", "description_zh": "报告与问答。",
            "timezone": "Europe/Brussels", "starts_at": "2026-12-15T10:00", "ends_at": "2026-12-15T11:30",
            "online_url": "https://meet.example.org/permed", "organiser": organiser(),
        }))
        .await;
    assert_eq!(webinar["title_zh"], "科技网络研讨会");
    assert_eq!(webinar["summary_zh"], "人工智能辅助诊断");
    assert_eq!(webinar["description_zh"], "报告与问答。");
    let id = webinar["id"].as_str().expect("id").to_owned();
    let items = format!("/v1/events/{id}/items");
    let talk = api
        .created(
            &items,
            json!({ "kind": "talk", "title": "Keynote", "title_zh": "主旨报告",
            "description": "On data.", "description_zh": "关于数据。",
            "starts_at": "2026-12-15T10:00", "ends_at": "2026-12-15T10:45" }),
        )
        .await;
    assert_eq!(talk["title_zh"], "主旨报告");
    assert_eq!(talk["description_zh"], "关于数据。");
    let (status, _) = api
        .post(&format!("/v1/events/{id}/publish"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, published) = api
        .domain_events()
        .await
        .last()
        .cloned()
        .expect("published");
    assert_eq!(published["title_zh"], "科技网络研讨会");

    // The feeds in Chinese, English by default.
    let english = api.ics(&format!("/v1/events/{id}/calendar.ics")).await;
    assert!(english.contains("SUMMARY:Keynote"), "{english}");
    let chinese_served = api
        .ics(&format!("/v1/events/{id}/calendar.ics?lang=zh-CN"))
        .await;
    let chinese = unfolded(&chinese_served);
    assert!(chinese.contains("SUMMARY:主旨报告"), "{chinese}");
    assert!(chinese.contains("关于数据。"), "{chinese}");
    assert!(chinese.contains("X-WR-CALNAME:科技网络研讨会"), "{chinese}");
    checked(&chinese_served, "zh");
    let all = unfolded(&api.ics("/v1/events.ics?lang=zh-CN").await);
    assert!(all.contains("SUMMARY:科技网络研讨会"), "{all}");
    assert!(all.contains("人工智能辅助诊断"), "{all}");
    assert!(
        all.contains("参会链接：https://meet.example.org/permed"),
        "{all}"
    );
    let (status, problem) = api.get("/v1/events.ics?lang=fr").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");

    // Changes carry them; null clears one.
    let changed = api
        .patched(
            &format!("/v1/events/{id}"),
            json!({ "title_zh": "科技网络研讨会（第二期）", "summary_zh": null }),
        )
        .await;
    assert_eq!(changed["title_zh"], "科技网络研讨会（第二期）");
    assert_eq!(changed["summary_zh"], Value::Null);
    assert_eq!(changed["sequence"], 1, "calendars show the Chinese title");
    let (_, updated) = api.domain_events().await.last().cloned().expect("updated");
    assert_eq!(
        updated["changes"],
        json!([
            { "field": "title_zh", "before": "科技网络研讨会", "after": "科技网络研讨会（第二期）" },
            { "field": "summary_zh", "before": "人工智能辅助诊断", "after": null },
        ])
    );
    let item = api
        .patched(
            &format!("{items}/{}", talk["id"].as_str().expect("talk")),
            json!({ "title_zh": "开幕主旨报告" }),
        )
        .await;
    assert_eq!(item["title_zh"], "开幕主旨报告");
    let (_, updated) = api.domain_events().await.last().cloned().expect("updated");
    assert_eq!(updated["changes"][0]["field"], "title_zh");
    let (status, problem) = api
        .patch(
            &format!("/v1/events/{id}"),
            json!({ "title_zh": "两行\n标题" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "title_zh");
}

/// Issue 15 item 1's family: a `null`, a huge number or a text no row can hold must be answered 4xx (or mean "none"),
/// never a 500 from inside the database driver.
#[tokio::test]
async fn numbers_and_texts_from_requests_never_crash_on_their_way_to_the_database() {
    let api = Api::start().await;
    let venue = api
        .created(
            "/v1/venues",
            json!({ "name": "Santa Maria della Scala", "rooms": [
            { "name": "Sala Italia", "capacity": null }, { "name": "Sala Verde" },
        ] }),
        )
        .await;
    assert_eq!(venue["rooms"][0]["capacity"], Value::Null, "no limit");
    let rooms = format!("/v1/venues/{}/rooms", venue["id"].as_str().expect("venue"));
    let room = api
        .created(&rooms, json!({ "name": "Sala Blu", "capacity": null }))
        .await;
    assert_eq!(room["capacity"], Value::Null);
    for capacity in [
        json!(0),
        json!(-1),
        json!(100_001),
        json!(i64::MAX),
        json!(u64::MAX),
        json!(1e300),
        json!(2.5),
        json!("12"),
    ] {
        let (status, problem) = api
            .post(&rooms, json!({ "name": "Big", "capacity": capacity }))
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{capacity}: {problem}"
        );
    }
    for query in [
        "limit=18446744073709551615",
        "limit=9223372036854775808",
        "limit=0",
        "limit=-1",
        "limit=null",
        "limit=1e3",
        "cursor=%00",
        "cursor=WyJ4IiwxXQ",
    ] {
        for list in ["/v1/events", "/v1/people", "/v1/venues"] {
            let (status, problem) = api.get(&format!("{list}?{query}")).await;
            assert!(
                status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::BAD_REQUEST,
                "{list}?{query}: {status} {problem}"
            );
        }
    }
    // A cursor naming a person or venue whose name no row can have: a NUL, refused by PostgreSQL.
    use base64::Engine as _;
    let nul = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(json!(["Li\u{0}", uuid::Uuid::nil()]).to_string());
    for list in ["/v1/people", "/v1/venues"] {
        let (status, problem) = api.get(&format!("{list}?cursor={nul}")).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{list}: {problem}"
        );
    }
    // An event key that is neither an id nor a slug names no event.
    for key in ["a%00b", "%E4%BA%8B%00", &"x".repeat(5000)] {
        for path in [
            format!("/v1/events/{key}"),
            format!("/v1/events/{key}/items"),
            format!("/v1/events/{key}/calendar.ics"),
            format!("/v1/events/{key}/conflicts"),
            format!("/v1/events/{key}/changes"),
        ] {
            let (status, problem) = api.get(&path).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {problem}");
        }
        let (status, problem) = api
            .patch(&format!("/v1/events/{key}"), json!({ "title": "x" }))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{problem}");
        let (status, problem) = api
            .post(
                &format!("/v1/events/{key}/items"),
                json!({ "kind": "talk", "title": "x",
                "starts_at": "2027-01-01T10:00", "ends_at": "2027-01-01T11:00" }),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{problem}");
    }
    // Texts with a NUL are refused by field.
    let (status, problem) = api
        .post(
            "/v1/events",
            json!({ "kind": "webinar", "title": "Web\u{0}inar", "title_zh": "网络\u{0}研讨会",
            "summary_zh": "摘\u{0}要", "timezone": "Europe/Berlin", "starts_at": "2027-01-01T10:00",
            "ends_at": "2027-01-01T11:00", "organiser": organiser() }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut fields: Vec<&str> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().expect("field"))
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        ["summary_zh", "title", "title_zh"],
        "every field with a NUL is named"
    );
    let (status, problem) = api.post("/v1/people", json!({ "name": "Li\u{0}Na" })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
}
