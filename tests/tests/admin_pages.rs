//! The admin's pages and an event's change history, in a real browser against the whole system: an admin logs in,
//! creates the team "Charité" (with its Chinese name), creates an organiser's and a viewer's account, puts both in
//! the team with those roles, changes one's role and removes the other; the audit trail shows those membership
//! changes. After the admin changes a published event's title and time on its page, its history page shows both
//! changes, before and after. An organiser (not an admin) is refused the admin pages. Screenshots of each page are
//! kept as `<target>/screenshots/admin_accounts.png`, `admin_teams.png`, `admin_team.png`, `admin_audit.png` (in
//! Chinese) and `event_history.png` (and `event_history_zh.png`).

use std::path::PathBuf;

use chrono::{Duration as Span, NaiveDateTime};
use cloverleaf_e2e::Journey;
use cloverleaf_e2e::browser::Browser;
use cloverleaf_registration::domain::accounts::AccountRole;
use cloverleaf_service_kit::clock::Clock;
use reqwest::{Method, StatusCode};
use serde_json::json;

fn screenshots() -> PathBuf {
    // CARGO_TARGET_TMPDIR is <target>/tmp: the screenshots go beside it, to <target>/screenshots.
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent()
        .map_or(tmp.clone(), |target| target.join("screenshots"))
}

/// A screenshot of the page kept as `<target>/screenshots/<name>.png` (besides the test's own numbered ones).
async fn keep(browser: &Browser, name: &str) {
    let shot = browser.shot(name).await;
    std::fs::copy(&shot, screenshots().join(format!("{name}.png"))).expect("keep the screenshot");
}

async fn log_out(browser: &Browser) {
    browser
        .click("form[action='/organiser/logout'] button")
        .await;
    // Logged out once the header offers the login again.
    browser.text("header a[href='/organiser/login']").await;
}

const ANNA: &str = "anna.schmidt@charite.example.org";
const LI: &str = "li.wei@charite.example.org";
const ANNA_PASSWORD: &str = "anna's long first password";

/// Creates an account through the accounts page's form.
async fn create_account(browser: &Browser, email: &str, name: &str, password: &str) {
    browser.fill("#f-email", email).await;
    browser.fill("#f-name", name).await;
    browser.select("#f-role", "organiser").await;
    browser.fill("#f-password", password).await;
    browser
        .click("form[action='/organiser/admin/accounts'] button[type=submit]")
        .await;
    browser.wait_for_url("done=account_created").await;
    assert!(
        browser.exists(&format!("tr[data-account='{email}']")).await,
        "{email} listed: {}",
        browser.page_text().await
    );
}

