//! The journeys of people using Cloverleaf, across real HTTP through the edge, with the three services each on its own
//! database and a real SMTP server: a popular webinar, a workshop with selection, a Clover Leaf tour across time
//! zones, and the faults a deployment meets. Every invite of every journey passes `check-invite --series` per
//! attendee. On SQLite, or on PostgreSQL with CLOVERLEAF_TEST_DATABASE_URL.

use std::collections::HashMap;
use std::time::Duration;

use chrono::Duration as Span;
use cloverleaf_e2e::Journey;
use cloverleaf_e2e::journey::{Mail, check_every_invite};
use cloverleaf_service_kit::clock::Clock;
use cloverleaf_service_kit::config::ServiceName;
use futures::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const MAIL_WAIT: Duration = Duration::from_secs(120);

fn organiser() -> Value {
    json!({ "name": "PerMed Office", "email": "office@permed.example.org" })
}

/// Creates an event (and its form), publishes it; returns its id.
async fn published(journey: &Journey, mut event: Value, form: Value) -> String {
    event["organiser"] = organiser();
    let created = journey.organise(Method::POST, "/v1/events", event).await;
    let id = created["id"].as_str().expect("id").to_owned();
    journey
        .organise(Method::PUT, &format!("/v1/forms/{id}"), form)
        .await;
    journey
        .organise(Method::POST, &format!("/v1/events/{id}/publish"), json!({}))
        .await;
    id
}

/// Registers everyone at once (64 at a time); the answers in the same order.
async fn register_all(journey: &Journey, event: &str, people: &[Value]) -> Vec<Value> {
    futures::stream::iter(people.iter().map(|person| {
        let mut body = person.clone();
        body["event_id"] = json!(event);
        body["consent"] = json!(true);
        async move {
            let (status, answer) = journey
                .call(Method::POST, "/v1/registrations", Some(body), None)
                .await;
            assert_eq!(status, StatusCode::CREATED, "{answer}");
            answer
        }
    }))
    .buffered(64)
    .collect()
    .await
}

fn by_recipient(mail: &[Mail]) -> HashMap<String, Vec<&Mail>> {
    let mut map: HashMap<String, Vec<&Mail>> = HashMap::new();
    for m in mail {
        map.entry(m.to.clone()).or_default().push(m);
    }
    map
}

