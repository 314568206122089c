//! Registering and managing registrations through HTTP, beside a real scheduling service: forms, validation, the
//! event check (and 503 when scheduling is down), duplicates, idempotency, windows, approval, check-in, the
//! participant's own view, export and erasure, CSV, rate limiting.

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::System;

fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().expect("field").to_owned())
        .collect()
}

fn workshop_form() -> Value {
    json!({
        "capacity": 2, "waitlist": true, "approval": "manual",
        "questions": [
            { "id": "dietary", "label": "Dietary needs", "type": "single_choice", "required": true,
              "options": ["none", "vegetarian", "vegan", "halal"] },
            { "id": "visa", "label": "Visa letter?", "type": "yes_no" },
            { "id": "notes", "label": "=Notes", "type": "long_text" }
        ]
    })
}

#[tokio::test]
async fn forms_are_set_by_organisers_and_read_by_anyone() {
    let system = System::start().await;
    let event = system.published_event("Webinar").await;
    let (status, form) = system.put_form(&event, workshop_form()).await;
    assert_eq!(status, StatusCode::OK, "{form}");
    assert_eq!(form["seats_left"], 2);
    assert_eq!(form["open"], true, "closes at the event's start by default");
    assert!(form["closes_at"].as_str().is_some());
    let (status, public) = system
        .send(Method::GET, &format!("/v1/forms/{event}"), None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(public["questions"][0]["id"], "dietary");
    let (status, _) = system
        .send(
            Method::PUT,
            &format!("/v1/forms/{event}"),
            Some(workshop_form()),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, problem) = system
        .put_form(&event, json!({ "capacity": -3, "approval": "maybe" }))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&problem), ["capacity", "approval"]);
    let (status, _) = system
        .put_form(&uuid::Uuid::now_v7().to_string(), json!({ "capacity": 1 }))
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "the event must exist in scheduling"
    );
}

#[tokio::test]
async fn registering_checks_the_event_the_window_and_every_field() {
    let system = System::start().await;
    let event = system.published_event("Webinar").await;
    system.put_form(&event, workshop_form()).await;
    let (status, problem) = system
        .send(Method::POST, "/v1/registrations", Some(json!({
            "event_id": event, "email": "not-an-email", "name": "", "country": "ZZ", "answers": { "dietary": "pizza", "extra": 1 },
        })), None)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        fields(&problem),
        [
            "email",
            "name",
            "country",
            "consent",
            "answers.extra",
            "answers.dietary"
        ]
    );
    let (status, problem) = system
        .send(
            Method::POST,
            "/v1/registrations",
            Some(json!({ "event_id": "nope" })),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&problem), ["event_id"]);

    // An event scheduling does not know, or a draft: 404, nothing written.
    let (status, _) = system
        .register(&uuid::Uuid::now_v7().to_string(), "a@example.org", "A")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A window not open yet, and one that closed.
    let soon = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    system
        .put_form(&event, json!({ "capacity": 5, "opens_at": soon }))
        .await;
    let (status, problem) = system.register(&event, "early@example.org", "Early").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        problem["type"],
        "https://cloverleaf.dev/problems/not-open-yet"
    );
    let past = (chrono::Utc::now() - chrono::Duration::days(1)).to_rfc3339();
    let earlier = (chrono::Utc::now() - chrono::Duration::days(2)).to_rfc3339();
    system
        .put_form(
            &event,
            json!({ "capacity": 5, "opens_at": earlier, "closes_at": past }),
        )
        .await;
    let (status, problem) = system.register(&event, "late@example.org", "Late").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(problem["type"], "https://cloverleaf.dev/problems/closed");

    // Full without a waiting list.
    system.put_form(&event, json!({ "capacity": 1 })).await;
    assert_eq!(
        system.register(&event, "one@example.org", "One").await.0,
        StatusCode::CREATED
    );
    let (status, problem) = system.register(&event, "two@example.org", "Two").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(problem["type"], "https://cloverleaf.dev/problems/full");
    assert!(
        system.outbox().await.len() == 1,
        "refused registrations announce nothing"
    );
}

