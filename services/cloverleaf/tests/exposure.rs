//! What a deployment that exposes only the edge shows the world (issues 15.7 and 16), with the whole system started
//! as `cloverleaf serve` starts it, on SQLite or PostgreSQL: the API docs of all three services work through the
//! edge; operators' paths are off it (or behind the operator token); NUL characters from outside are a 404/422 and
//! never reach a database; the portal's `next` only leads to this site; and a caller cannot pick the address the
//! registration limits count under by sending X-Forwarded-For to the edge.

mod support;

use cloverleaf_service_kit::config::ServiceName;
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{ORGANISER, PASSWORD, System};

fn set_cookie(headers: &reqwest::header::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix(&format!("{name}=")))
        .map(|rest| rest.split(';').next().unwrap_or_default().to_owned())
}

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

/// Catches issue 15.7: the edge had no `/docs/` (the portal's 404), and `/services/<name>/docs/` loaded its
/// definition from `/openapi.json` at the edge's root — "Failed to load API definition". The edge's page lists the
/// three documents, and each URL it loads answers OpenAPI JSON of that service, through the edge.
#[tokio::test]
async fn the_edge_serves_working_docs_of_all_three_apis() {
    let system = System::start(|_| {}).await;
    let (status, _, page) = system.get("/docs/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("swagger-ui"), "{page}");
    let (status, _, initializer) = system.get("/docs/swagger-initializer.js").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        initializer.contains(r#""validatorUrl": "none""#),
        "{initializer}"
    );
    for text in [&page, &initializer] {
        assert!(
            !text.contains("https://"),
            "nothing from the internet: {text}"
        );
    }
    let (status, _, _) = system.get("/docs/swagger-ui-bundle.js").await;
    assert_eq!(status, StatusCode::OK, "the assets are compiled in");
    for (service, owned) in [
        (ServiceName::Registration, "/v1/registrations"),
        (ServiceName::Scheduling, "/v1/events"),
        (ServiceName::Notifications, "/v1/messages"),
    ] {
        let url = format!("/openapi/{service}.json");
        assert!(
            initializer.contains(&format!(r#""url": "{url}""#)),
            "the page loads {url}: {initializer}"
        );
        let (status, headers, text) = system.get(&url).await;
        assert_eq!(status, StatusCode::OK, "{url}: {text}");
        assert!(
            headers["content-type"]
                .to_str()
                .expect("type")
                .starts_with("application/json"),
            "{url}"
        );
        let document: Value = serde_json::from_str(&text).expect("JSON");
        assert!(
            document["openapi"]
                .as_str()
                .expect("openapi")
                .starts_with("3.1"),
            "{url}"
        );
        assert!(
            document["info"]["title"]
                .as_str()
                .expect("title")
                .contains(service.as_str()),
            "{url}"
        );
        assert!(
            document["paths"].get(owned).is_some(),
            "{url} documents {owned}"
        );
    }
    let (status, _, _) = system.get("/openapi/secrets.json").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    system.stop().await;
}

/// Catches issue 16.7: `/metrics` and `/services/<name>/metrics` (routes and timings) and the services' own documents
/// were public through the edge. Without an operator token configured they are not served; with one, only with it.
/// Liveness and readiness stay open; a service's own docs through the edge load their document relative to the page.
#[tokio::test]
async fn operator_paths_are_off_the_public_edge() {
    let system = System::start(|_| {}).await;
    for path in [
        "/metrics",
        "/services/scheduling/metrics",
        "/services/registration/metrics",
        "/services/notifications/openapi.json",
        "/services/scheduling/docs/",
        "/services/portal/metrics",
    ] {
        let (status, _, body) = system.get(path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert!(!body.contains("cloverleaf_http_requests_total"), "{path}");
    }
    for name in ["registration", "scheduling", "notifications"] {
        let (status, _, _) = system.get(&format!("/services/{name}/readyz")).await;
        assert_eq!(status, StatusCode::OK, "{name}");
    }
    system.stop().await;

    let token = "operator-token-for-the-test";
    let system = System::start(|settings| {
        settings.edge.operator_token = token.to_owned().into();
    })
    .await;
    for path in ["/metrics", "/services/scheduling/metrics"] {
        let (status, headers, _) = system.get(path).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        assert!(headers.contains_key("www-authenticate"));
        let (status, _, _) = system.get_with(path, Some("not-the-token")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        let (status, _, metrics) = system.get_with(path, Some(token)).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(metrics.contains("# TYPE cloverleaf_"), "{path}: {metrics}");
    }
    let (status, _, initializer) = system
        .get_with(
            "/services/scheduling/docs/swagger-initializer.js",
            Some(token),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        initializer.contains(r#""url": "../openapi.json""#),
        "{initializer}"
    );
    let (status, _, document) = system
        .get_with("/services/scheduling/openapi.json", Some(token))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(document.contains("\"openapi\""));
    system.stop().await;
}

/// Catches issue 16.3: a NUL byte from outside reached PostgreSQL (500) — in event paths, `/v1/messages?to=`, a
/// login's email — and the portal's event page turned scheduling's 500 into a 502. Through the edge, without
/// logging in: 404 for a path, 422 naming the parameter or field.
#[tokio::test]
async fn nul_characters_from_outside_are_a_404_or_a_422_naming_the_field() {
    let system = System::start(|_| {}).await;
    for path in [
        "/v1/events/a%00b",
        "/v1/events/a%00b/calendar.ics",
        "/v1/events/a%00b/items",
        "/v1/events/a%00b/changes",
        "/v1/forms/a%00b",
    ] {
        let (status, body) = system.json(reqwest::Method::GET, path, None, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
    }
    let (status, body) = system
        .json(
            reqwest::Method::POST,
            "/v1/events/a%00b/publish",
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = system
        .json(
            reqwest::Method::GET,
            "/v1/messages?to=a%00@example.org",
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(&body), ["to"]);
    let (status, body) = system
        .json(
            reqwest::Method::POST,
            "/v1/auth/token",
            None,
            Some(json!({ "email": "a\u{0}@example.org", "password": PASSWORD })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(&body), ["email"]);
    let (status, _, page) = system.get("/events/%00whatever").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the portal's page: {page}");
    system.stop().await;
}

/// Catches issues 16.1 and 16.2: `next=/%09/evil.example` redirected to `/\t/evil.example`, which browsers follow to
/// another site, also right after a real login; `next=/%0A/x` was a 500, at login after the token was issued. Only
/// same-site paths pass; anything else goes to the page's default, and the session cookie comes only with a success.
#[tokio::test]
async fn next_leads_only_to_this_site_and_never_breaks_a_login() {
    let system = System::start(|_| {}).await;
    for (next, expected) in [
        ("/%09/evil.example", "/"),
        ("/%0A/x", "/"),
        ("/%0D%0ASet-Cookie:%20x=1", "/"),
        ("%2F%5Cevil.example", "/"),
        ("https://evil.example", "/"),
        ("//evil.example", "/"),
        ("/events?kind=webinar", "/events?kind=webinar"),
    ] {
        let (status, headers, body) = system.get(&format!("/lang/en?next={next}")).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{next}: {body}");
        assert_eq!(headers["location"], expected, "{next}");
    }

    let (status, headers, page) = system.get("/organiser/login?next=/%09/evil.example").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains(r#"<input type="hidden" name="next" value="&#x2f;organiser">"#),
        "the form does not carry it on: {page}"
    );
    let csrf = set_cookie(&headers, "cl_csrf").expect("csrf cookie");
    let login = |next: &'static str, password: &'static str| {
        let csrf = csrf.clone();
        let system = &system;
        async move {
            let response = system
                .http
                .post(system.edge("/organiser/login"))
                .header("cookie", format!("cl_csrf={csrf}"))
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("email", ORGANISER),
                    ("password", password),
                    ("next", next),
                ])
                .send()
                .await
                .expect("login");
            (response.status(), response.headers().clone())
        }
    };
    for next in [
        "/\t/evil.example",
        "/\n/x",
        "/\r\nSet-Cookie: x=1",
        "/\\evil.example",
    ] {
        let (status, headers) = login(next, PASSWORD).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(headers["location"], "/organiser", "{next:?}");
        assert!(set_cookie(&headers, "cl_session").is_some(), "{next:?}");
    }
    let (status, headers) = login("/organiser/events", PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "/organiser/events");
    let (status, headers) = login("/\n/x", "not the password at all").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        set_cookie(&headers, "cl_session").is_none(),
        "no session on a failure"
    );
    system.stop().await;
}

/// Guards issue 16.6 through the edge: a caller rotating X-Forwarded-For is counted as itself. The edge trusts no
/// proxy by default, drops the caller's own header and names only the caller; registration believes the edge.
#[tokio::test]
async fn a_caller_rotating_x_forwarded_for_through_the_edge_is_limited_by_its_own_address() {
    let system = System::start(|settings| {
        settings.set("rate_limit.registrations_per_minute", 1);
        settings.set("rate_limit.registrations_burst", 2);
    })
    .await;
    let token = system.organiser_token().await;
    let starts = chrono::Utc::now() + chrono::Duration::days(30);
    let (status, event) = system
        .json(
            reqwest::Method::POST,
            "/v1/events",
            Some(&token),
            Some(json!({
                "kind": "webinar", "title": "Limits", "timezone": "Europe/Brussels",
                "starts_at": starts.to_rfc3339(), "ends_at": (starts + chrono::Duration::hours(2)).to_rfc3339(),
                "online_url": "https://meet.example.org/w",
                "organiser": { "name": "PerMed Office", "email": ORGANISER },
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{event}");
    let id = event["id"].as_str().expect("id").to_owned();
    let (status, body) = system
        .json(
            reqwest::Method::POST,
            &format!("/v1/events/{id}/publish"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = system
        .json(
            reqwest::Method::PUT,
            &format!("/v1/forms/{id}"),
            Some(&token),
            Some(json!({ "capacity": 100 })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut statuses = Vec::new();
    for n in 0..4 {
        let response = system
            .http
            .post(system.edge("/v1/registrations"))
            .header("x-forwarded-for", format!("203.0.113.{n}"))
            .json(&json!({ "event_id": id, "email": format!("r{n}@example.org"), "name": "R", "consent": true }))
            .send()
            .await
            .expect("register");
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [201, 201, 429, 429]);
    system.stop().await;
}

/// Catches the demo loader running into its own rate limit (issues 15.12 and 16.5): it registers the demo's people
/// as the organiser it logged in as, which the public limits do not hold back — even limits of one.
#[tokio::test]
async fn the_demo_loader_never_waits_on_the_rate_limits() {
    let system = System::start(|settings| {
        settings
            .set("rate_limit.registrations_per_minute", 1)
            .set("rate_limit.registrations_burst", 1)
            .set("rate_limit.registrations_per_hour_per_email", 1)
            .set("rate_limit.registrations_burst_per_email", 1)
            .set("rate_limit.registrations_per_minute_per_event", 1)
            .set("rate_limit.registrations_burst_per_event", 1);
    })
    .await;
    let started = std::time::Instant::now();
    let edge = system.edge("");
    let outcome =
        cloverleaf::demo::load(&system.settings, &edge, cloverleaf::demo::Letters::DontWait)
            .await
            .expect("the demo loads");
    assert!(matches!(outcome, cloverleaf::demo::Outcome::Loaded { .. }));
    // Each refusal would have cost the loader a pause of a second or more, five tries at most.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
    // The public still is limited: one at once.
    let mut statuses = Vec::new();
    for n in 0..2 {
        let (status, _) = system
            .json(
                reqwest::Method::POST,
                "/v1/registrations",
                None,
                Some(json!({ "event_id": uuid_of_any(), "email": format!("x{n}@example.org"), "name": "X", "consent": true })),
            )
            .await;
        statuses.push(status.as_u16());
    }
    assert_eq!(statuses, [404, 429]);
    system.stop().await;
}

/// An event id that surely does not exist: the limits are checked before the event is looked up.
fn uuid_of_any() -> &'static str {
    "0190a0a0-0000-7000-8000-000000000fff"
}
