//! The scheduling API through HTTP, on SQLite (or PostgreSQL when CLOVERLEAF_TEST_DATABASE_URL is set): events,
//! agendas in several zones through to the `.ics`, validation, sequence and history, conflicts, lists and feeds.

use cloverleaf_scheduling::build;
use cloverleaf_service_kit::config::ServiceName;
use cloverleaf_service_kit::testing::{TestApp, check_invite};
use reqwest::StatusCode;
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
        auth: bool,
    ) -> (StatusCode, Value) {
        let mut request = self.app.http.request(method, self.app.url(path));
        if auth {
            request = request.bearer_auth(&self.token);
        }
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
        self.send(reqwest::Method::POST, path, Some(body), true)
            .await
    }

    async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::PATCH, path, Some(body), true)
            .await
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::GET, path, None, true).await
    }

    async fn get_public(&self, path: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::GET, path, None, false).await
    }

    async fn created(&self, path: &str, body: Value) -> Value {
        let (status, value) = self.post(path, body).await;
        assert_eq!(status, StatusCode::CREATED, "{path}: {value}");
        value
    }

    async fn ok(&self, (status, value): (StatusCode, Value)) -> Value {
        assert_eq!(status, StatusCode::OK, "{value}");
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
        assert_eq!(
            response.headers()["content-type"],
            "text/calendar; charset=utf-8"
        );
        response.text().await.expect("text")
    }
}

fn organiser() -> Value {
    json!({ "name": "Sino-EU PerMed Office", "email": "office@permed.example.org" })
}

fn webinar(title: &str) -> Value {
    json!({
        "kind": "webinar",
        "title": title,
        "timezone": "Europe/Brussels",
        "starts_at": "2027-02-10T09:00:00+01:00",
        "ends_at": "2027-02-10T10:30:00+01:00",
        "online_url": "https://meet.example.org/permed",
        "organiser": organiser(),
    })
}

fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().expect("field").to_owned())
        .collect()
}

