//! The portal in a real browser (headless Chromium through chromedriver), against the whole system of a [`Journey`]:
//! the three services, the portal and the edge over real HTTP, a real SMTP server, on SQLite or PostgreSQL
//! (CLOVERLEAF_TEST_DATABASE_URL). Each test saves a screenshot of every page it visits to
//! `<target>/screenshots/<test>/<nn>-<page>.png`. Without Chromium the tests fail and say how to install it.

use std::path::PathBuf;
use std::time::Duration;

use chrono::Duration as Span;
use cloverleaf_e2e::Journey;
use cloverleaf_e2e::browser::Browser;
use cloverleaf_service_kit::clock::Clock;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const MAIL_WAIT: Duration = Duration::from_secs(60);

/// One browser test at a time: each starts a whole system and a browser, and the machine may have two cores.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn screenshots() -> PathBuf {
    // CARGO_TARGET_TMPDIR is <target>/tmp: the screenshots go beside it, to <target>/screenshots.
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent()
        .map_or(tmp.clone(), |target| target.join("screenshots"))
}

/// The path of the manage link in an email's text: the short `/manage/{token}` (or `/m/{token}`) or the older `/manage/{id}?token=`.
fn manage_path(public: &str, text: &str) -> String {
    let start = text
        .find(&format!("{public}/m/"))
        .or_else(|| text.find(&format!("{public}/manage/")))
        .unwrap_or_else(|| panic!("a manage link in:\n{text}"));
    let link: String = text[start..]
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '>' && *c != '"')
        .collect();
    link.strip_prefix(public).expect("path").to_owned()
}

/// A webinar in ten days with a one-question form (a required single choice) and one talk, published.
async fn webinar(journey: &Journey, title: &str) -> Value {
    let starts = journey.clock.now() + Span::days(10);
    let event = journey
        .organise(
            Method::POST,
            "/v1/events",
            json!({ "kind": "webinar", "title": title, "timezone": "Europe/Brussels",
                    "starts_at": starts.to_rfc3339(), "ends_at": (starts + Span::hours(2)).to_rfc3339(),
                    "summary": "Pharmacogenomics from cohorts to the clinic.",
                    "online_url": "https://meet.example.org/permed",
                    "organiser": { "name": "PerMed Office", "email": Journey::ORGANISER_EMAIL } }),
        )
        .await;
    let id = event["id"].as_str().expect("id").to_owned();
    journey
        .organise(
            Method::POST,
            &format!("/v1/events/{id}/items"),
            json!({ "kind": "talk", "title": "Pharmacogenomics in China", "starts_at": starts.to_rfc3339(),
                    "ends_at": (starts + Span::minutes(45)).to_rfc3339() }),
        )
        .await;
    journey
        .organise(
            Method::PUT,
            &format!("/v1/forms/{id}"),
            json!({ "capacity": 100, "waitlist": true, "approval": "automatic",
                    "questions": [{ "id": "topic", "label": "Which topic interests you most?",
                                    "type": "single_choice", "required": true,
                                    "options": ["Pharmacogenomics", "AI in diagnostics"] }] }),
        )
        .await;
    journey
        .organise(Method::POST, &format!("/v1/events/{id}/publish"), json!({}))
        .await
}

