//! The permission matrix of issue 18, played through the edge with real accounts, real logins and real tokens:
//! every role × resource × action, each cell the status it must answer. Two partner teams, A and B; event data of
//! team A; seven callers: an admin, A's organiser, A's viewer, A's check-in staff, B's organiser, an organiser in
//! no team (programme-wide, as before teams existed) and nobody (no token).
//!
//! What would break without the rule: B's organiser changed A's event (200) and read A's registrations and delivery
//! log (200) — the cells `PATCH published event`, `registrations`, `delivery log` say 403/404 for them now; a viewer
//! could change what it only reads; check-in staff could read the registrations they only check in; another team's
//! draft leaked by its 403 where it must look absent (404).
//!
//! At the end the matrix (cells tried, and every forbidden cell) is written to `target/tmp/permission-matrix.md`.

mod support;

use cloverleaf_registration::domain::accounts::AccountRole;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{PASSWORD, System};

const ROLES: [&str; 7] = [
    "admin",
    "organiser A",
    "viewer A",
    "check-in A",
    "organiser B",
    "organiser in no team",
    "anonymous",
];
const ADMIN: usize = 0;
const ORG_A: usize = 1;

const ADMIN_EMAIL: &str = "admin@permed.example.org";

fn event_body(title: &str, team: Option<&str>) -> Value {
    let mut body = json!({
        "kind": "workshop", "title": title, "timezone": "Europe/Brussels",
        "starts_at": "2027-06-10T09:00:00+02:00", "ends_at": "2027-06-10T17:00:00+02:00",
        "venue": { "name": "Residence Palace", "city": "Brussels", "country": "BE" },
        "organiser": { "name": "PerMed Office", "email": "office@permed.example.org" },
    });
    if let Some(team) = team {
        body["team_id"] = json!(team);
    }
    body
}

struct Matrix<'a> {
    system: &'a System,
    tokens: Vec<Option<String>>,
    cells: usize,
    forbidden: Vec<String>,
    failures: Vec<String>,
}

impl Matrix<'_> {
    async fn call(
        &self,
        role: usize,
        method: Method,
        path: &str,
        body: Option<Value>,
        csv: bool,
    ) -> (StatusCode, String) {
        let mut request = self.system.http.request(method, self.system.edge(path));
        if let Some(token) = &self.tokens[role] {
            request = request.bearer_auth(token);
        }
        if csv {
            request = request.header("accept", "text/csv");
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        (status, response.text().await.expect("body"))
    }

    /// One row of the matrix: the same request by every role (or, with `paths`, each role on its own fresh
    /// resource of the same kind), each answered as `expect` says.
    async fn row(
        &mut self,
        name: &str,
        method: Method,
        paths: &[String],
        body: Option<Value>,
        csv: bool,
        expect: [u16; 7],
    ) {
        for (role, wanted) in expect.into_iter().enumerate() {
            let path = if paths.len() == 1 {
                &paths[0]
            } else {
                &paths[role]
            };
            let (status, text) = self
                .call(role, method.clone(), path, body.clone(), csv)
                .await;
            self.cells += 1;
            if status.as_u16() != wanted {
                self.failures.push(format!(
                    "{name} as {}: {} (wanted {wanted}): {}",
                    ROLES[role],
                    status.as_u16(),
                    text.chars().take(300).collect::<String>()
                ));
            }
            if wanted >= 400 {
                self.forbidden
                    .push(format!("{name} — {}: {wanted}", ROLES[role]));
            }
            if wanted >= 400 && !text.is_empty() && !csv {
                // Every refusal is problem+json.
                let problem: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                if problem["status"].as_u64() != Some(u64::from(wanted)) {
                    self.failures
                        .push(format!("{name} as {}: not a problem: {text}", ROLES[role]));
                }
            }
        }
    }
}

async fn ok_json(system: &System, method: Method, path: &str, token: &str, body: Value) -> Value {
    let (status, answer) = system.json(method, path, Some(token), Some(body)).await;
    assert!(status.is_success(), "{path}: {status} {answer}");
    answer
}

/// A session cookie of the organiser pages, logged in through the login form as a person would.
async fn portal_session(system: &System, email: &str) -> String {
    let response = system
        .http
        .get(system.edge("/organiser/login"))
        .send()
        .await
        .expect("login page");
    let csrf = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("cl_csrf="))
        .and_then(|c| c.split(';').next())
        .expect("csrf cookie")
        .to_owned();
    let response = system
        .http
        .post(system.edge("/organiser/login"))
        .header("cookie", format!("cl_csrf={csrf}"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", email),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{email} logs in");
    let session = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("cl_session="))
        .and_then(|c| c.split(';').next())
        .expect("session cookie")
        .to_owned();
    format!("cl_session={session}")
}