/// Writes `.ics` text to a file and runs check-invite on it.
fn checked(ics: &str, name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("cloverleaf-ics-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join(format!("{name}.ics"));
    std::fs::write(&path, ics).expect("write");
    check_invite(std::slice::from_ref(&path), false);
    path
}

#[tokio::test]
async fn an_event_is_created_as_a_draft_published_and_then_public() {
    let api = Api::start().await;
    let event = api
        .created(
            "/v1/events",
            json!({
                "kind": "webinar", "title": "Science & technology webinar: AI in <b>oncology</b>",
                "timezone": "Europe/Brussels", "starts_at": "2027-02-10T09:00", "ends_at": "2027-02-10T10:30",
                "organiser": organiser(),
            }),
        )
        .await;
    assert_eq!(event["status"], "draft");
    assert_eq!(event["sequence"], 0);
    assert_eq!(
        event["slug"],
        "science-technology-webinar-ai-in-b-oncology-b"
    );
    assert_eq!(
        event["title"], "Science & technology webinar: AI in <b>oncology</b>",
        "markup is kept as text"
    );
    assert_eq!(
        event["starts_at"], "2027-02-10T09:00:00+01:00",
        "wall-clock input read in the event's zone"
    );
    let id = event["id"].as_str().expect("id").to_owned();

    // A draft is the organisers' business.
    assert_eq!(
        api.get_public(&format!("/v1/events/{id}")).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(api.get_public("/v1/events").await.1["items"], json!([]));
    assert_eq!(api.get(&format!("/v1/events/{id}")).await.0, StatusCode::OK);
    let (status, _) = api
        .send(
            reqwest::Method::POST,
            "/v1/events",
            Some(webinar("x")),
            false,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "creating needs an organiser"
    );

    // A webinar without its join link cannot be published.
    let (status, problem) = api
        .post(&format!("/v1/events/{id}/publish"), json!({}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(fields(&problem), ["online_url"]);

    api.ok(api
        .patch(
            &format!("/v1/events/{id}"),
            json!({ "online_url": "https://meet.example.org/ai" }),
        )
        .await)
        .await;
    let published = api
        .ok(api
            .post(&format!("/v1/events/{id}/publish"), json!({}))
            .await)
        .await;
    assert_eq!(published["status"], "published");
    assert_eq!(
        published["sequence"], 0,
        "the first invite carries sequence 0"
    );
    assert_eq!(published["conflicts"], json!([]));

    // Public now, by id and by slug; publishing again changes nothing.
    let by_slug = api
        .get_public(&format!(
            "/v1/events/{}",
            event["slug"].as_str().expect("slug")
        ))
        .await;
    assert_eq!(by_slug.0, StatusCode::OK);
    assert_eq!(by_slug.1["id"], id.as_str());
    assert_eq!(
        api.get_public("/v1/events").await.1["items"][0]["id"],
        id.as_str()
    );
    let again = api
        .ok(api
            .post(&format!("/v1/events/{id}/publish"), json!({}))
            .await)
        .await;
    assert_eq!(again["published_at"], published["published_at"]);

    // A workshop needs a venue to be published.
    let workshop = api
        .created("/v1/events", json!({ "kind": "workshop", "title": "Stakeholder workshop", "timezone": "Europe/Rome",
            "starts_at": "2027-03-04T09:00", "ends_at": "2027-03-05T17:00", "organiser": organiser() }))
        .await;
    let (status, problem) = api
        .post(
            &format!(
                "/v1/events/{}/publish",
                workshop["id"].as_str().expect("id")
            ),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&problem), ["venue"]);

    // The same explicit slug twice is a conflict naming the field; a derived one gets a suffix.
    let mut taken = webinar("Another");
    taken["slug"] = json!(event["slug"]);
    let (status, problem) = api.post("/v1/events", taken).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(fields(&problem), ["slug"]);
    let twin = api
        .created("/v1/events", webinar("Stakeholder workshop"))
        .await;
    assert_eq!(twin["slug"], "stakeholder-workshop-2");
}

#[tokio::test]
async fn bad_input_is_refused_naming_each_field_and_writes_nothing() {
    let api = Api::start().await;
    let (status, problem) = api
        .post(
            "/v1/events",
            json!({
                "kind": "webinar", "title": "Line\nbreak", "timezone": "Europe/Atlantis",
                "starts_at": "2027-02-10T09:00:00Z", "ends_at": "2027-02-10T08:00:00Z",
                "summary": "x".repeat(501), "online_url": "ftp://example.org",
                "organiser": { "name": "Office", "email": "not-an-email" },
            }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        problem["type"],
        "https://cloverleaf.dev/problems/validation"
    );
    assert_eq!(
        fields(&problem),
        [
            "title",
            "timezone",
            "summary",
            "online_url",
            "organiser.email"
        ]
    );
    let (_, problem) = api
        .post("/v1/events", json!({ "kind": "webinar", "title": "T", "timezone": "Europe/Berlin",
            "starts_at": "2027-02-10T09:00:00Z", "ends_at": "2027-02-10T08:00:00Z", "organiser": organiser() }))
        .await;
    assert_eq!(fields(&problem), ["ends_at"]);
    assert_eq!(problem["errors"][0]["code"], "ends_before_start");
    let (status, problem) = api.post("/v1/events", json!({ "title": 5 })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&problem), ["title"]);
    assert_eq!(
        api.get("/v1/events").await.1["items"],
        json!([]),
        "nothing was written"
    );

    let event = api.created("/v1/events", webinar("Valid")).await;
    let id = event["id"].as_str().expect("id");
    let items = format!("/v1/events/{id}/items");
    let (status, problem) = api
        .post(
            &items,
            json!({ "kind": "talk", "title": "Too early", "starts_at": "2027-02-10T07:00",
            "ends_at": "2027-02-10T09:30", "speakers": [uuid::Uuid::now_v7()] }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(fields(&problem), ["starts_at"]);
    let (_, problem) = api
        .post(&items, json!({ "kind": "talk", "title": "Unknown speaker", "starts_at": "2027-02-10T09:00",
            "ends_at": "2027-02-10T09:30", "speakers": [uuid::Uuid::now_v7()], "room_id": uuid::Uuid::now_v7() }))
        .await;
    assert_eq!(fields(&problem), ["speakers[0]", "room_id"]);
    let (_, problem) = api
        .post(
            &items,
            json!({ "kind": "seminar", "title": "T", "starts_at": "2027-02-10T09:00",
            "ends_at": "2027-02-10T09:30", "timezone": "Moon/Base" }),
        )
        .await;
    assert_eq!(fields(&problem), ["kind", "timezone"]);
    let (_, problem) = api
        .post(
            &items,
            json!({ "kind": "talk", "title": "T", "starts_at": "2027-02-10T09:00",
            "ends_at": "2027-02-10T09:30", "visit": { "institution": "X" } }),
        )
        .await;
    assert_eq!(fields(&problem), ["visit"]);
    assert_eq!(
        api.get(&items).await.1["items"],
        json!([]),
        "no item was written"
    );

    let (status, problem) = api
        .patch(
            &format!("/v1/events/{id}"),
            json!({ "timezone": "Nowhere/Else" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&problem), ["timezone"]);
    let (status, problem) = api
        .patch(&format!("/v1/events/{id}"), json!({ "colour": "red" }))
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown fields are named: {problem}"
    );
    let (status, _) = api.get("/v1/events/not-a-known-slug").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, problem) = api.get("/v1/events?kind=party&from=yesterday").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&problem), ["kind"]);
}

/// A Clover Leaf tour Berlin → Guangzhou → Nanjing with items in Europe/Berlin, Asia/Dubai (a stop-over) and
/// Asia/Shanghai: each shows at its local time and offset in JSON and in the `.ics`, which check-invite accepts.
#[tokio::test]
async fn a_tour_in_three_zones_shows_each_item_at_its_local_time() {
    let api = Api::start().await;
    let tour = api
        .created("/v1/events", json!({
            "kind": "tour", "title": "Clover Leaf delegation tour: Guangzhou and Nanjing", "timezone": "Europe/Berlin",
            "starts_at": "2027-05-10T08:00", "ends_at": "2027-05-16T20:00+08:00", "organiser": organiser(),
        }))
        .await;
    let id = tour["id"].as_str().expect("id");
    let items = format!("/v1/events/{id}/items");
    let host = api
        .created(
            "/v1/people",
            json!({ "name": "张伟", "affiliation": "Nanjing Medical University" }),
        )
        .await;
    let berlin = api
        .created(&items, json!({ "kind": "visit", "title": "Charité: genomics platform", "starts_at": "2027-05-10T09:30",
            "ends_at": "2027-05-10T12:00", "visit": { "institution": "Charité", "address": "Charitéplatz 1", "city": "Berlin" } }))
        .await;
    api.created(&items, json!({ "kind": "transfer", "title": "Flight BER → DXB", "starts_at": "2027-05-11T14:00",
        "ends_at": "2027-05-11T23:30+04:00", "transfer": { "from": "Berlin", "to": "Dubai", "carrier": "Emirates", "number": "EK 46" } }))
        .await;
    let dubai = api
        .created(&items, json!({ "kind": "transfer", "title": "Flight DXB → CAN", "timezone": "Asia/Dubai",
            "starts_at": "2027-05-12T03:00", "ends_at": "2027-05-12T14:40+08:00",
            "transfer": { "from": "Dubai", "to": "Guangzhou", "carrier": "Emirates", "number": "EK 362" } }))
        .await;
    api.created(&items, json!({ "kind": "visit", "title": "Sun Yat-sen University", "timezone": "Asia/Shanghai",
        "starts_at": "2027-05-13T09:00", "ends_at": "2027-05-13T12:00",
        "visit": { "institution": "Sun Yat-sen University", "address": "135 Xingang Xi Rd", "city": "Guangzhou" } }))
        .await;
    api.created(&items, json!({ "kind": "transfer", "title": "High-speed train to Nanjing", "timezone": "Asia/Shanghai",
        "starts_at": "2027-05-14T08:00", "ends_at": "2027-05-14T15:30",
        "transfer": { "from": "Guangzhou", "to": "Nanjing", "carrier": "China Railway", "number": "G1234" } }))
        .await;
    let nanjing = api
        .created(&items, json!({ "kind": "visit", "title": "Nanjing Medical University; biobank, clinics", "timezone": "Asia/Shanghai",
            "starts_at": "2027-05-15T09:30", "ends_at": "2027-05-15T12:00", "host": host["id"],
            "visit": { "institution": "Nanjing Medical University", "address": "101 Longmian Ave", "city": "Nanjing",
                       "contact": { "name": "Li Na", "email": "li.na@njmu.example.cn", "phone": "+86 25 0000 0000" } } }))
        .await;
    api.created(
        &items,
        json!({ "kind": "hotel", "title": "Hotel in Nanjing", "timezone": "Asia/Shanghai",
        "starts_at": "2027-05-14T16:00", "ends_at": "2027-05-16T11:00",
        "hotel": { "name": "Jinling Hotel", "address": "2 Hanzhong Rd", "city": "Nanjing" } }),
    )
    .await;

    assert_eq!(berlin["starts_at"], "2027-05-10T09:30:00+02:00");
    assert_eq!(berlin["timezone"], "Europe/Berlin");
    assert_eq!(berlin["own_timezone"], false);
    assert_eq!(dubai["starts_at"], "2027-05-12T03:00:00+04:00");
    assert_eq!(nanjing["starts_at"], "2027-05-15T09:30:00+08:00");
    assert_eq!(nanjing["host"]["name"], "张伟");
    let agenda = api.get_public(&items).await;
    assert_eq!(
        agenda.0,
        StatusCode::NOT_FOUND,
        "a draft tour's itinerary is not public"
    );
    let agenda = api.get(&items).await.1;
    let titles: Vec<_> = agenda["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["title"].as_str().expect("t"))
        .collect();
    assert_eq!(titles[0], "Charité: genomics platform");
    assert_eq!(
        agenda["items"][5]["hotel"]["check_in"],
        "2027-05-14T16:00:00+08:00"
    );
    assert_eq!(
        agenda["items"][5]["hotel"]["check_out"],
        "2027-05-16T11:00:00+08:00"
    );

    let published = api
        .ok(api
            .post(&format!("/v1/events/{id}/publish"), json!({}))
            .await)
        .await;
    assert_eq!(
        published["conflicts"],
        json!([]),
        "a coherent itinerary has no conflicts"
    );
    let ics = api.ics(&format!("/v1/events/{id}/calendar.ics")).await;
    assert!(ics.contains("METHOD:PUBLISH\r\n"), "{ics}");
    assert_eq!(ics.matches("BEGIN:VEVENT").count(), 7);
    for zone in ["Europe/Berlin", "Asia/Dubai", "Asia/Shanghai"] {
        assert!(
            ics.contains(&format!("BEGIN:VTIMEZONE\r\nTZID:{zone}\r\n")),
            "VTIMEZONE for {zone}: {ics}"
        );
    }
    assert!(
        ics.contains("DTSTART;TZID=Europe/Berlin:20270510T093000\r\n"),
        "{ics}"
    );
    assert!(
        ics.contains("DTSTART;TZID=Asia/Dubai:20270512T030000\r\n"),
        "{ics}"
    );
    assert!(
        ics.contains("DTSTART;TZID=Asia/Shanghai:20270515T093000\r\n"),
        "{ics}"
    );
    assert!(ics.contains("TZOFFSETTO:+0800"));
    assert!(ics.contains(&format!(
        "UID:{}@cloverleaf",
        nanjing["id"].as_str().expect("id")
    )));
    assert!(
        ics.contains("SUMMARY:Nanjing Medical University\\; biobank\\, clinics"),
        "escaped: {ics}"
    );
    assert!(
        ics.contains("DESCRIPTION:Host: 张伟 (Nanjing Medical University)"),
        "the host is named: {ics}"
    );
    checked(&ics, "tour");
}

/// On 28 March 2027 (the last Sunday of March) Europe/Berlin moves from +01:00 to +02:00 at 02:00 local.
/// A workshop item that morning shows at 09:00 +02:00, one the night before at 23:00 +01:00.
#[tokio::test]
async fn a_workshop_item_on_the_day_berlin_moves_to_summer_time() {
    let api = Api::start().await;
    let workshop = api
        .created("/v1/events", json!({
            "kind": "workshop", "title": "PerMed stakeholder workshop", "timezone": "Europe/Berlin",
            "starts_at": "2027-03-27T18:00", "ends_at": "2027-03-28T17:00",
            "venue": { "name": "Harnack-Haus", "address": "Ihnestraße 16-20", "city": "Berlin", "country": "DE" },
            "organiser": organiser(),
        }))
        .await;
    let id = workshop["id"].as_str().expect("id");
    let items = format!("/v1/events/{id}/items");
    let evening = api
        .created(&items, json!({ "kind": "meal", "title": "Dinner", "starts_at": "2027-03-27T23:00", "ends_at": "2027-03-28T01:00" }))
        .await;
    let morning = api
        .created(&items, json!({ "kind": "session", "title": "Opening session", "starts_at": "2027-03-28T09:00", "ends_at": "2027-03-28T10:30" }))
        .await;
    let (status, problem) = api
        .post(&items, json!({ "kind": "break", "title": "Skipped hour", "starts_at": "2027-03-28T02:30", "ends_at": "2027-03-28T03:30" }))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["code"], "nonexistent_local_time");
    assert_eq!(evening["starts_at"], "2027-03-27T23:00:00+01:00");
    assert_eq!(evening["ends_at"], "2027-03-28T01:00:00+01:00");
    assert_eq!(morning["starts_at"], "2027-03-28T09:00:00+02:00");

    api.ok(api
        .post(&format!("/v1/events/{id}/publish"), json!({}))
        .await)
        .await;
    let ics = api.ics(&format!("/v1/events/{id}/calendar.ics")).await;
    assert!(
        ics.contains("DTSTART;TZID=Europe/Berlin:20270328T090000\r\n"),
        "{ics}"
    );
    assert!(
        ics.contains("DTSTART;TZID=Europe/Berlin:20270327T230000\r\n"),
        "{ics}"
    );
    // The VTIMEZONE carries the switch (the EU rule since 1981), so calendars turn 09:00 local into 07:00 UTC; it is
    // the zone's one full definition, the same in every feed and invite.
    let tz = &ics
        [ics.find("BEGIN:VTIMEZONE").expect("vtimezone")..ics.find("END:VTIMEZONE").expect("end")];
    assert!(
        tz.contains(
            "BEGIN:DAYLIGHT\r\nDTSTART:19810329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200"
        ),
        "{tz}"
    );
    assert_eq!(
        format!("{tz}END:VTIMEZONE\r\n"),
        &*cloverleaf_calendar::vtimezone(chrono_tz::Europe::Berlin)
    );
    assert!(
        ics.contains("LOCATION:Harnack-Haus\\, Ihnestraße 16-20\\, Berlin\\, DE"),
        "{ics}"
    );
    checked(&ics, "workshop");
}

#[tokio::test]
async fn sequence_rises_once_per_change_calendars_show_and_history_records_each() {
    let api = Api::start().await;
    let event = api
        .created("/v1/events", webinar("Genomic data sharing"))
        .await;
    let id = event["id"].as_str().expect("id");
    let path = format!("/v1/events/{id}");
    // Before publishing nothing is recorded and the sequence stays.
    api.ok(api
        .patch(
            &path,
            json!({ "title": "Genomic data sharing in Europe and China" }),
        )
        .await)
        .await;
    assert_eq!(
        api.get(&format!("{path}/changes")).await.1["items"],
        json!([])
    );
    api.ok(api.post(&format!("{path}/publish"), json!({})).await)
        .await;

    let after = api
        .ok(api
            .patch(&path, json!({ "summary": "With speakers from both sides" }))
            .await)
        .await;
    assert_eq!(
        after["sequence"], 0,
        "a summary is not in the calendar entry"
    );
    let after = api
        .ok(api
            .patch(
                &path,
                json!({ "starts_at": "2027-02-10T10:00", "ends_at": "2027-02-10T11:30" }),
            )
            .await)
        .await;
    assert_eq!(after["sequence"], 1, "one change of two fields is one step");
    let after = api
        .ok(api
            .patch(
                &path,
                json!({ "title": "Data sharing", "online_url": "https://meet.example.org/new" }),
            )
            .await)
        .await;
    assert_eq!(after["sequence"], 2);
    let unchanged = api
        .ok(api.patch(&path, json!({ "title": "Data sharing" })).await)
        .await;
    assert_eq!(
        unchanged["sequence"], 2,
        "a patch that changes nothing is no change"
    );
    assert_eq!(unchanged["updated_at"], after["updated_at"]);
    let item = api
        .created(&format!("{path}/items"), json!({ "kind": "talk", "title": "Keynote", "starts_at": "2027-02-10T10:00", "ends_at": "2027-02-10T10:30" }))
        .await;
    let item_path = format!("{path}/items/{}", item["id"].as_str().expect("id"));
    assert_eq!(
        api.get(&path).await.1["sequence"],
        3,
        "adding an item changes the agenda calendars show"
    );
    let moved = api
        .ok(api
            .patch(
                &item_path,
                json!({ "starts_at": "2027-02-10T10:30", "ends_at": "2027-02-10T11:00" }),
            )
            .await)
        .await;
    assert_eq!(moved["sequence"], 1, "the item's own feed entry rose too");
    api.ok(api
        .patch(&item_path, json!({ "description": "Slides follow" }))
        .await)
        .await;
    assert_eq!(
        api.get(&path).await.1["sequence"],
        4,
        "a description is not shown in the calendar entry"
    );
    let cancelled = api
        .ok(api
            .post(
                &format!("{path}/cancel"),
                json!({ "reason": "Speaker ill" }),
            )
            .await)
        .await;
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["sequence"], 5);
    let (status, _) = api.patch(&path, json!({ "title": "Back" })).await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a cancelled event does not change"
    );
    let (status, _) = api.post(&format!("{path}/publish"), json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT);

    let history = api.get(&format!("{path}/changes")).await.1;
    let entries = history["items"].as_array().expect("items");
    let summary: Vec<_> = entries
        .iter()
        .map(|c| {
            (
                c["action"].as_str().expect("a"),
                c["sequence"].as_i64().expect("s"),
                c["calendar_visible"].as_bool().expect("v"),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("published", 0, false),
            ("updated", 0, false),
            ("updated", 1, true),
            ("updated", 2, true),
            ("item_added", 3, true),
            ("item_updated", 4, true),
            ("item_updated", 4, false),
            ("cancelled", 5, true)
        ]
    );
    let moved_entry = &entries[2];
    assert_eq!(moved_entry["changed_by"], "organiser@example.org");
    assert_eq!(moved_entry["changes"][0]["field"], "starts_at");
    assert_eq!(
        moved_entry["changes"][0]["before"],
        "2027-02-10T09:00:00+01:00"
    );
    assert_eq!(
        moved_entry["changes"][0]["after"],
        "2027-02-10T10:00:00+01:00"
    );
    assert!(moved_entry["changed_at"].as_str().is_some());
    let paged = api.get(&format!("{path}/changes?limit=3")).await.1;
    assert_eq!(paged["items"].as_array().expect("items").len(), 3);
    let rest = api
        .get(&format!(
            "{path}/changes?limit=10&cursor={}",
            paged["next_cursor"].as_str().expect("cursor")
        ))
        .await
        .1;
    assert_eq!(rest["items"].as_array().expect("items").len(), 5);
    assert_eq!(rest["next_cursor"], Value::Null);
}

/// Twelve organisers change one published event at the same moment. Each change must raise the sequence by one:
/// without the row lock two would read the same sequence and one raise would be lost, and a calendar would keep a
/// stale entry.
/// An event's own reminders: kept longest first, refused with the field named when out of range, repeated or too
/// many (nothing written), recorded in the history without raising the sequence (calendars do not show them), and
/// `null` goes back to the kind's defaults.
#[tokio::test]
async fn an_events_own_reminders_are_checked_kept_and_recorded() {
    let api = Api::start().await;
    let event = api.created("/v1/events", webinar("Reminded webinar")).await;
    let id = event["id"].as_str().expect("id");
    let path = format!("/v1/events/{id}");
    assert_eq!(
        event["reminder_minutes"],
        Value::Null,
        "the kind's defaults"
    );
    api.ok(api.post(&format!("{path}/publish"), json!({})).await)
        .await;
    let after = api
        .ok(api
            .patch(&path, json!({ "reminder_minutes": [15, 2880, 60] }))
            .await)
        .await;
    assert_eq!(after["reminder_minutes"], json!([2880, 60, 15]));
    assert_eq!(
        after["sequence"], 0,
        "reminders are not in the calendar entry"
    );
    for (wrong, code) in [
        (json!([0]), "out_of_range"),
        (json!([86401]), "out_of_range"),
        (json!([-5]), "out_of_range"),
        (json!([15, 15]), "duplicate"),
        (json!([1, 2, 3, 4, 5, 6]), "too_many"),
    ] {
        let (status, problem) = api.patch(&path, json!({ "reminder_minutes": wrong })).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{wrong}: {problem}"
        );
        assert_eq!(fields(&problem), ["reminder_minutes"], "{problem}");
        assert_eq!(problem["errors"][0]["code"], code, "{wrong}");
    }
    let (status, problem) = api
        .patch(&path, json!({ "reminder_minutes": ["soon"] }))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let kept = api.ok(api.get(&path).await).await;
    assert_eq!(
        kept["reminder_minutes"],
        json!([2880, 60, 15]),
        "nothing written"
    );
    let none = api
        .ok(api.patch(&path, json!({ "reminder_minutes": [] })).await)
        .await;
    assert_eq!(none["reminder_minutes"], json!([]), "no reminders at all");
    let back = api
        .ok(api.patch(&path, json!({ "reminder_minutes": null })).await)
        .await;
    assert_eq!(back["reminder_minutes"], Value::Null);
    let history = api.ok(api.get(&format!("{path}/changes")).await).await;
    let changed: Vec<&Value> = history["items"]
        .as_array()
        .expect("items")
        .iter()
        .flat_map(|c| c["changes"].as_array().into_iter().flatten())
        .filter(|c| c["field"] == "reminder_minutes")
        .collect();
    assert_eq!(changed.len(), 3, "{history}");
}