/// A participant finds the webinar from `/`, registers through the form built from its question, sees the
/// confirmation with its calendar links, and the confirmation (with its invite) arrives at the SMTP server.
#[tokio::test]
async fn a_participant_registers_for_a_webinar_and_the_confirmation_arrives() {
    let _one = ONE_AT_A_TIME.lock().await;
    let journey = Journey::start().await;
    let event = webinar(&journey, "Sino-EU PerMed webinar: pharmacogenomics").await;
    let slug = event["slug"].as_str().expect("slug");
    let browser = Browser::start("participant_registers", &screenshots()).await;

    browser.visit(&journey.edge("/"), "events").await;
    assert!(
        browser
            .page_text()
            .await
            .contains("Sino-EU PerMed webinar: pharmacogenomics")
    );
    browser.click(&format!("a[href='/events/{slug}']")).await;
    browser.wait_for_url(&format!("/events/{slug}")).await;
    assert!(
        browser
            .page_text()
            .await
            .contains("Pharmacogenomics in China"),
        "the agenda"
    );
    browser.shot("event").await;

    browser
        .click(&format!("a[href='/events/{slug}/register']"))
        .await;
    browser.wait_for_url("/register").await;
    let zone = browser
        .attribute("input[name=timezone]", "value")
        .await
        .unwrap_or_default();
    assert!(
        !zone.is_empty(),
        "the page's script filled in the visitor's zone"
    );
    browser.fill("#f-email", "mei.chen@example.org").await;
    browser.fill("#f-name", "陈梅 Mei Chen").await;
    browser.fill("#f-affiliation", "Zhejiang University").await;
    browser.select("#f-country", "CN").await;
    browser.click("#f-answers-topic-2").await;
    browser.click("#f-consent").await;
    browser.shot("register-filled").await;
    browser
        .click("form[action$='/register'] button[type=submit]")
        .await;

    browser.wait_for_url("/confirmation").await;
    let text = browser.page_text().await;
    assert!(text.contains("You are registered"), "{text}");
    assert!(text.contains("mei.chen@example.org"), "{text}");
    let google = browser
        .attribute("a[href^='https://calendar.google.com/']", "href")
        .await
        .expect("a Google Calendar link");
    assert!(
        google.contains("action=TEMPLATE") && google.contains("dates="),
        "{google}"
    );
    let outlook = browser
        .attribute("a[href^='https://outlook.live.com/']", "href")
        .await
        .expect("an Outlook link");
    assert!(outlook.contains("rru=addevent"), "{outlook}");
    browser.shot("confirmation").await;

    // The .ics offered for Apple Calendar and the rest is the event's calendar, through the portal.
    let ics = journey
        .http
        .get(journey.edge(&format!("/events/{slug}/calendar.ics")))
        .send()
        .await
        .expect("ics");
    assert_eq!(ics.status(), StatusCode::OK);
    assert!(
        ics.text()
            .await
            .expect("ics text")
            .starts_with("BEGIN:VCALENDAR")
    );

    // The registration is there, and its confirmation with the invite arrives at the SMTP server.
    let (status, list) = journey
        .call(
            Method::GET,
            &format!(
                "/v1/registrations?event_id={}",
                event["id"].as_str().expect("id")
            ),
            None,
            Some(&journey.organiser),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let registered = &list["items"][0];
    assert_eq!(registered["email"], "mei.chen@example.org");
    assert_eq!(registered["answers"]["topic"], "AI in diagnostics");
    assert_eq!(registered["country"], "CN");
    let mail = journey.wait_for_mail(1, MAIL_WAIT).await;
    assert_eq!(mail[0].to, "mei.chen@example.org");
    assert_eq!(
        mail[0].method().as_deref(),
        Some("REQUEST"),
        "{}",
        mail[0].text
    );

    browser.close().await;
    journey.shutdown().await;
}

/// Invalid and missing fields come back beside their fields (with `aria-describedby`), the values kept; the same in
/// Chinese after the language switch.
#[tokio::test]
async fn a_bad_field_shows_its_error_beside_the_field() {
    let _one = ONE_AT_A_TIME.lock().await;
    let journey = Journey::start().await;
    let event = webinar(&journey, "Webinar with a form").await;
    let slug = event["slug"].as_str().expect("slug");
    let browser = Browser::start("bad_field", &screenshots()).await;

    browser
        .visit(
            &journey.edge(&format!("/events/{slug}/register")),
            "register",
        )
        .await;
    browser.fill("#f-email", "not-an-email").await;
    browser.fill("#f-name", "Sophie Laurent").await;
    browser.click("#f-consent").await;
    browser
        .click("form[action$='/register'] button[type=submit]")
        .await;

    let error = browser.text("#f-email-error").await;
    assert!(error.contains("Enter an email address"), "{error}");
    let described = browser
        .attribute("#f-email", "aria-describedby")
        .await
        .unwrap_or_default();
    assert!(described.contains("f-email-error"), "{described}");
    assert_eq!(
        browser
            .attribute("#f-email", "aria-invalid")
            .await
            .as_deref(),
        Some("true")
    );
    assert!(
        browser
            .text("#f-answers-topic-error")
            .await
            .contains("required")
    );
    assert_eq!(
        browser.attribute("#f-name", "value").await.as_deref(),
        Some("Sophie Laurent"),
        "what was typed is kept"
    );
    assert!(
        browser
            .exists("[data-error-summary] a[href='#f-email']")
            .await
    );
    browser.shot("errors").await;

    // In Chinese: the switch keeps the page, and the errors are in Chinese too.
    browser.click("a[hreflang='zh-CN']").await;
    browser.wait_for_url("/register").await;
    assert_eq!(browser.text("h1").await, "报名");
    browser.shot("register-zh").await;
    browser.fill("#f-email", "sophie@example.org").await;
    browser.fill("#f-name", "Sophie Laurent").await;
    browser
        .click("form[action$='/register'] button[type=submit]")
        .await;
    assert!(
        browser
            .text("#f-answers-topic-error")
            .await
            .contains("此项必填")
    );
    assert!(browser.text("#f-consent-error").await.contains("此项必填"));
    assert!(
        browser
            .exists("[data-error-summary] a[href='#f-consent']")
            .await
    );
    browser.shot("errors-zh").await;

    browser.close().await;
    journey.shutdown().await;
}

/// An organiser logs in, sees the draft on the dashboard, adds an agenda item, publishes, and looks at the
/// registrations and the delivery log.
#[tokio::test]
async fn an_organiser_logs_in_adds_an_agenda_item_and_publishes() {
    let _one = ONE_AT_A_TIME.lock().await;
    let journey = Journey::start().await;
    let starts = (journey.clock.now() + Span::days(20))
        .with_timezone(&chrono_tz::Europe::Rome)
        .date_naive()
        .and_hms_opt(9, 0, 0)
        .expect("time");
    let draft = journey
        .organise(
            Method::POST,
            "/v1/events",
            json!({ "kind": "workshop", "title": "Stakeholder workshop in Siena", "timezone": "Europe/Rome",
                    "starts_at": starts.format("%Y-%m-%dT%H:%M").to_string(),
                    "ends_at": (starts + Span::hours(8)).format("%Y-%m-%dT%H:%M").to_string(),
                    "venue": { "name": "Università di Siena", "city": "Siena", "country": "IT" },
                    "organiser": { "name": "PerMed Office", "email": Journey::ORGANISER_EMAIL } }),
        )
        .await;
    let id = draft["id"].as_str().expect("id");
    let browser = Browser::start("organiser_publishes", &screenshots()).await;

    // The dashboard asks for a login first and comes back after it.
    browser
        .client
        .goto(&journey.edge("/organiser"))
        .await
        .expect("open");
    browser.wait_for_url("/organiser/login").await;
    browser.shot("login").await;
    browser.fill("#f-email", Journey::ORGANISER_EMAIL).await;
    browser
        .fill("#f-password", Journey::ORGANISER_PASSWORD)
        .await;
    browser
        .click("form[action='/organiser/login'] button[type=submit]")
        .await;
    // The dashboard (its "create an event" link) once the login is done.
    browser.text("a[href='/organiser/events/new']").await;
    assert!(
        browser
            .page_text()
            .await
            .contains("Stakeholder workshop in Siena")
    );
    browser.shot("dashboard").await;

    browser
        .click(&format!("a[href='/organiser/events/{id}']"))
        .await;
    browser
        .wait_for_url(&format!("/organiser/events/{id}"))
        .await;
    assert_eq!(
        browser
            .attribute("[data-event-status]", "data-event-status")
            .await
            .as_deref(),
        Some("draft")
    );
    browser.shot("event").await;

    browser.select("#f-item-kind", "panel").await;
    browser
        .fill("#f-item-title", "Panel: sharing health data")
        .await;
    let at = |hours: i64| {
        (starts + Span::hours(hours))
            .format("%Y-%m-%dT%H:%M")
            .to_string()
    };
    browser.set_value("#f-item-starts-at", &at(2)).await;
    browser.set_value("#f-item-ends-at", &at(3)).await;
    browser.fill("#f-item-location", "Aula Magna").await;
    browser.shot("item-filled").await;
    browser
        .click("form[action$='/items'] button[type=submit]")
        .await;
    browser.wait_for_url("done=item_added").await;
    let text = browser.page_text().await;
    assert!(text.contains("The agenda item has been added."), "{text}");
    assert!(text.contains("Panel: sharing health data"), "{text}");
    assert!(
        text.contains("11:00–12:00"),
        "the item at its local time: {text}"
    );
    browser.shot("item-added").await;

    browser
        .click(&format!(
            "form[action='/organiser/events/{id}/publish'] button"
        ))
        .await;
    browser.wait_for_url("done=published").await;
    assert_eq!(
        browser
            .attribute("[data-event-status]", "data-event-status")
            .await
            .as_deref(),
        Some("published")
    );
    browser.shot("published").await;
    let (_, event) = journey
        .call(Method::GET, &format!("/v1/events/{id}"), None, None)
        .await;
    assert_eq!(event["status"], "published", "public now: {event}");

    browser
        .visit(
            &journey.edge(&format!("/organiser/events/{id}/registrations")),
            "registrations",
        )
        .await;
    browser
        .visit(
            &journey.edge(&format!("/organiser/events/{id}/messages")),
            "messages",
        )
        .await;
    browser
        .visit(
            &journey.edge(&format!(
                "/events/{}",
                event["slug"].as_str().expect("slug")
            )),
            "public-page",
        )
        .await;
    assert!(
        browser
            .page_text()
            .await
            .contains("Panel: sharing health data")
    );

    // The same pages in Chinese, with the fields for the Chinese texts, the registration window and moving the
    // agenda with the start (ticked by default).
    browser
        .visit(
            &journey.edge(&format!("/lang/zh-CN?next=%2Forganiser%2Fevents%2F{id}")),
            "event-zh",
        )
        .await;
    assert!(browser.exists("#f-title-zh").await);
    assert!(browser.exists("#f-opens-at").await && browser.exists("#f-closes-at").await);
    assert_eq!(
        browser
            .attribute("#f-move-items", "checked")
            .await
            .as_deref(),
        Some("true")
    );
    assert!(browser.page_text().await.contains("UTC+"), "zoned times");
    browser
        .visit(&journey.edge("/organiser"), "dashboard-zh")
        .await;
    assert!(
        browser.page_text().await.contains("活动已取消"),
        "the count of registrations ended with their event"
    );
    browser
        .visit(
            &journey.edge(&format!(
                "/events/{}",
                event["slug"].as_str().expect("slug")
            )),
            "public-page-zh",
        )
        .await;
    // A slug in the organiser's address opens the event (it answered 400 with a parser's message).
    browser
        .visit(
            &journey.edge(&format!(
                "/organiser/events/{}",
                event["slug"].as_str().expect("slug")
            )),
            "by-slug",
        )
        .await;
    browser
        .wait_for_url(&format!("/organiser/events/{id}"))
        .await;

    browser.close().await;
    journey.shutdown().await;
}

/// The manage link in the confirmation email opens the registration, and cancelling there cancels it.
#[tokio::test]
async fn the_manage_page_from_the_emailed_link_cancels_the_registration() {
    let _one = ONE_AT_A_TIME.lock().await;
    let journey = Journey::start().await;
    let event = webinar(&journey, "Webinar to cancel").await;
    let (status, registered) = journey
        .call(
            Method::POST,
            "/v1/registrations",
            Some(
                json!({ "event_id": event["id"], "email": "liu.yang@example.org", "name": "刘洋",
                         "consent": true, "locale": "zh-CN", "timezone": "Asia/Shanghai",
                         "answers": { "topic": "Pharmacogenomics" } }),
            ),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{registered}");
    let mail = journey.wait_for_mail(1, MAIL_WAIT).await;
    let public = &journey.settings.public_url;
    let text = &mail[0].text;
    let path = manage_path(public, text);
    let browser = Browser::start("manage_cancels", &screenshots()).await;

    browser.visit(&journey.edge(&path), "manage").await;
    assert_eq!(
        browser
            .attribute("[data-status]", "data-status")
            .await
            .as_deref(),
        Some("confirmed")
    );
    assert!(browser.page_text().await.contains("liu.yang@example.org"));
    browser
        .click("form[action$='/cancel'] button[type=submit]")
        .await;
    browser.wait_for_url("done=cancelled").await;
    assert_eq!(
        browser
            .attribute("[data-status]", "data-status")
            .await
            .as_deref(),
        Some("cancelled")
    );
    browser.shot("cancelled").await;

    let (_, now) = journey
        .call(
            Method::GET,
            &format!(
                "/v1/registrations/{}",
                registered["id"].as_str().expect("id")
            ),
            None,
            Some(&journey.organiser),
        )
        .await;
    assert_eq!(now["status"], "cancelled", "{now}");
    // The cancellation reaches the calendar too: a CANCEL for this attendee.
    let mail = journey.wait_for_mail(2, MAIL_WAIT).await;
    assert_eq!(mail[1].method().as_deref(), Some("CANCEL"));

    browser.close().await;
    journey.shutdown().await;
}

/// A tour participant reads the pages in Chinese: the manage page from the emailed link shows the country question
/// with its answer chosen among the countries named in Chinese (it was an empty list, so saving failed with
/// "Country: This is required"), a changed answer is saved, and "erase my data" asks first and then erases.
#[tokio::test]
async fn a_tour_participant_changes_an_answer_in_chinese_and_erases_their_data() {
    let _one = ONE_AT_A_TIME.lock().await;
    let journey = Journey::start().await;
    let starts = journey.clock.now() + Span::days(30);
    let event = journey
        .organise(
            Method::POST,
            "/v1/events",
            json!({ "kind": "tour", "title": "Clover Leaf tour Berlin → Nanjing", "timezone": "Europe/Berlin",
                    "starts_at": starts.to_rfc3339(), "ends_at": (starts + Span::days(5)).to_rfc3339(),
                    "summary": "A delegation visits host institutions in three cities.",
                    "organiser": { "name": "PerMed Office", "email": Journey::ORGANISER_EMAIL } }),
        )
        .await;
    let id = event["id"].as_str().expect("id").to_owned();
    journey
        .organise(
            Method::POST,
            &format!("/v1/events/{id}/items"),
            json!({ "kind": "session", "title": "Briefing", "starts_at": (starts + Span::hours(1)).to_rfc3339(),
                    "ends_at": (starts + Span::hours(2)).to_rfc3339() }),
        )
        .await;
    journey
        .organise(
            Method::PUT,
            &format!("/v1/forms/{id}"),
            json!({ "capacity": 20, "waitlist": false, "approval": "automatic",
                    "questions": [
                        { "id": "passport", "label": "Passport country", "type": "country", "required": true },
                        { "id": "role", "label": "Role", "type": "single_choice", "required": true,
                          "options": ["Researcher", "Clinician"] },
                        { "id": "visa", "label": "Do you need a visa letter?", "type": "yes_no", "required": true },
                        { "id": "arrival", "label": "Arrival", "type": "date" } ] }),
        )
        .await;
    journey
        .organise(Method::POST, &format!("/v1/events/{id}/publish"), json!({}))
        .await;
    let arrival = (starts - Span::days(1)).date_naive().to_string();
    let (status, registered) = journey
        .call(
            Method::POST,
            "/v1/registrations",
            Some(json!({ "event_id": id, "email": "lin.wei@example.org", "name": "林薇", "consent": true,
                         "locale": "zh-CN", "timezone": "Asia/Shanghai",
                         "answers": { "passport": "DE", "role": "Researcher", "visa": true, "arrival": arrival } })),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{registered}");
    let registration_id = registered["id"].as_str().expect("id").to_owned();
    let mail = journey.wait_for_mail(1, MAIL_WAIT).await;
    let path = manage_path(&journey.settings.public_url, &mail[0].text);
    let browser = Browser::start("tour_participant_zh", &screenshots()).await;

    // The Chinese pages: the switch, then the link from the email.
    browser
        .client
        .goto(&journey.edge(&format!(
                "/lang/zh-CN?next={}",
                path.replace('%', "%25")
                    .replace('?', "%3F")
                    .replace('&', "%26")
            )))
        .await
        .expect("open");
    browser.wait_for_url("/m").await;
    assert_eq!(browser.text("h1").await, "我的报名");
    browser.shot("manage-zh").await;
    assert_eq!(
        browser
            .client
            .execute(
                "return document.querySelector('#f-answers-passport').value",
                vec![]
            )
            .await
            .expect("value"),
        json!("DE"),
        "the stored country is chosen"
    );
    let names: Value = browser
        .client
        .execute(
            "return Array.from(document.querySelectorAll('#f-answers-passport option')).map(o => o.textContent)",
            vec![],
        )
        .await
        .expect("options");
    let names: Vec<&str> = names
        .as_array()
        .expect("list")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(names.len() > 240, "{names:?}");
    assert!(
        names.contains(&"德国") && names.contains(&"中国"),
        "{names:?}"
    );
    let at = |n: &str| names.iter().position(|x| *x == n).expect(n);
    assert!(
        at("阿富汗") < at("德国") && at("德国") < at("中国"),
        "pinyin order"
    );
    assert!(
        browser.page_text().await.contains("UTC+"),
        "the times carry their offsets"
    );

    // Only the country changes; everything else is sent back as stored.
    browser.select("#f-answers-passport", "TW").await;
    browser
        .click("form[action$='/answers'] button[type=submit]")
        .await;
    browser.wait_for_url("done=updated").await;
    assert!(browser.page_text().await.contains("您的修改已保存。"));
    browser.shot("saved-zh").await;
    let (_, now) = journey
        .call(
            Method::GET,
            &format!("/v1/registrations/{registration_id}"),
            None,
            Some(&journey.organiser),
        )
        .await;
    assert_eq!(
        now["answers"],
        json!({ "passport": "TW", "role": "Researcher", "visa": true, "arrival": arrival }),
        "{now}"
    );

    // Erasing asks first.
    browser.click("button[data-erase]").await;
    browser.wait_for_url("/erase").await;
    assert_eq!(browser.text("h1").await, "删除您的数据？");
    browser.shot("erase-confirm-zh").await;
    browser.click("button[data-erase-confirm]").await;
    browser.wait_for_url("/erased").await;
    assert!(
        browser
            .text("[data-erased]")
            .await
            .contains("您的数据已删除")
    );
    browser.shot("erased-zh").await;
    let (status, gone) = journey
        .call(
            Method::GET,
            &format!("/v1/registrations/{registration_id}"),
            None,
            Some(&journey.organiser),
        )
        .await;
    assert!(
        status == StatusCode::NOT_FOUND || gone["email"].is_null(),
        "{status} {gone}"
    );

    browser.close().await;
    journey.shutdown().await;
}
