//! Teams, their members and the audit trail through HTTP, on SQLite (or PostgreSQL when
//! CLOVERLEAF_TEST_DATABASE_URL is set): admins create and rename teams (unique names, 409 naming `name`) and set or
//! remove members (422 naming `role`), each membership change a `permissions_changed` audit entry listed newest
//! first with its filters; members see their own teams only (another team is 404, non-admins changing anything 403);
//! a login token carries the account's teams and roles.

use std::time::Duration;

use cloverleaf_auth::{Role, TeamGrant, TeamRole, TokenRequest};
use cloverleaf_registration::build;
use cloverleaf_registration::domain::audit::AuditAction;
use cloverleaf_registration::store::audit::{NewAuditEntry, record};
use cloverleaf_service_kit::config::ServiceName;
use cloverleaf_service_kit::testing::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

const PASSWORD: &str = "correct horse battery staple";
const ADMIN_SUB: &str = "admin@example.org";

struct Api {
    app: TestApp,
    admin: String,
}

impl Api {
    async fn start() -> Self {
        let app = TestApp::spawn(ServiceName::Registration, build).await;
        let admin = app.token_for(Role::Admin);
        Self { app, admin }
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.app.http.request(method, self.app.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let text = response.text().await.expect("body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, body)
    }

    async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        self.send(method, path, Some(&self.admin.clone()), body)
            .await
    }

    async fn team(&self, name: &str) -> Value {
        let (status, body) = self
            .admin(Method::POST, "/v1/teams", Some(json!({ "name": name })))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    async fn account(&self, email: &str, name: &str) -> Value {
        let (status, body) = self
            .admin(
                Method::POST,
                "/v1/accounts",
                Some(json!({ "email": email, "name": name, "role": "organiser", "password": PASSWORD })),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    async fn set_member(&self, team: &str, account: &str, role: &str) -> (StatusCode, Value) {
        self.admin(
            Method::PUT,
            &format!("/v1/teams/{team}/members/{account}"),
            Some(json!({ "role": role })),
        )
        .await
    }

    async fn audit(&self, query: &str) -> Value {
        let (status, body) = self
            .admin(Method::GET, &format!("/v1/audit{query}"), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{query}: {body}");
        body
    }

    /// An organiser's token naming these teams.
    fn member_token(&self, teams: Vec<TeamGrant>) -> String {
        self.app
            .people_issuer()
            .issue(TokenRequest {
                subject: "member@example.org".into(),
                role: Role::Organiser,
                scope: None,
                teams,
                audience: cloverleaf_auth::audience::ALL
                    .iter()
                    .map(|a| (*a).to_owned())
                    .collect(),
                ttl: Duration::from_secs(600),
            })
            .expect("token")
            .token
    }
}

fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().expect("field").to_owned())
        .collect()
}

fn id(value: &Value) -> String {
    value["id"].as_str().expect("id").to_owned()
}

fn uuid(value: &Value) -> Uuid {
    value.as_str().expect("uuid").parse().expect("a uuid")
}

fn names(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|t| t["name"].as_str().expect("name").to_owned())
        .collect()
}

#[tokio::test]
async fn admins_create_rename_and_list_teams_with_unique_names() {
    let api = Api::start().await;
    let (status, created) = api
        .admin(
            Method::POST,
            "/v1/teams",
            Some(json!({ "name": "  PerMed Office ", "name_zh": "精准医学办公室" })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["name"], "PerMed Office", "trimmed");
    assert_eq!(created["name_zh"], "精准医学办公室");
    assert_eq!(created["members"], json!([]));
    assert_eq!(created["created_at"], created["updated_at"]);
    let permed = id(&created);
    assert_eq!(uuid(&created["id"]).get_version_num(), 7);

    // The same name again: 409 naming `name`, and nothing written.
    let (status, problem) = api
        .admin(
            Method::POST,
            "/v1/teams",
            Some(json!({ "name": "PerMed Office" })),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(fields(&problem), ["name"]);
    assert!(
        problem["type"]
            .as_str()
            .expect("type")
            .ends_with("team-name-taken"),
        "{problem}"
    );

    // Bad input names each field.
    for (body, wanted) in [
        (json!({}), vec!["name"]),
        (json!({ "name": "   " }), vec!["name"]),
        (json!({ "name": "x".repeat(121) }), vec!["name"]),
        (json!({ "name": "Two\nlines" }), vec!["name"]),
        (
            json!({ "name": "Fine", "name_zh": "长".repeat(121) }),
            vec!["name_zh"],
        ),
    ] {
        let (status, problem) = api
            .admin(Method::POST, "/v1/teams", Some(body.clone()))
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {problem}"
        );
        assert_eq!(fields(&problem), wanted, "{body}");
    }
    assert!(
        api.admin(
            Method::POST,
            "/v1/teams",
            Some(json!({ "name": "x".repeat(120) }))
        )
        .await
        .0
        .is_success(),
        "120 characters fit"
    );

    let biobank = id(&api.team("Biobank").await);
    // Rename; the Chinese name removed with null.
    let (status, renamed) = api
        .admin(
            Method::PATCH,
            &format!("/v1/teams/{permed}"),
            Some(json!({ "name": "Personalised Medicine", "name_zh": null })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{renamed}");
    assert_eq!(renamed["name"], "Personalised Medicine");
    assert!(renamed["name_zh"].is_null());
    assert_ne!(renamed["updated_at"], renamed["created_at"]);
    // Renaming onto another team's name: 409 naming `name`; unknown team 404; unknown field 422.
    let (status, problem) = api
        .admin(
            Method::PATCH,
            &format!("/v1/teams/{permed}"),
            Some(json!({ "name": "Biobank" })),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(fields(&problem), ["name"]);
    let (status, _) = api
        .admin(
            Method::PATCH,
            &format!("/v1/teams/{}", Uuid::now_v7()),
            Some(json!({ "name": "Nobody" })),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, problem) = api
        .admin(
            Method::PATCH,
            &format!("/v1/teams/{biobank}"),
            Some(json!({ "name": "" })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(fields(&problem), ["name"]);

    // Admins list them all, by name, paged.
    let (status, page) = api.admin(Method::GET, "/v1/teams", None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(
        names(&page),
        ["Biobank", "Personalised Medicine", &"x".repeat(120)]
    );
    assert!(page["items"][0].get("members").is_none(), "{page}");
    let (_, first) = api.admin(Method::GET, "/v1/teams?limit=2", None).await;
    assert_eq!(names(&first), ["Biobank", "Personalised Medicine"]);
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let (_, second) = api
        .admin(
            Method::GET,
            &format!("/v1/teams?limit=2&cursor={cursor}"),
            None,
        )
        .await;
    assert_eq!(names(&second), ["x".repeat(120)]);
    assert!(second["next_cursor"].is_null());
}

#[tokio::test]
async fn admins_set_and_remove_members_and_each_change_is_audited() {
    let api = Api::start().await;
    let team = id(&api.team("PerMed Office").await);
    let account = id(&api.account("Li.Wei@Example.org", "Li Wei").await);
    let other = id(&api.account("zhang.min@example.org", "Zhang Min").await);

    let (status, member) = api.set_member(&team, &account, "viewer").await;
    assert_eq!(status, StatusCode::OK, "{member}");
    assert_eq!(
        member,
        json!({ "account_id": account, "email": "li.wei@example.org", "name": "Li Wei", "role": "viewer" })
    );
    // The role changes; setting the same role again changes (and records) nothing.
    let (status, member) = api.set_member(&team, &account, "organiser").await;
    assert_eq!(status, StatusCode::OK, "{member}");
    assert_eq!(member["role"], "organiser");
    assert_eq!(
        api.set_member(&team, &account, "organiser").await.0,
        StatusCode::OK
    );
    assert_eq!(
        api.set_member(&team, &other, "check_in").await.0,
        StatusCode::OK
    );

    let (status, shown) = api
        .admin(Method::GET, &format!("/v1/teams/{team}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    assert_eq!(
        shown["members"],
        json!([
            { "account_id": account, "email": "li.wei@example.org", "name": "Li Wei", "role": "organiser" },
            { "account_id": other, "email": "zhang.min@example.org", "name": "Zhang Min", "role": "check_in" },
        ])
    );

    // A bad or missing role: 422 naming `role`; unknown team or account: 404; nothing recorded for any of them.
    for body in [
        json!({ "role": "admin" }),
        json!({ "role": "check-in" }),
        json!({}),
    ] {
        let (status, problem) = api
            .admin(
                Method::PUT,
                &format!("/v1/teams/{team}/members/{account}"),
                Some(body.clone()),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {problem}"
        );
        assert_eq!(fields(&problem), ["role"], "{body}");
    }
    let nobody = Uuid::now_v7().to_string();
    let (status, problem) = api.set_member(&nobody, &account, "viewer").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{problem}");
    let (status, problem) = api.set_member(&team, &nobody, "viewer").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("account")
            || problem["title"]
                .as_str()
                .unwrap_or_default()
                .contains("account"),
        "{problem}"
    );

    // Removing: 204, then the member is gone and removing again is 404.
    let path = format!("/v1/teams/{team}/members/{other}");
    let (status, body) = api.admin(Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(
        api.admin(Method::DELETE, &path, None).await.0,
        StatusCode::NOT_FOUND
    );
    let (status, _) = api
        .admin(
            Method::DELETE,
            &format!("/v1/teams/{nobody}/members/{account}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, shown) = api
        .admin(Method::GET, &format!("/v1/teams/{team}"), None)
        .await;
    assert_eq!(shown["members"].as_array().expect("members").len(), 1);

    // Four changes, four entries, newest first: ids and roles, nobody's name or address.
    let trail = api.audit("").await;
    let items = trail["items"].as_array().expect("items");
    let details: Vec<Value> = items.iter().map(|e| e["detail"].clone()).collect();
    assert_eq!(
        details,
        [
            json!({ "team_id": team, "account_id": other, "old_role": "check_in", "new_role": null }),
            json!({ "team_id": team, "account_id": other, "old_role": null, "new_role": "check_in" }),
            json!({ "team_id": team, "account_id": account, "old_role": "viewer", "new_role": "organiser" }),
            json!({ "team_id": team, "account_id": account, "old_role": null, "new_role": "viewer" }),
        ]
    );
    for entry in items {
        assert_eq!(entry["action"], "permissions_changed");
        assert_eq!(entry["actor"], ADMIN_SUB);
        assert!(entry["event_id"].is_null() && entry["registration_id"].is_null());
        let text = entry.to_string();
        assert!(!text.contains("li.wei") && !text.contains("Li Wei") && !text.contains("Zhang"));
    }
    let ats: Vec<&str> = items
        .iter()
        .map(|e| e["at"].as_str().expect("at"))
        .collect();
    let times: Vec<chrono::DateTime<chrono::Utc>> =
        ats.iter().map(|a| a.parse().expect("RFC 3339")).collect();
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {ats:?}"
    );

    // Paged, newest first across pages.
    let first = api.audit("?limit=3").await;
    assert_eq!(first["items"].as_array().expect("items").len(), 3);
    let cursor = first["next_cursor"].as_str().expect("next page");
    let second = api.audit(&format!("?limit=3&cursor={cursor}")).await;
    assert_eq!(second["items"].as_array().expect("items").len(), 1);
    assert_eq!(second["items"][0]["id"], items[3]["id"]);
    assert!(second["next_cursor"].is_null());

    // Filters.
    assert_eq!(
        api.audit("?action=permissions_changed").await["items"]
            .as_array()
            .expect("items")
            .len(),
        4
    );
    assert_eq!(
        api.audit(&format!("?actor={ADMIN_SUB}")).await["items"]
            .as_array()
            .expect("items")
            .len(),
        4
    );
    assert_eq!(
        api.audit("?actor=someone.else@example.org").await["items"],
        json!([])
    );
    assert_eq!(api.audit("?action=approved").await["items"], json!([]));
    assert_eq!(
        api.audit(&format!("?event_id={}", Uuid::now_v7())).await["items"],
        json!([])
    );
    for (query, field) in [
        ("?action=deleted", "action"),
        ("?event_id=not-a-uuid", "event_id"),
        ("?limit=0", "limit"),
        ("?cursor=nonsense", "cursor"),
    ] {
        let (status, problem) = api
            .admin(Method::GET, &format!("/v1/audit{query}"), None)
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}: {problem}"
        );
        assert!(
            problem.to_string().contains(field),
            "{query} names {field}: {problem}"
        );
    }
}

#[tokio::test]
async fn other_handlers_record_entries_with_one_call_and_they_filter_by_event_and_action() {
    let api = Api::start().await;
    let db = cloverleaf_service_kit::db::connect(api.app.database.url(), 1)
        .await
        .expect("db");
    let event = Uuid::now_v7();
    let other_event = Uuid::now_v7();
    let registration = Uuid::now_v7();
    for (action, event_id) in [
        (AuditAction::Approved, event),
        (AuditAction::CheckedIn, event),
        (AuditAction::Exported, other_event),
    ] {
        let written = record(
            &db,
            NewAuditEntry {
                actor: "organiser@example.org".into(),
                action,
                event_id: Some(event_id),
                registration_id: Some(registration),
                detail: json!({ "status": "confirmed" }),
            },
        )
        .await
        .expect("recorded");
        assert_eq!(written.action, action);
        assert_eq!(written.id.get_version_num(), 7);
    }
    // In a transaction, rolled back: nothing is left of it.
    {
        use sea_orm::TransactionTrait;
        let txn = db.begin().await.expect("begin");
        record(
            &txn,
            NewAuditEntry {
                actor: "organiser@example.org".into(),
                action: AuditAction::Erased,
                event_id: Some(event),
                registration_id: Some(registration),
                detail: json!({}),
            },
        )
        .await
        .expect("recorded");
        txn.rollback().await.expect("rollback");
    }

    let of_event = api.audit(&format!("?event_id={event}")).await;
    let actions: Vec<&str> = of_event["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["action"].as_str().expect("action"))
        .collect();
    assert_eq!(
        actions,
        ["checked_in", "approved"],
        "newest first, this event only"
    );
    assert_eq!(
        of_event["items"][0]["registration_id"],
        registration.to_string()
    );
    assert_eq!(
        of_event["items"][0]["detail"],
        json!({ "status": "confirmed" })
    );
    let exported = api
        .audit("?action=exported&actor=organiser@example.org")
        .await;
    assert_eq!(exported["items"].as_array().expect("items").len(), 1);
    assert_eq!(exported["items"][0]["event_id"], other_event.to_string());
    assert_eq!(api.audit("?action=erased").await["items"], json!([]));
}

#[tokio::test]
async fn members_see_only_their_own_teams_and_only_admins_change_anything() {
    let api = Api::start().await;
    let a = id(&api.team("Team A").await);
    let b = id(&api.team("Team B").await);
    let account = id(&api.account("member@example.org", "Member").await);
    assert_eq!(
        api.set_member(&a, &account, "viewer").await.0,
        StatusCode::OK
    );

    let viewer = api.member_token(vec![TeamGrant {
        team: a.parse().expect("uuid"),
        role: TeamRole::Viewer,
    }]);
    let (status, page) = api
        .send(Method::GET, "/v1/teams", Some(&viewer), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(names(&page), ["Team A"]);
    let (status, shown) = api
        .send(Method::GET, &format!("/v1/teams/{a}"), Some(&viewer), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    assert_eq!(shown["members"][0]["role"], "viewer");
    // Another team looks like no team at all.
    let (status, problem) = api
        .send(Method::GET, &format!("/v1/teams/{b}"), Some(&viewer), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{problem}");
    let unknown = api
        .send(
            Method::GET,
            &format!("/v1/teams/{}", Uuid::now_v7()),
            Some(&viewer),
            None,
        )
        .await;
    assert_eq!(unknown.0, StatusCode::NOT_FOUND);
    assert_eq!(
        unknown.1["title"], problem["title"],
        "the same 404 either way"
    );

    // An organiser in no team sees no team; a participant's or service's token none of this.
    let wide = api.app.organiser_token();
    let (status, page) = api.send(Method::GET, "/v1/teams", Some(&wide), None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["items"], json!([]));
    assert_eq!(
        api.send(Method::GET, &format!("/v1/teams/{a}"), Some(&wide), None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let participant = api.app.token_for(Role::Participant);
    assert_eq!(
        api.send(Method::GET, "/v1/teams", Some(&participant), None)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        api.send(Method::GET, "/v1/teams", None, None).await.0,
        StatusCode::UNAUTHORIZED
    );

    // Non-admins change nothing and read no audit trail: 403 even for their own team.
    let organiser = api.member_token(vec![TeamGrant {
        team: a.parse().expect("uuid"),
        role: TeamRole::Organiser,
    }]);
    for token in [&viewer, &organiser, &wide] {
        for (method, path, body) in [
            (
                Method::POST,
                "/v1/teams".to_owned(),
                Some(json!({ "name": "Mine" })),
            ),
            (
                Method::PATCH,
                format!("/v1/teams/{a}"),
                Some(json!({ "name": "Ours" })),
            ),
            (
                Method::PUT,
                format!("/v1/teams/{a}/members/{account}"),
                Some(json!({ "role": "organiser" })),
            ),
            (
                Method::DELETE,
                format!("/v1/teams/{a}/members/{account}"),
                None,
            ),
            (Method::GET, "/v1/audit".to_owned(), None),
        ] {
            let (status, problem) = api.send(method.clone(), &path, Some(token), body).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {problem}");
        }
    }
    let (_, shown) = api
        .admin(Method::GET, &format!("/v1/teams/{a}"), None)
        .await;
    assert_eq!(shown["name"], "Team A");
    assert_eq!(shown["members"][0]["role"], "viewer", "unchanged");
    assert_eq!(
        api.audit("").await["items"]
            .as_array()
            .expect("items")
            .len(),
        1
    );
}

#[tokio::test]
async fn a_login_token_carries_the_accounts_teams_and_roles() {
    let api = Api::start().await;
    let a = id(&api.team("Team A").await);
    let b = id(&api.team("Team B").await);
    let c = id(&api.team("Team C").await);
    let account = id(&api.account("li.wei@example.org", "Li Wei").await);
    assert_eq!(
        api.set_member(&a, &account, "organiser").await.0,
        StatusCode::OK
    );
    assert_eq!(
        api.set_member(&b, &account, "check_in").await.0,
        StatusCode::OK
    );

    let login = || async {
        let (status, body) = api
            .send(
                Method::POST,
                "/v1/auth/token",
                None,
                Some(json!({ "email": "li.wei@example.org", "password": PASSWORD })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["access_token"].as_str().expect("token").to_owned()
    };
    let token = login().await;

    // The app's own verifier reads the grants from the signed token.
    let verifier =
        cloverleaf_service_kit::auth::verifier(&api.app.settings, ServiceName::Registration, None)
            .expect("verifier");
    let claims = verifier.verify(&token).await.expect("verified");
    assert_eq!(claims.role, Role::Organiser);
    let mut grants = claims.teams.clone();
    grants.sort_by_key(|g| g.team);
    let mut wanted = vec![
        TeamGrant {
            team: a.parse().expect("uuid"),
            role: TeamRole::Organiser,
        },
        TeamGrant {
            team: b.parse().expect("uuid"),
            role: TeamRole::CheckIn,
        },
    ];
    wanted.sort_by_key(|g| g.team);
    assert_eq!(grants, wanted);
    // As JSON in the payload, the way every service reads it.
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("payload");
    let payload: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .expect("base64url"),
    )
    .expect("json");
    let teams = payload["teams"].as_array().expect("teams");
    assert_eq!(teams.len(), 2);
    assert!(
        teams.contains(&json!({ "team": a, "role": "organiser" })),
        "{payload}"
    );
    assert!(
        teams.contains(&json!({ "team": b, "role": "check_in" })),
        "{payload}"
    );

    // With that token: its two teams, not the third.
    let (_, page) = api.send(Method::GET, "/v1/teams", Some(&token), None).await;
    assert_eq!(names(&page), ["Team A", "Team B"]);
    assert_eq!(
        api.send(Method::GET, &format!("/v1/teams/{c}"), Some(&token), None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );

    // Changes count from the next login.
    assert_eq!(
        api.set_member(&a, &account, "viewer").await.0,
        StatusCode::OK
    );
    let (status, _) = api
        .admin(
            Method::DELETE,
            &format!("/v1/teams/{b}/members/{account}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let claims = verifier.verify(&login().await).await.expect("verified");
    assert_eq!(
        claims.teams,
        [TeamGrant {
            team: a.parse().expect("uuid"),
            role: TeamRole::Viewer,
        }]
    );
    assert_eq!(
        api.admin(
            Method::DELETE,
            &format!("/v1/teams/{a}/members/{account}"),
            None
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    let token = login().await;
    assert!(
        verifier
            .verify(&token)
            .await
            .expect("verified")
            .teams
            .is_empty()
    );
    let payload = token.split('.').nth(1).expect("payload");
    let payload: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .expect("base64url"),
    )
    .expect("json");
    assert!(
        payload.get("teams").is_none(),
        "no teams, no claim: {payload}"
    );
}

#[tokio::test]
async fn the_openapi_document_describes_teams_and_the_audit_trail() {
    let api = Api::start().await;
    let (status, doc) = api.send(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let paths = &doc["paths"];
    for (path, methods) in [
        ("/v1/teams", &["get", "post"][..]),
        ("/v1/teams/{id}", &["get", "patch"][..]),
        (
            "/v1/teams/{id}/members/{account_id}",
            &["put", "delete"][..],
        ),
        ("/v1/audit", &["get"][..]),
    ] {
        for method in methods {
            assert!(paths[path][method].is_object(), "{method} {path}");
        }
    }
    let params: Vec<&str> = paths["/v1/audit"]["get"]["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .map(|p| p["name"].as_str().expect("name"))
        .collect();
    for name in ["event_id", "actor", "action", "limit", "cursor"] {
        assert!(params.contains(&name), "{params:?}");
    }
    let schemas = &doc["components"]["schemas"];
    for schema in ["TeamView", "MemberView", "AuditAction", "MemberInput"] {
        assert!(schemas[schema].is_object(), "{schema}");
    }
}

#[tokio::test]
async fn a_membership_change_and_its_audit_entry_are_written_together_or_not_at_all() {
    use sea_orm::ConnectionTrait;
    let api = Api::start().await;
    let team = id(&api.team("Team A").await);
    let account = id(&api.account("li.wei@example.org", "Li Wei").await);
    assert_eq!(
        api.set_member(&team, &account, "viewer").await.0,
        StatusCode::OK
    );
    // Without its audit table the entry cannot be written: neither can the change it records.
    let db = cloverleaf_service_kit::db::connect(api.app.database.url(), 1)
        .await
        .expect("db");
    db.execute_unprepared("ALTER TABLE audit_entries RENAME TO audit_entries_away")
        .await
        .expect("rename");
    let other = id(&api.account("zhang.min@example.org", "Zhang Min").await);
    let (status, _) = api.set_member(&team, &other, "organiser").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let (status, _) = api.set_member(&team, &account, "organiser").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let (status, _) = api
        .admin(
            Method::DELETE,
            &format!("/v1/teams/{team}/members/{account}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    db.execute_unprepared("ALTER TABLE audit_entries_away RENAME TO audit_entries")
        .await
        .expect("rename back");
    let (_, shown) = api
        .admin(Method::GET, &format!("/v1/teams/{team}"), None)
        .await;
    assert_eq!(
        shown["members"],
        json!([{ "account_id": account, "email": "li.wei@example.org", "name": "Li Wei", "role": "viewer" }]),
        "nothing changed"
    );
    assert_eq!(
        api.audit("").await["items"]
            .as_array()
            .expect("items")
            .len(),
        1
    );
}
