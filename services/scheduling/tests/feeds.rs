//! The `.ics` feeds' versions, on SQLite (or PostgreSQL when CLOVERLEAF_TEST_DATABASE_URL is set): the ETag follows
//! every change that shows in a feed (items added, edited, removed; people renamed; the event edited, published or
//! cancelled) and nothing else, a stale ETag gets the new body, and a kept body is served while nothing changed.

use cloverleaf_scheduling::build;
use cloverleaf_service_kit::config::ServiceName;
use cloverleaf_service_kit::testing::{TestApp, check_invite};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

struct Api {
    app: TestApp,
    token: String,
}

/// A feed as last seen: its ETag and body.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    etag: String,
    body: String,
}

impl Api {
    async fn start() -> Self {
        let app = TestApp::spawn(ServiceName::Scheduling, build).await;
        let token = app.organiser_token();
        Self { app, token }
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Value) -> (StatusCode, Value) {
        let response = self
            .app
            .http
            .request(method, self.app.url(path))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .expect("request");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn expect(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
        want: StatusCode,
    ) -> Value {
        let (status, value) = self.send(method, path, body).await;
        assert_eq!(status, want, "{path}: {value}");
        value
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.expect(reqwest::Method::POST, path, body, StatusCode::CREATED)
            .await
    }

    async fn action(&self, path: &str) -> Value {
        self.expect(reqwest::Method::POST, path, json!({}), StatusCode::OK)
            .await
    }

    async fn patch(&self, path: &str, body: Value) -> Value {
        self.expect(reqwest::Method::PATCH, path, body, StatusCode::OK)
            .await
    }

    /// GET a feed, publicly, with `If-None-Match` when given: the status, the ETag and the body.
    async fn feed(&self, path: &str, if_none_match: Option<&str>) -> (StatusCode, String, String) {
        let mut request = self.app.http.get(self.app.url(path));
        if let Some(etag) = if_none_match {
            request = request.header("if-none-match", etag);
        }
        let response = request.send().await.expect("feed");
        let status = response.status();
        let etag = response.headers()["etag"]
            .to_str()
            .expect("etag")
            .to_owned();
        assert!(etag.starts_with('"'), "a strong ETag: {etag}");
        if status == StatusCode::OK {
            assert_eq!(
                response.headers()["content-type"],
                "text/calendar; charset=utf-8"
            );
            assert!(response.headers().contains_key("last-modified"));
        }
        (status, etag, response.text().await.expect("body"))
    }

    /// The feed, twice: the same ETag and byte-identical body both times; and its ETag then gets 304.
    async fn current(&self, path: &str) -> Seen {
        let (status, etag, body) = self.feed(path, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, again, same) = self.feed(path, None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(again, etag, "the same data has the same ETag");
        assert_eq!(same, body, "the same data has the same body");
        self.unchanged(
            path,
            &Seen {
                etag: etag.clone(),
                body: body.clone(),
            },
        )
        .await;
        Seen { etag, body }
    }

    /// Nothing shown changed: the ETag still gets 304, without a body.
    async fn unchanged(&self, path: &str, seen: &Seen) {
        let (status, etag, body) = self.feed(path, Some(&seen.etag)).await;
        assert_eq!(status, StatusCode::NOT_MODIFIED, "{path}: {body}");
        assert_eq!(etag, seen.etag);
        assert!(body.is_empty());
    }

    /// Something shown changed: the old ETag gets 200 with a new body and a new ETag, which then gets 304.
    async fn changed(&self, path: &str, before: &Seen, why: &str) -> Seen {
        let (status, etag, body) = self.feed(path, Some(&before.etag)).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{why}: the old ETag gets the new body"
        );
        assert_ne!(etag, before.etag, "{why}: a new ETag");
        assert_ne!(body, before.body, "{why}: a new body");
        let now = self.current(path).await;
        assert_eq!(now.etag, etag, "{why}");
        assert_eq!(now.body, body, "{why}");
        now
    }
}

fn webinar(title: &str) -> Value {
    json!({
        "kind": "webinar", "title": title, "timezone": "Europe/Brussels",
        "starts_at": "2027-02-10T09:00", "ends_at": "2027-02-10T12:30",
        "online_url": "https://meet.example.org/permed",
        "organiser": { "name": "Sino-EU PerMed Office", "email": "office@permed.example.org" },
    })
}

fn checked(ics: &str, name: &str) {
    let dir = std::env::temp_dir().join(format!("cloverleaf-ics-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join(format!("{name}.ics"));
    std::fs::write(&path, ics).expect("write");
    check_invite(std::slice::from_ref(&path), false);
}

fn id(value: &Value) -> &str {
    value["id"].as_str().expect("id")
}

#[tokio::test]
async fn an_agenda_feeds_etag_and_body_follow_every_change_it_shows() {
    let api = Api::start().await;
    let event = api.post("/v1/events", webinar("Data in oncology")).await;
    let event_id = id(&event);
    api.action(&format!("/v1/events/{event_id}/publish")).await;
    let speaker = api
        .post(
            "/v1/people",
            json!({ "name": "Ada Lovelace", "affiliation": "Analytical Society" }),
        )
        .await;
    let host = api
        .post("/v1/people", json!({ "name": "Grace Hopper" }))
        .await;
    let items = format!("/v1/events/{event_id}/items");
    let talk = api
        .post(
            &items,
            json!({ "kind": "talk", "title": "Opening", "starts_at": "2027-02-10T09:00",
            "ends_at": "2027-02-10T09:30", "speakers": [speaker["id"]] }),
        )
        .await;
    let feed = format!("/v1/events/{event_id}/calendar.ics");
    let seen = api.current(&feed).await;
    assert!(seen.body.contains("SUMMARY:Opening\r\n"), "{}", seen.body);
    assert!(
        seen.body
            .contains("Speakers: Ada Lovelace (Analytical Society)")
    );
    // The same feed by slug is the same feed.
    let slug = event["slug"].as_str().expect("slug");
    let (status, etag, body) = api
        .feed(&format!("/v1/events/{slug}/calendar.ics"), None)
        .await;
    assert_eq!(
        (status, &etag, &body),
        (StatusCode::OK, &seen.etag, &seen.body)
    );

    // (a) An item is added.
    let panel = api
        .post(
            &items,
            json!({ "kind": "panel", "title": "Panel", "starts_at": "2027-02-10T10:00",
            "ends_at": "2027-02-10T11:00", "host": host["id"] }),
        )
        .await;
    let seen = api.changed(&feed, &seen, "item added").await;
    assert!(seen.body.contains("SUMMARY:Panel\r\n"), "{}", seen.body);
    assert!(seen.body.contains("Host: Grace Hopper"), "{}", seen.body);

    // (b) An item is edited.
    api.patch(
        &format!("{items}/{}", id(&talk)),
        json!({ "title": "Opening keynote" }),
    )
    .await;
    let seen = api.changed(&feed, &seen, "item edited").await;
    assert!(
        seen.body.contains("SUMMARY:Opening keynote\r\n"),
        "{}",
        seen.body
    );

    // (d) A speaker and a host are renamed: nothing of the event or its items changes, only the people.
    api.patch(
        &format!("/v1/people/{}", id(&speaker)),
        json!({ "name": "Ada King", "affiliation": "Analytical Society" }),
    )
    .await;
    let seen = api.changed(&feed, &seen, "speaker renamed").await;
    assert!(
        seen.body
            .contains("Speakers: Ada King (Analytical Society)"),
        "{}",
        seen.body
    );
    api.patch(
        &format!("/v1/people/{}", id(&host)),
        json!({ "name": "Grace Brewster Hopper" }),
    )
    .await;
    let seen = api.changed(&feed, &seen, "host renamed").await;
    assert!(
        seen.body.contains("Host: Grace Brewster Hopper"),
        "{}",
        seen.body
    );
    // Someone the agenda does not name is renamed: no change.
    let stranger = api
        .post("/v1/people", json!({ "name": "Alan Turing" }))
        .await;
    api.patch(
        &format!("/v1/people/{}", id(&stranger)),
        json!({ "name": "A. M. Turing" }),
    )
    .await;
    api.unchanged(&feed, &seen).await;

    // (c) An item is removed.
    api.expect(
        reqwest::Method::DELETE,
        &format!("{items}/{}", id(&panel)),
        Value::Null,
        StatusCode::NO_CONTENT,
    )
    .await;
    let seen = api.changed(&feed, &seen, "item removed").await;
    assert!(!seen.body.contains("SUMMARY:Panel\r\n"), "{}", seen.body);

    // (e) The event is edited.
    api.patch(
        &format!("/v1/events/{event_id}"),
        json!({ "online_url": "https://meet.example.org/permed-live" }),
    )
    .await;
    let seen = api.changed(&feed, &seen, "event edited").await;
    assert!(
        seen.body
            .contains("URL:https://meet.example.org/permed-live\r\n"),
        "{}",
        seen.body
    );
    checked(&seen.body, "agenda");

    // Other events' changes leave this feed alone.
    let other = api.post("/v1/events", webinar("Another")).await;
    api.action(&format!("/v1/events/{}/publish", id(&other)))
        .await;
    api.post(&format!("/v1/events/{}/items", id(&other)), json!({ "kind": "talk", "title": "Elsewhere",
        "starts_at": "2027-02-10T09:00", "ends_at": "2027-02-10T09:30", "speakers": [speaker["id"]] }))
        .await;
    api.unchanged(&feed, &seen).await;

    // Cancelling shows too.
    api.action(&format!("/v1/events/{event_id}/cancel")).await;
    let seen = api.changed(&feed, &seen, "event cancelled").await;
    assert!(seen.body.contains("STATUS:CANCELLED\r\n"), "{}", seen.body);
}

/// The stamp does not lean on the event row: an item that disappears or changes without the event's row being
/// touched (here by hand in the database) still changes the feed.
#[tokio::test]
async fn the_agenda_stamp_counts_and_dates_the_items_themselves() {
    let api = Api::start().await;
    let event = api.post("/v1/events", webinar("Hand-edited")).await;
    let event_id = id(&event);
    let items = format!("/v1/events/{event_id}/items");
    for (title, starts, ends) in [
        ("First", "2027-02-10T09:00", "2027-02-10T09:30"),
        ("Second", "2027-02-10T10:00", "2027-02-10T10:30"),
    ] {
        api.post(
            &items,
            json!({ "kind": "talk", "title": title, "starts_at": starts, "ends_at": ends }),
        )
        .await;
    }
    api.action(&format!("/v1/events/{event_id}/publish")).await;
    let feed = format!("/v1/events/{event_id}/calendar.ics");
    let seen = api.current(&feed).await;

    let db = cloverleaf_service_kit::db::connect(api.app.database.url(), 1)
        .await
        .expect("db");
    let backend = db.get_database_backend();
    db.execute_raw(Statement::from_string(
        backend,
        "DELETE FROM agenda_items WHERE title = 'First'",
    ))
    .await
    .expect("delete");
    let seen = api.changed(&feed, &seen, "an item deleted by hand").await;
    assert!(!seen.body.contains("SUMMARY:First\r\n"), "{}", seen.body);

    db.execute_raw(Statement::from_sql_and_values(
        backend,
        "UPDATE agenda_items SET title = 'Second, retitled', updated_at = $1 WHERE title = 'Second'",
        [chrono::Utc::now().into()],
    ))
    .await
    .expect("update");
    let seen = api.changed(&feed, &seen, "an item changed by hand").await;
    assert!(
        seen.body.contains("SUMMARY:Second\\, retitled\r\n"),
        "{}",
        seen.body
    );
}

#[tokio::test]
async fn a_draft_agenda_is_served_to_organisers_only_even_when_kept() {
    let api = Api::start().await;
    let event = api.post("/v1/events", webinar("Still a draft")).await;
    let feed = format!("/v1/events/{}/calendar.ics", id(&event));
    let organiser = || api.app.http.get(api.app.url(&feed)).bearer_auth(&api.token);
    let first = organiser().send().await.expect("feed");
    assert_eq!(first.status(), StatusCode::OK);
    let etag = first.headers()["etag"].clone();
    let body = first.text().await.expect("body");
    assert!(body.contains("STATUS:TENTATIVE\r\n"), "{body}");
    let again = organiser().send().await.expect("feed");
    assert_eq!(again.text().await.expect("body"), body);

    // The body is kept now, but the public still sees no such feed, with or without its ETag.
    let status = api
        .app
        .http
        .get(api.app.url(&feed))
        .send()
        .await
        .expect("feed")
        .status();
    assert_eq!(status, StatusCode::NOT_FOUND);
    let status = api
        .app
        .http
        .get(api.app.url(&feed))
        .header("if-none-match", etag)
        .send()
        .await
        .expect("feed")
        .status();
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_events_feeds_etag_follows_publishing_and_cancelling() {
    let api = Api::start().await;
    let all = "/v1/events.ics";
    let tours = "/v1/events.ics?kind=tour";
    let seen = api.current(all).await;
    let seen_tours = api.current(tours).await;
    assert_ne!(seen.etag, seen_tours.etag, "two feeds, two ETags");

    // A draft is not in the feed.
    let event = api.post("/v1/events", webinar("Webinar")).await;
    let event_id = id(&event);
    api.unchanged(all, &seen).await;

    let seen = {
        api.action(&format!("/v1/events/{event_id}/publish")).await;
        api.changed(all, &seen, "event published").await
    };
    assert!(seen.body.contains("SUMMARY:Webinar\r\n"), "{}", seen.body);
    api.unchanged(tours, &seen_tours).await;

    api.patch(
        &format!("/v1/events/{event_id}"),
        json!({ "title": "Webinar, renamed" }),
    )
    .await;
    let seen = api.changed(all, &seen, "event edited").await;
    assert!(
        seen.body.contains("SUMMARY:Webinar\\, renamed\r\n"),
        "{}",
        seen.body
    );

    api.action(&format!("/v1/events/{event_id}/cancel")).await;
    let seen = api.changed(all, &seen, "event cancelled").await;
    assert!(seen.body.contains("STATUS:CANCELLED\r\n"), "{}", seen.body);
    api.unchanged(tours, &seen_tours).await;
    checked(&seen.body, "all");
}

/// Replicas on one database give a feed the same ETag and body: the version comes from the data, not the process.
#[tokio::test]
async fn replicas_agree_on_a_feeds_etag() {
    let api = Api::start().await;
    let url = api.app.database.url().clone();
    let replica = TestApp::spawn_with(
        ServiceName::Scheduling,
        |settings| settings.service_mut(ServiceName::Scheduling).database_url = url,
        build,
    )
    .await;
    let event = api.post("/v1/events", webinar("Replicated")).await;
    let event_id = id(&event);
    api.post(
        &format!("/v1/events/{event_id}/items"),
        json!({ "kind": "talk", "title": "Talk",
        "starts_at": "2027-02-10T09:00", "ends_at": "2027-02-10T09:30" }),
    )
    .await;
    api.action(&format!("/v1/events/{event_id}/publish")).await;
    for path in [
        format!("/v1/events/{event_id}/calendar.ics"),
        "/v1/events.ics".to_owned(),
    ] {
        let seen = api.current(&path).await;
        let response = replica
            .http
            .get(replica.url(&path))
            .header("if-none-match", &seen.etag)
            .send()
            .await
            .expect("replica");
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED, "{path}");
        let response = replica
            .http
            .get(replica.url(&path))
            .send()
            .await
            .expect("replica");
        assert_eq!(
            response.headers()["etag"].to_str().expect("etag"),
            seen.etag
        );
        assert_eq!(response.text().await.expect("body"), seen.body);
    }
}