#[tokio::test]
async fn concurrent_changes_each_raise_the_sequence_exactly_once() {
    let api = Api::start().await;
    let event = api.created("/v1/events", webinar("Busy")).await;
    let path = format!("/v1/events/{}", event["id"].as_str().expect("id"));
    api.ok(api.post(&format!("{path}/publish"), json!({})).await)
        .await;
    let changes = (0..12).map(|n| {
        let request = api
            .app
            .http
            .patch(api.app.url(&path))
            .bearer_auth(&api.token)
            .json(&json!({ "title": format!("Busy {n}") }));
        async move { request.send().await.expect("patch").status() }
    });
    let statuses = futures::future::join_all(changes).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    assert_eq!(api.get(&path).await.1["sequence"], 12);
    let history = api.get(&format!("{path}/changes")).await.1;
    let sequences: Vec<_> = history["items"]
        .as_array()
        .expect("items")
        .iter()
        .skip(1)
        .map(|c| c["sequence"].as_i64().expect("s"))
        .collect();
    assert_eq!(sequences, (1..=12).collect::<Vec<_>>());
}

#[tokio::test]
async fn conflicts_are_reported_naming_their_items_and_publishing_lists_them() {
    let api = Api::start().await;
    let venue = api
        .created("/v1/venues", json!({ "name": "Certosa di Pontignano", "city": "Siena", "country": "IT", "timezone": "Europe/Rome",
            "rooms": [{ "name": "Sala Capitolo", "capacity": 80 }, { "name": "Refettorio", "capacity": 40 }] }))
        .await;
    let (status, problem) = api
        .post(
            "/v1/venues",
            json!({ "name": "Bad", "rooms": [{ "name": "", "capacity": 0 }] }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&problem), ["rooms[0].name", "rooms[0].capacity"]);
    let room = venue["rooms"][0]["id"].clone();
    let speaker = api
        .created(
            "/v1/people",
            json!({ "name": "Dr. Marie Dubois", "affiliation": "INSERM" }),
        )
        .await;
    let workshop = api
        .created("/v1/events", json!({ "kind": "workshop", "title": "Siena workshop", "timezone": "Europe/Rome",
            "starts_at": "2027-04-20T09:00", "ends_at": "2027-04-21T17:00", "organiser": organiser(),
            "venue": { "id": venue["id"], "name": "Certosa di Pontignano", "city": "Siena" } }))
        .await;
    let wid = workshop["id"].as_str().expect("id");
    let items = format!("/v1/events/{wid}/items");
    let a = api.created(&items, json!({ "kind": "talk", "title": "Biobanks", "starts_at": "2027-04-20T10:00", "ends_at": "2027-04-20T11:00",
        "room_id": room, "speakers": [speaker["id"]] })).await;
    let b = api.created(&items, json!({ "kind": "panel", "title": "Regulation", "starts_at": "2027-04-20T10:30", "ends_at": "2027-04-20T11:30",
        "room_id": room })).await;
    // The same speaker in a webinar at the same time: across events.
    let other = api.created("/v1/events", json!({ "kind": "webinar", "title": "Parallel webinar", "timezone": "Europe/Paris",
        "starts_at": "2027-04-20T09:00", "ends_at": "2027-04-20T12:00", "online_url": "https://meet.example.org/p", "organiser": organiser() })).await;
    let c = api.created(&format!("/v1/events/{}/items", other["id"].as_str().expect("id")), json!({ "kind": "talk", "title": "Remote talk",
        "starts_at": "2027-04-20T10:45", "ends_at": "2027-04-20T11:15", "speakers": [speaker["id"]] })).await;

    let conflicts = api.get(&format!("/v1/events/{wid}/conflicts")).await.1["items"].clone();
    let found: Vec<(String, Vec<String>)> = conflicts
        .as_array()
        .expect("conflicts")
        .iter()
        .map(|c| {
            (
                c["kind"].as_str().expect("k").to_owned(),
                c["items"]
                    .as_array()
                    .expect("i")
                    .iter()
                    .map(|i| i["id"].as_str().expect("id").to_owned())
                    .collect(),
            )
        })
        .collect();
    let id = |v: &Value| v["id"].as_str().expect("id").to_owned();
    assert_eq!(
        found,
        [
            ("room_double_booked".to_owned(), vec![id(&a), id(&b)]),
            ("person_double_booked".to_owned(), vec![id(&a), id(&c)])
        ]
    );
    assert_eq!(conflicts[0]["room"]["name"], "Sala Capitolo");
    assert_eq!(conflicts[1]["person"]["name"], "Dr. Marie Dubois");
    assert_eq!(conflicts[1]["items"][1]["event_id"], other["id"]);

    // Shrinking the event leaves an item outside it.
    api.ok(api
        .patch(
            &format!("/v1/events/{wid}"),
            json!({ "starts_at": "2027-04-20T10:15" }),
        )
        .await)
        .await;
    let published = api
        .ok(api
            .post(&format!("/v1/events/{wid}/publish"), json!({}))
            .await)
        .await;
    let kinds: Vec<_> = published["conflicts"]
        .as_array()
        .expect("c")
        .iter()
        .map(|c| c["kind"].as_str().expect("k"))
        .collect();
    assert_eq!(
        kinds,
        [
            "outside_event",
            "room_double_booked",
            "person_double_booked"
        ],
        "published with its conflicts listed"
    );

    // A tour whose visit in Nanjing starts before the train arrives, and overlaps it.
    let tour = api
        .created(
            "/v1/events",
            json!({ "kind": "tour", "title": "Tour", "timezone": "Asia/Shanghai",
        "starts_at": "2027-05-12T08:00", "ends_at": "2027-05-16T20:00", "organiser": organiser() }),
        )
        .await;
    let titems = format!("/v1/events/{}/items", tour["id"].as_str().expect("id"));
    let train = api.created(&titems, json!({ "kind": "transfer", "title": "Train", "starts_at": "2027-05-14T08:00", "ends_at": "2027-05-14T15:30",
        "transfer": { "from": "Guangzhou", "to": "Nanjing" } })).await;
    let visit = api.created(&titems, json!({ "kind": "visit", "title": "NJMU", "starts_at": "2027-05-14T14:00", "ends_at": "2027-05-14T17:00",
        "visit": { "institution": "NJMU", "address": "101 Longmian Ave", "city": "Nanjing" } })).await;
    let conflicts = api
        .get(&format!(
            "/v1/events/{}/conflicts",
            tour["id"].as_str().expect("id")
        ))
        .await
        .1["items"]
        .clone();
    let found: Vec<(String, Vec<String>)> = conflicts
        .as_array()
        .expect("conflicts")
        .iter()
        .map(|c| {
            (
                c["kind"].as_str().expect("k").to_owned(),
                c["items"]
                    .as_array()
                    .expect("i")
                    .iter()
                    .map(|i| i["id"].as_str().expect("id").to_owned())
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                "transfer_during_visit".to_owned(),
                vec![id(&visit), id(&train)]
            ),
            (
                "visit_before_arrival".to_owned(),
                vec![id(&visit), id(&train)]
            )
        ]
    );
    assert!(
        conflicts[1]["message"]
            .as_str()
            .expect("m")
            .contains("Nanjing")
    );
}

