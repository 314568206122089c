//! Organisers' and admins' logins and accounts through HTTP, on SQLite (or PostgreSQL when
//! CLOVERLEAF_TEST_DATABASE_URL is set): tokens every service accepts, one 401 for every failed login, the slow-down
//! with its real thresholds (5 failures → 1 s, doubling up to 8 s, never a lock), the limits per client address and
//! per account and client address (429), and the admin API.

use std::time::{Duration, Instant};

use cloverleaf_auth::Role;
use cloverleaf_registration::build;
use cloverleaf_registration::domain::accounts::{FIRST_DELAY, LONGEST_DELAY, SLOW_AFTER_FAILURES};
use cloverleaf_service_kit::config::ServiceName;
use cloverleaf_service_kit::testing::TestApp;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery staple";

struct Api {
    app: TestApp,
    admin: String,
}

/// What one request answered.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
    took: Duration,
}

impl Api {
    async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    async fn start_with(adjust: impl FnOnce(&mut cloverleaf_service_kit::Settings)) -> Self {
        let app = TestApp::spawn_with(ServiceName::Registration, adjust, build).await;
        let admin = app.token_for(Role::Admin);
        Self { app, admin }
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        self.send_from(None, method, path, token, body).await
    }

    /// [`Api::send`] as the edge passes on a request from `client` (`X-Forwarded-For`; the test settings trust
    /// loopback, where the edge runs).
    async fn send_from(
        &self,
        client: Option<&str>,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut request = self.app.http.request(method, self.app.url(path));
        if let Some(client) = client {
            request = request.header("x-forwarded-for", client);
        }
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let started = Instant::now();
        let response = request.send().await.expect("request");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let took = started.elapsed();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Answer {
            status,
            headers,
            body,
            took,
        }
    }

    async fn login_from(&self, client: &str, email: &str, password: &str) -> Answer {
        self.send_from(
            Some(client),
            reqwest::Method::POST,
            "/v1/auth/token",
            None,
            Some(json!({ "email": email, "password": password })),
        )
        .await
    }

    async fn login(&self, email: &str, password: &str) -> Answer {
        self.send(
            reqwest::Method::POST,
            "/v1/auth/token",
            None,
            Some(json!({ "email": email, "password": password })),
        )
        .await
    }

    /// The access token of a successful login.
    async fn token(&self, email: &str, password: &str) -> String {
        let answer = self.login(email, password).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        answer.body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }

    async fn admin_post(&self, path: &str, body: Value) -> Answer {
        self.send(reqwest::Method::POST, path, Some(&self.admin), Some(body))
            .await
    }

    async fn admin_patch(&self, path: &str, body: Value) -> Answer {
        self.send(reqwest::Method::PATCH, path, Some(&self.admin), Some(body))
            .await
    }

    async fn admin_get(&self, path: &str) -> Answer {
        self.send(reqwest::Method::GET, path, Some(&self.admin), None)
            .await
    }

