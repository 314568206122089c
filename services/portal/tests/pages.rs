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
/// A published workshop without a registration form.
const NO_FORM_ID: &str = "0190a0a0-0000-7000-8000-0000000000d4";
/// A published webinar whose registration opens later.
const LATER_ID: &str = "0190a0a0-0000-7000-8000-0000000000e5";
/// A cancelled workshop.
const CANCELLED_ID: &str = "0190a0a0-0000-7000-8000-0000000000f6";
/// Registrations: to the tour (answers of every question type), to the webinar, to the cancelled workshop.
const TOUR_REG: &str = "0190a0a0-0000-7000-8000-0000000001a1";
const WEBINAR_REG: &str = "0190a0a0-0000-7000-8000-0000000001b2";
const ENDED_REG: &str = "0190a0a0-0000-7000-8000-0000000001c3";
/// The short manage token of the tour's registration (`/m/{token}`).
const SHORT_TOKEN: &str = "Kx7mQ2pL9vR4tW8z";

fn simple_event(id: &str, slug: &str, title: &str, status: &str) -> Value {
    json!({ "id": id, "slug": slug, "kind": "workshop", "title": title, "timezone": "Europe/Rome",
            "starts_at": "2027-07-01T09:00:00+02:00", "ends_at": "2027-07-01T17:00:00+02:00",
            "venue": { "name": "Università di Siena", "address": "Via Banchi di Sotto 55", "city": "Siena" },
            "status": status, "sequence": 0, "cancel_reason": if status == "cancelled" { json!("The venue is closed.") } else { json!(null) } })
}

/// The tour's form: a question of every type, with Chinese texts.
fn tour_form() -> Value {
    json!({ "capacity": 20, "waitlist": false, "approval": "manual", "seats_left": 5, "confirmed": 15, "open": true,
            "opens_at": "2027-05-01T08:00:00Z", "closes_at": "2027-08-01T08:00:00Z",
            "questions": [
        { "id": "passport", "label": "Passport country", "label_zh": "护照签发国家或地区", "type": "country", "required": true },
        { "id": "role", "label": "Role", "label_zh": "身份", "type": "single_choice", "required": true,
          "options": ["Researcher", "Clinician"], "options_zh": ["研究人员", "临床医生"],
          "help": "What you do most.", "help_zh": "您主要从事的工作。" },
        { "id": "topics", "label": "Topics", "type": "multiple_choice", "options": ["Genomics", "AI", "Ethics"] },
        { "id": "visa", "label": "Do you need a visa letter?", "label_zh": "是否需要签证邀请函？", "type": "yes_no", "required": true },
        { "id": "bio", "label": "Short bio", "type": "long_text" },
        { "id": "title", "label": "Job title", "type": "text" },
        { "id": "assistant", "label": "Assistant's email", "type": "email" },
        { "id": "arrival", "label": "Arrival", "type": "date" }
    ] })
}

fn tour_answers() -> Value {
    json!({ "passport": "TW", "role": "Clinician", "topics": ["Genomics", "Ethics"], "visa": false,
            "bio": "Oncologist in Taipei", "title": "Attending physician", "assistant": "li@example.tw",
            "arrival": "2027-08-31" })
}

fn registration(id: &str, event_id: &str, status: &str, answers: Value) -> Value {
    json!({ "id": id, "event_id": event_id, "status": status, "email": "mei@example.org", "name": "Chen Mei",
            "answers": answers, "locale": "zh-CN", "timezone": "Asia/Shanghai" })
}

fn registration_by_id(id: &str) -> Option<Value> {
    match id {
        TOUR_REG => Some(registration(TOUR_REG, TOUR_ID, "confirmed", tour_answers())),
        WEBINAR_REG => Some(registration(
            WEBINAR_REG,
            WEBINAR_ID,
            "confirmed",
            json!({ "topic": "AI" }),
        )),
        ENDED_REG => Some(registration(
            ENDED_REG,
            CANCELLED_ID,
            "event_cancelled",
            json!({}),
        )),
        _ => None,
    }
}