#[tokio::test]
async fn lists_filter_by_kind_status_and_dates_and_page_with_cursors() {
    let api = Api::start().await;
    for (n, kind) in ["webinar", "workshop", "tour", "webinar", "webinar"]
        .iter()
        .enumerate()
    {
        let mut body = webinar(&format!("Event {n}"));
        body["kind"] = json!(kind);
        body["venue"] = json!({ "name": "Venue" });
        body["starts_at"] = json!(format!("2027-0{}-10T09:00:00+01:00", n + 1));
        body["ends_at"] = json!(format!("2027-0{}-10T10:00:00+01:00", n + 1));
        let event = api.created("/v1/events", body).await;
        if n != 4 {
            api.ok(api
                .post(
                    &format!("/v1/events/{}/publish", event["id"].as_str().expect("id")),
                    json!({}),
                )
                .await)
                .await;
        }
    }
    let mut past = webinar("Last year's webinar");
    past["starts_at"] = json!("2025-01-10T09:00:00+01:00");
    past["ends_at"] = json!("2025-01-10T10:00:00+01:00");
    let past = api.created("/v1/events", past).await;
    api.ok(api
        .post(
            &format!("/v1/events/{}/publish", past["id"].as_str().expect("id")),
            json!({}),
        )
        .await)
        .await;

    let titles = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|e| e["title"].as_str().expect("t").to_owned())
            .collect()
    };
    let mut seen = Vec::new();
    let mut next = Some("/v1/events?limit=2".to_owned());
    while let Some(path) = next.take() {
        let page = api.get_public(&path).await.1;
        seen.extend(titles(&page));
        if let Some(cursor) = page["next_cursor"].as_str() {
            next = Some(format!("/v1/events?limit=2&cursor={cursor}"));
        }
    }
    assert_eq!(
        seen,
        [
            "Last year's webinar",
            "Event 0",
            "Event 1",
            "Event 2",
            "Event 3"
        ],
        "public: published only, by start"
    );
    assert_eq!(
        titles(&api.get("/v1/events?status=draft").await.1),
        ["Event 4"]
    );
    assert_eq!(
        titles(&api.get_public("/v1/events?status=draft").await.1),
        Vec::<String>::new()
    );
    assert_eq!(
        titles(&api.get_public("/v1/events?kind=webinar").await.1),
        ["Last year's webinar", "Event 0", "Event 3"]
    );
    let completed = api.get_public("/v1/events?status=completed").await.1;
    assert_eq!(titles(&completed), ["Last year's webinar"]);
    assert_eq!(completed["items"][0]["status"], "completed");
    assert_eq!(
        titles(
            &api.get_public("/v1/events?from=2027-02-01T00:00:00Z&to=2027-04-01T00:00:00Z")
                .await
                .1
        ),
        ["Event 1", "Event 2"]
    );
    let (status, problem) = api.get_public("/v1/events?limit=0").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&problem), ["limit"]);
    let (_, problem) = api.get_public("/v1/events?cursor=garbage").await;
    assert_eq!(fields(&problem), ["cursor"]);
}

