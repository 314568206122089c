//! The door (`/v1/check-ins`) against a real scheduling service, on SQLite (or PostgreSQL with
//! CLOVERLEAF_TEST_DATABASE_URL): check-in staff of the event's team scan check-in codes and pick people from the door
//! list, which shows only the answers the form marks for the door. A code checks its person in once, however often
//! and however concurrently it is sent (what would break: two phones scanning one code at once writing two check-ins
//! and two audit entries); a forged code, a manage token or another event's code is refused naming `code`; a viewer
//! may not (403); another team's staff cannot learn the event exists (404).

mod support;

use std::time::Duration;

use cloverleaf_auth::{Role, TeamGrant, TeamRole, TokenRequest};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::System;
use uuid::Uuid;

/// A token of `role` in `team`, made by registration's own issuer.
fn member(system: &System, sub: &str, team: Uuid, role: TeamRole) -> String {
    system
        .registration
        .people_issuer()
        .issue(TokenRequest {
            subject: sub.into(),
            role: Role::Organiser,
            scope: None,
            teams: vec![TeamGrant { team, role }],
            audience: cloverleaf_auth::audience::ALL
                .iter()
                .map(|a| (*a).to_owned())
                .collect(),
            ttl: Duration::from_secs(600),
        })
        .expect("token")
        .token
}

/// A published workshop of `team` (created by an admin in scheduling).
async fn team_event(system: &System, team: Uuid, title: &str) -> String {
    let admin = system.scheduling.token_for(Role::Admin);
    let starts = chrono::Utc::now() + chrono::Duration::days(10);
    let http = &system.scheduling.http;
    let event: Value = http
        .post(system.scheduling.url("/v1/events"))
        .bearer_auth(&admin)
        .json(&json!({ "kind": "workshop", "title": title, "timezone": "Europe/Rome", "team_id": team,
            "starts_at": starts.to_rfc3339(), "ends_at": (starts + chrono::Duration::hours(8)).to_rfc3339(),
            "venue": { "name": "Università di Siena", "city": "Siena", "country": "IT" },
            "organiser": { "name": "PerMed Office", "email": "office@permed.example.org" } }))
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("event");
    let id = event["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{event}"))
        .to_owned();
    let published = http
        .post(system.scheduling.url(&format!("/v1/events/{id}/publish")))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("publish");
    assert_eq!(published.status(), 200);
    let (status, form) = system
        .send(
            Method::PUT,
            &format!("/v1/forms/{id}"),
            Some(json!({ "capacity": 2, "waitlist": true, "approval": "automatic", "questions": [
                { "id": "dietary", "label": "Dietary needs", "type": "text" },
                { "id": "access_needs", "label": "Accessibility needs", "label_zh": "无障碍需求", "type": "text",
                  "show_at_check_in": true } ] })),
            Some(&system.registration.token_for(Role::Admin)),
        )
        .await;
    assert!(status.is_success(), "{status} {form}");
    id
}