fn webinar() -> Value {
    json!({ "id": WEBINAR_ID, "slug": "pgx-webinar", "kind": "webinar", "title": "Pharmacogenomics webinar",
            "title_zh": "药物基因组学网络研讨会", "summary_zh": "从队列到临床。",
            "summary": "From cohorts to the clinic.", "timezone": "Europe/Brussels",
            "starts_at": "2027-06-15T10:00:00+02:00", "ends_at": "2027-06-15T12:00:00+02:00",
            "online_url": "https://meet.example.org/pgx", "status": "published", "sequence": 0,
            "organiser": { "name": "PerMed Office", "email": "office@example.org" } })
}

fn tour() -> Value {
    json!({ "id": TOUR_ID, "slug": "clover-leaf-tour", "kind": "tour", "title": "Clover Leaf tour",
            "timezone": "Europe/Berlin", "end_timezone": "Asia/Shanghai", "starts_at": "2027-09-01T09:00:00+02:00",
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

/// What the stand-in saw of the last registration, and of the last changes sent.
#[derive(Default)]
struct Seen {
    registration: Option<Value>,
    forwarded_for: Option<String>,
    /// `PATCH /v1/registrations/{id}`: the id, the bearer and the body.
    patched: Option<(String, String, Value)>,
    /// `DELETE /v1/registrations/{id}`: the id and the bearer.
    erased: Option<(String, String)>,
    /// `PATCH /v1/events/{id}`.
    event_patch: Option<Value>,
    /// `PUT /v1/forms/{id}`.
    form_put: Option<Value>,
}

fn bearer(headers: &HeaderMap) -> String {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_owned()
}

/// Registration, scheduling and notifications in one stand-in server.
async fn services(seen: Arc<Mutex<Seen>>) -> String {
    let (patch_seen, erase_seen, event_seen, form_seen) =
        (seen.clone(), seen.clone(), seen.clone(), seen.clone());
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
                    "no-form-workshop" | NO_FORM_ID => axum::Json(simple_event(
                        NO_FORM_ID,
                        "no-form-workshop",
                        "Workshop without a form",
                        "published",
                    ))
                    .into_response(),
                    "later-workshop" | LATER_ID => axum::Json(simple_event(
                        LATER_ID,
                        "later-workshop",
                        "Workshop opening later",
                        "published",
                    ))
                    .into_response(),
                    "cancelled-workshop" | CANCELLED_ID => axum::Json(simple_event(
                        CANCELLED_ID,
                        "cancelled-workshop",
                        "Cancelled workshop",
                        "cancelled",
                    ))
                    .into_response(),
                    _ => problem(StatusCode::NOT_FOUND, "not-found", json!([])),
                }
            })
            .patch(move |axum::Json(body): axum::Json<Value>| {
                let seen = event_seen.clone();
                async move {
                    seen.lock().expect("seen").event_patch = Some(body);
                    axum::Json(webinar())
                }
            }),
        )
        .route(
            "/v1/registrations/mine",
            get(|headers: HeaderMap| async move {
                if bearer(&headers) == SHORT_TOKEN {
                    axum::Json(registration(TOUR_REG, TOUR_ID, "confirmed", tour_answers()))
                        .into_response()
                } else {
                    problem(StatusCode::UNAUTHORIZED, "unauthorized", json!([]))
                }
            }),
        )
        .route(
            "/v1/registrations/{id}",
            get(|Path(id): Path<String>, headers: HeaderMap| async move {
                match registration_by_id(&id) {
                    Some(r) if !bearer(&headers).is_empty() => axum::Json(r).into_response(),
                    _ => problem(StatusCode::NOT_FOUND, "not-found", json!([])),
                }
            })
            .patch(
                move |Path(id): Path<String>, headers: HeaderMap, axum::Json(body): axum::Json<Value>| {
                    let seen = patch_seen.clone();
                    async move {
                        seen.lock().expect("seen").patched = Some((id.clone(), bearer(&headers), body));
                        axum::Json(registration_by_id(&id).unwrap_or_default())
                    }
                },
            )
            .delete(move |Path(id): Path<String>, headers: HeaderMap| {
                let seen = erase_seen.clone();
                async move {
                    seen.lock().expect("seen").erased = Some((id, bearer(&headers)));
                    StatusCode::NO_CONTENT
                }
            }),
        )
        .route(
            "/v1/venues",
            get(|| async {
                axum::Json(json!({ "items": [{
                    "id": "0190b0b0-0000-7000-8000-000000000001", "name": "Palazzo Squarcialupi",
                    "rooms": [{ "id": "0190b0b0-0000-7000-8000-000000000002", "name": "Sala Italia", "capacity": 80 }]
                }], "next_cursor": null }))
            }),
        )
        .route(
            "/v1/people",
            get(|| async {
                axum::Json(json!({ "items": [
                    { "id": "0190c0c0-0000-7000-8000-000000000002", "name": "Wang Lei 王磊", "affiliation": "Fudan University" },
                    { "id": "0190c0c0-0000-7000-8000-000000000001", "name": "Anna Rossi" }
                ], "next_cursor": null }))
            }),
        )
        .route(
            "/v1/reminders",
            get(|| async {
                axum::Json(json!({ "items": [
                    { "id": "0190d0d0-0000-7000-8000-000000000001", "event_id": WEBINAR_ID, "minutes_before": 1440,
                      "due_at": "2027-06-14T08:00:00Z", "status": "dropped",
                      "note": "no longer among the event's reminders" }
                ] }))
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
            get(|Path(id): Path<String>| async move {
                match id.as_str() {
                    TOUR_ID => axum::Json(tour_form()).into_response(),
                    NO_FORM_ID => problem(StatusCode::NOT_FOUND, "not-found", json!([])),
                    LATER_ID => axum::Json(json!({ "capacity": null, "waitlist": false, "approval": "automatic",
                        "open": false, "opens_at": "2027-05-03T07:00:00Z", "closes_at": "2027-07-01T07:00:00Z",
                        "questions": [] }))
                    .into_response(),
                    _ => axum::Json(json!({ "capacity": 100, "waitlist": true, "approval": "automatic", "seats_left": 42,
                                   "confirmed": 58, "open": true,
                                   "questions": [{ "id": "topic", "label": "Which topic?", "type": "single_choice",
                                                   "required": true, "options": ["Pharmacogenomics", "AI"] }] }))
                    .into_response(),
                }
            })
            .put(move |axum::Json(body): axum::Json<Value>| {
                let seen = form_seen.clone();
                async move {
                    seen.lock().expect("seen").form_put = Some(body);
                    axum::Json(json!({}))
                }
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
                    "counts": { "confirmed": 58, "waitlisted": 3, "pending_approval": 1, "event_cancelled": 7 } }))
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
    assert!(
        html.contains("<dt>Organiser</dt><dd>PerMed Office</dd>"),
        "{html}"
    );
    assert!(html.contains("href=\"/events/pgx-webinar/register\""));
    assert!(
        html.contains("data-my-zone"),
        "the switch to the visitor's zone, for the script"
    );

    let (_, _, tour) = portal.get("/events/clover-leaf-tour", &[]).await;
    assert!(tour.contains("Itinerary"));
    assert!(
        !tour.contains("<dt>Organiser</dt>"),
        "an answer without an organiser names none: {tour}"
    );
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

/// A CSRF token as the portal makes them (43 base64url characters), for posting forms.
const CSRF: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ";

/// The part of `html` from `start` to the next `end`.
fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let from = html
        .find(start)
        .unwrap_or_else(|| panic!("{start} in:\n{html}"));
    let rest = &html[from..];
    &rest[..rest.find(end).unwrap_or(rest.len())]
}

/// The manage page of a workshop or tour participant (issue 15, item 2): a country question lists the countries
/// with the stored one chosen (it was an empty list, so saving failed with "Country: This is required"), and every
/// question type shows its answer and sends it back unchanged.
#[tokio::test]
async fn the_manage_page_shows_every_answer_and_saves_them_unchanged() {
    let portal = portal().await;
    let (status, _, page) = portal
        .get(
            &format!("/manage/{TOUR_REG}?token=signed.manage.token"),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let passport = between(&page, "id=\"f-answers-passport\"", "</select>");
    assert!(
        passport.matches("<option value=").count() > 240,
        "the countries to choose from: {passport}"
    );
    assert!(
        passport.contains("<option value=\"TW\" selected>Taiwan</option>"),
        "the stored country chosen, named as CLDR names it: {passport}"
    );
    assert!(
        page.contains("id=\"f-answers-role-2\" name=\"answers.role\" value=\"Clinician\" checked")
    );
    assert!(page.contains("name=\"answers.topics\" value=\"Genomics\" checked"));
    assert!(page.contains("name=\"answers.topics\" value=\"AI\">"));
    assert!(page.contains("name=\"answers.topics\" value=\"Ethics\" checked"));
    assert!(page.contains("id=\"f-answers-visa-no\" name=\"answers.visa\" value=\"no\" checked"));
    assert!(page.contains(">Oncologist in Taipei</textarea>"));
    assert!(page.contains("type=\"email\" id=\"f-answers-assistant\" name=\"answers.assistant\" value=\"li@example.tw\""));
    assert!(page.contains(
        "type=\"date\" id=\"f-answers-arrival\" name=\"answers.arrival\" value=\"2027-08-31\""
    ));
    assert!(
        page.contains("What you do most."),
        "the question's help text"
    );
    // Its times carry their zones: the tour starts in Berlin and ends in Shanghai's zone.
    assert!(
        page.contains("Wed 1 Sep 2027, 09:00 UTC+2 – Sun 5 Sep 2027, 18:00 UTC+8"),
        "{page}"
    );

    // What a browser sends back from that page is what was stored.
    let form: Vec<(&str, &str)> = vec![
        ("csrf", CSRF),
        ("token", "signed.manage.token"),
        ("name", "Chen Mei"),
        ("answers.passport", "TW"),
        ("answers.role", "Clinician"),
        ("answers.topics", "Genomics"),
        ("answers.topics", "Ethics"),
        ("answers.visa", "no"),
        ("answers.bio", "Oncologist in Taipei"),
        ("answers.title", "Attending physician"),
        ("answers.assistant", "li@example.tw"),
        ("answers.arrival", "2027-08-31"),
    ];
    let (status, headers, _) = portal
        .post(
            &format!("/manage/{TOUR_REG}/answers"),
            &format!("cl_csrf={CSRF}"),
            &form,
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        headers["location"]
            .to_str()
            .expect("location")
            .ends_with("done=updated")
    );
    let (id, token, body) = portal
        .seen
        .lock()
        .expect("seen")
        .patched
        .clone()
        .expect("a PATCH");
    assert_eq!(
        (id.as_str(), token.as_str()),
        (TOUR_REG, "signed.manage.token")
    );
    assert_eq!(body["answers"], tour_answers());
}

/// Chinese pages (contract 1): the event's, items' and questions' Chinese texts, country names in Chinese sorted by
/// pinyin, Chinese punctuation, and times with their offsets.
#[tokio::test]
async fn chinese_pages_show_the_chinese_texts_and_punctuation() {
    let portal = portal().await;
    let zh = [("cookie", "cl_lang=zh-CN")];
    let (_, _, home) = portal.get("/", &zh).await;
    assert!(home.contains("药物基因组学网络研讨会"), "{home}");
    assert!(home.contains("从队列到临床。"));
    assert!(
        home.contains("2027年6月15日（周二）10:00–12:00 UTC+2"),
        "the Chinese way, no comma after the day: {home}"
    );
    assert!(
        home.contains("2027年9月1日（周三）09:00 UTC+2 – 2027年9月5日（周日）18:00 UTC+8"),
        "the tour ends in its own zone: {home}"
    );
    let (_, _, english) = portal.get("/", &[]).await;
    assert!(english.contains("Pharmacogenomics webinar") && !english.contains("药物基因组学"));

    let (_, _, form) = portal.get("/events/clover-leaf-tour/register", &zh).await;
    assert!(
        form.contains("护照签发国家或地区<span class=\"required\">（必填）</span>"),
        "no space before a full-width bracket: {form}"
    );
    assert!(
        form.contains("<label for=\"f-answers-role-1\">研究人员</label>"),
        "{form}"
    );
    assert!(
        form.contains("value=\"Researcher\""),
        "the value stays the English option"
    );
    assert!(form.contains("您主要从事的工作。"));
    assert!(form.contains("Topics"), "no Chinese label: the English one");
    let passport = between(&form, "id=\"f-answers-passport\"", "</select>");
    assert!(passport.contains(">中国</option>"), "{passport}");
    let taiwan = between(passport, "value=\"TW\"", "</option>");
    assert!(taiwan.contains("台湾"), "{taiwan}");
    assert!(!form.contains("Taiwan, Province of China"));
    let order = |name: &str| {
        passport
            .find(&format!(">{name}</option>"))
            .unwrap_or_else(|| panic!("{name}"))
    };
    assert!(order("阿富汗") < order("德国") && order("德国") < order("中国"));

    let (_, _, tour) = portal.get("/events/clover-leaf-tour", &zh).await;
    assert!(tour.contains("城市：Guangzhou"), "{tour}");
    assert!(!tour.contains("城市: "));

    // The registration's summary line keeps one mark between label and message.
    let cookie = format!("cl_csrf={CSRF}; cl_lang=zh-CN");
    let (_, _, errors) = portal
        .post(
            "/events/pgx-webinar/register",
            &cookie,
            &[("csrf", CSRF), ("email", "x"), ("name", "Li")],
        )
        .await;
    assert!(errors.contains("timezone：请输入有效的时区"), "{errors}");
}

/// The error summary read "…this event.: This is required" (issue 15, item 12): a label's own full stop goes.
#[tokio::test]
async fn the_error_summary_reads_without_doubled_punctuation() {
    let services = {
        let app = Router::new()
            .route("/v1/events/{key}", get(|| async { axum::Json(webinar()) }))
            .route(
                "/v1/forms/{id}",
                get(|| async {
                    axum::Json(json!({ "capacity": null, "open": true, "questions": [
                        { "id": "topic", "label": "Which topic?", "label_zh": "哪个主题？", "type": "single_choice",
                          "required": true, "options": ["A", "B"] }] }))
                }),
            )
            .route(
                "/v1/registrations",
                post(|| async {
                    problem(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "validation",
                        json!([{ "field": "consent", "code": "required", "message": "is required" },
                               { "field": "answers.topic", "code": "required", "message": "is required" }]),
                    )
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
        url
    };
    let portal = portal_at(services, Arc::new(Mutex::new(Seen::default()))).await;
    let form = [("csrf", CSRF), ("email", "a@example.org"), ("name", "A")];
    let (_, _, page) = portal
        .post(
            "/events/pgx-webinar/register",
            &format!("cl_csrf={CSRF}"),
            &form,
        )
        .await;
    let summary = between(&page, "data-error-summary", "</div>");
    assert!(
        summary.contains("organise this event: This is required"),
        "{summary}"
    );
    assert!(!summary.contains(".:"), "{summary}");
    assert!(
        summary.contains("Which topic? This is required"),
        "{summary}"
    );
    let (_, _, page) = portal
        .post(
            "/events/pgx-webinar/register",
            &format!("cl_csrf={CSRF}; cl_lang=zh-CN"),
            &form,
        )
        .await;
    let summary = between(&page, "data-error-summary", "</div>");
    assert!(summary.contains("信息：此项必填"), "{summary}");
    assert!(!summary.contains("。："), "{summary}");
    assert!(summary.contains("哪个主题？此项必填"), "{summary}");
}

/// A registration whose event was cancelled (issue 15, item 3): the manage page says so and offers neither Change
/// nor Cancel; the same when the event is cancelled but registration has not caught up yet.
#[tokio::test]
async fn the_manage_page_of_a_cancelled_event_says_so_and_offers_no_change() {
    let portal = portal().await;
    let (status, _, page) = portal
        .get(&format!("/manage/{ENDED_REG}?token=t.o.k"), &[])
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("data-event-cancelled"), "{page}");
    assert!(page.contains("This event has been cancelled"));
    assert!(page.contains("The venue is closed."), "the reason");
    assert!(page.contains(">Event cancelled</strong>"), "{page}");
    assert!(!page.contains("/answers\""), "no change form: {page}");
    assert!(!page.contains("/cancel\""), "no cancel form: {page}");
    assert!(page.contains("/erase\""), "erasing stays possible");
    let (_, _, zh) = portal
        .get(
            &format!("/manage/{ENDED_REG}/confirmation?token=t.o.k"),
            &[("cookie", "cl_lang=zh-CN")],
        )
        .await;
    assert!(zh.contains("<h1>活动已取消</h1>"), "{zh}");
}

/// The short link of every email, `/manage/{token}` (also `/m/{token}`), opens the manage page (contract 4), and its
/// forms go on working with that token; the old `/manage/{id}?token=` links keep working (the test above).
#[tokio::test]
async fn the_short_manage_link_opens_the_manage_page() {
    let portal = portal().await;
    let (status, _, short) = portal.get(&format!("/m/{SHORT_TOKEN}"), &[]).await;
    assert_eq!(status, StatusCode::OK, "{short}");
    let (status, _, page) = portal.get(&format!("/manage/{SHORT_TOKEN}"), &[]).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(short.contains("Clover Leaf tour"), "{short}");
    assert!(page.contains("Clover Leaf tour"), "{page}");
    assert!(page.contains(&format!("name=\"token\" value=\"{SHORT_TOKEN}\"")));
    assert!(page.contains("<option value=\"TW\" selected>"));
    let (status, _, _) = portal.get("/m/not-a-token-anyone-has", &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a link that does not work");
    let (status, _, _) = portal.get("/manage/not-a-token-anyone-has", &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a link that does not work");

    let (status, headers, _) = portal
        .post(
            &format!("/manage/{TOUR_REG}/answers"),
            &format!("cl_csrf={CSRF}"),
            &[("csrf", CSRF), ("token", SHORT_TOKEN), ("name", "Chen Mei")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        headers["location"],
        format!("/manage/{SHORT_TOKEN}?done=updated"),
        "back to the short link"
    );
}

/// "Erase my data" (issue 15, item 5): a confirmation step first, then `DELETE` with the manage token.
#[tokio::test]
async fn erasing_asks_first_then_deletes_with_the_manage_token() {
    let portal = portal().await;
    let (_, _, page) = portal
        .get(&format!("/manage/{WEBINAR_REG}?token=a.b.c"), &[])
        .await;
    assert!(
        page.contains(&format!("action=\"/manage/{WEBINAR_REG}/erase\"")),
        "{page}"
    );
    let cookie = format!("cl_csrf={CSRF}");
    let path = format!("/manage/{WEBINAR_REG}/erase");
    let (status, _, ask) = portal
        .post(&path, &cookie, &[("csrf", CSRF), ("token", "a.b.c")])
        .await;
    assert_eq!(status, StatusCode::OK, "{ask}");
    assert!(ask.contains("Erase your data?"), "{ask}");
    assert!(ask.contains("name=\"confirm\" value=\"yes\""));
    assert!(
        portal.seen.lock().expect("seen").erased.is_none(),
        "not yet"
    );
    let (status, _, _) = portal
        .post(&path, "", &[("token", "a.b.c"), ("confirm", "yes")])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no CSRF token, no erasing");
    assert!(portal.seen.lock().expect("seen").erased.is_none());

    let (status, headers, _) = portal
        .post(
            &path,
            &cookie,
            &[("csrf", CSRF), ("token", "a.b.c"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        portal.seen.lock().expect("seen").erased.clone(),
        Some((WEBINAR_REG.to_owned(), "a.b.c".to_owned()))
    );
    let location = headers["location"].to_str().expect("location").to_owned();
    let (_, _, done) = portal.get(&location, &[("cookie", "cl_lang=zh-CN")]).await;
    assert!(done.contains("您的数据已删除"), "{done}");
}

/// The confirmation and manage pages give the online link and times with their zone (issue 15, items 8 and 12).
#[tokio::test]
async fn confirmation_and_manage_pages_give_the_join_link_and_zoned_times() {
    let portal = portal().await;
    for path in [
        format!("/manage/{WEBINAR_REG}/confirmation?token=a.b.c"),
        format!("/manage/{WEBINAR_REG}?token=a.b.c"),
    ] {
        let (_, _, page) = portal.get(&path, &[]).await;
        assert!(
            page.contains("href=\"https:&#x2f;&#x2f;meet.example.org&#x2f;pgx\""),
            "{path}: {page}"
        );
        assert!(
            page.contains("Tue 15 Jun 2027, 10:00–12:00 UTC+2"),
            "{path}: {page}"
        );
    }
}

/// Events without a Register button say why (issue 15, item 12): no form; not open yet, and when it opens.
#[tokio::test]
async fn an_event_without_registration_says_why() {
    let portal = portal().await;
    let (_, _, page) = portal.get("/events/no-form-workshop", &[]).await;
    assert!(!page.contains("/register\""), "{page}");
    assert!(page.contains("it has no registration form"), "{page}");
    assert!(page.contains("Università di Siena, Via Banchi di Sotto 55, Siena"));
    let (_, _, zh) = portal
        .get("/events/no-form-workshop", &[("cookie", "cl_lang=zh-CN")])
        .await;
    assert!(zh.contains("它没有报名表"), "{zh}");
    assert!(
        zh.contains("Università di Siena，Via Banchi di Sotto 55，Siena"),
        "{zh}"
    );

    let (_, _, later) = portal.get("/events/later-workshop", &[]).await;
    assert!(
        later.contains("Registration opens on Mon 3 May 2027 09:00 UTC+2."),
        "{later}"
    );
    let (_, _, form) = portal.get("/events/later-workshop/register", &[]).await;
    assert!(form.contains("Registration opens on Mon 3 May 2027 09:00 UTC+2."));
}

/// Organiser pages: a slug in the address goes to the event (it answered 400 with a parser's message), an id that
/// is no id is the 404 page; the dashboard counts registrations ended with their event; the agenda moves with the
/// start when the box (ticked by default) stays ticked; the registration window in the event's zone; the Chinese
/// texts of the event and the questions.
#[tokio::test]
async fn organiser_pages_take_slugs_move_agendas_and_edit_the_window_and_chinese_texts() {
    let portal = portal().await;
    let session = format!("cl_session=header.e30.signature; cl_csrf={CSRF}");
    let cookie = [("cookie", session.as_str())];
    let (status, headers, _) = portal.get("/organiser/events/pgx-webinar", &cookie).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        headers["location"],
        format!("/organiser/events/{WEBINAR_ID}")
    );
    let (status, _, page) = portal.get("/organiser/events/no-such-slug", &cookie).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("Page not found"), "{page}");
    let (status, _, page) = portal
        .get("/organiser/events/not-a-uuid/registrations", &cookie)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{page}");
    assert!(
        page.contains("Page not found") && !page.contains("UUID"),
        "{page}"
    );
    // Not a registration id, so a (short) token that does not work: the page for a link that no longer works.
    let (status, _, _) = portal.get("/manage/x?token=y", &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (_, _, dashboard) = portal.get("/organiser", &cookie).await;
    assert!(dashboard.contains(">Event cancelled</th>"), "{dashboard}");
    assert!(
        dashboard.contains("<td class=\"num\">7</td>"),
        "{dashboard}"
    );

    let (_, _, page) = portal
        .get(&format!("/organiser/events/{WEBINAR_ID}"), &cookie)
        .await;
    assert!(
        page.contains("name=\"move_items\" value=\"yes\" checked"),
        "ticked by default: {page}"
    );
    // The pickers: the venue's room with its seats, the people by name, none chosen.
    assert!(
        page.contains(
            "<option value=\"0190b0b0-0000-7000-8000-000000000002\">Palazzo Squarcialupi · Sala Italia (80)</option>"
        ),
        "{page}"
    );
    let anna = page.find("Anna Rossi").expect("Anna in the speakers");
    let wang = page
        .find("Wang Lei 王磊 (Fudan University)")
        .expect("Wang in the speakers");
    assert!(anna < wang, "people by name");
    // The reminder schedule, with why one was not sent, and the kind's defaults chosen.
    assert!(
        page.contains("No longer among the event&#x27;s reminders."),
        "{page}"
    );
    assert!(
        page.contains("id=\"f-reminders-default\" name=\"reminders\" value=\"default\" checked")
    );
    let (_, _, zh) = portal
        .get(
            &format!("/organiser/events/{WEBINAR_ID}"),
            &[("cookie", format!("{session}; cl_lang=zh-CN").as_str())],
        )
        .await;
    assert!(zh.contains("已不在本活动的提醒之中。"), "{zh}");
    assert!(page.contains("name=\"title_zh\" value=\"药物基因组学网络研讨会\""));
    assert!(page.contains("<h1>Pharmacogenomics webinar</h1>"));
    let details = |start: &'static str| {
        vec![
            ("csrf", CSRF),
            ("title", "Pharmacogenomics webinar"),
            ("title_zh", ""),
            ("summary_zh", "从队列到临床。"),
            ("timezone", "Europe/Brussels"),
            ("starts_at", start),
            ("ends_at", "2027-06-15T13:00"),
            ("organiser.name", "PerMed Office"),
            ("organiser.email", "office@example.org"),
            ("move_items", "yes"),
        ]
    };
    let path = format!("/organiser/events/{WEBINAR_ID}");
    let (status, _, _) = portal
        .post(&path, &session, &details("2027-06-15T11:00"))
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let sent = portal
        .seen
        .lock()
        .expect("seen")
        .event_patch
        .clone()
        .expect("PATCH");
    assert_eq!(sent["move_items"], true, "{sent}");
    assert_eq!(
        sent["title_zh"],
        Value::Null,
        "a Chinese title cleared: {sent}"
    );
    assert_eq!(sent["summary_zh"], "从队列到临床。");
    assert!(
        sent.get("description_zh").is_none(),
        "never set, not sent: {sent}"
    );
    portal
        .post(&path, &session, &details("2027-06-15T10:00"))
        .await;
    let sent = portal
        .seen
        .lock()
        .expect("seen")
        .event_patch
        .clone()
        .expect("PATCH");
    assert!(sent.get("move_items").is_none(), "the start stays: {sent}");
    let mut unticked = details("2027-06-15T11:00");
    unticked.retain(|(k, _)| *k != "move_items");
    portal.post(&path, &session, &unticked).await;
    let sent = portal
        .seen
        .lock()
        .expect("seen")
        .event_patch
        .clone()
        .expect("PATCH");
    assert!(sent.get("move_items").is_none(), "unticked: {sent}");

    // The tour's form settings: its window in Berlin time, and the questions' Chinese texts.
    let (_, _, tour) = portal
        .get(&format!("/organiser/events/{TOUR_ID}"), &cookie)
        .await;
    assert!(
        tour.contains("name=\"opens_at\" value=\"2027-05-01T10:00\""),
        "{tour}"
    );
    assert!(
        tour.contains("name=\"closes_at\" value=\"2027-08-01T10:00\""),
        "{tour}"
    );
    assert!(
        tour.contains("name=\"question.1.label_zh\" value=\"身份\""),
        "{tour}"
    );
    assert!(tour.contains(">研究人员\n临床医生</textarea>"), "{tour}");
    let (status, _, _) = portal
        .post(
            &format!("/organiser/events/{TOUR_ID}/form"),
            &session,
            &[
                ("csrf", CSRF),
                ("capacity", "20"),
                ("approval", "manual"),
                ("opens_at", "2027-06-01T09:30"),
                ("closes_at", "2027-08-20T18:00"),
                ("question.1.label_zh", "角色"),
                ("question.1.options_zh", "研究人员\r\n医生\r\n"),
                ("question.2.label_zh", "主题"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let put = portal
        .seen
        .lock()
        .expect("seen")
        .form_put
        .clone()
        .expect("PUT");
    assert_eq!(put["opens_at"], "2027-06-01T07:30:00Z", "{put}");
    assert_eq!(put["closes_at"], "2027-08-20T16:00:00Z", "{put}");
    assert_eq!(put["capacity"], 20);
    assert_eq!(put["questions"][1]["label_zh"], "角色");
    assert_eq!(
        put["questions"][1]["options_zh"],
        json!(["研究人员", "医生"])
    );
    assert_eq!(
        put["questions"][1]["options"],
        json!(["Researcher", "Clinician"])
    );
    assert_eq!(put["questions"][1]["help_zh"], "您主要从事的工作。", "kept");
    assert_eq!(put["questions"][2]["label_zh"], "主题");
    assert_eq!(
        put["questions"][0]["label_zh"], "护照签发国家或地区",
        "kept"
    );

    // Organiser tables label their times.
    let (_, _, list) = portal
        .get(
            &format!("/organiser/events/{WEBINAR_ID}/registrations"),
            &cookie,
        )
        .await;
    assert!(list.contains("2027-05-01 10:00 UTC+2"), "{list}");
}