/// The same address twice (in any case) is refused with a 409 that tells nothing about the first registration, and
/// its owner is sent a fresh manage link; a retried request with its Idempotency-Key gets the first answer, never a
/// second registration.
#[tokio::test]
async fn duplicates_are_refused_and_retries_answered_once() {
    let system = System::start().await;
    let event = system.published_event("Webinar").await;
    system.put_form(&event, json!({ "capacity": 10 })).await;
    let (status, first) = system.register(&event, "Li.Na@Example.CN", "李娜").await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, problem) = system
        .register(&event, "li.na@example.cn", "Someone else")
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let text = problem.to_string();
    assert!(
        !text.contains(first["id"].as_str().expect("id")) && !text.contains("confirmed"),
        "{text}"
    );
    let outbox = system.outbox().await;
    assert_eq!(
        outbox.last().expect("event").0,
        "registration.manage_link_requested"
    );
    assert_eq!(
        outbox.last().expect("event").1,
        first["id"].as_str().expect("id")
    );

    let body = json!({ "event_id": event, "email": "retry@example.org", "name": "Retry", "consent": true });
    let send = |body: Value| {
        system
            .registration
            .http
            .post(system.registration.url("/v1/registrations"))
            .header("idempotency-key", "k-123")
            .json(&body)
            .send()
    };
    let (a, b) = tokio::join!(send(body.clone()), send(body.clone()));
    let a: Value = a.expect("a").json().await.expect("json");
    let b: Value = b.expect("b").json().await.expect("json");
    assert_eq!(a["id"], b["id"], "one registration for both tries");
    let again = send(body).await.expect("again");
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.json::<Value>().await.expect("json")["id"], a["id"]);
    let other = send(json!({ "event_id": event, "email": "other@example.org", "name": "Other", "consent": true }))
        .await
        .expect("other");
    assert_eq!(
        other.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "the key belongs to another request"
    );
    let counts = system
        .organiser_get(&format!("/v1/registrations?event_id={event}"))
        .await["counts"]
        .clone();
    assert_eq!(counts["confirmed"], 2);
}

#[tokio::test]
async fn manual_approval_rejection_and_check_in() {
    let system = System::start().await;
    let event = system
        .published_event("Stakeholder workshop in Siena")
        .await;
    system.put_form(&event, workshop_form()).await;
    let mut ids = Vec::new();
    for (n, name) in ["Giulia Bianchi", "Zhang Wei", "Anna Müller"]
        .iter()
        .enumerate()
    {
        let (status, body) = system
            .send(Method::POST, "/v1/registrations", Some(json!({
                "event_id": event, "email": format!("a{n}@example.org"), "name": name, "consent": true,
                "answers": { "dietary": "vegetarian", "visa": n == 1 },
            })), None)
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["status"], "pending_approval");
        ids.push(body["id"].as_str().expect("id").to_owned());
    }
    let (_, a) = system
        .organiser_post(&format!("/v1/registrations/{}/approve", ids[0]))
        .await;
    assert_eq!(a["status"], "confirmed");
    let (_, b) = system
        .organiser_post(&format!("/v1/registrations/{}/approve", ids[1]))
        .await;
    assert_eq!(b["status"], "confirmed");
    let (_, c) = system
        .organiser_post(&format!("/v1/registrations/{}/approve", ids[2]))
        .await;
    assert_eq!(
        c["status"], "waitlisted",
        "approved when full: the waiting list"
    );
    assert_eq!(c["waitlist_position"], 1);
    let (status, rejected) = system
        .organiser_post(&format!("/v1/registrations/{}/reject", ids[0]))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rejected["status"], "rejected");
    let promoted = system
        .organiser_get(&format!("/v1/registrations/{}", ids[2]))
        .await;
    assert_eq!(
        promoted["status"], "confirmed",
        "the freed seat went to the waiting list"
    );
    let (status, _) = system
        .organiser_post(&format!("/v1/registrations/{}/approve", ids[0]))
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a rejected application is not approved later"
    );

    let (_, first) = system
        .organiser_post(&format!("/v1/registrations/{}/check-in", ids[1]))
        .await;
    let (_, second) = system
        .organiser_post(&format!("/v1/registrations/{}/check-in", ids[1]))
        .await;
    assert!(first["checked_in_at"].as_str().is_some());
    assert_eq!(
        first["checked_in_at"], second["checked_in_at"],
        "checking in twice keeps the first time"
    );
    let (status, _) = system
        .organiser_post(&format!("/v1/registrations/{}/check-in", ids[0]))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);

    let kinds: Vec<String> = system.outbox().await.into_iter().map(|(k, _)| k).collect();
    assert_eq!(
        kinds,
        [
            "registration.pending_approval",
            "registration.pending_approval",
            "registration.pending_approval",
            "registration.confirmed",
            "registration.confirmed",
            "registration.waitlisted",
            "registration.rejected",
            "registration.promoted"
        ]
    );

    // The CSV opens in spreadsheet programs: BOM, CRLF, answers as columns, formulas defused.
    let response = system
        .registration
        .http
        .get(
            system
                .registration
                .url(&format!("/v1/registrations?event_id={event}")),
        )
        .bearer_auth(&system.organiser)
        .header("accept", "text/csv")
        .send()
        .await
        .expect("csv");
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    let bytes = response.bytes().await.expect("bytes");
    assert!(
        bytes.starts_with(&[0xEF, 0xBB, 0xBF]),
        "UTF-8 byte-order mark"
    );
    let text = String::from_utf8(bytes[3..].to_vec()).expect("utf-8");
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert!(
        lines[0].ends_with("Dietary needs,Visa letter?,'=Notes"),
        "{}",
        lines[0]
    );
    assert_eq!(lines.len(), 5, "header, three rows, final CRLF: {text}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("Anna Müller") && l.contains("vegetarian,no")),
        "{text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("Zhang Wei") && l.contains("vegetarian,yes")),
        "{text}"
    );
}