    /// Creates an account through the admin API.
    async fn account(&self, email: &str, role: &str) -> Value {
        let answer = self
            .admin_post(
                "/v1/accounts",
                json!({ "email": email, "name": "Li Wei", "role": role, "password": PASSWORD }),
            )
            .await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
        answer.body
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

fn retry_after(answer: &Answer) -> u64 {
    answer.headers["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds")
}

#[tokio::test]
async fn an_admin_logs_in_and_the_token_is_good_at_every_service() {
    let api = Api::start().await;
    let created = api.account("Admin.Two@Example.org", "admin").await;
    assert_eq!(
        created["email"], "admin.two@example.org",
        "stored lower-case"
    );
    assert_eq!(created["role"], "admin");
    assert_eq!(created["disabled"], false);
    assert!(created["last_login_at"].is_null());

    // Any case of the address logs in.
    let answer = api.login(" ADMIN.two@example.org", PASSWORD).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["token_type"], "Bearer");
    assert_eq!(
        answer.body["expires_in"],
        api.app.settings.auth.access_token_ttl_secs
    );
    assert_eq!(answer.headers["cache-control"], "no-store");
    let token = answer.body["access_token"].as_str().expect("token");

    // Each service's verifier accepts it, as the account's role, for the account's address.
    for service in ServiceName::ALL {
        let verifier = cloverleaf_service_kit::auth::verifier(&api.app.settings, service, None)
            .expect("verifier");
        let claims = verifier.verify(token).await.expect("verified");
        assert_eq!(claims.role, Role::Admin);
        assert_eq!(claims.sub, "admin.two@example.org");
        assert_eq!(claims.iss, api.app.settings.auth.issuer);
        assert!(claims.aud.iter().any(|a| a == service.audience()));
        assert_eq!(
            claims.exp - claims.iat,
            i64::try_from(api.app.settings.auth.access_token_ttl_secs).expect("small")
        );
    }

    // And the admin API takes it.
    let list = api
        .send(reqwest::Method::GET, "/v1/accounts", Some(token), None)
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    let items = list.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    assert!(
        !items[0]["last_login_at"].is_null(),
        "the login is noted: {}",
        items[0]
    );
    // Never the hash, under any name.
    let text = list.body.to_string();
    assert!(
        !text.contains("argon2") && !text.contains("password"),
        "{text}"
    );

    // An organiser's token carries the organiser role, and the admin API refuses it.
    api.account("organiser@example.org", "organiser").await;
    let organiser = api.token("organiser@example.org", PASSWORD).await;
    let verifier =
        cloverleaf_service_kit::auth::verifier(&api.app.settings, ServiceName::Scheduling, None)
            .expect("verifier");
    assert_eq!(
        verifier.verify(&organiser).await.expect("verified").role,
        Role::Organiser
    );
    let refused = api
        .send(reqwest::Method::GET, "/v1/accounts", Some(&organiser), None)
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

/// Catches account enumeration: any difference between "no such address", "wrong password" and "disabled" — in
/// status, body or headers — tells an attacker which addresses have (working) accounts.
#[tokio::test]
async fn every_failed_login_gets_the_same_401() {
    let api = Api::start().await;
    let account = api.account("li.wei@example.org", "organiser").await;
    let wrong_password = api
        .login("li.wei@example.org", "not the right password")
        .await;
    let unknown = api.login("nobody@example.org", PASSWORD).await;
    let malformed = api.login("not an address", PASSWORD).await;
    let overlong = api
        .login(&format!("{}@example.org", "a".repeat(400)), PASSWORD)
        .await;
    let path = format!("/v1/accounts/{}", account["id"].as_str().expect("id"));
    let disabled = api.admin_patch(&path, json!({ "disabled": true })).await;
    assert_eq!(disabled.status, StatusCode::OK, "{}", disabled.body);
    assert_eq!(disabled.body["disabled"], true);
    let disabled_login = api.login("li.wei@example.org", PASSWORD).await;

    for answer in [&unknown, &malformed, &overlong, &disabled_login] {
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert_eq!(answer.body, wrong_password.body);
        assert_eq!(
            answer.headers["www-authenticate"],
            wrong_password.headers["www-authenticate"]
        );
        assert_eq!(answer.headers["content-type"], "application/problem+json");
    }
    assert_eq!(wrong_password.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong_password.body["status"], 401);

    // Enabled again, the account logs in.
    let enabled = api.admin_patch(&path, json!({ "disabled": false })).await;
    assert_eq!(enabled.status, StatusCode::OK);
    api.token("li.wei@example.org", PASSWORD).await;
}

/// Catches the lockout an attacker could use as a weapon (issue 16.4): ten wrong passwords for a known organiser
/// locked the account for 15 minutes even with the right password, renewable forever. Failures for an account, from
/// anywhere, now only slow its logins down (catching a slow-down that does not slow either); the organiser, from
/// their own address, still gets in.
#[tokio::test]
async fn failed_logins_are_slowed_down_but_never_lock_the_organiser_out() {
    let api = Api::start().await;
    api.account("target@example.org", "organiser").await;
    api.account("bystander@example.org", "organiser").await;
    let attacker = "198.51.100.66";

    let wrong = SLOW_AFTER_FAILURES + 3;
    for attempt in 1..=wrong {
        let answer = api
            .login_from(attacker, "TARGET@example.org", "guess guess guess")
            .await;
        assert_eq!(
            answer.status,
            StatusCode::UNAUTHORIZED,
            "attempt {attempt}: {}",
            answer.body
        );
        if attempt > SLOW_AFTER_FAILURES {
            let doublings = u32::try_from(attempt - SLOW_AFTER_FAILURES - 1).expect("small");
            let expected = (FIRST_DELAY * 2_u32.pow(doublings)).min(LONGEST_DELAY);
            assert!(
                answer.took >= expected,
                "attempt {attempt} after {SLOW_AFTER_FAILURES} failures waits {expected:?} ({:?})",
                answer.took
            );
        }
    }
    // The real organiser, from another address, with the right password: in, a few seconds later.
    let organiser = api
        .login_from("203.0.113.7", "target@example.org", PASSWORD)
        .await;
    assert_eq!(
        organiser.status,
        StatusCode::OK,
        "not locked out: {}",
        organiser.body
    );
    assert!(
        organiser.took <= LONGEST_DELAY + Duration::from_secs(5),
        "{:?}",
        organiser.took
    );
    // The success reset the count: the next attempt is not slowed.
    let next = api
        .login_from(attacker, "target@example.org", "guess guess guess")
        .await;
    assert_eq!(next.status, StatusCode::UNAUTHORIZED);
    assert!(next.took < FIRST_DELAY, "{:?}", next.took);

    // Other accounts are not affected.
    api.token("bystander@example.org", PASSWORD).await;
}

/// Catches guessing at full speed from one address: attempts for one account from one client address are limited
/// (429 with Retry-After, even with the right password from there) — and only there: the organiser's own address
/// is not held back by a guesser's.
#[tokio::test]
async fn guesses_for_one_account_are_limited_per_client_address_only() {
    let api = Api::start_with(|settings| {
        settings.set("rate_limit.logins_burst_per_account", 3);
        settings.set("rate_limit.logins_per_hour_per_account", 1);
    })
    .await;
    api.account("target@example.org", "organiser").await;
    let attacker = "198.51.100.66";
    for attempt in 1..=3 {
        let answer = api
            .login_from(attacker, "target@example.org", "guess guess guess")
            .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    let refused = api
        .login_from(attacker, "target@example.org", PASSWORD)
        .await;
    assert_eq!(
        refused.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        refused.body
    );
    assert_eq!(refused.headers["content-type"], "application/problem+json");
    let secs = retry_after(&refused);
    assert!((1..=3600).contains(&secs), "Retry-After {secs}");
    // The same address may still try other accounts (its own limit is not reached), and the organiser's address
    // logs in.
    let other = api
        .login_from(attacker, "nobody@example.org", "guess guess guess")
        .await;
    assert_eq!(other.status, StatusCode::UNAUTHORIZED);
    let organiser = api
        .login_from("203.0.113.7", "target@example.org", PASSWORD)
        .await;
    assert_eq!(organiser.status, StatusCode::OK, "{}", organiser.body);
}

/// Catches unthrottled spraying (issue 16.4): forty addresses tried from one client address in two seconds were all
/// processed. Beyond `logins_burst` attempts from one address, any account, the answer is 429 (before any password
/// is checked); other addresses are not affected.
#[tokio::test]
async fn spraying_many_accounts_from_one_address_is_refused() {
    let api = Api::start_with(|settings| {
        settings.set("rate_limit.logins_burst", 20);
        settings.set("rate_limit.logins_per_minute", 10);
    })
    .await;
    api.account("office@example.org", "organiser").await;
    let sprayer = "198.51.100.99";
    let answers = futures::future::join_all((0..40).map(|n| {
        let api = &api;
        let email = format!("user{n}@example.org");
        async move { api.login_from(sprayer, &email, "Summer2027!!").await }
    }))
    .await;
    let checked = answers
        .iter()
        .filter(|a| a.status == StatusCode::UNAUTHORIZED)
        .count();
    let refused: Vec<&Answer> = answers
        .iter()
        .filter(|a| a.status == StatusCode::TOO_MANY_REQUESTS)
        .collect();
    assert_eq!(checked + refused.len(), 40, "only 401 and 429");
    assert_eq!(checked, 20, "the burst, then refused");
    assert!(refused.iter().all(|a| retry_after(a) >= 1));
    assert!(refused.iter().all(|a| {
        a.body["type"]
            .as_str()
            .is_some_and(|t| t.ends_with("too-many-logins"))
    }));
    let organiser = api
        .login_from("203.0.113.7", "office@example.org", PASSWORD)
        .await;
    assert_eq!(organiser.status, StatusCode::OK, "{}", organiser.body);
}

/// Catches a count that is never reset: organisers who mistype now and then would end up slowed down for good.
#[tokio::test]
async fn a_successful_login_resets_the_count() {
    let api = Api::start().await;
    api.account("typo@example.org", "organiser").await;
    for _ in 1..SLOW_AFTER_FAILURES {
        let answer = api.login("typo@example.org", "typo typo typo").await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    }
    api.token("typo@example.org", PASSWORD).await;
    // Counted again from zero: four more failures are not slowed (the old and new ones together would be 8).
    for attempt in 1..SLOW_AFTER_FAILURES {
        let answer = api.login("typo@example.org", "typo typo typo").await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
        assert!(
            answer.took < FIRST_DELAY,
            "attempt {attempt}: {:?}",
            answer.took
        );
    }
    api.token("typo@example.org", PASSWORD).await;
}

/// Catches a check-then-count race: if attempts read the count, checked the password and only then added their
/// failure, a burst of parallel guesses would all pass before any was counted and never be slowed. Every attempt is
/// counted before its password is checked, under a row lock: after 25 parallel guesses the next one waits the
/// longest delay. Addresses without an account are slowed the same way, so the slow-down tells nothing either.
#[tokio::test]
async fn parallel_guesses_are_all_counted() {
    let api = Api::start().await;
    api.account("burst@example.org", "organiser").await;
    let attempts = 25;
    let answers = futures::future::join_all(
        (0..attempts).map(|_| api.login("burst@example.org", "nope nope nope")),
    )
    .await;
    assert!(
        answers.iter().all(|a| a.status == StatusCode::UNAUTHORIZED),
        "never a lock: only 401"
    );
    let next = api.login("burst@example.org", "nope nope nope").await;
    assert_eq!(next.status, StatusCode::UNAUTHORIZED);
    assert!(
        next.took >= LONGEST_DELAY,
        "all 25 were counted: {:?}",
        next.took
    );

    for _ in 0..=SLOW_AFTER_FAILURES {
        let answer = api.login("ghost@example.org", PASSWORD).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    }
    let ghost = api.login("ghost@example.org", PASSWORD).await;
    assert_eq!(ghost.status, StatusCode::UNAUTHORIZED);
    assert!(ghost.took >= FIRST_DELAY * 2, "{:?}", ghost.took);
    assert_eq!(ghost.body, next.body);
}

/// Catches a NUL character reaching the database (issue 16.3): PostgreSQL cannot store one in text and answered
/// 500. It is a 422 naming the field, before any lookup.
#[tokio::test]
async fn a_nul_character_in_a_login_is_a_422_naming_the_field() {
    let api = Api::start().await;
    let answer = api
        .send(
            reqwest::Method::POST,
            "/v1/auth/token",
            None,
            Some(json!({ "email": "a\u{0}@example.org", "password": PASSWORD })),
        )
        .await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        answer.body
    );
    assert_eq!(fields(&answer.body), ["email"]);
    let answer = api
        .admin_post(
            "/v1/accounts",
            json!({ "email": "b@example.org", "name": "Li\u{0}Wei", "role": "organiser", "password": PASSWORD }),
        )
        .await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        answer.body
    );
    assert_eq!(fields(&answer.body), ["name"]);
}

#[tokio::test]
async fn admins_list_create_and_change_accounts() {
    let api = Api::start().await;
    for email in ["c@example.org", "a@example.org", "b@example.org"] {
        api.account(email, "organiser").await;
    }
    // Pages by address.
    let first = api.admin_get("/v1/accounts?limit=2").await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let emails = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|a| a["email"].as_str().expect("email").to_owned())
            .collect()
    };
    assert_eq!(emails(&first.body), ["a@example.org", "b@example.org"]);
    let cursor = first.body["next_cursor"].as_str().expect("more");
    let second = api
        .admin_get(&format!("/v1/accounts?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(emails(&second.body), ["c@example.org"]);
    assert!(second.body["next_cursor"].is_null());
    let bad_cursor = api.admin_get("/v1/accounts?cursor=nonsense").await;
    assert_eq!(bad_cursor.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&bad_cursor.body), ["cursor"]);

    // One account per address, whatever its case.
    let taken = api
        .admin_post(
            "/v1/accounts",
            json!({ "email": "A@Example.org", "name": "Again", "role": "admin", "password": PASSWORD }),
        )
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.body);
    assert_eq!(fields(&taken.body), ["email"]);

    // Renamed, promoted, disabled; absent fields stay.
    let id = first.body["items"][0]["id"].as_str().expect("id");
    let path = format!("/v1/accounts/{id}");
    let changed = api
        .admin_patch(&path, json!({ "name": "  Anna Rossi ", "role": "admin" }))
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(changed.body["name"], "Anna Rossi");
    assert_eq!(changed.body["role"], "admin");
    assert_eq!(changed.body["disabled"], false);
    let read = api.admin_get(&path).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body["role"], "admin");
    assert!(read.body.get("password_hash").is_none());
    let login = api.token("a@example.org", PASSWORD).await;
    let claims =
        cloverleaf_service_kit::auth::verifier(&api.app.settings, ServiceName::Registration, None)
            .expect("verifier")
            .verify(&login)
            .await
            .expect("verified");
    assert_eq!(
        claims.role,
        Role::Admin,
        "the new role is in the next token"
    );

    let missing = api
        .admin_patch(
            "/v1/accounts/01900000-0000-7000-8000-000000000000",
            json!({ "name": "x" }),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let not_an_id = api.admin_get("/v1/accounts/not-an-id").await;
    assert_eq!(not_an_id.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn organisers_and_strangers_cannot_manage_accounts() {
    let api = Api::start().await;
    let account = api.account("li.wei@example.org", "organiser").await;
    let path = format!("/v1/accounts/{}", account["id"].as_str().expect("id"));
    let organiser = api.app.token_for(Role::Organiser);
    let new =
        json!({ "email": "x@example.org", "name": "X", "role": "admin", "password": PASSWORD });
    for (token, status) in [
        (Some(organiser.as_str()), StatusCode::FORBIDDEN),
        (None, StatusCode::UNAUTHORIZED),
    ] {
        let list = api
            .send(reqwest::Method::GET, "/v1/accounts", token, None)
            .await;
        let create = api
            .send(
                reqwest::Method::POST,
                "/v1/accounts",
                token,
                Some(new.clone()),
            )
            .await;
        let patch = api
            .send(
                reqwest::Method::PATCH,
                &path,
                token,
                Some(json!({ "role": "admin" })),
            )
            .await;
        let read = api.send(reqwest::Method::GET, &path, token, None).await;
        for answer in [list, create, patch, read] {
            assert_eq!(answer.status, status, "{}", answer.body);
            assert_eq!(answer.headers["content-type"], "application/problem+json");
        }
    }
    let unchanged = api.admin_get(&path).await;
    assert_eq!(unchanged.body["role"], "organiser");
    let list = api.admin_get("/v1/accounts").await;
    assert_eq!(list.body["items"].as_array().expect("items").len(), 1);
}

/// Catches an admin locking themselves (and possibly everybody) out: with their own role gone or their account
/// disabled, nobody may be left to undo it.
#[tokio::test]
async fn an_admin_cannot_disable_or_demote_themselves() {
    let api = Api::start().await;
    let me = api.account("me@example.org", "admin").await;
    let other = api.account("other@example.org", "admin").await;
    let my_token = api.token("me@example.org", PASSWORD).await;
    let my_path = format!("/v1/accounts/{}", me["id"].as_str().expect("id"));
    let patch = |body: Value| {
        api.send(
            reqwest::Method::PATCH,
            &my_path,
            Some(&my_token),
            Some(body),
        )
    };

    let demote = patch(json!({ "role": "organiser" })).await;
    assert_eq!(demote.status, StatusCode::CONFLICT, "{}", demote.body);
    assert_eq!(fields(&demote.body), ["role"]);
    let disable = patch(json!({ "disabled": true, "name": "Me" })).await;
    assert_eq!(disable.status, StatusCode::CONFLICT, "{}", disable.body);
    assert_eq!(fields(&disable.body), ["disabled"]);
    let unchanged = api.admin_get(&my_path).await;
    assert_eq!(unchanged.body["role"], "admin");
    assert_eq!(unchanged.body["disabled"], false);
    assert_eq!(
        unchanged.body["name"], "Li Wei",
        "a refused change writes nothing"
    );

    // Harmless changes to oneself are fine; another admin may demote them.
    let rename = patch(json!({ "name": "Me Myself", "role": "admin", "disabled": false })).await;
    assert_eq!(rename.status, StatusCode::OK, "{}", rename.body);
    let other_token = api.token("other@example.org", PASSWORD).await;
    let demoted = api
        .send(
            reqwest::Method::PATCH,
            &my_path,
            Some(&other_token),
            Some(json!({ "role": "organiser" })),
        )
        .await;
    assert_eq!(demoted.status, StatusCode::OK, "{}", demoted.body);
    assert_eq!(demoted.body["role"], "organiser");
    // The demoted admin's next token is an organiser's.
    let after = api.token("me@example.org", PASSWORD).await;
    let list = api
        .send(reqwest::Method::GET, "/v1/accounts", Some(&after), None)
        .await;
    assert_eq!(list.status, StatusCode::FORBIDDEN);
    let _ = other;
}

#[tokio::test]
async fn bad_input_is_refused_naming_each_field() {
    let api = Api::start().await;
    let empty = api.admin_post("/v1/accounts", json!({})).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&empty.body), ["email", "name", "role", "password"]);

    let bad = api
        .admin_post(
            "/v1/accounts",
            json!({ "email": "not-an-address", "name": "Line\nbreak", "role": "root", "password": "short" }),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&bad.body), ["email", "name", "role", "password"]);
    assert_eq!(bad.body["errors"][3]["code"], "too_short");

    for (password, code) in [
        ("x".repeat(11), "too_short"),
        ("x".repeat(1025), "too_long"),
    ] {
        let answer = api
            .admin_post(
                "/v1/accounts",
                json!({ "email": "ok@example.org", "name": "Ok", "role": "organiser", "password": password }),
            )
            .await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&answer.body), ["password"]);
        assert_eq!(answer.body["errors"][0]["code"], code);
    }
    let wrong_type = api
        .admin_post(
            "/v1/accounts",
            json!({ "email": "ok@example.org", "name": "Ok", "role": "organiser", "password": 123_456_789_012_u64 }),
        )
        .await;
    assert_eq!(wrong_type.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&wrong_type.body), ["password"]);
    // Exactly 12 and exactly 1024 characters are fine.
    for (email, password) in [
        ("twelve@example.org", "x".repeat(12)),
        ("long@example.org", "y".repeat(1024)),
    ] {
        let answer = api
            .admin_post(
                "/v1/accounts",
                json!({ "email": email, "name": "Ok", "role": "organiser", "password": password }),
            )
            .await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
        api.token(email, &password).await;
    }

    let account = api.account("li.wei@example.org", "organiser").await;
    let path = format!("/v1/accounts/{}", account["id"].as_str().expect("id"));
    let bad_patch = api
        .admin_patch(&path, json!({ "name": " ", "role": "superuser" }))
        .await;
    assert_eq!(bad_patch.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&bad_patch.body), ["name", "role"]);
    let unknown_field = api
        .admin_patch(&path, json!({ "password": "a new password!" }))
        .await;
    assert_eq!(
        unknown_field.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a field this endpoint does not change is refused, not silently ignored"
    );
    assert_eq!(fields(&unknown_field.body), ["password"]);
    let bad_disabled = api.admin_patch(&path, json!({ "disabled": "yes" })).await;
    assert_eq!(bad_disabled.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&bad_disabled.body), ["disabled"]);

    let no_password = api
        .send(
            reqwest::Method::POST,
            "/v1/auth/token",
            None,
            Some(json!({ "email": "li.wei@example.org" })),
        )
        .await;
    assert_eq!(no_password.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&no_password.body), ["password"]);
    let not_json = api
        .app
        .http
        .post(api.app.url("/v1/auth/token"))
        .body("email=a&password=b")
        .send()
        .await
        .expect("request");
    assert_eq!(not_json.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

/// Catches a check-then-insert race: two admins creating the same address at once must get one account and one
/// 409, never two accounts or a 500.
#[tokio::test]
async fn parallel_creates_of_one_address_make_one_account() {
    let api = Api::start().await;
    let answers = futures::future::join_all((0..6).map(|i| {
        api.admin_post(
            "/v1/accounts",
            json!({ "email": if i % 2 == 0 { "same@example.org" } else { "SAME@example.org" },
                    "name": format!("Person {i}"), "role": "organiser", "password": PASSWORD }),
        )
    }))
    .await;
    let created = answers
        .iter()
        .filter(|a| a.status == StatusCode::CREATED)
        .count();
    let conflicts = answers
        .iter()
        .filter(|a| a.status == StatusCode::CONFLICT)
        .count();
    assert_eq!((created, conflicts), (1, 5));
    let list = api.admin_get("/v1/accounts").await;
    assert_eq!(list.body["items"].as_array().expect("items").len(), 1);
}

#[tokio::test]
async fn the_openapi_document_describes_the_accounts_api() {
    let api = Api::start().await;
    let doc = api.admin_get("/openapi.json").await;
    let paths = &doc.body["paths"];
    for (path, method) in [
        ("/v1/auth/token", "post"),
        ("/v1/accounts", "get"),
        ("/v1/accounts", "post"),
        ("/v1/accounts/{id}", "get"),
        ("/v1/accounts/{id}", "patch"),
    ] {
        assert!(paths[path][method].is_object(), "{method} {path}");
    }
    assert!(paths["/v1/auth/token"]["post"]["responses"]["429"].is_object());
}
