//! The portal's pages without a browser, against a stand-in for the three services that answers as they document:
//! rendering, the choice of language, problem+json errors beside their fields, CSRF, logins, and a friendly 503
//! page when a service is down. (The real services, in a real browser: `tests/tests/browser.rs`.)

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use cloverleaf_service_kit::Settings;
use serde_json::{Value, json};

const WEBINAR_ID: &str = "0190a0a0-0000-7000-8000-0000000000a1";
const TOUR_ID: &str = "0190a0a0-0000-7000-8000-0000000000b2";

fn webinar() -> Value {
    json!({ "id": WEBINAR_ID, "slug": "pgx-webinar", "kind": "webinar", "title": "Pharmacogenomics webinar",
            "summary": "From cohorts to the clinic.", "timezone": "Europe/Brussels",
            "starts_at": "2027-06-15T10:00:00+02:00", "ends_at": "2027-06-15T12:00:00+02:00",
            "online_url": "https://meet.example.org/pgx", "status": "published", "sequence": 0,
            "organiser": { "name": "PerMed Office", "email": "office@example.org" } })
}

fn tour() -> Value {
    json!({ "id": TOUR_ID, "slug": "clover-leaf-tour", "kind": "tour", "title": "Clover Leaf tour",
            "timezone": "Europe/Berlin", "starts_at": "2027-09-01T09:00:00+02:00",
            "ends_at": "2027-09-05T18:00:00+08:00", "status": "published", "sequence": 0 })
}

fn problem(status: StatusCode, slug: &str, errors: Value) -> Response {
    let body = json!({ "type": format!("https://cloverleaf.dev/problems/{slug}"), "title": slug,
                       "status": status.as_u16(), "detail": slug, "errors": errors });
    (
        status,
        [("content-type", "application/problem+json")],
        body.to_string(),
    )
        .into_response()
}

/// What the stand-in saw of the last registration.
#[derive(Default)]
struct Seen {
    registration: Option<Value>,
    forwarded_for: Option<String>,
}

/// Registration, scheduling and notifications in one stand-in server.
async fn services(seen: Arc<Mutex<Seen>>) -> String {
    let app = Router::new()
        .route(
            "/v1/events",
            get(|| async { axum::Json(json!({ "items": [webinar(), tour()], "next_cursor": null })) }),
        )
        .route(
            "/v1/events/{key}",
            get(|Path(key): Path<String>| async move {
                match key.as_str() {
                    "pgx-webinar" | WEBINAR_ID => axum::Json(webinar()).into_response(),
                    "clover-leaf-tour" | TOUR_ID => axum::Json(tour()).into_response(),
                    _ => problem(StatusCode::NOT_FOUND, "not-found", json!([])),
                }
            }),
        )
        .route(
            "/v1/events/{key}/items",
            get(|Path(key): Path<String>| async move {
                let items = if key == TOUR_ID {
                    json!([
                        { "id": "0190a0a0-0000-7000-8000-000000000001", "kind": "transfer", "title": "Flight to Guangzhou",
                          "starts_at": "2027-09-01T13:00:00+02:00", "ends_at": "2027-09-02T06:00:00+08:00",
                          "timezone": "Europe/Berlin", "transfer": { "from": "Berlin", "to": "Guangzhou" } },
                        { "id": "0190a0a0-0000-7000-8000-000000000002", "kind": "visit", "title": "Sun Yat-sen University",
                          "starts_at": "2027-09-02T14:00:00+08:00", "ends_at": "2027-09-02T16:00:00+08:00",
                          "timezone": "Asia/Shanghai", "own_timezone": true,
                          "visit": { "institution": "Zhongshan School of Medicine", "city": "Guangzhou" } }
                    ])
                } else {
                    json!([{ "id": "0190a0a0-0000-7000-8000-000000000003", "kind": "talk", "title": "Cohorts in China",
                             "starts_at": "2027-06-15T10:00:00+02:00", "ends_at": "2027-06-15T10:45:00+02:00",
                             "timezone": "Europe/Brussels", "speakers": [{ "name": "Wang Lei 王磊" }] }])
                };
                axum::Json(json!({ "items": items, "next_cursor": null }))
            }),
        )
        .route(
            "/v1/forms/{id}",
            get(|| async {
                axum::Json(json!({ "capacity": 100, "waitlist": true, "approval": "automatic", "seats_left": 42,
                                   "confirmed": 58, "open": true,
                                   "questions": [{ "id": "topic", "label": "Which topic?", "type": "single_choice",
                                                   "required": true, "options": ["Pharmacogenomics", "AI"] }] }))
            }),
        )
        .route(
            "/v1/registrations",
            axum::routing::post(move |headers: HeaderMap, axum::Json(body): axum::Json<Value>| {
                let seen = seen.clone();
                async move {
                    let mut seen = seen.lock().expect("seen");
                    seen.forwarded_for = headers
                        .get("x-forwarded-for")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    seen.registration = Some(body);
                    problem(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "validation",
                        json!([
                            { "field": "email", "code": "invalid_email", "message": "must be an email address" },
                            { "field": "answers.topic", "code": "required", "message": "is required" },
                            { "field": "timezone", "code": "invalid_timezone", "message": "must be an IANA zone" }
                        ]),
                    )
                }
            }),
        )
        .route(
            "/v1/events/{key}/conflicts",
            get(|| async {
                axum::Json(json!({ "items": [{
                    "kind": "person_double_booked",
                    "message": "Wang Lei speaks in two places at 10:00",
                    "items": [{ "id": "0190a0a0-0000-7000-8000-000000000003", "title": "Cohorts in China" }]
                }], "next_cursor": null }))
            }),
        )
        .route(
            "/v1/registrations",
            get(|headers: HeaderMap| async move {
                if headers.get("authorization").is_none() {
                    return problem(StatusCode::UNAUTHORIZED, "unauthorized", json!([]));
                }
                if headers
                    .get("accept")
                    .is_some_and(|a| a.to_str().unwrap_or_default().contains("text/csv"))
                {
                    return ([("content-type", "text/csv")], "name,email\r\nAnna,anna@example.org\r\n")
                        .into_response();
                }
                axum::Json(json!({ "items": [{
                        "id": "0190a0a0-0000-7000-8000-0000000000c3", "event_id": WEBINAR_ID,
                        "status": "pending_approval", "email": "anna@example.org", "name": "Anna Rossi",
                        "answers": {}, "created_at": "2027-05-01T08:00:00Z" }],
                    "next_cursor": null,
                    "counts": { "confirmed": 58, "waitlisted": 3, "pending_approval": 1 } }))
                .into_response()
            }),
        )
        .route(
            "/v1/registrations/{id}/{action}",
            post(|Path((_, action)): Path<(String, String)>| async move {
                if action == "approve" {
                    axum::Json(json!({})).into_response()
                } else {
                    problem(StatusCode::CONFLICT, "conflict", json!([]))
                }
            }),
        )
        .route(
            "/v1/auth/token",
            post(|| async { problem(StatusCode::UNAUTHORIZED, "unauthorized", json!([])) }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("serve")
    });
    url
}