#[tokio::test]
async fn participants_manage_their_own_registration_only() {
    let system = System::start().await;
    let event = system.published_event("Webinar").await;
    system
        .put_form(
            &event,
            json!({ "capacity": 1, "waitlist": true,
            "questions": [{ "id": "topic", "label": "Topic", "type": "text" }] }),
        )
        .await;
    let (_, a) = system.register(&event, "a@example.org", "张伟").await;
    let (_, b) = system
        .register(&event, "b@example.org", "Marie Dubois")
        .await;
    assert_eq!(b["status"], "waitlisted");
    let a_id = a["id"].as_str().expect("id");
    let b_id = b["id"].as_str().expect("id");
    let a_token = a["manage_token"].as_str().expect("token");

    let (status, mine) = system
        .send(
            Method::GET,
            &format!("/v1/registrations/{a_id}"),
            None,
            Some(a_token),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(mine["name"], "张伟");
    assert!(mine.get("manage_token").is_none());
    let (status, _) = system
        .send(
            Method::GET,
            &format!("/v1/registrations/{b_id}"),
            None,
            Some(a_token),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a manage token never opens another registration"
    );
    let (status, _) = system
        .send(
            Method::POST,
            &format!("/v1/registrations/{b_id}/cancel"),
            None,
            Some(a_token),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = system
        .send(
            Method::GET,
            &format!("/v1/registrations?event_id={event}"),
            None,
            Some(a_token),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, updated) = system
        .send(
            Method::PATCH,
            &format!("/v1/registrations/{a_id}"),
            Some(json!({ "name": "Zhang Wei", "answers": { "topic": "ethics" } })),
            Some(a_token),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(updated["answers"]["topic"], "ethics");
    let (status, problem) = system
        .send(
            Method::PATCH,
            &format!("/v1/registrations/{a_id}"),
            Some(json!({ "email": "new@example.org" })),
            Some(a_token),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the email does not change: {problem}"
    );
    assert_eq!(fields(&problem), ["email"]);

    let (status, data) = system
        .send(
            Method::GET,
            &format!("/v1/registrations/{a_id}/data"),
            None,
            Some(a_token),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(data["registration"]["email"], "a@example.org");
    assert_eq!(data["answers"][0]["question"], "Topic");

    // Erasure frees the seat (b moves up), removes the personal data, keeps the counts, ends the token.
    let (status, _) = system
        .send(
            Method::DELETE,
            &format!("/v1/registrations/{a_id}"),
            None,
            Some(a_token),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = system
        .send(
            Method::GET,
            &format!("/v1/registrations/{a_id}"),
            None,
            Some(a_token),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "the manage token stops working"
    );
    let list = system
        .organiser_get(&format!("/v1/registrations?event_id={event}"))
        .await;
    assert_eq!(list["counts"]["cancelled"], 1);
    assert_eq!(list["counts"]["confirmed"], 1);
    let erased = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|r| r["id"] == a_id)
        .expect("kept")
        .clone();
    assert_eq!(erased["email"], Value::Null);
    assert_eq!(erased["name"], Value::Null);
    assert_eq!(erased["answers"], json!({}));
    let b_now = system
        .organiser_get(&format!("/v1/registrations/{b_id}"))
        .await;
    assert_eq!(b_now["status"], "confirmed");
    // The same address may register again after erasure.
    assert_eq!(
        system.register(&event, "a@example.org", "Again").await.0,
        StatusCode::CREATED
    );
}

/// Scheduling cannot be reached: registering answers 503 with Retry-After and writes nothing — not a
/// registration, not an outbox row.
#[tokio::test]
async fn when_scheduling_is_down_registering_answers_503_and_writes_nothing() {
    let mut system = System::start().await;
    let event = system.published_event("Webinar").await;
    system.put_form(&event, json!({ "capacity": 10 })).await;
    system.scheduling.stop().await;
    let response = system
        .registration
        .http
        .post(system.registration.url("/v1/registrations"))
        .json(&json!({ "event_id": event, "email": "x@example.org", "name": "X", "consent": true }))
        .send()
        .await
        .expect("register");
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key("retry-after"));
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    assert!(system.outbox().await.is_empty());
    let path = format!("/v1/registrations?event_id={event}");
    // An organiser's list needs the event's team from scheduling: closed (503), never open, while it cannot say.
    let (status, _) = system
        .send(
            reqwest::Method::GET,
            &path,
            None,
            Some(&system.organiser.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    // Admins see every team's registrations without asking: nothing was written.
    let admin = system.registration.token_for(cloverleaf_auth::Role::Admin);
    let (status, list) = system
        .send(reqwest::Method::GET, &path, None, Some(&admin))
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["items"], json!([]));
}

#[tokio::test]
async fn registrations_are_rate_limited_per_client_address() {
    let system = System::start_with(|settings| {
        settings.set("rate_limit.registrations_per_minute", 1);
        settings.set("rate_limit.registrations_burst", 3);
    })
    .await;
    let event = system.published_event("Webinar").await;
    system.put_form(&event, json!({ "capacity": 100 })).await;
    for n in 0..3 {
        assert_eq!(
            system
                .register(&event, &format!("r{n}@example.org"), "R")
                .await
                .0,
            StatusCode::CREATED
        );
    }
    let response = system
        .registration
        .http
        .post(system.registration.url("/v1/registrations"))
        .json(
            &json!({ "event_id": event, "email": "r9@example.org", "name": "R", "consent": true }),
        )
        .send()
        .await
        .expect("register");
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(
        response.headers()["retry-after"]
            .to_str()
            .expect("secs")
            .parse::<u64>()
            .expect("number")
            >= 1
    );
    // Another client (behind the edge, named by X-Forwarded-For) is not held back.
    let other = system
        .registration
        .http
        .post(system.registration.url("/v1/registrations"))
        .header("x-forwarded-for", "203.0.113.9")
        .json(
            &json!({ "event_id": event, "email": "r10@example.org", "name": "R", "consent": true }),
        )
        .send()
        .await
        .expect("register");
    assert_eq!(other.status(), StatusCode::CREATED);
}

/// Notifications puts a manage link in every email: services (only) get a fresh manage token per registration, one
/// by one or with each item of the list; the token works for that registration; an erased one has none.
#[tokio::test]
async fn services_get_manage_tokens_for_the_links_in_emails() {
    use cloverleaf_service_kit::config::ServiceName;

    let system = System::start().await;
    let event = system.published_event("Manage links").await;
    let (status, _) = system
        .put_form(
            &event,
            json!({ "capacity": 5, "waitlist": false, "approval": "automatic" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, registered) = system
        .register(&event, "link@example.org", "Link Person")
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let id = registered["id"].as_str().expect("id");
    let service = system
        .registration
        .service_token(ServiceName::Notifications, ServiceName::Registration);
    let path = format!("/v1/registrations/{id}/manage-token");

    let (status, _) = system.send(Method::GET, &path, None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let organiser = system.organiser.clone();
    let (status, _) = system
        .send(Method::GET, &path, None, Some(&organiser))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, link) = system.send(Method::GET, &path, None, Some(&service)).await;
    assert_eq!(status, StatusCode::OK, "{link}");
    let token = link["manage_token"].as_str().expect("token").to_owned();
    let (status, mine) = system
        .send(
            Method::GET,
            &format!("/v1/registrations/{id}"),
            None,
            Some(&token),
        )
        .await;
    assert_eq!(
        (status, mine["email"].as_str()),
        (StatusCode::OK, Some("link@example.org"))
    );

    let list = format!("/v1/registrations?event_id={event}");
    let (_, for_service) = system.send(Method::GET, &list, None, Some(&service)).await;
    assert!(
        for_service["items"][0]["manage_token"].is_string(),
        "{for_service}"
    );
    let (_, for_organiser) = system
        .send(Method::GET, &list, None, Some(&organiser))
        .await;
    assert!(
        for_organiser["items"][0]["manage_token"].is_null(),
        "organisers never see tokens"
    );

    let (status, _) = system
        .send(
            Method::DELETE,
            &format!("/v1/registrations/{id}"),
            None,
            Some(&token),
        )
        .await;
    assert!(status.is_success());
    let (status, _) = system.send(Method::GET, &path, None, Some(&service)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