#[tokio::test]
async fn feeds_answer_304_to_calendars_that_poll_and_pass_check_invite() {
    let api = Api::start().await;
    let event = api
        .created(
            "/v1/events",
            webinar("研讨会: 中欧个性化医学合作 — Données de santé"),
        )
        .await;
    let id = event["id"].as_str().expect("id");
    let (status, _) = api
        .get_public(&format!("/v1/events/{id}/calendar.ics"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no feed for a draft");
    api.ok(api
        .post(&format!("/v1/events/{id}/publish"), json!({}))
        .await)
        .await;
    let feed = format!("/v1/events/{id}/calendar.ics");
    let first = api
        .app
        .http
        .get(api.app.url(&feed))
        .send()
        .await
        .expect("feed");
    let etag = first.headers()["etag"].clone();
    let last_modified = first.headers()["last-modified"].clone();
    let ics = first.text().await.expect("text");
    assert_eq!(
        ics.matches("BEGIN:VEVENT").count(),
        1,
        "an event without agenda is one entry"
    );
    assert!(ics.contains(&format!("UID:{id}@cloverleaf")));
    assert!(
        ics.contains("ORGANIZER;CN=\"Sino-EU PerMed Office\":mailto:office@permed.example.org"),
        "{ics}"
    );
    checked(&ics, "event");

    let again = api
        .app
        .http
        .get(api.app.url(&feed))
        .header("if-none-match", etag.clone())
        .send()
        .await
        .expect("304");
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert!(again.text().await.expect("empty").is_empty());
    let since = api
        .app
        .http
        .get(api.app.url(&feed))
        .header("if-modified-since", last_modified)
        .send()
        .await
        .expect("304");
    assert_eq!(since.status(), StatusCode::NOT_MODIFIED);

    api.ok(api
        .patch(
            &format!("/v1/events/{id}"),
            json!({ "starts_at": "2027-02-10T11:00", "ends_at": "2027-02-10T12:00" }),
        )
        .await)
        .await;
    let changed = api
        .app
        .http
        .get(api.app.url(&feed))
        .header("if-none-match", etag.clone())
        .send()
        .await
        .expect("200");
    assert_eq!(changed.status(), StatusCode::OK);
    assert_ne!(changed.headers()["etag"], etag);
    let ics = changed.text().await.expect("text");
    assert!(ics.contains("SEQUENCE:1\r\n"), "{ics}");
    assert!(
        ics.contains("DTSTART;TZID=Europe/Brussels:20270210T110000\r\n"),
        "{ics}"
    );

    // The feed of every published event, by kind.
    let mut tour = webinar("A tour");
    tour["kind"] = json!("tour");
    let tour = api.created("/v1/events", tour).await;
    api.ok(api
        .post(
            &format!("/v1/events/{}/publish", tour["id"].as_str().expect("id")),
            json!({}),
        )
        .await)
        .await;
    api.created("/v1/events", webinar("Draft webinar")).await;
    let all = api.ics("/v1/events.ics").await;
    assert_eq!(
        all.matches("BEGIN:VEVENT").count(),
        2,
        "drafts are not in the feed: {all}"
    );
    let tours = api.ics("/v1/events.ics?kind=tour").await;
    assert_eq!(tours.matches("BEGIN:VEVENT").count(), 1);
    assert!(tours.contains("SUMMARY:A tour"));
    api.ok(api
        .post(&format!("/v1/events/{id}/cancel"), json!({}))
        .await)
        .await;
    let all = api.ics("/v1/events.ics").await;
    assert!(
        all.contains("STATUS:CANCELLED"),
        "a cancelled event stays so calendars drop it: {all}"
    );
    checked(&all, "all");
}