/// 300 register at once for 250 seats: 250 invites, 50 waiting-list emails with their positions. Ten cancel: the
/// first ten waiting are promoted and invited, the ten get a CANCEL. The webinar moves by an hour: 250 updated
/// invites with a higher SEQUENCE. The reminders go out at 24 h and 15 min before the new start, once each.
#[tokio::test]
async fn webinar_300_people_250_seats_cancellations_a_move_and_reminders() {
    let journey = Journey::start().await;
    let starts = journey.clock.now() + Span::days(10);
    let event = published(
        &journey,
        json!({ "kind": "webinar", "title": "Science & technology webinar: AI in personalised medicine",
                "timezone": "Europe/Berlin", "starts_at": starts.to_rfc3339(),
                "ends_at": (starts + Span::hours(2)).to_rfc3339(), "online_url": "https://meet.example.org/ai-permed" }),
        json!({ "capacity": 250, "waitlist": true, "approval": "automatic" }),
    )
    .await;
    let people: Vec<Value> = (0..300)
        .map(|i| {
            let (locale, zone) = if i % 3 == 0 { ("zh-CN", "Asia/Shanghai") } else { ("en", "Europe/Paris") };
            json!({ "email": format!("w{i:03}@example.org"), "name": format!("Participant {i}"), "locale": locale, "timezone": zone })
        })
        .collect();
    let answers = register_all(&journey, &event, &people).await;
    let confirmed: Vec<&Value> = answers
        .iter()
        .filter(|a| a["status"] == "confirmed")
        .collect();
    let mut waiting: Vec<&Value> = answers
        .iter()
        .filter(|a| a["status"] == "waitlisted")
        .collect();
    assert_eq!((confirmed.len(), waiting.len()), (250, 50));
    waiting.sort_by_key(|a| a["waitlist_position"].as_i64().expect("position"));
    let positions: Vec<i64> = waiting
        .iter()
        .map(|a| a["waitlist_position"].as_i64().expect("position"))
        .collect();
    assert_eq!(positions, (1..=50).collect::<Vec<_>>());

    let mail = journey.wait_for_mail(300, MAIL_WAIT).await;
    assert_eq!(
        mail.iter()
            .filter(|m| m.method().as_deref() == Some("REQUEST"))
            .count(),
        250
    );
    assert_eq!(mail.iter().filter(|m| m.calendar.is_none()).count(), 50);

    // Ten confirmed people cancel with their manage tokens.
    for answer in confirmed.iter().take(10) {
        let id = answer["id"].as_str().expect("id");
        let token = answer["manage_token"].as_str().expect("token");
        let (status, body) = journey
            .call(
                Method::POST,
                &format!("/v1/registrations/{id}/cancel"),
                None,
                Some(token),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let mail = journey.wait_for_mail(320, MAIL_WAIT).await;
    let recipients = by_recipient(&mail);
    let address = |a: &Value| {
        let i = answers
            .iter()
            .position(|x| x["id"] == a["id"])
            .expect("one of ours");
        people[i]["email"].as_str().expect("email").to_owned()
    };
    for answer in confirmed.iter().take(10) {
        let theirs = &recipients[&address(answer)];
        assert_eq!(theirs.len(), 2);
        assert_eq!(theirs[1].method().as_deref(), Some("CANCEL"));
    }
    for (n, answer) in waiting.iter().enumerate() {
        let theirs = &recipients[&address(answer)];
        if n < 10 {
            assert_eq!(theirs.len(), 2, "the first ten waiting are promoted");
            assert_eq!(theirs[1].method().as_deref(), Some("REQUEST"));
        } else {
            assert_eq!(theirs.len(), 1, "the rest still wait");
        }
    }

    // The organiser moves the webinar an hour later.
    let new_start = starts + Span::hours(1);
    journey
        .organise(Method::PATCH, &format!("/v1/events/{event}"), json!({
            "starts_at": new_start.to_rfc3339(), "ends_at": (new_start + Span::hours(2)).to_rfc3339() }))
        .await;
    let mail = journey.wait_for_mail(570, MAIL_WAIT).await;
    let updates: Vec<&Mail> = mail[320..].iter().collect();
    assert!(
        updates
            .iter()
            .all(|m| m.method().as_deref() == Some("REQUEST"))
    );
    let first_sequence = mail[0].sequence().expect("sequence");
    assert!(
        updates
            .iter()
            .all(|m| m.sequence().expect("sequence") > first_sequence)
    );

    // The reminders, by the clock the test moves: each once, to the 250 confirmed.
    journey
        .clock
        .set(new_start - Span::hours(24) + Span::seconds(1));
    journey.wait_for_mail(820, MAIL_WAIT).await;
    journey
        .clock
        .set(new_start - Span::minutes(15) + Span::seconds(1));
    let mail = journey.wait_for_mail(1070, MAIL_WAIT).await;
    let reminded = by_recipient(&mail[570..]);
    assert_eq!(reminded.len(), 250);
    assert!(
        reminded
            .values()
            .all(|m| m.len() == 2 && m.iter().all(|m| m.calendar.is_none()))
    );

    assert_eq!(check_every_invite(&mail), 250 + 10 + 10 + 250);
    journey.shutdown().await;
}

/// Manual approval with a dietary question: 30 apply, 20 are approved and 5 rejected. The rejected get an email and
/// no invite; the approved an invite; the CSV export holds what each answered.
#[tokio::test]
async fn workshop_selection_and_the_csv_export() {
    let journey = Journey::start().await;
    let starts = journey.clock.now() + Span::days(30);
    let event = published(
        &journey,
        json!({ "kind": "workshop", "title": "Stakeholder workshop: PerMed in Siena", "timezone": "Europe/Rome",
                "starts_at": starts.to_rfc3339(), "ends_at": (starts + Span::hours(8)).to_rfc3339(),
                "venue": { "name": "Università di Siena", "address": "Banchi di Sotto 55", "city": "Siena", "country": "IT" } }),
        json!({ "capacity": 25, "waitlist": false, "approval": "manual", "questions": [
            { "id": "dietary", "label": "Dietary needs", "type": "single_choice", "required": true,
              "options": ["none", "vegetarian", "vegan", "halal"] } ] }),
    )
    .await;
    let diets = ["none", "vegetarian", "vegan", "halal"];
    let people: Vec<Value> = (0..30)
        .map(|i| json!({ "email": format!("s{i:02}@example.eu"), "name": format!("Applicant {i} — Łukasz Müller 王芳"),
                          "answers": { "dietary": diets[i % 4] } }))
        .collect();
    let answers = register_all(&journey, &event, &people).await;
    assert!(answers.iter().all(|a| a["status"] == "pending_approval"));
    journey.wait_for_mail(30, MAIL_WAIT).await;
    for (i, answer) in answers.iter().enumerate().take(25) {
        let action = if i < 20 { "approve" } else { "reject" };
        let id = answer["id"].as_str().expect("id");
        journey
            .organise(
                Method::POST,
                &format!("/v1/registrations/{id}/{action}"),
                json!({}),
            )
            .await;
    }
    let mail = journey.wait_for_mail(55, MAIL_WAIT).await;
    let recipients = by_recipient(&mail);
    for (i, person) in people.iter().enumerate() {
        let theirs = &recipients[person["email"].as_str().expect("email")];
        match i {
            0..20 => assert_eq!(theirs[1].method().as_deref(), Some("REQUEST")),
            20..25 => {
                assert_eq!(theirs.len(), 2);
                assert!(
                    theirs.iter().all(|m| m.calendar.is_none()),
                    "a rejected applicant gets no invite"
                );
            }
            _ => assert_eq!(theirs.len(), 1, "still pending"),
        }
    }
    check_every_invite(&mail);

    let csv = journey
        .http
        .get(journey.edge(&format!("/v1/registrations?event_id={event}")))
        .bearer_auth(&journey.organiser)
        .header("accept", "text/csv")
        .send()
        .await
        .expect("csv")
        .text()
        .await
        .expect("text");
    let mut reader = csv::Reader::from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
    let headers = reader.headers().expect("headers").clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("{name} in {headers:?}"))
    };
    let (email, dietary) = (column("email"), column("Dietary needs"));
    let rows: HashMap<String, String> = reader
        .records()
        .map(|r| {
            let r = r.expect("row");
            (r[email].to_owned(), r[dietary].to_owned())
        })
        .collect();
    assert_eq!(rows.len(), 30);
    for (i, person) in people.iter().enumerate() {
        assert_eq!(rows[person["email"].as_str().expect("email")], diets[i % 4]);
    }
    journey.shutdown().await;
}