#[tokio::test]
async fn an_admin_manages_accounts_teams_and_members_and_reads_the_audit_trail_and_an_events_history()
 {
    let journey = Journey::start().await;
    let admin_email = "admin@permed.example.org";
    let (_, admin) = journey
        .account(admin_email, "Programme admin", AccountRole::Admin)
        .await;
    let browser = Browser::start("admin_pages", &screenshots()).await;
    browser
        .log_in(
            &journey.edge("/organiser/login"),
            admin_email,
            Journey::ORGANISER_PASSWORD,
        )
        .await;

    // The navigation offers the admin pages to admins.
    browser.click("a[href='/organiser/admin']").await;
    browser.wait_for_url("/organiser/admin/accounts").await;

    // A team with its English and Chinese names.
    browser
        .click("nav.filters a[href='/organiser/admin/teams']")
        .await;
    browser.wait_for_url("/organiser/admin/teams").await;
    browser.fill("#f-name", "Charité").await;
    browser.fill("#f-name-zh", "柏林夏里特医学院").await;
    browser
        .click("form[action='/organiser/admin/teams'] button[type=submit]")
        .await;
    browser.wait_for_url("done=team_created").await;
    let team_url = browser.url().await;
    let team = team_url
        .split("/organiser/admin/teams/")
        .nth(1)
        .and_then(|rest| rest.split('?').next())
        .expect("the team's id in its address")
        .to_owned();
    let team_url = journey.edge(&format!("/organiser/admin/teams/{team}"));
    assert_eq!(browser.text("h1").await, "Charité");
    // The same name again is refused beside the field.
    browser
        .client
        .goto(&journey.edge("/organiser/admin/teams"))
        .await
        .expect("open");
    browser.fill("#f-name", "Charité").await;
    browser
        .click("form[action='/organiser/admin/teams'] button[type=submit]")
        .await;
    assert!(
        browser
            .text("#f-name-error")
            .await
            .contains("already taken"),
        "a second Charité is refused at its name"
    );

    // Two accounts; a too-short password is refused beside its field first (and never shown again).
    browser
        .client
        .goto(&journey.edge("/organiser/admin/accounts"))
        .await
        .expect("open");
    browser.fill("#f-email", ANNA).await;
    browser.fill("#f-name", "Anna Schmidt").await;
    browser.fill("#f-password", "short").await;
    browser
        .click("form[action='/organiser/admin/accounts'] button[type=submit]")
        .await;
    assert!(
        browser
            .text("#f-password-error")
            .await
            .contains("at least 12"),
        "{}",
        browser.page_text().await
    );
    assert_eq!(
        browser.attribute("#f-password", "value").await.as_deref(),
        Some("")
    );
    assert_eq!(
        browser.attribute("#f-email", "value").await.as_deref(),
        Some(ANNA)
    );
    create_account(&browser, ANNA, "Anna Schmidt", ANNA_PASSWORD).await;
    create_account(&browser, LI, "Li Wei", "li wei's long first password").await;
    let (status, accounts) = journey
        .call(Method::GET, "/v1/accounts?limit=500", None, Some(&admin))
        .await;
    assert_eq!(status, StatusCode::OK, "{accounts}");
    let id_of = |email: &str| {
        accounts["items"]
            .as_array()
            .and_then(|items| items.iter().find(|a| a["email"] == email))
            .and_then(|a| a["id"].as_str())
            .unwrap_or_else(|| panic!("{email} has an account: {accounts}"))
            .to_owned()
    };
    let (anna, li) = (id_of(ANNA), id_of(LI));
    let admin_id = id_of(admin_email);

    // An admin cannot disable their own account: the row says why.
    browser.click(&format!("#disabled-{admin_id}")).await;
    browser
        .click(&format!("#account-form-{admin_id} button"))
        .await;
    // (The page before had the row too: its error says the answer is there.)
    let said = browser.text(&format!("#account-{admin_id} .error")).await;
    assert!(said.contains("cannot disable your own account"), "{said}");

    // Both in the team: Anna organises, Li views.
    browser.client.goto(&team_url).await.expect("open the team");
    let add = format!(
        "form[action='/organiser/admin/teams/{team}/members'] button[type=submit]:not([data-change])"
    );
    // Nobody chosen: said at the account's field.
    browser.click(&add).await;
    assert!(
        browser
            .text("#f-account-id-error")
            .await
            .contains("required"),
        "{}",
        browser.page_text().await
    );
    for (account, role) in [(&anna, "organiser"), (&li, "viewer")] {
        browser.select("#f-account-id", account).await;
        browser.select("#f-role", role).await;
        browser.click(&add).await;
        browser.wait_for_url("done=member_added").await;
    }
    assert_eq!(
        browser
            .attribute(&format!("tr[data-member='{LI}']"), "data-role")
            .await
            .as_deref(),
        Some("viewer")
    );
    // Li becomes check-in staff.
    browser
        .select(&format!("#member-role-{li}"), "check_in")
        .await;
    browser.click(&format!("#member-form-{li} button")).await;
    browser.wait_for_url("done=member_changed").await;
    assert_eq!(
        browser
            .attribute(&format!("tr[data-member='{LI}']"), "data-role")
            .await
            .as_deref(),
        Some("check_in")
    );
    assert!(
        browser.page_text().await.contains("Check-in staff"),
        "the role by its name"
    );
    keep(&browser, "admin_team").await;
    // Li leaves the team.
    browser
        .click(&format!(
            "form[action='/organiser/admin/teams/{team}/members/{li}/remove'] button"
        ))
        .await;
    browser.wait_for_url("done=member_removed").await;
    assert!(!browser.exists(&format!("tr[data-member='{LI}']")).await);
    let (status, stored) = journey
        .call(
            Method::GET,
            &format!("/v1/teams/{team}"),
            None,
            Some(&admin),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{stored}");
    assert_eq!(
        stored["name_zh"], "柏林夏里特医学院",
        "the Chinese name kept: {stored}"
    );
    let members: Vec<(&str, &str)> = stored["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| {
            (
                m["email"].as_str().unwrap_or_default(),
                m["role"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(members, [(ANNA, "organiser")]);

    // The lists: teams with their members counted, accounts with their teams.
    browser
        .client
        .goto(&journey.edge("/organiser/admin/teams"))
        .await
        .expect("open");
    let row = browser.text("tr[data-team='Charité']").await;
    assert!(row.contains("柏林夏里特医学院"), "{row}");
    keep(&browser, "admin_teams").await;
    browser
        .client
        .goto(&journey.edge("/organiser/admin/accounts"))
        .await
        .expect("open");
    let row = browser.text(&format!("tr[data-account='{ANNA}']")).await;
    assert!(
        row.contains("Charité") && row.contains("Organiser"),
        "{row}"
    );
    let row = browser.text(&format!("tr[data-account='{LI}']")).await;
    assert!(row.contains("No team"), "{row}");
    keep(&browser, "admin_accounts").await;

    // The audit trail, in Chinese, filtered to permission changes: Li added as viewer, made check-in staff, removed.
    browser
        .client
        .goto(&journey.edge("/lang/zh-CN?next=%2Forganiser%2Fadmin%2Faudit"))
        .await
        .expect("open");
    browser.select("#f-action", "permissions_changed").await;
    browser
        .click("form[action='/organiser/admin/audit'] button[type=submit]")
        .await;
    browser.wait_for_url("action=permissions_changed").await;
    let text = browser.text("#audit").await;
    for seen in [
        "权限变更",
        "柏林夏里特医学院",
        "Li Wei",
        "— → 查看者",
        "查看者 → 签到人员",
        "签到人员 → —",
        "— → 组织者",
        admin_email,
    ] {
        assert!(text.contains(seen), "{seen:?} in the audit trail: {text}");
    }
    keep(&browser, "admin_audit").await;
    // The other admin pages in Chinese too, every text from the Chinese catalog.
    for (page, name) in [
        (team_url.clone(), "admin_team_zh"),
        (
            journey.edge("/organiser/admin/accounts"),
            "admin_accounts_zh",
        ),
    ] {
        browser.client.goto(&page).await.expect("open");
        let text = browser.text("main").await;
        for english in ["Organiser", "Members", "Account", "Role", "Save", "Remove"] {
            assert!(!text.contains(english), "{english:?} on {name}: {text}");
        }
        browser.shot(name).await;
    }
    // An event filter that is no event's id is refused at its field.
    browser
        .client
        .goto(&journey.edge("/organiser/admin/audit?event_id=siena"))
        .await
        .expect("open");
    assert!(
        browser
            .text("#f-event-id-error")
            .await
            .contains("活动的 ID"),
        "{}",
        browser.page_text().await
    );
    browser
        .client
        .goto(&journey.edge("/lang/en?next=%2Forganiser"))
        .await
        .expect("open");

    // A published webinar of the team; the admin changes its title and time on its page.
    let starts = journey.clock.now() + Span::days(14);
    let (status, event) = journey
        .call(
            Method::POST,
            "/v1/events",
            Some(json!({ "kind": "webinar", "title": "Biobanks in Berlin", "timezone": "Europe/Berlin",
                "team_id": team, "starts_at": starts.to_rfc3339(), "ends_at": (starts + Span::hours(2)).to_rfc3339(),
                "online_url": "https://meet.example.org/charite",
                "organiser": { "name": "Charité", "email": ANNA } })),
            Some(&admin),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{event}");
    let id = event["id"].as_str().expect("id").to_owned();
    let (status, published) = journey
        .call(
            Method::POST,
            &format!("/v1/events/{id}/publish"),
            Some(json!({})),
            Some(&admin),
        )
        .await;
    assert!(status.is_success(), "{status} {published}");
    browser
        .client
        .goto(&journey.edge(&format!("/organiser/events/{id}")))
        .await
        .expect("open the event");
    let later = |css: &'static str| {
        let browser = &browser;
        async move {
            let value = browser.attribute(css, "value").await.expect("a time");
            let at =
                NaiveDateTime::parse_from_str(&value, "%Y-%m-%dT%H:%M").expect("a wall-clock time");
            (
                value,
                (at + Span::hours(1)).format("%Y-%m-%dT%H:%M").to_string(),
            )
        }
    };
    let (old_start, new_start) = later("#f-starts-at").await;
    let (_, new_end) = later("#f-ends-at").await;
    browser
        .fill("#f-title", "Biobanks and cohorts in Berlin")
        .await;
    browser.set_value("#f-starts-at", &new_start).await;
    browser.set_value("#f-ends-at", &new_end).await;
    browser
        .click(&format!(
            "form[action='/organiser/events/{id}'] button[type=submit]"
        ))
        .await;
    browser.wait_for_url("done=updated").await;
    browser
        .click(&format!("a[href='/organiser/events/{id}/history']"))
        .await;
    browser
        .wait_for_url(&format!("/organiser/events/{id}/history"))
        .await;
    let newest = browser.text("#history tbody tr:first-child").await;
    for seen in [
        "Details changed",
        admin_email,
        "Title",
        "Biobanks in Berlin → Biobanks and cohorts in Berlin",
        "Starts",
        &old_start.replace('T', " "),
        &new_start.replace('T', " "),
    ] {
        assert!(
            newest.contains(seen),
            "{seen:?} in the newest change: {newest}"
        );
    }
    let oldest = browser.text("#history tbody tr:last-child").await;
    assert!(oldest.contains("Published"), "{oldest}");
    keep(&browser, "event_history").await;
    browser
        .client
        .goto(&journey.edge(&format!(
            "/lang/zh-CN?next=%2Forganiser%2Fevents%2F{id}%2Fhistory"
        )))
        .await
        .expect("open");
    let newest = browser.text("#history tbody tr:first-child").await;
    assert!(
        newest.contains("详情已更改") && newest.contains("标题") && newest.contains("开始时间"),
        "{newest}"
    );
    keep(&browser, "event_history_zh").await;
    browser
        .client
        .goto(&journey.edge("/lang/en?next=%2Forganiser"))
        .await
        .expect("open");

    // Anna, an organiser of the team, reads the history too, but no admin page.
    log_out(&browser).await;
    browser
        .log_in(&journey.edge("/organiser/login"), ANNA, ANNA_PASSWORD)
        .await;
    assert!(
        !browser.exists("a[href='/organiser/admin']").await,
        "no Admin link for an organiser"
    );
    browser
        .client
        .goto(&journey.edge(&format!("/organiser/events/{id}/history")))
        .await
        .expect("open");
    assert!(
        browser
            .text("#history")
            .await
            .contains("Biobanks and cohorts in Berlin")
    );
    for page in [
        "/organiser/admin/accounts".to_owned(),
        "/organiser/admin/teams".to_owned(),
        format!("/organiser/admin/teams/{team}"),
        "/organiser/admin/audit".to_owned(),
    ] {
        browser
            .client
            .goto(&journey.edge(&page))
            .await
            .expect("open");
        let text = browser.page_text().await;
        assert!(
            text.contains("This link does not work") && !text.contains("Anna Schmidt"),
            "{page} refused: {text}"
        );
    }
    browser.shot("refused").await;
    // As the status says too, and a form sent anyway is refused before registration is asked.
    let (status, token) = journey
        .call(
            Method::POST,
            "/v1/auth/token",
            Some(json!({ "email": ANNA, "password": ANNA_PASSWORD })),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{token}");
    let token = token["access_token"].as_str().expect("token");
    let answer = journey
        .http
        .get(journey.edge("/organiser/admin/accounts"))
        .header("cookie", format!("cl_session={token}"))
        .send()
        .await
        .expect("the portal answers");
    assert_eq!(answer.status(), StatusCode::FORBIDDEN);
    let answer = journey
        .http
        .post(journey.edge("/organiser/admin/teams"))
        .header(
            "cookie",
            format!("cl_session={token}; cl_csrf={}", "c".repeat(43)),
        )
        .form(&[
            ("csrf", "c".repeat(43)),
            ("name", "Anna's own team".to_owned()),
        ])
        .send()
        .await
        .expect("the portal answers");
    assert_eq!(answer.status(), StatusCode::FORBIDDEN);
    let (_, teams) = journey
        .call(Method::GET, "/v1/teams", None, Some(&admin))
        .await;
    assert_eq!(
        teams["items"].as_array().map(Vec::len),
        Some(1),
        "no team made: {teams}"
    );

    browser.close().await;
    journey.shutdown().await;
}
