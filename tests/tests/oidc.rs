//! "Log in with the institution's account", in a real browser against a real OpenID provider (panva/oidc-provider
//! from npm, started by the test on loopback: `tests/src/oidc.rs`). Two teams each run an event; the institution's
//! group `charite-events` is mapped to team A. Ana (in that group) clicks "Log in with Charité", signs in at the
//! provider, consents, and lands on the dashboard with team A's event and not team B's; team B's event page is
//! refused. Nils (in no mapped group) gets the no-role page, in Chinese; cancelling at the provider
//! (`error=access_denied`) gives the login page saying so, not an error.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::Duration as Span;
use cloverleaf_e2e::Journey;
use cloverleaf_e2e::browser::Browser;
use cloverleaf_e2e::oidc::{CLIENT_ID, CLIENT_SECRET, OidcProvider, free_port};
use cloverleaf_registration::domain::accounts::AccountRole;
use cloverleaf_service_kit::clock::Clock;
use cloverleaf_service_kit::config::{ExternalIssuerSettings, ExternalTeamSettings, ServiceName};
use reqwest::{Method, StatusCode};
use serde_json::json;

fn screenshots() -> PathBuf {
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent()
        .map_or(tmp.clone(), |target| target.join("screenshots"))
}

/// Waits until the browser is at exactly `url` (the callback's address also starts with `/organiser`).
async fn wait_for_exact(browser: &Browser, url: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let at = browser.url().await;
        if at == url {
            return;
        }
        if Instant::now() > deadline {
            browser.shot("timed-out").await;
            panic!(
                "still at {at}, waiting for {url}: {}",
                browser.page_text().await
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// From the portal's login page through the provider's sign-in (and consent, the first time) for `login`.
async fn log_in_at_the_provider(browser: &Browser, provider: &OidcProvider, login: &str) {
    browser.click("a[data-institution='0']").await;
    browser.wait_for_url(&provider.issuer).await;
    browser.text("input[name=login]").await;
    browser.shot("provider-login").await;
    browser.fill("input[name=login]", login).await;
    browser.fill("input[name=password]", "any password").await;
    browser.click("button[type=submit]").await;
    // oidc-provider's development consent page, once per account and client.
    let deadline = Instant::now() + Duration::from_secs(20);
    while browser.url().await.starts_with(&provider.issuer) {
        if browser.exists("input[name=prompt][value=consent]").await {
            browser.shot("provider-consent").await;
            browser.click("button[type=submit]").await;
        }
        assert!(
            Instant::now() < deadline,
            "stuck at the provider: {}",
            browser.url().await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn an_institutions_account_logs_in_to_its_teams_dashboard_and_no_further() {
    let port = free_port();
    let issuer = OidcProvider::issuer_on(port);
    let mut journey = Journey::start_with(|settings, edge| {
        // The browser reaches everything at the edge: the provider sends it back there.
        settings.public_url = edge.to_owned();
        settings.auth.external_issuers.push(ExternalIssuerSettings {
            issuer: issuer.clone(),
            jwks_url: format!("{issuer}/jwks"),
            name: "Charité".to_owned(),
            client_id: CLIENT_ID.to_owned(),
            client_secret: Some(CLIENT_SECRET.to_owned().into()),
            client_secret_env: String::new(),
            role_claim: "groups".to_owned(),
            roles: Default::default(),
            teams: Default::default(),
        });
    })
    .await;
    let provider = OidcProvider::start(port, &journey.edge("/organiser/login/oidc/callback")).await;

    // Two teams, an event of each.
    let (_, admin) = journey
        .account(
            "admin@permed.example.org",
            "Programme admin",
            AccountRole::Admin,
        )
        .await;
    let mut teams = Vec::new();
    let mut events = Vec::new();
    for (team, title) in [
        ("Charité Berlin", "Charité workshop on biobanks"),
        ("Università di Siena", "Siena workshop on rare diseases"),
    ] {
        let (status, created) = journey
            .call(
                Method::POST,
                "/v1/teams",
                Some(json!({ "name": team })),
                Some(&admin),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let team_id = created["id"].as_str().expect("team id").to_owned();
        let starts = journey.clock.now() + Span::days(10);
        let (status, event) = journey
            .call(
                Method::POST,
                "/v1/events",
                Some(
                    json!({ "kind": "workshop", "title": title, "timezone": "Europe/Berlin",
                    "team_id": team_id, "starts_at": starts.to_rfc3339(),
                    "ends_at": (starts + Span::hours(6)).to_rfc3339(),
                    "venue": { "name": team, "city": "Berlin", "country": "DE" },
                    "organiser": { "name": "PerMed Office", "email": Journey::ORGANISER_EMAIL } }),
                ),
                Some(&admin),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{event}");
        teams.push(team_id);
        events.push(event["id"].as_str().expect("event id").to_owned());
    }
    // The institution's group becomes team A's organisers (team ids exist only now: registration starts again with
    // the mapping, as an operator's config change would).
    journey.settings.auth.external_issuers[0].teams.insert(
        "charite-events".to_owned(),
        ExternalTeamSettings {
            team: teams[0].parse().expect("uuid"),
            role: "organiser".to_owned(),
        },
    );
    journey.restart(ServiceName::Registration).await;

    // Ana, in the mapped group.
    let browser = Browser::start("oidc_login", &screenshots()).await;
    browser
        .visit(&journey.edge("/organiser/login"), "login")
        .await;
    assert!(
        browser
            .text("a[data-institution='0']")
            .await
            .contains("Log in with Charité"),
        "one button per institution"
    );
    log_in_at_the_provider(&browser, &provider, "ana.events").await;
    wait_for_exact(&browser, &journey.edge("/organiser")).await;
    let dashboard = browser.page_text().await;
    browser.shot("dashboard").await;
    assert!(
        dashboard.contains("Charité workshop on biobanks"),
        "{dashboard}"
    );
    assert!(
        !dashboard.contains("Siena workshop"),
        "another team's event: {dashboard}"
    );
    assert!(
        dashboard.contains("ana.events@charite.example"),
        "who is logged in: {dashboard}"
    );

    // Her team's event opens; the other team's does not.
    browser
        .visit(
            &journey.edge(&format!("/organiser/events/{}", events[0])),
            "own-event",
        )
        .await;
    assert!(
        browser
            .page_text()
            .await
            .contains("Charité workshop on biobanks")
    );
    browser
        .visit(
            &journey.edge(&format!("/organiser/events/{}", events[1])),
            "other-teams-event",
        )
        .await;
    let refused = browser.page_text().await;
    assert!(
        refused.contains("Page not found") || refused.contains("not allowed"),
        "{refused}"
    );
    assert!(!refused.contains("Siena workshop"), "{refused}");
    let status = journey
        .http
        .get(journey.edge(&format!("/organiser/events/{}", events[1])))
        .header("cookie", session_cookie(&browser).await)
        .send()
        .await
        .expect("request")
        .status();
    assert!(
        matches!(status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN),
        "{status}"
    );
    browser.close().await;

    // Nils, in no mapped group, in Chinese: the no-role page.
    let browser = Browser::start("oidc_no_role", &screenshots()).await;
    browser
        .client
        .goto(&journey.edge("/lang/zh-CN?next=/organiser/login"))
        .await
        .expect("switch to Chinese");
    browser.shot("login-zh").await;
    assert!(
        browser
            .text("a[data-institution='0']")
            .await
            .contains("Charité")
    );
    log_in_at_the_provider(&browser, &provider, "nils.nobody").await;
    browser.wait_for_url("/organiser/login/oidc/callback").await;
    let page = browser.text("#no-role").await;
    browser.shot("no-role-zh").await;
    assert!(page.contains("Charité"), "{page}");
    assert!(page.contains("群组"), "in Chinese: {page}");
    browser
        .client
        .goto(&journey.edge("/lang/en?next=/organiser"))
        .await
        .expect("switch to English");
    assert!(
        browser.url().await.contains("/organiser/login"),
        "no session was made: {}",
        browser.url().await
    );
    browser.close().await;

    // Someone who cancels at the provider: the login page says so.
    let browser = Browser::start("oidc_cancelled", &screenshots()).await;
    browser
        .client
        .goto(&journey.edge("/organiser/login"))
        .await
        .expect("open the login");
    browser.click("a[data-institution='0']").await;
    browser.wait_for_url(&provider.issuer).await;
    browser.click_text("[ Cancel ]").await;
    browser.wait_for_url("/organiser/login/oidc/callback").await;
    let said = browser.text("#login-error").await;
    browser.shot("cancelled").await;
    assert!(said.contains("cancelled"), "{said}");
    assert!(said.contains("Charité"), "{said}");
    // Coming back to the callback a second time (the attempt is used up) is a page too, not an error.
    browser
        .client
        .goto(&journey.edge("/organiser/login/oidc/callback?code=x&state=y"))
        .await
        .expect("callback again");
    assert!(
        browser
            .text("#login-error")
            .await
            .contains("not finished in time")
    );
    browser.close().await;

    drop(provider);
    journey.shutdown().await;
}

/// The browser's session cookie, for a request outside it.
async fn session_cookie(browser: &Browser) -> String {
    let cookie = browser
        .client
        .get_named_cookie("cl_session")
        .await
        .expect("the session cookie");
    format!("cl_session={}", cookie.value())
}