struct Portal {
    url: String,
    http: reqwest::Client,
    seen: Arc<Mutex<Seen>>,
    _dir: tempfile::TempDir,
}

fn settings(dir: &std::path::Path, services: &str) -> Settings {
    let mut settings = cloverleaf_service_kit::testing::settings(dir);
    settings.registration.url = services.to_owned();
    settings.scheduling.url = services.to_owned();
    settings.notifications.url = services.to_owned();
    settings
}

async fn portal_at(services: String, seen: Arc<Mutex<Seen>>) -> Portal {
    let dir = tempfile::tempdir().expect("dir");
    let portal = cloverleaf_portal::build(&settings(dir.path(), &services)).expect("builds");
    let running = portal.bind("127.0.0.1:0").await.expect("bind");
    Portal {
        url: running.url(),
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        seen,
        _dir: dir,
    }
}

async fn portal() -> Portal {
    let seen = Arc::new(Mutex::new(Seen::default()));
    portal_at(services(seen.clone()).await, seen).await
}

impl Portal {
    async fn get(&self, path: &str, headers: &[(&str, &str)]) -> (StatusCode, HeaderMap, String) {
        let mut request = self.http.get(format!("{}{path}", self.url));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("get");
        let (status, headers) = (response.status(), response.headers().clone());
        (status, headers, response.text().await.expect("text"))
    }

    async fn post(
        &self,
        path: &str,
        cookie: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, HeaderMap, String) {
        let response = self
            .http
            .post(format!("{}{path}", self.url))
            .header("cookie", cookie)
            .form(form)
            .send()
            .await
            .expect("post");
        let (status, headers) = (response.status(), response.headers().clone());
        (status, headers, response.text().await.expect("text"))
    }
}

