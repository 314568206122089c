//! What an attacker from outside tried (issue 16), on SQLite or PostgreSQL: the registration limits per client
//! address (sized for a campus behind one address), per email address and per event; forwarded addresses believed
//! only from configured proxies; organisers entering registrations not held back; NUL characters a 422, not a 500.

mod support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::System;

fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Registers `email` for `event` as a caller that claims to be `forwarded_for` (or says nothing).
async fn register_as(
    system: &System,
    forwarded_for: Option<&str>,
    event: &str,
    email: &str,
) -> (StatusCode, Value) {
    let mut request = system
        .registration
        .http
        .post(system.registration.url("/v1/registrations"))
        .json(&json!({ "event_id": event, "email": email, "name": "R", "consent": true }));
    if let Some(address) = forwarded_for {
        request = request.header("x-forwarded-for", address);
    }
    let response = request.send().await.expect("register");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Catches the bypass of issue 16.6: registration believed the last X-Forwarded-For of any loopback or private
/// caller, so 188 of 188 requests with rotating addresses sent straight to its port passed. Only the proxies in
/// `http.trusted_proxies` are believed; a direct caller is limited by its own address, for registrations and logins.
#[tokio::test]
async fn a_direct_caller_rotating_x_forwarded_for_is_limited_by_its_own_address() {
    let system = System::start_with(|settings| {
        // The proxy is elsewhere: this test's loopback caller is not it.
        settings.http.trusted_proxies = vec!["192.0.2.10".to_owned()];
        settings.set("rate_limit.registrations_per_minute", 1);
        settings.set("rate_limit.registrations_burst", 3);
        settings.set("rate_limit.logins_per_minute", 1);
        settings.set("rate_limit.logins_burst", 3);
    })
    .await;
    let event = system.published_event("Webinar").await;
    system.put_form(&event, json!({ "capacity": 100 })).await;
    let mut statuses = Vec::new();
    for n in 0..6 {
        let (status, _) = register_as(
            &system,
            Some(&format!("203.0.113.{n}")),
            &event,
            &format!("r{n}@example.org"),
        )
        .await;
        statuses.push(status.as_u16());
    }
    assert_eq!(statuses, [201, 201, 201, 429, 429, 429]);

    let mut statuses = Vec::new();
    for n in 0..5 {
        let response = system
            .registration
            .http
            .post(system.registration.url("/v1/auth/token"))
            .header("x-forwarded-for", format!("198.51.100.{n}"))
            .json(&json!({ "email": format!("user{n}@example.org"), "password": "Summer2027!!" }))
            .send()
            .await
            .expect("login");
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 429, 429]);
}

/// Catches the limit that shut out an institution (issue 16.5): 30 a minute with a burst of 10 per address meant
/// 2,000 people behind one university's address needed an hour. With the configured defaults, a rush of 200 from
/// one address gets through at once, and 2,000 within minutes.
#[tokio::test]
async fn a_campus_behind_one_address_gets_through_a_registration_rush() {
    let defaults = cloverleaf_registration::config::RateLimitSettings::default();
    let system = System::start_with(|settings| {
        settings.set(
            "rate_limit.registrations_per_minute",
            defaults.registrations_per_minute,
        );
        settings.set(
            "rate_limit.registrations_burst",
            defaults.registrations_burst,
        );
        settings.set(
            "rate_limit.registrations_per_minute_per_event",
            defaults.registrations_per_minute_per_event,
        );
        settings.set(
            "rate_limit.registrations_burst_per_event",
            defaults.registrations_burst_per_event,
        );
        settings.set(
            "rate_limit.registrations_per_hour_per_email",
            defaults.registrations_per_hour_per_email,
        );
        settings.set(
            "rate_limit.registrations_burst_per_email",
            defaults.registrations_burst_per_email,
        );
    })
    .await;
    let event = system.published_event("Campus rush").await;
    system.put_form(&event, json!({ "capacity": 1000 })).await;
    let campus = "203.0.113.200";
    let answers = futures::future::join_all((0..200).map(|n| {
        let event = event.clone();
        let system = &system;
        async move {
            register_as(
                system,
                Some(campus),
                &event,
                &format!("student{n}@uni.example.edu"),
            )
            .await
            .0
        }
    }))
    .await;
    assert!(
        answers.iter().all(|s| *s == StatusCode::CREATED),
        "{:?}",
        answers
            .iter()
            .filter(|s| **s != StatusCode::CREATED)
            .collect::<Vec<_>>()
    );
    // 2,000 from one address: the burst at once, the rest at the average.
    let minutes = f64::from(2000_u32.saturating_sub(defaults.registrations_burst))
        / f64::from(defaults.registrations_per_minute);
    assert!(
        minutes <= 5.0,
        "2,000 from one address take {minutes} minutes"
    );
    let per_event_minutes =
        f64::from(2000_u32.saturating_sub(defaults.registrations_burst_per_event))
            / f64::from(defaults.registrations_per_minute_per_event);
    assert!(per_event_minutes <= 5.0, "{per_event_minutes}");
}

