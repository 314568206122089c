//! The organiser's pages for what only the API could do before (issue 18, point 5), in a real browser against the
//! whole system: an admin creates a workshop for a team from the new-event page (the team picked there); gives an
//! agenda item a room, speakers and a host from pickers, then edits it on its own page; sets the event's own
//! reminders as durations and sees the schedule notifications made of them; and a viewer of the team sees the same
//! event without a button that would change it. Screenshots: `<target>/screenshots/organiser_pages/`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::Duration as Span;
use cloverleaf_e2e::Journey;
use cloverleaf_e2e::browser::Browser;
use cloverleaf_registration::domain::accounts::AccountRole;
use cloverleaf_service_kit::clock::Clock;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn screenshots() -> PathBuf {
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent()
        .map_or(tmp.clone(), |target| target.join("screenshots"))
}

/// The page, reloaded until `done` says what it shows is there (notifications plans reminders a moment later).
async fn reload_until(browser: &Browser, url: &str, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        browser.client.goto(url).await.expect("open");
        let text = browser.page_text().await;
        if done(&text) {
            return text;
        }
        assert!(Instant::now() < deadline, "never came: {text}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test]
async fn organisers_create_for_a_team_pick_rooms_and_people_set_reminders_and_viewers_change_nothing()
 {
    let journey = Journey::start().await;
    let (_, admin) = journey
        .account(
            "admin@permed.example.org",
            "Programme admin",
            AccountRole::Admin,
        )
        .await;
    let call = |method: Method, path: String, body: Value| {
        let journey = &journey;
        let admin = admin.clone();
        async move {
            let (status, answer) = journey.call(method, &path, Some(body), Some(&admin)).await;
            assert!(status.is_success(), "{path}: {status} {answer}");
            answer
        }
    };
    let team = call(
        Method::POST,
        "/v1/teams".into(),
        json!({ "name": "Università di Siena", "name_zh": "锡耶纳大学" }),
    )
    .await;
    let team = team["id"].as_str().expect("team").to_owned();
    let venue = call(
        Method::POST,
        "/v1/venues".into(),
        json!({ "name": "Palazzo del Rettorato", "city": "Siena", "country": "IT", "timezone": "Europe/Rome",
                "rooms": [{ "name": "Aula Magna", "capacity": 200 }, { "name": "Sala Storica", "capacity": 40 }] }),
    )
    .await;
    let aula_magna = venue["rooms"][0]["id"].as_str().expect("room").to_owned();
    let mut people = Vec::new();
    for (name, affiliation) in [
        ("Chiara Bellini", "Università di Siena"),
        ("Zhang Wei 张伟", "Fudan University"),
        ("Anneke de Vries", "Erasmus MC"),
    ] {
        let person = call(
            Method::POST,
            "/v1/people".into(),
            json!({ "name": name, "affiliation": affiliation }),
        )
        .await;
        people.push(person["id"].as_str().expect("person").to_owned());
    }
    let (viewer_id, _) = journey
        .account(
            "viewer@unisi.example.org",
            "Siena viewer",
            AccountRole::Organiser,
        )
        .await;
    call(
        Method::PUT,
        format!("/v1/teams/{team}/members/{viewer_id}"),
        json!({ "role": "viewer" }),
    )
    .await;

    // The admin creates the workshop from the new-event page, for the Siena team.
    let browser = Browser::start("organiser_pages", &screenshots()).await;
    browser
        .log_in(
            &journey.edge("/organiser/login"),
            "admin@permed.example.org",
            Journey::ORGANISER_PASSWORD,
        )
        .await;
    browser
        .client
        .goto(&journey.edge("/organiser/events/new"))
        .await
        .expect("open");
    assert!(
        browser
            .text("label[for='f-team-id']")
            .await
            .contains("Team"),
        "a team field"
    );
    browser.select("#f-kind", "workshop").await;
    browser.select("#f-team-id", &team).await;
    browser
        .fill("#f-title", "Health data workshop in Siena")
        .await;
    browser.fill("#f-timezone", "Europe/Rome").await;
    let starts = (journey.clock.now() + Span::days(20))
        .with_timezone(&chrono_tz::Europe::Rome)
        .date_naive()
        .and_hms_opt(9, 0, 0)
        .expect("09:00");
    let at = |hours: i64| {
        (starts + Span::hours(hours))
            .format("%Y-%m-%dT%H:%M")
            .to_string()
    };
    browser.set_value("#f-starts-at", &at(0)).await;
    browser.set_value("#f-ends-at", &at(8)).await;
    browser.fill("#f-venue-name", "Palazzo del Rettorato").await;
    browser
        .fill("#f-organiser-name", "Università di Siena")
        .await;
    browser.shot("new-event-team").await;
    browser
        .click("form[action='/organiser/events'] button[type=submit]")
        .await;
    browser.wait_for_url("done=created").await;
    let url = browser.url().await;
    let id = url
        .split("/organiser/events/")
        .nth(1)
        .and_then(|rest| rest.split('?').next())
        .expect("the event's id")
        .to_owned();
    let (_, event) = journey
        .call(Method::GET, &format!("/v1/events/{id}"), None, Some(&admin))
        .await;
    assert_eq!(event["team_id"], team.as_str(), "{event}");

    // An item with a room, two speakers and a host from the pickers.
    browser.select("#f-item-kind", "panel").await;
    browser
        .fill("#f-item-title", "Panel: sharing health data")
        .await;
    browser.set_value("#f-item-starts-at", &at(2)).await;
    browser.set_value("#f-item-ends-at", &at(3)).await;
    browser.select("#f-item-room-id", &aula_magna).await;
    for person in &people[1..] {
        browser
            .click(&format!("input[name='item.speakers'][value='{person}']"))
            .await;
    }
    browser.select("#f-item-host", &people[0]).await;
    browser.shot("item-pickers").await;
    browser
        .click("form[action$='/items'] button[type=submit]")
        .await;
    browser.wait_for_url("done=item_added").await;
    let text = browser.page_text().await;
    assert!(
        text.contains("Zhang Wei 张伟") && text.contains("Anneke de Vries"),
        "the speakers on the agenda: {text}"
    );
    assert!(text.contains("Chiara Bellini"), "the host: {text}");
    let (_, items) = journey
        .call(
            Method::GET,
            &format!("/v1/events/{id}/items"),
            None,
            Some(&admin),
        )
        .await;
    let item = &items["items"][0];
    assert_eq!(item["room"]["id"], aula_magna.as_str(), "{item}");
    assert_eq!(item["host"]["id"], people[0].as_str());
    assert_eq!(item["speakers"].as_array().map(Vec::len), Some(2));
    let item_id = item["id"].as_str().expect("item").to_owned();

    // Its own page: the pickers hold what it has; one speaker fewer and another room.
    browser
        .click(&format!("a[href='/organiser/events/{id}/items/{item_id}']"))
        .await;
    browser.wait_for_url(&format!("/items/{item_id}")).await;
    assert_eq!(
        browser
            .attribute(
                &format!("input[name='item.speakers'][value='{}']", people[2]),
                "checked"
            )
            .await
            .as_deref(),
        Some("true")
    );
    browser.shot("item-edit").await;
    browser
        .click(&format!(
            "input[name='item.speakers'][value='{}']",
            people[2]
        ))
        .await;
    let sala = venue["rooms"][1]["id"].as_str().expect("room");
    browser.select("#f-item-room-id", sala).await;
    browser.set_value("#f-item-ends-at", &at(2)).await;
    browser
        .click(&format!(
            "form[action='/organiser/events/{id}/items/{item_id}'] button[type=submit]"
        ))
        .await;
    // An end before the start: refused at the field, what was chosen kept.
    assert!(!browser.text("#f-item-ends-at-error").await.is_empty());
    assert_eq!(
        browser
            .attribute(
                &format!("input[name='item.speakers'][value='{}']", people[2]),
                "checked"
            )
            .await,
        None,
        "the unticked speaker stays unticked"
    );
    browser.shot("item-edit-error").await;
    browser.set_value("#f-item-ends-at", &at(4)).await;
    browser
        .click(&format!(
            "form[action='/organiser/events/{id}/items/{item_id}'] button[type=submit]"
        ))
        .await;
    browser.wait_for_url("done=item_updated").await;
    let (_, item) = journey
        .call(
            Method::GET,
            &format!("/v1/events/{id}/items/{item_id}"),
            None,
            Some(&admin),
        )
        .await;
    assert_eq!(item["room"]["id"], sala, "{item}");
    assert_eq!(item["speakers"].as_array().map(Vec::len), Some(1), "{item}");
    assert_eq!(item["host"]["id"], people[0].as_str(), "the host kept");

    // The event's own reminders: a word that is no duration is refused at the field; then 2 days and 3 hours.
    browser.click("#f-reminders-own").await;
    browser.fill("#f-reminder-minutes", "2d, soon").await;
    browser
        .click(&format!(
            "form[action='/organiser/events/{id}/reminders'] button"
        ))
        .await;
    assert!(
        browser
            .text("#f-reminder-minutes-error")
            .await
            .contains("“soon” is not a duration"),
    );
    browser.fill("#f-reminder-minutes", "3h, 2d").await;
    browser
        .click(&format!(
            "form[action='/organiser/events/{id}/reminders'] button"
        ))
        .await;
    browser.wait_for_url("done=reminders").await;
    let (_, event) = journey
        .call(Method::GET, &format!("/v1/events/{id}"), None, Some(&admin))
        .await;
    assert_eq!(event["reminder_minutes"], json!([2880, 180]), "{event}");
    assert_eq!(
        browser
            .attribute("#f-reminder-minutes", "value")
            .await
            .as_deref(),
        Some("2d, 3h")
    );
    browser
        .click(&format!(
            "form[action='/organiser/events/{id}/publish'] button"
        ))
        .await;
    browser.wait_for_url("done=published").await;
    let page = journey.edge(&format!("/organiser/events/{id}"));
    let text = reload_until(&browser, &page, |t| t.contains("What is planned")).await;
    assert!(
        text.contains("2d") && text.contains("3h") && text.contains("Planned"),
        "{text}"
    );
    browser.shot("reminders").await;
    let zh = journey.edge(&format!(
        "/lang/zh-CN?next=%2Forganiser%2Fevents%2F{id}%23reminders"
    ));
    browser.client.goto(&zh).await.expect("open");
    let text = browser.page_text().await;
    assert!(
        text.contains("提醒计划") && text.contains("已计划"),
        "{text}"
    );
    browser.shot("reminders-zh").await;
    let (status, reminders) = journey
        .call(
            Method::GET,
            &format!("/v1/reminders?event_id={id}"),
            None,
            Some(&admin),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let planned: Vec<i64> = reminders["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|r| r["status"] == "scheduled")
        .filter_map(|r| r["minutes_before"].as_i64())
        .collect();
    assert_eq!(planned, [2880, 180], "{reminders}");
    browser.close().await;

    // The team's viewer: the same event, nothing that would change it.
    let viewer = Browser::start("organiser_pages_viewer", &screenshots()).await;
    viewer
        .log_in(
            &journey.edge("/organiser/login"),
            "viewer@unisi.example.org",
            Journey::ORGANISER_PASSWORD,
        )
        .await;
    assert!(
        !viewer.exists("a[href='/organiser/events/new']").await,
        "a viewer creates no events"
    );
    viewer.client.goto(&page).await.expect("open");
    assert!(
        viewer
            .page_text()
            .await
            .contains("Health data workshop in Siena")
    );
    for change in [
        "form[action$='/items']",
        "form[action$='/reminders']",
        "form[action$='/cancel']",
        "form[action$='/delete']",
        "#details form",
        "form[action$='/form']",
        "a[data-form-editor]",
    ] {
        assert!(!viewer.exists(change).await, "a viewer is offered {change}");
    }
    assert!(
        !viewer
            .exists(&format!("a[href='/organiser/events/{id}/items/{item_id}']"))
            .await
    );
    assert!(
        viewer
            .page_text()
            .await
            .contains("This event has no registration form yet."),
        "the form read, not offered to change"
    );
    viewer.shot("viewer-event").await;
    viewer
        .client
        .goto(&journey.edge(&format!("/organiser/events/{id}/registrations")))
        .await
        .expect("open");
    assert!(
        viewer.page_text().await.contains("Registrations"),
        "a viewer reads the registrations"
    );
    viewer.shot("viewer-registrations").await;
    viewer.close().await;
}