async fn register(system: &System, event: &str, email: &str, name: &str, answers: Value) -> Value {
    let (status, body) = system
        .send(
            Method::POST,
            "/v1/registrations",
            Some(json!({ "event_id": event, "email": email, "name": name, "consent": true, "answers": answers })),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

fn field(problem: &Value) -> (String, String) {
    let error = &problem["errors"][0];
    (
        error["field"].as_str().unwrap_or_default().to_owned(),
        error["code"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn the_door_checks_each_person_in_once_and_refuses_what_is_not_theirs() {
    let system = System::start().await;
    let (team, other_team) = (Uuid::now_v7(), Uuid::now_v7());
    let event = team_event(&system, team, "Stakeholder workshop in Siena").await;
    let other_event = team_event(&system, team, "Visit to Tuscany Life Sciences").await;
    let chen = register(
        &system,
        &event,
        "chen@example.org",
        "Chen Xiaoming",
        json!({ "dietary": "halal", "access_needs": "Step-free access" }),
    )
    .await;
    let giulia = register(
        &system,
        &event,
        "giulia@example.org",
        "Giulia Romano",
        json!({}),
    )
    .await;
    let lars = register(
        &system,
        &event,
        "lars@example.org",
        "Lars Nielsen",
        json!({}),
    )
    .await;
    assert_eq!(lars["status"], "waitlisted", "capacity 2: {lars}");
    let elsewhere = register(
        &system,
        &other_event,
        "ana@example.org",
        "Ana Silva",
        json!({}),
    )
    .await;
    let code = |r: &Value| {
        r["check_in_code"]
            .as_str()
            .expect("a check-in code")
            .to_owned()
    };
    assert_ne!(
        code(&chen),
        chen["manage_token"].as_str().expect("manage token"),
        "not the manage link"
    );

    let door = member(&system, "door@unisi.example.org", team, TeamRole::CheckIn);
    let scan = |body: Value, token: Option<String>| {
        let system = &system;
        async move {
            system
                .send(Method::POST, "/v1/check-ins", Some(body), token.as_deref())
                .await
        }
    };

    // The door list: everyone, with only the door's answers.
    let (status, list) = system
        .send(
            Method::GET,
            &format!("/v1/check-ins?event_id={event}"),
            None,
            Some(&door),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let entries = list["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 3, "{list}");
    let chen_entry = entries
        .iter()
        .find(|e| e["name"] == "Chen Xiaoming")
        .expect("Chen");
    assert_eq!(
        chen_entry["needs"],
        json!([{ "question": "Accessibility needs", "question_zh": "无障碍需求",
        "answer": "Step-free access" }]),
        "no dietary answer at the door"
    );
    assert_eq!(chen_entry["code"], json!(code(&chen)));

    // A scan checks in; the same scan again keeps the first time.
    let (status, first) = scan(
        json!({ "event_id": event, "code": code(&chen) }),
        Some(door.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["outcome"], "checked_in");
    assert_eq!(first["entry"]["name"], "Chen Xiaoming");
    let (_, again) = scan(
        json!({ "event_id": event, "code": code(&chen) }),
        Some(door.clone()),
    )
    .await;
    assert_eq!(again["outcome"], "already_checked_in", "{again}");
    assert_eq!(
        again["entry"]["checked_in_at"],
        first["entry"]["checked_in_at"]
    );

    // Eight phones send Giulia's queued scan at once (one scanned_at in the future, which is not believed).
    let future = (chrono::Utc::now() + chrono::Duration::hours(3)).to_rfc3339();
    let sends = (0..8).map(|_| {
        scan(
            json!({ "event_id": event, "registration_id": giulia["id"], "scanned_at": future }),
            Some(door.clone()),
        )
    });
    let answers = futures::future::join_all(sends).await;
    let outcomes: Vec<&str> = answers
        .iter()
        .map(|(status, body)| {
            assert_eq!(*status, StatusCode::OK, "{body}");
            body["outcome"].as_str().expect("outcome")
        })
        .collect();
    assert_eq!(
        outcomes.iter().filter(|o| **o == "checked_in").count(),
        1,
        "{outcomes:?}"
    );
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == "already_checked_in")
            .count(),
        7
    );
    let at: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(answers[0].1["entry"]["checked_in_at"].clone()).expect("time");
    assert!(
        at <= chrono::Utc::now(),
        "a time from the future is not kept: {at}"
    );
    let (status, audit) = system
        .send(
            Method::GET,
            &format!("/v1/audit?event_id={event}&action=checked_in&limit=100"),
            None,
            Some(&system.registration.token_for(Role::Admin)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{audit}");
    let audited = audit["items"].as_array().expect("items");
    assert_eq!(audited.len(), 2, "one entry per person checked in: {audit}");
    assert!(
        audited
            .iter()
            .all(|e| e["actor"] == "door@unisi.example.org")
    );

    // The waiting list is not let in, and nothing is recorded.
    let (_, waiting) = scan(
        json!({ "event_id": event, "code": code(&lars) }),
        Some(door.clone()),
    )
    .await;
    assert_eq!(waiting["outcome"], "not_admitted", "{waiting}");
    assert_eq!(waiting["entry"]["status"], "waitlisted");
    assert!(waiting["entry"]["checked_in_at"].is_null());

    // Codes that are not for this door.
    let mut forged = code(&chen).into_bytes();
    forged[40] = if forged[40] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).expect("ascii");
    for (bad, expected) in [
        (json!(forged), "unknown_code"),
        (chen["manage_token"].clone(), "unknown_code"),
        (json!("https://example.org/not-a-code"), "unknown_code"),
        (json!(code(&elsewhere)), "other_event"),
    ] {
        let (status, problem) = scan(
            json!({ "event_id": event, "code": bad }),
            Some(door.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {problem}");
        assert_eq!(
            field(&problem),
            ("code".to_owned(), expected.to_owned()),
            "{bad}"
        );
    }
    let (status, problem) = scan(json!({ "event_id": event }), Some(door.clone())).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field(&problem).0, "code");
    let (status, problem) = scan(
        json!({ "event_id": event, "code": code(&chen), "registration_id": chen["id"] }),
        Some(door.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field(&problem).0, "registration_id");
    let (status, _) = scan(
        json!({ "event_id": event, "registration_id": elsewhere["id"] }),
        Some(door.clone()),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another event's registration, picked by id"
    );

    // Who may not: a viewer (403), another team's staff (404, as if there were no event), nobody (401).
    let viewer = member(&system, "viewer@unisi.example.org", team, TeamRole::Viewer);
    let stranger = member(
        &system,
        "door@charite.example.org",
        other_team,
        TeamRole::CheckIn,
    );
    for (token, expected) in [
        (Some(viewer), StatusCode::FORBIDDEN),
        (Some(stranger), StatusCode::NOT_FOUND),
        (None, StatusCode::UNAUTHORIZED),
    ] {
        let (status, body) = scan(
            json!({ "event_id": event, "code": code(&lars) }),
            token.clone(),
        )
        .await;
        assert_eq!(status, expected, "{body}");
        let (status, body) = system
            .send(
                Method::GET,
                &format!("/v1/check-ins?event_id={event}"),
                None,
                token.as_deref(),
            )
            .await;
        assert_eq!(status, expected, "{body}");
    }

    // The participant sees their own code (through the manage token); staff reading a registration do not.
    let (status, mine) = system
        .send(
            Method::GET,
            "/v1/registrations/mine",
            None,
            chen["manage_token"].as_str(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert_eq!(mine["check_in_code"], json!(code(&chen)));
    let (_, read) = system
        .send(
            Method::GET,
            &format!("/v1/registrations/{}", chen["id"].as_str().expect("id")),
            None,
            Some(&system.registration.token_for(Role::Admin)),
        )
        .await;
    assert!(read.get("check_in_code").is_none(), "{read}");
}
