//! The guarantee: seats are never oversold, the waiting list keeps arrival order without gaps, cancellations
//! promote the first in line exactly once — under concurrency, on SQLite and PostgreSQL.

mod support;

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::System;

/// 500 people register at the same moment for 50 seats with a waiting list. Without the form lock two requests
/// would both see seat 50 free (oversold), or take the same waiting-list ticket (duplicate positions); without the
/// outbox row in the same transaction a registration could exist without its email, or an email without it.
/// Then 10 confirmed participants cancel at the same moment: the first 10 in line must move up, in order, each
/// once — a promotion outside the cancelling transaction would promote someone twice or skip someone.
#[tokio::test]
async fn five_hundred_concurrent_registrations_for_fifty_seats_and_ten_concurrent_cancellations() {
    let system = System::start().await;
    let event = system
        .published_event("Science and technology webinar")
        .await;
    let (status, form) = system
        .put_form(&event, json!({ "capacity": 50, "waitlist": true }))
        .await;
    assert_eq!(status, StatusCode::OK, "{form}");

    let started = Instant::now();
    let requests = (0..500).map(|n| {
        let request = system
            .registration
            .http
            .post(system.registration.url("/v1/registrations"))
            .json(&json!({ "event_id": event, "email": format!("person{n}@example.org"), "name": format!("Person {n}"), "consent": true }));
        async move {
            let response = request.send().await.expect("register");
            let status = response.status();
            (status, response.json::<Value>().await.expect("json"))
        }
    });
    let answers = futures::future::join_all(requests).await;
    let elapsed = started.elapsed();
    eprintln!(
        "500 concurrent registrations for 50 seats took {elapsed:?} on {}",
        cloverleaf_service_kit::testing::url_kind(system.registration.database.url())
    );
    assert!(
        answers.iter().all(|(s, _)| *s == StatusCode::CREATED),
        "{:?}",
        answers.iter().find(|(s, _)| *s != StatusCode::CREATED)
    );

    let confirmed: Vec<&Value> = answers
        .iter()
        .map(|(_, b)| b)
        .filter(|b| b["status"] == "confirmed")
        .collect();
    let waitlisted: Vec<&Value> = answers
        .iter()
        .map(|(_, b)| b)
        .filter(|b| b["status"] == "waitlisted")
        .collect();
    assert_eq!(confirmed.len(), 50, "exactly the seats");
    assert_eq!(waitlisted.len(), 450);

    // Positions as the organiser's list shows them now: 1..=450, distinct, in arrival (= id) order.
    let mut listed = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            None => format!("/v1/registrations?event_id={event}&status=waitlisted&limit=200"),
            Some(c) => {
                format!("/v1/registrations?event_id={event}&status=waitlisted&limit=200&cursor={c}")
            }
        };
        let page = system.organiser_get(&path).await;
        listed.extend(page["items"].as_array().expect("items").iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let positions: Vec<i64> = listed
        .iter()
        .map(|r| r["waitlist_position"].as_i64().expect("position"))
        .collect();
    assert_eq!(
        positions,
        (1..=450).collect::<Vec<_>>(),
        "gap-free, in arrival order"
    );
    let counts = system
        .organiser_get(&format!("/v1/registrations?event_id={event}&limit=1"))
        .await["counts"]
        .clone();
    assert_eq!(counts["confirmed"], 50);
    assert_eq!(counts["waitlisted"], 450);

    // Exactly one outbox event per registration.
    let outbox = system.outbox().await;
    let mut per_registration: HashMap<&str, usize> = HashMap::new();
    for (kind, id) in &outbox {
        assert!(
            kind == "registration.confirmed" || kind == "registration.waitlisted",
            "{kind}"
        );
        *per_registration.entry(id.as_str()).or_default() += 1;
    }
    assert_eq!(per_registration.len(), 500);
    assert!(per_registration.values().all(|n| *n == 1));

    // 10 confirmed cancel at once, each with their own manage token.
    let first_in_line: Vec<String> = listed
        .iter()
        .take(10)
        .map(|r| r["id"].as_str().expect("id").to_owned())
        .collect();
    let cancels = confirmed.iter().take(10).map(|r| {
        let request = system
            .registration
            .http
            .post(system.registration.url(&format!(
                "/v1/registrations/{}/cancel",
                r["id"].as_str().expect("id")
            )))
            .bearer_auth(r["manage_token"].as_str().expect("token"));
        async move { request.send().await.expect("cancel").status() }
    });
    let statuses = futures::future::join_all(cancels).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );

    let now_confirmed = system
        .organiser_get(&format!(
            "/v1/registrations?event_id={event}&status=confirmed&limit=500"
        ))
        .await;
    let ids: HashSet<String> = now_confirmed["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(ids.len(), 50, "still exactly the seats");
    for id in &first_in_line {
        assert!(ids.contains(id), "the first 10 in line moved up");
    }
    let still_waiting = system
        .organiser_get(&format!(
            "/v1/registrations?event_id={event}&status=waitlisted&limit=500"
        ))
        .await;
    let positions: Vec<i64> = still_waiting["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|r| r["waitlist_position"].as_i64().expect("p"))
        .collect();
    assert_eq!(positions, (1..=440).collect::<Vec<_>>());
    let promoted: Vec<String> = system
        .outbox()
        .await
        .into_iter()
        .filter(|(kind, _)| kind == "registration.promoted")
        .map(|(_, id)| id)
        .collect();
    assert_eq!(
        promoted, first_in_line,
        "each promoted once, in waiting-list order"
    );
    let (_, form) = system
        .send(
            reqwest::Method::GET,
            &format!("/v1/forms/{event}"),
            None,
            None,
        )
        .await;
    assert_eq!(form["seats_left"], 0);
    assert_eq!(form["confirmed"], 50);
}

/// Raising the capacity promotes as many as now fit, in order; lowering it below the confirmed count removes nobody.
#[tokio::test]
async fn capacity_changes_promote_and_never_remove() {
    let system = System::start().await;
    let event = system.published_event("Workshop").await;
    system
        .put_form(&event, json!({ "capacity": 2, "waitlist": true }))
        .await;
    let mut ids = Vec::new();
    for n in 0..5 {
        let (status, body) = system
            .register(&event, &format!("p{n}@example.org"), &format!("P{n}"))
            .await;
        assert_eq!(status, StatusCode::CREATED);
        ids.push(body["id"].as_str().expect("id").to_owned());
    }
    let (_, form) = system
        .put_form(&event, json!({ "capacity": 4, "waitlist": true }))
        .await;
    assert_eq!(form["confirmed"], 4);
    let status_of = |body: &Value| body["status"].as_str().expect("status").to_owned();
    for (n, id) in ids.iter().enumerate() {
        let body = system
            .organiser_get(&format!("/v1/registrations/{id}"))
            .await;
        assert_eq!(
            status_of(&body),
            if n < 4 { "confirmed" } else { "waitlisted" },
            "{n}"
        );
    }
    let (_, form) = system
        .put_form(&event, json!({ "capacity": 1, "waitlist": true }))
        .await;
    assert_eq!(form["confirmed"], 4, "nobody removed");
    assert_eq!(form["seats_left"], 0);
    let (status, body) = system.register(&event, "late@example.org", "Late").await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(body["waitlist_position"], 2);
}

/// One batch (group commit) holding every awkward case at once, written by `register_batch` directly so the batch's
/// make-up is certain: two events (3 seats + waiting list; 1 seat, no list), an unknown event, the same address
/// twice, the same Idempotency-Key twice with the same body and once with another body, a key answered before the
/// batch. Each answer must be what registering one by one in this order would give. What would break: counters kept
/// per request instead of per form (oversold seats), waiting-list places counted from the database only (two
/// newcomers sharing place 1), a duplicate in the batch let through (two registrations for one address), outbox rows
/// out of request order (a manage link delivered before the confirmation it refers to).
#[tokio::test]
async fn a_batch_answers_each_registration_as_if_written_one_by_one() {
    use cloverleaf_registration::domain::registration::Participant;
    use cloverleaf_registration::store::registrations::{
        IdempotencyKey, NewRegistration, Registered, register_batch,
    };
    use cloverleaf_service_kit::validate::EmailAddress;

    let system = System::start().await;
    let webinar = system.published_event("Webinar").await;
    let workshop = system.published_event("Workshop").await;
    system
        .put_form(&webinar, json!({ "capacity": 3, "waitlist": true }))
        .await;
    system
        .put_form(&workshop, json!({ "capacity": 1, "waitlist": false }))
        .await;
    // A key answered before the batch.
    let earlier: Value = system
        .registration
        .http
        .post(system.registration.url("/v1/registrations"))
        .header("idempotency-key", "before")
        .json(&json!({ "event_id": webinar, "email": "before@example.org", "name": "Before", "consent": true }))
        .send()
        .await
        .expect("register")
        .json()
        .await
        .expect("json");
    assert_eq!(earlier["status"], "confirmed");

    let starts = chrono::Utc::now() + chrono::Duration::days(30);
    let request = |event: &str, email: &str, key: Option<(&str, &str)>| NewRegistration {
        event_id: event.parse().expect("event id"),
        event_starts_at: starts,
        participant: Participant {
            email: EmailAddress::parse(email).expect("email"),
            name: email.to_owned(),
            affiliation: None,
            country: None,
            answers: serde_json::Map::new(),
            locale: "en".to_owned(),
            timezone: None,
        },
        idempotency_key: key.map(|(key, hash)| IdempotencyKey {
            key: key.to_owned(),
            request_hash: hash.to_owned(),
        }),
        request_id: None,
    };
    let unknown = uuid::Uuid::now_v7().to_string();
    let batch = vec![
        request(&webinar, "a@example.org", None), // 0: seat 2 of 3
        request(&webinar, "b@example.org", Some(("k1", "h1"))), // 1: seat 3 of 3
        request(&webinar, "c@example.org", None), // 2: waiting list, place 1
        request(&webinar, "A@Example.org", None), // 3: same address as 0
        request(&webinar, "b@example.org", Some(("k1", "h1"))), // 4: retry of 1
        request(&webinar, "d@example.org", Some(("k1", "other"))), // 5: k1 with another body
        request(&workshop, "a@example.org", None), // 6: the workshop's one seat
        request(&workshop, "e@example.org", None), // 7: full, no list
        request(&unknown, "f@example.org", None), // 8: no such form
        request(&webinar, "before@example.org", Some(("before", "x"))), // 9: key used before, other body
        request(&webinar, "g@example.org", None),                       // 10: waiting list, place 2
    ];
    let db = cloverleaf_service_kit::db::connect(system.registration.database.url(), 2)
        .await
        .expect("db");
    let subscribers = vec!["notifications".to_owned()];
    let answers = register_batch(&db, &batch, &subscribers)
        .await
        .expect("the batch is written");
    assert_eq!(answers.len(), batch.len());

    let new = |n: usize| match &answers[n] {
        Ok(Registered::New {
            registration,
            position,
        }) => (registration.clone(), *position),
        other => panic!("{n}: {other:?}"),
    };
    let problem = |n: usize| match &answers[n] {
        Err(cloverleaf_registration::Error::Refused(refusal)) => {
            cloverleaf_service_kit::Problem::from(refusal.clone()).type_uri
        }
        other => panic!("{n}: {other:?}"),
    };
    assert_eq!(new(0).0.status, "confirmed");
    assert_eq!(new(1).0.status, "confirmed");
    assert_eq!(new(2).0.status, "waitlisted");
    assert_eq!(new(2).1, Some(1));
    assert!(
        matches!(answers[3], Ok(Registered::AlreadyRegistered)),
        "{:?}",
        answers[3]
    );
    match &answers[4] {
        Ok(Registered::Replayed { registration, .. }) => assert_eq!(registration.id, new(1).0.id),
        other => panic!("4: {other:?}"),
    }
    assert!(
        problem(5).ends_with("idempotency-key-reused"),
        "{}",
        problem(5)
    );
    assert_eq!(new(6).0.status, "confirmed");
    assert!(problem(7).ends_with("full"), "{}", problem(7));
    assert!(problem(8).ends_with("not-found"), "{}", problem(8));
    assert!(
        problem(9).ends_with("idempotency-key-reused"),
        "{}",
        problem(9)
    );
    assert_eq!(new(10).0.status, "waitlisted");
    assert_eq!(new(10).1, Some(2));

    // What was stored matches the answers: counters, positions, one registration per address.
    let counts = system
        .organiser_get(&format!("/v1/registrations?event_id={webinar}"))
        .await["counts"]
        .clone();
    assert_eq!(counts["confirmed"], 3);
    assert_eq!(counts["waitlisted"], 2);
    let (_, form) = system
        .put_form(&webinar, json!({ "capacity": 3, "waitlist": true }))
        .await;
    assert_eq!(form["confirmed"], 3);
    let listed = system
        .organiser_get(&format!("/v1/registrations/{}", new(10).0.id))
        .await;
    assert_eq!(listed["waitlist_position"], 2);
    let counts = system
        .organiser_get(&format!("/v1/registrations?event_id={workshop}"))
        .await["counts"]
        .clone();
    assert_eq!(counts["confirmed"], 1);

    // The outbox, in request order: the manage link for 0's address after 0's confirmation.
    let outbox = system.outbox().await;
    let id = |n: usize| new(n).0.id.to_string();
    let written: Vec<(String, String)> = outbox.into_iter().skip(1).collect();
    let expected: Vec<(String, String)> = vec![
        ("registration.confirmed".into(), id(0)),
        ("registration.confirmed".into(), id(1)),
        ("registration.waitlisted".into(), id(2)),
        ("registration.manage_link_requested".into(), id(0)),
        ("registration.confirmed".into(), id(6)),
        ("registration.waitlisted".into(), id(10)),
    ];
    assert_eq!(written, expected);
}

/// Two batches written at the same moment, each holding a try of the same request (same Idempotency-Key, same
/// event): the second waits for the form's lock and must answer as a retry of the first. What would break: reading
/// the stored keys before taking the lock — the second batch would not see the first's key, then find the address
/// already registered and answer 409 instead of the first answer.
#[tokio::test]
async fn two_batches_with_the_same_key_at_once_give_one_registration() {
    use cloverleaf_registration::domain::registration::Participant;
    use cloverleaf_registration::store::registrations::{
        IdempotencyKey, NewRegistration, Registered, register_batch,
    };
    use cloverleaf_service_kit::validate::EmailAddress;

    let system = System::start().await;
    let event = system.published_event("Webinar").await;
    system
        .put_form(&event, json!({ "capacity": 10, "waitlist": true }))
        .await;
    let request = NewRegistration {
        event_id: event.parse().expect("event id"),
        event_starts_at: chrono::Utc::now() + chrono::Duration::days(30),
        participant: Participant {
            email: EmailAddress::parse("twice@example.org").expect("email"),
            name: "Twice".to_owned(),
            affiliation: None,
            country: None,
            answers: serde_json::Map::new(),
            locale: "en".to_owned(),
            timezone: None,
        },
        idempotency_key: Some(IdempotencyKey {
            key: "same-key".to_owned(),
            request_hash: "same-body".to_owned(),
        }),
        request_id: None,
    };
    // Two pools, each already connected, like two replicas: both batches start at once.
    let url = system.registration.database.url();
    let db_a = cloverleaf_service_kit::db::connect(url, 1)
        .await
        .expect("db");
    let db_b = cloverleaf_service_kit::db::connect(url, 1)
        .await
        .expect("db");
    let subscribers = Vec::new();
    let first = [request.clone()];
    let second = [request];
    let (a, b) = tokio::join!(
        register_batch(&db_a, &first, &subscribers),
        register_batch(&db_b, &second, &subscribers)
    );
    let ids: Vec<String> = [a, b]
        .into_iter()
        .map(|answers| {
            match answers
                .expect("the batch is written")
                .pop()
                .expect("one answer")
            {
                Ok(Registered::New { registration, .. })
                | Ok(Registered::Replayed { registration, .. }) => registration.id.to_string(),
                other => panic!("{other:?}"),
            }
        })
        .collect();
    assert_eq!(ids[0], ids[1], "one registration for both tries");
    let counts = system
        .organiser_get(&format!("/v1/registrations?event_id={event}"))
        .await["counts"]
        .clone();
    assert_eq!(counts["confirmed"], 1);
}