/// Catches a missing limit per email address: registering a victim's address for event after event (each answer
/// emails it) floods their mailbox, from as many client addresses as the attacker has.
#[tokio::test]
async fn registrations_are_limited_per_email_address() {
    let system = System::start_with(|settings| {
        settings.set("rate_limit.registrations_per_hour_per_email", 1);
        settings.set("rate_limit.registrations_burst_per_email", 2);
    })
    .await;
    let mut events = Vec::new();
    for title in ["One", "Two", "Three"] {
        let event = system.published_event(title).await;
        system.put_form(&event, json!({ "capacity": 100 })).await;
        events.push(event);
    }
    let mut statuses = Vec::new();
    for (n, event) in events.iter().enumerate() {
        let (status, body) = register_as(
            &system,
            Some(&format!("203.0.113.{n}")),
            event,
            if n == 1 {
                "VICTIM@example.org"
            } else {
                "victim@example.org"
            },
        )
        .await;
        statuses.push(status.as_u16());
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert!(
                body["detail"].as_str().expect("detail").contains("email"),
                "{body}"
            );
        }
    }
    assert_eq!(statuses, [201, 201, 429]);
    // Someone else still registers for that event.
    let (status, _) = register_as(
        &system,
        Some("203.0.113.9"),
        &events[2],
        "other@example.org",
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
}

/// Catches a missing limit per event: many addresses at once filling one event's seats and waiting list.
#[tokio::test]
async fn registrations_are_limited_per_event() {
    let system = System::start_with(|settings| {
        settings.set("rate_limit.registrations_per_minute_per_event", 1);
        settings.set("rate_limit.registrations_burst_per_event", 3);
    })
    .await;
    let busy = system.published_event("Busy").await;
    let quiet = system.published_event("Quiet").await;
    for event in [&busy, &quiet] {
        system.put_form(event, json!({ "capacity": 100 })).await;
    }
    let mut statuses = Vec::new();
    for n in 0..4 {
        let (status, _) = register_as(
            &system,
            Some(&format!("198.51.100.{n}")),
            &busy,
            &format!("bot{n}@example.org"),
        )
        .await;
        statuses.push(status.as_u16());
    }
    assert_eq!(statuses, [201, 201, 201, 429]);
    let (status, _) =
        register_as(&system, Some("198.51.100.9"), &quiet, "person@example.org").await;
    assert_eq!(status, StatusCode::CREATED);
}

/// Catches the demo loader running into its own rate limit (issue 15.12/16.5): an organiser entering registrations
/// on people's behalf is not a flood from outside and never waits on the public limits.
#[tokio::test]
async fn an_organiser_registering_people_is_not_rate_limited() {
    let system = System::start_with(|settings| {
        settings.set("rate_limit.registrations_per_minute", 1);
        settings.set("rate_limit.registrations_burst", 1);
        settings.set("rate_limit.registrations_per_minute_per_event", 1);
        settings.set("rate_limit.registrations_burst_per_event", 1);
    })
    .await;
    let event = system.published_event("Paper list").await;
    system.put_form(&event, json!({ "capacity": 100 })).await;
    for n in 0..5 {
        let (status, body) = system
            .send(
                reqwest::Method::POST,
                "/v1/registrations",
                Some(json!({ "event_id": event, "email": format!("p{n}@example.org"), "name": "P", "consent": true })),
                Some(&system.organiser.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{n}: {body}");
    }
    // The public is limited as configured: one at once.
    let mut statuses = Vec::new();
    for n in 0..2 {
        let (status, _) =
            register_as(&system, None, &event, &format!("public{n}@example.org")).await;
        statuses.push(status.as_u16());
    }
    assert_eq!(statuses, [201, 429]);
}

/// Catches NUL characters reaching the database (issue 16.3; PostgreSQL answered 500): in a JSON string, a path or a
/// query parameter they are a 422 naming the field, or a 404.
#[tokio::test]
async fn nul_characters_are_refused_naming_the_field() {
    let system = System::start().await;
    let event = system.published_event("Webinar").await;
    system.put_form(&event, json!({ "capacity": 100 })).await;
    let (status, body) = system
        .send(
            reqwest::Method::POST,
            "/v1/registrations",
            Some(json!({ "event_id": event, "email": "n@example.org", "name": "N\u{0}", "consent": true })),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(&body), ["name"]);
    let (status, body) = system
        .send(
            reqwest::Method::POST,
            "/v1/registrations",
            Some(
                json!({ "event_id": event, "email": "n@example.org", "name": "N", "consent": true,
                         "answers": { "topic": "a\u{0}b" } }),
            ),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(&body), ["answers.topic"]);
    let organiser = system.organiser.clone();
    let (status, body) = system
        .send(
            reqwest::Method::GET,
            &format!("/v1/registrations?event_id={event}&status=confirmed%00"),
            None,
            Some(&organiser),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(&body), ["status"]);
    let (status, body) = system
        .send(reqwest::Method::GET, "/v1/forms/a%00b", None, None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}