fn id_of(value: &Value) -> String {
    value["id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn every_role_gets_exactly_what_its_team_allows_through_the_edge() {
    let system = System::start(|_| {}).await;
    support::create_account(&system.settings, ADMIN_EMAIL, AccountRole::Admin).await;
    let admin = system.login(ADMIN_EMAIL).await;

    // Admins make the partners' teams and put accounts in them.
    let team_a = id_of(
        &ok_json(
            &system,
            Method::POST,
            "/v1/teams",
            &admin,
            json!({ "name": "Charité", "name_zh": "夏里特" }),
        )
        .await,
    );
    let team_b = id_of(
        &ok_json(
            &system,
            Method::POST,
            "/v1/teams",
            &admin,
            json!({ "name": "Fudan" }),
        )
        .await,
    );
    let mut accounts = Vec::new();
    for (email, team, role) in [
        ("org.a@example.org", &team_a, "organiser"),
        ("viewer.a@example.org", &team_a, "viewer"),
        ("door.a@example.org", &team_a, "check_in"),
        ("org.b@example.org", &team_b, "organiser"),
    ] {
        let account = ok_json(
            &system,
            Method::POST,
            "/v1/accounts",
            &admin,
            json!({ "email": email, "name": email, "role": "organiser", "password": PASSWORD }),
        )
        .await;
        let account_id = id_of(&account);
        ok_json(
            &system,
            Method::PUT,
            &format!("/v1/teams/{team}/members/{account_id}"),
            &admin,
            json!({ "role": role }),
        )
        .await;
        accounts.push((email, account_id));
    }
    let mut tokens = vec![Some(admin.clone())];
    for (email, _) in &accounts {
        tokens.push(Some(system.login(email).await));
    }
    tokens.push(Some(system.organiser_token().await));
    tokens.push(None);
    let org_a = tokens[ORG_A].clone().expect("token");

    // Team A's data: a draft, a published event with an open form, a published one whose form needs approval.
    let draft = id_of(
        &ok_json(
            &system,
            Method::POST,
            "/v1/events",
            &org_a,
            event_body("A's draft", None),
        )
        .await,
    );
    let created = ok_json(
        &system,
        Method::POST,
        "/v1/events",
        &org_a,
        event_body("A's workshop", None),
    )
    .await;
    assert_eq!(
        created["team_id"],
        json!(team_a),
        "the event is its creator's team's: {created}"
    );
    let published = id_of(&created);
    let approval = id_of(
        &ok_json(
            &system,
            Method::POST,
            "/v1/events",
            &org_a,
            event_body("A's selection", None),
        )
        .await,
    );
    for (event, form) in [
        (&published, json!({ "capacity": 100 })),
        (&approval, json!({ "capacity": 100, "approval": "manual" })),
    ] {
        ok_json(
            &system,
            Method::POST,
            &format!("/v1/events/{event}/publish"),
            &org_a,
            json!({}),
        )
        .await;
        ok_json(
            &system,
            Method::PUT,
            &format!("/v1/forms/{event}"),
            &org_a,
            form,
        )
        .await;
    }
    let item = id_of(
        &ok_json(
            &system,
            Method::POST,
            &format!("/v1/events/{published}/items"),
            &org_a,
            json!({ "kind": "talk", "title": "Opening", "starts_at": "2027-06-10T09:30", "ends_at": "2027-06-10T10:00" }),
        )
        .await,
    );
    let mut n = 0;
    let mut register = async |event: &str| {
        n += 1;
        id_of(
            &ok_json(
                &system,
                Method::POST,
                "/v1/registrations",
                &admin,
                json!({ "event_id": event, "email": format!("p{n}@example.org"), "name": format!("Participant {n}"), "consent": true }),
            )
            .await,
        )
    };
    let registration = register(&published).await;
    let mut fresh = Vec::new();
    for _ in 0..2 * ROLES.len() {
        fresh.push(register(&published).await);
    }
    let mut pending = Vec::new();
    for _ in 0..2 * ROLES.len() {
        pending.push(register(&approval).await);
    }
    let mut drafts = Vec::new();
    for role in ROLES {
        drafts.push(format!(
            "/v1/events/{}/publish",
            id_of(
                &ok_json(
                    &system,
                    Method::POST,
                    "/v1/events",
                    &org_a,
                    event_body(&format!("To publish by {role}"), None)
                )
                .await
            )
        ));
    }
    // The confirmation email is in the delivery log before the log is tried.
    let mut message = None;
    for _ in 0..100 {
        let (_, log) = system
            .json(
                Method::GET,
                &format!("/v1/messages?event_id={published}"),
                Some(&admin),
                None,
            )
            .await;
        if let Some(first) = log["items"].as_array().and_then(|items| items.first()) {
            message = Some(id_of(first));
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let message = message.expect("a confirmation email in the delivery log");

    let mut m = Matrix {
        system: &system,
        tokens,
        cells: 0,
        forbidden: Vec::new(),
        failures: Vec::new(),
    };
    let one = |path: String| vec![path];
    let per_role = |paths: &[String], offset: usize, suffix: &str| -> Vec<String> {
        (0..ROLES.len())
            .map(|role| format!("/v1/registrations/{}{suffix}", paths[offset + role]))
            .collect()
    };
    //                                                 admin orgA viewA doorA orgB  wide  anon
    m.row(
        "read a published event",
        Method::GET,
        &one(format!("/v1/events/{published}")),
        None,
        false,
        [200, 200, 200, 200, 200, 200, 200],
    )
    .await;
    m.row(
        "read a draft",
        Method::GET,
        &one(format!("/v1/events/{draft}")),
        None,
        false,
        [200, 200, 200, 404, 404, 404, 404],
    )
    .await;
    m.row(
        "read a draft's agenda",
        Method::GET,
        &one(format!("/v1/events/{draft}/items")),
        None,
        false,
        [200, 200, 200, 404, 404, 404, 404],
    )
    .await;
    m.row(
        "read a draft's feed",
        Method::GET,
        &one(format!("/v1/events/{draft}/calendar.ics")),
        None,
        false,
        [200, 200, 200, 404, 404, 404, 404],
    )
    .await;
    m.row(
        "create an event",
        Method::POST,
        &one("/v1/events".into()),
        Some(event_body("New", None)),
        false,
        [201, 201, 403, 403, 201, 201, 401],
    )
    .await;
    m.row(
        "create an event for another team",
        Method::POST,
        &one("/v1/events".into()),
        Some(event_body("Someone else's", Some(&team_b))),
        false,
        [201, 422, 403, 403, 201, 422, 401],
    )
    .await;
    m.row(
        "change a draft",
        Method::PATCH,
        &one(format!("/v1/events/{draft}")),
        Some(json!({ "summary": "Changed" })),
        false,
        [200, 200, 403, 403, 404, 404, 401],
    )
    .await;
    m.row(
        "change a published event",
        Method::PATCH,
        &one(format!("/v1/events/{published}")),
        Some(json!({ "summary": "Changed" })),
        false,
        [200, 200, 403, 403, 403, 403, 401],
    )
    .await;
    m.row(
        "publish an event",
        Method::POST,
        &drafts,
        None,
        false,
        [200, 200, 403, 403, 404, 404, 401],
    )
    .await;
    m.row("add an agenda item", Method::POST, &one(format!("/v1/events/{draft}/items")),
        Some(json!({ "kind": "talk", "title": "Added", "starts_at": "2027-06-10T11:00", "ends_at": "2027-06-10T11:30" })), false,
        [201, 201, 403, 403, 404, 404, 401]).await;
    m.row(
        "change an agenda item",
        Method::PATCH,
        &one(format!("/v1/events/{published}/items/{item}")),
        Some(json!({ "title": "Opening words" })),
        false,
        [200, 200, 403, 403, 403, 403, 401],
    )
    .await;
    m.row(
        "change history",
        Method::GET,
        &one(format!("/v1/events/{published}/changes")),
        None,
        false,
        [200, 200, 200, 403, 404, 404, 401],
    )
    .await;
    m.row(
        "conflicts",
        Method::GET,
        &one(format!("/v1/events/{published}/conflicts")),
        None,
        false,
        [200, 200, 200, 403, 404, 404, 401],
    )
    .await;
    m.row(
        "put the registration form",
        Method::PUT,
        &one(format!("/v1/forms/{published}")),
        Some(json!({ "capacity": 100 })),
        false,
        [200, 200, 403, 403, 404, 404, 401],
    )
    .await;
    m.row(
        "registrations",
        Method::GET,
        &one(format!("/v1/registrations?event_id={published}")),
        None,
        false,
        [200, 200, 200, 403, 404, 404, 401],
    )
    .await;
    m.row(
        "registrations as CSV",
        Method::GET,
        &one(format!("/v1/registrations?event_id={published}")),
        None,
        true,
        [200, 200, 200, 403, 404, 404, 401],
    )
    .await;
    m.row(
        "one registration",
        Method::GET,
        &one(format!("/v1/registrations/{registration}")),
        None,
        false,
        [200, 200, 200, 403, 404, 404, 401],
    )
    .await;
    m.row(
        "a registration's data",
        Method::GET,
        &one(format!("/v1/registrations/{registration}/data")),
        None,
        false,
        [200, 200, 200, 403, 404, 404, 401],
    )
    .await;
    m.row(
        "change a registration",
        Method::PATCH,
        &one(format!("/v1/registrations/{registration}")),
        Some(json!({ "name": "Participant One" })),
        false,
        [200, 200, 403, 403, 404, 404, 401],
    )
    .await;
    m.row(
        "check in",
        Method::POST,
        &one(format!("/v1/registrations/{registration}/check-in")),
        None,
        false,
        [200, 200, 403, 200, 404, 404, 401],
    )
    .await;
    m.row(
        "approve",
        Method::POST,
        &per_role(&pending, 0, "/approve"),
        None,
        false,
        [200, 200, 403, 403, 404, 404, 401],
    )
    .await;
    m.row(
        "reject",
        Method::POST,
        &per_role(&pending, ROLES.len(), "/reject"),
        None,
        false,
        [200, 200, 403, 403, 404, 404, 401],
    )
    .await;
    m.row(
        "cancel a registration",
        Method::POST,
        &per_role(&fresh, 0, "/cancel"),
        None,
        false,
        [200, 200, 403, 403, 404, 404, 401],
    )
    .await;
    m.row(
        "erase a registration",
        Method::DELETE,
        &per_role(&fresh, ROLES.len(), ""),
        None,
        false,
        [204, 204, 403, 403, 404, 404, 401],
    )
    .await;
    m.row(
        "reminders",
        Method::GET,
        &one(format!("/v1/reminders?event_id={published}")),
        None,
        false,
        [200, 200, 200, 403, 404, 404, 401],
    )
    .await;
    m.row(
        "delivery log",
        Method::GET,
        &one(format!("/v1/messages?event_id={published}")),
        None,
        false,
        [200, 200, 200, 403, 404, 404, 401],
    )
    .await;
    m.row(
        "one message",
        Method::GET,
        &one(format!("/v1/messages/{message}")),
        None,
        false,
        [200, 200, 200, 403, 404, 404, 401],
    )
    .await;
    m.row(
        "the whole delivery log",
        Method::GET,
        &one("/v1/messages".into()),
        None,
        false,
        [200, 422, 422, 422, 422, 422, 401],
    )
    .await;
    m.row(
        "create a team",
        Method::POST,
        &one("/v1/teams".into()),
        Some(json!({ "name": "Karolinska" })),
        false,
        [201, 403, 403, 403, 403, 403, 401],
    )
    .await;
    m.row(
        "read a team",
        Method::GET,
        &one(format!("/v1/teams/{team_a}")),
        None,
        false,
        [200, 200, 200, 200, 404, 404, 401],
    )
    .await;
    m.row(
        "change a membership",
        Method::PUT,
        &one(format!("/v1/teams/{team_a}/members/{}", accounts[1].1)),
        Some(json!({ "role": "viewer" })),
        false,
        [200, 403, 403, 403, 403, 403, 401],
    )
    .await;
    m.row(
        "audit trail",
        Method::GET,
        &one("/v1/audit".into()),
        None,
        false,
        [200, 403, 403, 403, 403, 403, 401],
    )
    .await;

    // Drafts in lists: each role sees exactly the drafts its teams may read.
    let seen_by = [true, true, true, false, false, false, false];
    for (role, wanted) in seen_by.into_iter().enumerate() {
        let (status, text) = m
            .call(
                role,
                Method::GET,
                "/v1/events?status=draft&limit=500",
                None,
                false,
            )
            .await;
        m.cells += 1;
        let listed = text.contains(&draft);
        if status != StatusCode::OK || listed != wanted {
            m.failures.push(format!(
                "draft list as {}: {status}, lists A's draft: {listed}",
                ROLES[role]
            ));
        }
        if !wanted {
            m.forbidden.push(format!(
                "A's draft in the event list — {}: not listed",
                ROLES[role]
            ));
        }
    }

    // The dashboard's list (`mine=true`): the events each login works on — check-in staff too — and no other team's.
    let works_on = [true, true, true, true, false, false, false];
    for (role, wanted) in works_on.into_iter().enumerate() {
        let (status, text) = m
            .call(
                role,
                Method::GET,
                "/v1/events?mine=true&limit=500",
                None,
                false,
            )
            .await;
        m.cells += 1;
        let listed = text.contains(&published);
        if status != StatusCode::OK || listed != wanted {
            m.failures.push(format!(
                "mine=true as {}: {status}, lists A's event: {listed}",
                ROLES[role]
            ));
        }
        if !wanted {
            m.forbidden.push(format!(
                "A's event on the dashboard's list — {}: not listed",
                ROLES[role]
            ));
        }
    }

    // The same through the pages: each login's dashboard opens (check-in staff's too, without counts) and lists A's
    // workshop only for A's people and admins; another team's draft is a 404 page.
    let logins = [
        ADMIN_EMAIL,
        "org.a@example.org",
        "viewer.a@example.org",
        "door.a@example.org",
        "org.b@example.org",
        support::ORGANISER,
    ];
    for (role, email) in logins.into_iter().enumerate() {
        let cookie = portal_session(&system, email).await;
        let page = |path: String| {
            let cookie = cookie.clone();
            let system = &system;
            async move {
                let response = system
                    .http
                    .get(system.edge(&path))
                    .header("cookie", cookie)
                    .send()
                    .await
                    .expect("page");
                (response.status(), response.text().await.expect("text"))
            }
        };
        let (status, dashboard) = page("/organiser".into()).await;
        m.cells += 1;
        let listed = dashboard.contains("A&#x27;s workshop") || dashboard.contains("A's workshop");
        if status != StatusCode::OK || listed != works_on[role] {
            m.failures.push(format!(
                "dashboard page as {}: {status}, lists A's workshop: {listed}",
                ROLES[role]
            ));
        }
        let (status, _) = page(format!("/organiser/events/{draft}")).await;
        m.cells += 1;
        let wanted = if [ADMIN, ORG_A, 2].contains(&role) {
            StatusCode::OK
        } else {
            StatusCode::NOT_FOUND
        };
        if status != wanted {
            m.failures.push(format!(
                "A's draft's page as {}: {status} (wanted {wanted})",
                ROLES[role]
            ));
        }
        if wanted == StatusCode::NOT_FOUND {
            m.forbidden
                .push(format!("A's draft's organiser page — {}: 404", ROLES[role]));
        }
    }

    // Co-organising: shared with B, B's organiser changes it and reads its registrations; it cannot share further.
    let (status, body) = m
        .call(
            ORG_A,
            Method::PATCH,
            &format!("/v1/events/{published}"),
            Some(json!({ "shared_with": [team_b] })),
            false,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    m.row(
        "change a co-organised event",
        Method::PATCH,
        &one(format!("/v1/events/{published}")),
        Some(json!({ "summary": "Together" })),
        false,
        [200, 200, 403, 403, 200, 403, 401],
    )
    .await;
    m.row(
        "a co-organised event's registrations",
        Method::GET,
        &one(format!("/v1/registrations?event_id={published}")),
        None,
        false,
        [200, 200, 200, 403, 200, 404, 401],
    )
    .await;
    m.row(
        "share a co-organised event further",
        Method::PATCH,
        &one(format!("/v1/events/{published}")),
        Some(json!({ "shared_with": [team_b] })),
        false,
        [200, 200, 403, 403, 403, 403, 401],
    )
    .await;

    // The matrix as the closing note gives it: written beside the build, `target/tmp/permission-matrix.md`.
    let mut report = format!(
        "permission matrix: {} cells tried, {} forbidden:\n",
        m.cells,
        m.forbidden.len()
    );
    for cell in &m.forbidden {
        report.push_str(&format!("- {cell}\n"));
    }
    std::fs::write(
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("permission-matrix.md"),
        report,
    )
    .expect("write the matrix");
    assert!(
        m.failures.is_empty(),
        "{} cells wrong:\n{}",
        m.failures.len(),
        m.failures.join("\n")
    );

    // The audit trail names who approved, rejected, checked in, exported, erased and changed permissions.
    let (status, audit) = system
        .json(Method::GET, "/v1/audit?limit=500", Some(&admin), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{audit}");
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for wanted in [
        "approved",
        "rejected",
        "checked_in",
        "exported",
        "erased",
        "permissions_changed",
    ] {
        assert!(actions.contains(&wanted), "{wanted} in {actions:?}");
    }
    let text = audit.to_string();
    for personal in ["p1@example.org", "Participant"] {
        assert!(
            !text.contains(personal),
            "the audit trail holds no personal data: {text}"
        );
    }
    system.stop().await;
}