/// Berlin → Guangzhou → Nanjing: the feed shows each item at its local time with both zones; a changed visit sends
/// the members an updated invite saying what changed; cancelling the tour sends every member a CANCEL.
#[tokio::test]
async fn clover_leaf_tour_across_zones_a_changed_visit_and_cancellation() {
    let journey = Journey::start().await;
    // A Monday in May 2027, well ahead; items at fixed local times.
    let event = published(
        &journey,
        json!({ "kind": "tour", "title": "Clover Leaf tour: Guangzhou and Nanjing", "timezone": "Europe/Berlin",
                "starts_at": "2027-05-10T08:00:00+02:00", "ends_at": "2027-05-15T20:00:00+08:00" }),
        json!({ "capacity": 15, "waitlist": false, "approval": "automatic" }),
    )
    .await;
    let items = [
        json!({ "kind": "session", "title": "Briefing at the EU delegation office", "starts_at": "2027-05-10T09:00",
                "ends_at": "2027-05-10T10:30", "timezone": "Europe/Berlin", "location": "Berlin" }),
        json!({ "kind": "transfer", "title": "Flight Berlin → Guangzhou", "starts_at": "2027-05-10T13:00",
                "ends_at": "2027-05-11T07:00:00+08:00", "timezone": "Europe/Berlin",
                "transfer": { "from": "Berlin", "to": "Guangzhou", "carrier": "China Southern", "number": "CZ348" } }),
        json!({ "kind": "visit", "title": "Visit: Sun Yat-sen University", "starts_at": "2027-05-12T09:30",
                "ends_at": "2027-05-12T12:00", "timezone": "Asia/Shanghai",
                "visit": { "institution": "Sun Yat-sen University", "address": "135 Xingang Xi Road", "city": "Guangzhou" } }),
        json!({ "kind": "transfer", "title": "High-speed train Guangzhou → Nanjing", "starts_at": "2027-05-13T08:00",
                "ends_at": "2027-05-13T15:00", "timezone": "Asia/Shanghai",
                "transfer": { "from": "Guangzhou", "to": "Nanjing", "carrier": "China Railway", "number": "G1208" } }),
        json!({ "kind": "visit", "title": "Visit: Nanjing University", "starts_at": "2027-05-14T10:00",
                "ends_at": "2027-05-14T12:30", "timezone": "Asia/Shanghai",
                "visit": { "institution": "Nanjing University", "address": "22 Hankou Road", "city": "Nanjing" } }),
    ];
    let mut ids = Vec::new();
    for item in items {
        let created = journey
            .organise(Method::POST, &format!("/v1/events/{event}/items"), item)
            .await;
        ids.push(created["id"].as_str().expect("id").to_owned());
    }
    let (status, conflicts) = journey
        .call(
            Method::GET,
            &format!("/v1/events/{event}/conflicts"),
            None,
            Some(&journey.organiser),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(conflicts["items"], json!([]), "{conflicts}");

    let feed = journey
        .http
        .get(journey.edge(&format!("/v1/events/{event}/calendar.ics")))
        .send()
        .await
        .expect("feed")
        .text()
        .await
        .expect("text");
    assert!(
        feed.contains("DTSTART;TZID=Europe/Berlin:20270510T090000"),
        "{feed}"
    );
    assert!(
        feed.contains("DTSTART;TZID=Asia/Shanghai:20270512T093000"),
        "{feed}"
    );
    assert!(feed.contains("TZID:Europe/Berlin") && feed.contains("TZID:Asia/Shanghai"));

    let members: Vec<Value> = (0..8)
        .map(|i| json!({ "email": format!("t{i}@example.org"), "name": format!("Delegate {i}"),
                          "locale": if i % 2 == 0 { "zh-CN" } else { "en" }, "timezone": "Asia/Shanghai" }))
        .collect();
    let answers = register_all(&journey, &event, &members).await;
    assert!(answers.iter().all(|a| a["status"] == "confirmed"));
    journey.wait_for_mail(8, MAIL_WAIT).await;

    // The visit in Guangzhou moves an hour later.
    journey
        .organise(
            Method::PATCH,
            &format!("/v1/events/{event}/items/{}", ids[2]),
            json!({
            "starts_at": "2027-05-12T10:30", "ends_at": "2027-05-12T13:00" }),
        )
        .await;
    let mail = journey.wait_for_mail(16, MAIL_WAIT).await;
    for update in &mail[8..] {
        assert_eq!(update.method().as_deref(), Some("REQUEST"));
        assert!(
            update.text.contains("Sun Yat-sen University"),
            "what changed: {}",
            update.text
        );
    }

    journey
        .organise(
            Method::POST,
            &format!("/v1/events/{event}/cancel"),
            json!({ "reason": "Travel restrictions" }),
        )
        .await;
    let mail = journey.wait_for_mail(24, MAIL_WAIT).await;
    for cancel in &mail[16..] {
        assert_eq!(cancel.method().as_deref(), Some("CANCEL"));
        assert_eq!(cancel.property("STATUS").as_deref(), Some("CANCELLED"));
    }
    assert_eq!(by_recipient(&mail[16..]).len(), 8);
    assert_eq!(check_every_invite(&mail), 24);
    journey.shutdown().await;
}

/// Faults: notifications down while people register (every email arrives once it is back, exactly once);
/// scheduling unreachable (registering answers 503 and writes nothing); each service restarted mid-journey (nothing
/// lost, nothing sent twice). If the outbox lost events while notifications was down, or the inbox handled a
/// redelivered event again, or a restart dropped a claimed message, the counts below would be off.
#[tokio::test]
async fn faults_lose_nothing_and_send_nothing_twice() {
    let journey = Journey::start().await;
    let starts = journey.clock.now() + Span::days(12);
    let event = published(
        &journey,
        json!({ "kind": "webinar", "title": "Resilience webinar", "timezone": "Europe/Brussels",
                "starts_at": starts.to_rfc3339(), "ends_at": (starts + Span::hours(1)).to_rfc3339(),
                "online_url": "https://meet.example.org/resilience" }),
        json!({ "capacity": 100, "waitlist": true, "approval": "automatic" }),
    )
    .await;

    // Notifications down while 20 register.
    journey.stop(ServiceName::Notifications).await;
    let first: Vec<Value> = (0..20)
        .map(|i| json!({ "email": format!("f{i:02}@example.org"), "name": "Early" }))
        .collect();
    register_all(&journey, &event, &first).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(journey.mail().is_empty());
    journey.restart(ServiceName::Notifications).await;
    journey.wait_for_mail(20, MAIL_WAIT).await;

    // Scheduling unreachable: 503 with Retry-After, and no registration written. (Registration remembers a
    // published event for a few seconds, so this is an event nobody has registered for yet.)
    let other = published(
        &journey,
        json!({ "kind": "webinar", "title": "Outage webinar", "timezone": "Europe/Brussels",
                "starts_at": starts.to_rfc3339(), "ends_at": (starts + Span::hours(1)).to_rfc3339(),
                "online_url": "https://meet.example.org/outage" }),
        json!({ "capacity": 100, "waitlist": true, "approval": "automatic" }),
    )
    .await;
    journey.stop(ServiceName::Scheduling).await;
    let response = journey
        .http
        .post(journey.edge("/v1/registrations"))
        .json(&json!({ "event_id": other, "email": "during-outage@example.org", "name": "Unlucky", "consent": true }))
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key("retry-after"));
    journey.restart(ServiceName::Scheduling).await;
    let (_, list) = journey
        .call(
            Method::GET,
            &format!("/v1/registrations?event_id={other}"),
            None,
            Some(&journey.organiser),
        )
        .await;
    assert_eq!(list["items"], json!([]), "{list}");

    // Registration restarted while 20 more register: clients retry with their Idempotency-Key.
    let second: Vec<(String, Value)> = (0..20)
        .map(|i| (format!("key-{i}"), json!({ "event_id": event, "email": format!("g{i:02}@example.org"), "name": "Later", "consent": true })))
        .collect();
    let registering = futures::stream::iter(second.iter().map(|(key, body)| {
        let journey = &journey;
        async move {
            for _ in 0..100 {
                let sent = journey
                    .http
                    .post(journey.edge("/v1/registrations"))
                    .header("idempotency-key", key)
                    .json(body)
                    .send()
                    .await;
                if let Ok(response) = sent
                    && response.status() == StatusCode::CREATED
                {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            panic!("never registered");
        }
    }))
    .buffer_unordered(20)
    .collect::<Vec<()>>();
    let restart = async {
        tokio::time::sleep(Duration::from_millis(30)).await;
        journey.restart(ServiceName::Registration).await;
    };
    tokio::join!(registering, restart);
    let (_, list) = journey
        .call(
            Method::GET,
            &format!("/v1/registrations?event_id={event}"),
            None,
            Some(&journey.organiser),
        )
        .await;
    assert_eq!(list["counts"]["confirmed"], 40, "{list}");
    journey.wait_for_mail(40, MAIL_WAIT).await;

    // Scheduling restarted right after a change: its relay delivers the change after the restart.
    journey
        .organise(
            Method::PATCH,
            &format!("/v1/events/{event}"),
            json!({ "title": "Resilience webinar (new title)" }),
        )
        .await;
    journey.restart(ServiceName::Scheduling).await;
    // Notifications restarted while it fans the change out.
    tokio::time::sleep(Duration::from_millis(100)).await;
    journey.restart(ServiceName::Notifications).await;
    let mail = journey.wait_for_mail(80, MAIL_WAIT).await;
    let recipients = by_recipient(&mail);
    assert_eq!(recipients.len(), 40);
    assert!(
        recipients.values().all(|m| m.len() == 2),
        "each: one invite and one update"
    );
    assert_eq!(check_every_invite(&mail), 80);
    journey.shutdown().await;
}