/// The value of `name` in the Set-Cookie headers.
fn set_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix(&format!("{name}=")))
        .map(|rest| rest.split(';').next().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn pages_speak_the_visitors_language_from_the_cookie_or_accept_language() {
    let portal = portal().await;
    let (status, headers, html) = portal.get("/", &[]).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("<html lang=\"en\">"), "{html}");
    assert!(html.contains("Pharmacogenomics webinar") && html.contains("Clover Leaf tour"));
    assert!(
        headers["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/html")
    );
    let csp = headers["content-security-policy"].to_str().expect("csp");
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    let csrf = set_cookie(&headers, "cl_csrf").expect("a CSRF cookie");
    assert_eq!(csrf.len(), 43);
    let raw = headers["set-cookie"].to_str().expect("cookie");
    assert!(
        raw.contains("HttpOnly") && raw.contains("SameSite=Lax"),
        "{raw}"
    );
    // Nothing from elsewhere: the CSS and the script are the portal's own.
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"https://fonts"),
        "{html}"
    );

    let (_, _, chinese) = portal
        .get("/", &[("accept-language", "zh-CN,zh;q=0.9,en;q=0.5")])
        .await;
    assert!(chinese.contains("<html lang=\"zh-CN\">"));
    assert!(
        chinese.contains("网络研讨会") && chinese.contains("2027年6月15日（周二）"),
        "{chinese}"
    );

    let (_, _, chosen) = portal
        .get(
            "/",
            &[("accept-language", "zh-CN"), ("cookie", "cl_lang=en")],
        )
        .await;
    assert!(
        chosen.contains("<html lang=\"en\">"),
        "the switch wins over the browser"
    );

    let (status, headers, _) = portal
        .get("/lang/zh-CN?next=%2Fevents%2Fpgx-webinar", &[])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "/events/pgx-webinar");
    assert_eq!(set_cookie(&headers, "cl_lang").as_deref(), Some("zh-CN"));
    let (_, headers, _) = portal.get("/lang/en?next=%2F%2Fevil.example", &[]).await;
    assert_eq!(headers["location"], "/", "only local paths");

    let (status, _, css) = portal.get("/static/portal.css", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(css.contains(":focus-visible"));
    let (status, _, missing) = portal.get("/no/such/page", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(missing.contains("Page not found"));
}

#[tokio::test]
async fn an_event_page_shows_its_agenda_a_tour_by_day_and_city_in_either_zone() {
    let portal = portal().await;
    let (status, _, html) = portal.get("/events/pgx-webinar", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Tue 15 Jun 2027, 10:00–12:00"), "{html}");
    assert!(html.contains("Wang Lei 王磊"));
    assert!(html.contains("42 seats left"));
    assert!(html.contains("href=\"/events/pgx-webinar/register\""));
    assert!(
        html.contains("data-my-zone"),
        "the switch to the visitor's zone, for the script"
    );

    let (_, _, tour) = portal.get("/events/clover-leaf-tour", &[]).await;
    assert!(tour.contains("Itinerary"));
    assert!(
        tour.contains("Day 1") && tour.contains("Berlin → Guangzhou"),
        "{tour}"
    );
    assert!(tour.contains("Day 2"));
    assert!(
        tour.contains("14:00–16:00") && tour.contains("Asia&#x2f;Shanghai"),
        "the visit in its own zone: {tour}"
    );

    let (_, _, mine) = portal
        .get("/events/clover-leaf-tour?tz=America/New_York", &[])
        .await;
    assert!(
        mine.contains("Times are shown in America&#x2f;New_York"),
        "{mine}"
    );
    assert!(
        mine.contains("02:00–04:00"),
        "the visit in New York time: {mine}"
    );

    let (status, _, _) = portal.get("/events/nothing-here", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn registration_errors_are_shown_beside_their_fields_and_posts_need_the_csrf_token() {
    let portal = portal().await;
    let (status, headers, form) = portal.get("/events/pgx-webinar/register", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        form.contains("<label for=\"f-email\">"),
        "every field has its label"
    );
    assert!(
        form.contains("name=\"answers.topic\""),
        "the form's question"
    );
    let csrf = set_cookie(&headers, "cl_csrf").expect("csrf");
    assert!(form.contains(&format!("name=\"csrf\" value=\"{csrf}\"")));

    let fields = [
        ("email", "not-an-email"),
        ("name", "Sophie"),
        ("consent", "yes"),
        ("timezone", "Mars/Olympus"),
    ];
    let cookie = format!("cl_csrf={csrf}");
    let (status, _, refused) = portal
        .post("/events/pgx-webinar/register", &cookie, &fields)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no token in the form");
    assert!(refused.contains("Please send the form again"));
    assert!(portal.seen.lock().expect("seen").registration.is_none());

    let mut with_token = fields.to_vec();
    with_token.push(("csrf", &csrf));
    let (status, _, page) = portal
        .post("/events/pgx-webinar/register", &cookie, &with_token)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"f-email-error\""), "{page}");
    assert!(page.contains("Enter an email address like name@example.org"));
    assert!(
        page.contains("aria-describedby=\"f-email-hint f-email-error\" aria-invalid=\"true\""),
        "{page}"
    );
    assert!(page.contains("id=\"f-answers-topic-error\""));
    assert!(
        page.contains("timezone: Enter a valid time zone"),
        "a field with no place of its own: {page}"
    );
    assert!(page.contains("value=\"Sophie\""), "what was typed is kept");
    {
        let seen = portal.seen.lock().expect("seen");
        let sent = seen.registration.as_ref().expect("sent");
        assert_eq!(sent["event_id"], WEBINAR_ID);
        assert_eq!(sent["consent"], true);
        assert_eq!(sent["locale"], "en");
        assert_eq!(sent["answers"], json!({}));
        assert_eq!(
            seen.forwarded_for.as_deref(),
            Some("127.0.0.1"),
            "the visitor's address goes on"
        );
    }

    let cookie = format!("cl_csrf={csrf}; cl_lang=zh-CN");
    let (_, _, chinese) = portal
        .post("/events/pgx-webinar/register", &cookie, &with_token)
        .await;
    assert!(
        chinese.contains("此项必填") && chinese.contains("请输入有效的电子邮箱"),
        "{chinese}"
    );
    assert_eq!(
        portal
            .seen
            .lock()
            .expect("seen")
            .registration
            .as_ref()
            .expect("sent")["locale"],
        "zh-CN"
    );
}

#[tokio::test]
async fn organiser_pages_need_a_login() {
    let portal = portal().await;
    let (status, headers, _) = portal.get("/organiser/events/new", &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        headers["location"],
        "/organiser/login?next=%2Forganiser%2Fevents%2Fnew"
    );

    let (_, headers, _) = portal.get("/organiser/login", &[]).await;
    let csrf = set_cookie(&headers, "cl_csrf").expect("csrf");
    let (status, headers, page) = portal
        .post(
            "/organiser/login",
            &format!("cl_csrf={csrf}"),
            &[
                ("csrf", &csrf),
                ("email", "someone@example.org"),
                ("password", "wrong"),
                ("next", "/organiser"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(page.contains("The email address or the password is not right."));
    assert!(set_cookie(&headers, "cl_session").is_none());
}

#[tokio::test]
async fn a_service_that_is_down_gives_a_friendly_503_page() {
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}", listener.local_addr().expect("addr"))
    };
    let portal = portal_at(dead, Arc::new(Mutex::new(Seen::default()))).await;
    for path in [
        "/",
        "/events/pgx-webinar",
        "/manage/0190a0a0-0000-7000-8000-000000000009?token=x",
    ] {
        let (status, headers, page) = portal.get(path, &[]).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{path}");
        assert_eq!(headers["retry-after"], "5");
        assert!(page.contains("Please try again in a moment"), "{page}");
    }
    let (_, _, chinese) = portal.get("/", &[("accept-language", "zh-CN")]).await;
    assert!(chinese.contains("请稍后再试"));
}

#[tokio::test]
async fn organisers_see_counts_on_the_dashboard_and_conflicts_beside_their_items() {
    let portal = portal().await;
    // The stand-in does not check tokens; registration and scheduling do (see the browser tests).
    let session = "cl_session=header.e30.signature";
    let (status, _, dashboard) = portal.get("/organiser", &[("cookie", session)]).await;
    assert_eq!(status, StatusCode::OK, "{dashboard}");
    assert!(
        dashboard.contains("Pharmacogenomics webinar") && dashboard.contains("Clover Leaf tour")
    );
    assert!(
        dashboard.contains("<td class=\"num\">58</td>"),
        "confirmed counted: {dashboard}"
    );
    assert!(
        dashboard.contains("<td class=\"num\">3</td>"),
        "waitlisted counted"
    );

    let (status, _, page) = portal
        .get(
            &format!("/organiser/events/{WEBINAR_ID}"),
            &[("cookie", session)],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    // Listed at the top, linking to the item, and beside the item itself.
    assert!(
        page.contains("href=\"#item-0190a0a0-0000-7000-8000-000000000003\""),
        "{page}"
    );
    let item = page
        .split("id=\"item-0190a0a0-0000-7000-8000-000000000003\"")
        .nth(1)
        .expect("the item");
    let item = item.split("</li>").next().unwrap_or_default();
    assert!(
        item.contains("class=\"conflict\"") && item.contains("Wang Lei speaks in two places"),
        "{item}"
    );
    // The edit form holds the stored values, times as wall-clock times in the event's zone.
    assert!(page.contains("value=\"2027-06-15T10:00\""), "{page}");
    assert!(
        !page.contains("/publish\""),
        "published already: no publish button"
    );
}
