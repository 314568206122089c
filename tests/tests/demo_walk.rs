//! The demo programme walked through the pages, as a new programme office and its participants meet it (issue 15):
//! `cloverleaf::demo::load` fills a [`Journey`] (the three services, the portal, the edge and a real SMTP server);
//! a participant registers for the tour in Chinese, reads the confirmation email, changes an answer on the manage page
//! and erases their data; the demo's organiser sets the webinar's form to "no limit", moves the webinar with its
//! agenda and cancels the workshop — all through the pages, in headless Chromium, with a screenshot of every page
//! under `<target>/screenshots/demo_walk/`. Every attendee's invites are then checked as a series by `check-invite`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDateTime, Utc};
use cloverleaf::demo::{self, Letters, Outcome};
use cloverleaf_e2e::Journey;
use cloverleaf_e2e::browser::Browser;
use cloverleaf_e2e::journey::{Mail, check_every_invite};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const MAIL_WAIT: Duration = Duration::from_secs(90);

fn screenshots() -> PathBuf {
    // CARGO_TARGET_TMPDIR is <target>/tmp: the screenshots go beside it, to <target>/screenshots.
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent()
        .map_or(tmp.clone(), |target| target.join("screenshots"))
}

/// The short manage link (`{public}/manage/{token}`, no `?token=`) in an email's text.
fn manage_link(public: &str, text: &str) -> String {
    let start = text
        .find(&format!("{public}/manage/"))
        .unwrap_or_else(|| panic!("a short manage link in:\n{text}"));
    text[start..]
        .chars()
        .take_while(|c| !c.is_whitespace() && !matches!(c, '>' | '"' | '）' | '，' | '。'))
        .collect()
}

/// Whether `c` is a CJK ideograph or full-width punctuation.
fn is_cjk(c: char) -> bool {
    matches!(c, '\u{3000}'..='\u{303f}' | '\u{4e00}'..='\u{9fff}' | '\u{ff00}'..='\u{ffef}')
}

/// Western punctuation (or a space before a full-width mark) written beside Chinese text: `城市: Berlin`,
/// `（周一）, 09:00`, `报名 （`.
fn western_punctuation_in_chinese(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut found = Vec::new();
    for (i, pair) in chars.windows(2).enumerate() {
        let (a, b) = (pair[0], pair[1]);
        let wrong = (is_cjk(a) && matches!(b, ':' | ',' | ';' | '(' | ')'))
            || (matches!(a, '(' | ')' | ',' | ':' | ';') && is_cjk(b) && !matches!(b, '（' | '）'))
            || (a == ' ' && matches!(b, '（' | '）' | '，' | '：' | '；' | '。'))
            || (matches!(a, '（' | '）' | '，' | '：' | '；' | '。') && b == ' ');
        if wrong {
            let from = i.saturating_sub(12);
            let to = (i + 14).min(chars.len());
            found.push(chars[from..to].iter().collect());
        }
    }
    found
}

/// Scrolls the section `css` into view and saves a screenshot (a screenshot shows the window, not the whole page).
async fn shot_of(browser: &Browser, css: &str, page: &str) {
    browser
        .client
        .execute(
            "document.querySelector(arguments[0]).scrollIntoView();",
            vec![json!(css)],
        )
        .await
        .expect("scroll");
    browser.shot(page).await;
}

/// A Chinese page's text has Chinese punctuation throughout (no `城市: Berlin`, no space before `（`).
async fn chinese_page(browser: &Browser) {
    // innerText keeps a table's cells apart with tabs (WebDriver's text joins them with spaces).
    let text = browser
        .client
        .execute("return document.body.innerText;", vec![])
        .await
        .expect("the page's text");
    let wrong = western_punctuation_in_chinese(text.as_str().unwrap_or_default());
    assert!(wrong.is_empty(), "{wrong:?} on {}", browser.url().await);
}

/// Waits until `n` messages to `to` have arrived; returns them in arrival order.
async fn mail_to(journey: &Journey, to: &str, n: usize) -> Vec<Mail> {
    let deadline = Instant::now() + MAIL_WAIT;
    loop {
        let mail: Vec<Mail> = journey.mail().into_iter().filter(|m| m.to == to).collect();
        if mail.len() >= n {
            return mail;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {n} messages to {to} arrived: {:?}",
            mail.len(),
            mail.iter().map(|m| m.subject.clone()).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits until the registrations of `event_id` satisfy `done` (they are ended asynchronously, through the inbox).
async fn registrations_until(
    journey: &Journey,
    token: &str,
    event_id: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + MAIL_WAIT;
    loop {
        let (status, list) = journey
            .call(
                Method::GET,
                &format!("/v1/registrations?event_id={event_id}&limit=500"),
                None,
                Some(token),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{list}");
        let items = list["items"].as_array().cloned().unwrap_or_default();
        if done(&items) {
            return items;
        }
        assert!(Instant::now() < deadline, "registrations now: {list}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn items_of(journey: &Journey, token: &str, event_id: &str) -> Vec<Value> {
    let (status, list) = journey
        .call(
            Method::GET,
            &format!("/v1/events/{event_id}/items"),
            None,
            Some(token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list["items"].as_array().cloned().unwrap_or_default()
}

fn instant(value: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(value.as_str().expect("a time"))
        .expect("an RFC 3339 time")
        .with_timezone(&Utc)
}

/// The value of an input (its property, as the browser holds it now).
async fn value_of(browser: &Browser, css: &str) -> Value {
    browser
        .client
        .execute(
            "const e = document.querySelector(arguments[0]); return e ? (e.type === 'checkbox' ? e.checked : e.value) : null;",
            vec![json!(css)],
        )
        .await
        .expect("value")
}

/// The dashboard's count in the column headed `heading` of the row of event `id`.
async fn dashboard_count(browser: &Browser, id: &str, heading: &str) -> String {
    let script = "const heads = Array.from(document.querySelectorAll('thead th')).map(h => h.textContent.trim()); \
                  const col = heads.indexOf(arguments[1]); \
                  const link = document.querySelector(`a[href='/organiser/events/${arguments[0]}']`); \
                  if (col < 0 || !link) return null; \
                  return link.closest('tr').children[col].textContent.trim();";
    let count = browser
        .client
        .execute(script, vec![json!(id), json!(heading)])
        .await
        .expect("count");
    count
        .as_str()
        .unwrap_or_else(|| panic!("no column {heading:?} or row {id} on the dashboard"))
        .to_owned()
}

#[tokio::test]
async fn the_demo_walked_in_chinese_by_a_participant_and_by_its_organiser() {
    let journey = Journey::start().await;
    let loaded = demo::load(
        &journey.settings,
        &journey.edge(""),
        Letters::WaitUntilQueued,
    )
    .await
    .expect("the demo loads");
    let (organiser_email, password, events) = match loaded {
        Outcome::Loaded {
            email,
            password,
            events,
            ..
        } => (email, password, events),
        other => panic!("a fresh system gets a fresh demo: {other:?}"),
    };
    // The demo's events belong to its partners' teams: their organiser reads them (the journey's programme-wide
    // organiser is in no team, so they are not its to see).
    let (status, login) = journey
        .call(
            Method::POST,
            "/v1/auth/token",
            Some(serde_json::json!({ "email": organiser_email, "password": password })),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{login}");
    let demo_token = login["access_token"].as_str().expect("token").to_owned();
    let id_of = |slug: &str| {
        events
            .iter()
            .find(|e| e.slug == slug)
            .unwrap_or_else(|| panic!("{slug} loaded"))
            .id
            .clone()
    };
    let (webinar, workshop, tour) = (
        id_of(demo::WEBINAR_SLUG),
        id_of(demo::WORKSHOP_SLUG),
        id_of(demo::TOUR_SLUG),
    );
    let public = journey.settings.public_url.clone();
    let browser = Browser::start("demo_walk", &screenshots()).await;

    // ---- A participant, in Chinese: the tour's form, every required question ----
    browser.visit(&journey.edge("/"), "home-en").await;
    browser
        .visit(
            &journey.edge(&format!("/events/{}", demo::TOUR_SLUG)),
            "tour-en",
        )
        .await;
    browser
        .visit(
            &journey.edge(&format!("/events/{}/register", demo::WORKSHOP_SLUG)),
            "workshop-register-en",
        )
        .await;
    browser
        .visit(&journey.edge("/lang/zh-CN?next=%2F"), "home-zh")
        .await;
    browser
        .visit(
            &journey.edge(&format!("/events/{}", demo::TOUR_SLUG)),
            "tour-zh",
        )
        .await;
    assert!(
        browser
            .page_text()
            .await
            .contains("行程中的每一站按当地时区显示"),
        "a tour's stops are shown in their own zones"
    );
    browser
        .click(&format!("a[href='/events/{}/register']", demo::TOUR_SLUG))
        .await;
    browser.wait_for_url("/register").await;
    assert_eq!(browser.text("h1").await, "报名");
    browser.shot("tour-register-zh").await;
    let participant = "li.na@example.org";
    browser.fill("#f-email", participant).await;
    browser.fill("#f-name", "李娜").await;
    browser.fill("#f-affiliation", "南京医科大学").await;
    browser.select("#f-country", "CN").await;
    browser.select("#f-answers-passport-country", "CN").await;
    browser.click("#f-answers-visa-letter-yes").await;
    browser.click("#f-answers-dietary-2").await;
    browser.click("#f-consent").await;
    browser.shot("tour-register-filled-zh").await;
    chinese_page(&browser).await;
    browser
        .click("form[action$='/register'] button[type=submit]")
        .await;
    browser.wait_for_url("/confirmation").await;
    let confirmation = browser.page_text().await;
    browser.shot("tour-confirmation-zh").await;
    chinese_page(&browser).await;
    assert!(confirmation.contains(participant), "{confirmation}");
    assert!(
        confirmation.contains("UTC+"),
        "times with their offsets: {confirmation}"
    );
    let registered = registrations_until(&journey, &demo_token, &tour, |items| {
        items.iter().any(|r| r["email"] == participant)
    })
    .await;
    let registration = registered
        .iter()
        .find(|r| r["email"] == participant)
        .expect("the registration")
        .clone();
    let registration_id = registration["id"].as_str().expect("id").to_owned();
    assert_eq!(registration["locale"], "zh-CN", "{registration}");
    assert_eq!(
        registration["answers"],
        json!({ "passport_country": "CN", "visa_letter": true, "dietary": "vegetarian" }),
        "{registration}"
    );

    // The email: Chinese subject and text, Chinese punctuation, a short manage link.
    let received = mail_to(&journey, participant, 1).await;
    let first = &received[0];
    let subject = first.subject.clone();
    assert!(subject.chars().any(is_cjk), "a Chinese subject: {subject}");
    assert!(
        western_punctuation_in_chinese(&subject).is_empty(),
        "{subject}"
    );
    assert!(
        first.text.chars().filter(|c| is_cjk(*c)).count() > 20,
        "{}",
        first.text
    );
    let wrong = western_punctuation_in_chinese(&first.text);
    assert!(wrong.is_empty(), "{wrong:?} in:\n{}", first.text);
    let link = manage_link(&public, &first.text);
    assert!(link.len() < 100, "{link} is {} characters", link.len());
    assert!(
        !link.contains("?token="),
        "the token alone makes the link: {link}"
    );
    let manage = link.strip_prefix(&public).expect("path").to_owned();

    // The tour's organisers select participants: the organiser approves through the registrations page, and the
    // approval carries the invite.
    browser
        .visit(&journey.edge("/organiser/login"), "organiser-login-zh")
        .await;
    browser.fill("#f-email", &organiser_email).await;
    browser.fill("#f-password", &password).await;
    browser
        .click("form[action='/organiser/login'] button[type=submit]")
        .await;
    browser.text("a[href='/organiser/events/new']").await;
    browser.shot("dashboard-zh").await;
    chinese_page(&browser).await;
    browser
        .visit(
            &journey.edge(&format!("/organiser/events/{tour}/registrations")),
            "tour-registrations-zh",
        )
        .await;
    browser
        .click(&format!(
            "form[action='/organiser/events/{tour}/registrations/{registration_id}/approve'] button"
        ))
        .await;
    browser.wait_for_url("done=").await;
    browser.shot("tour-approved-zh").await;
    chinese_page(&browser).await;
    let received = mail_to(&journey, participant, 2).await;
    let approved = &received[1];
    let subject = approved.subject.clone();
    assert!(subject.chars().any(is_cjk), "{subject}");
    assert_eq!(approved.method().as_deref(), Some("REQUEST"), "{subject}");
    let wrong = western_punctuation_in_chinese(&approved.text);
    assert!(wrong.is_empty(), "{wrong:?} in:\n{}", approved.text);
    assert_eq!(
        manage_link(&public, &approved.text),
        link,
        "one manage link"
    );
    check_every_invite(&received);

    // The manage link: change an answer and save.
    browser.visit(&journey.edge(&manage), "manage-zh").await;
    assert_eq!(browser.text("h1").await, "我的报名");
    assert_eq!(
        value_of(&browser, "#f-answers-passport-country").await,
        json!("CN")
    );
    browser.click("#f-answers-dietary-4").await;
    browser
        .click("form[action$='/answers'] button[type=submit]")
        .await;
    browser.wait_for_url("done=updated").await;
    assert!(browser.page_text().await.contains("您的修改已保存。"));
    browser.shot("manage-saved-zh").await;
    chinese_page(&browser).await;
    let (_, now) = journey
        .call(
            Method::GET,
            &format!("/v1/registrations/{registration_id}"),
            None,
            Some(&demo_token),
        )
        .await;
    assert_eq!(now["answers"]["dietary"], "halal", "{now}");
    assert_eq!(now["answers"]["passport_country"], "CN", "{now}");

    // Erase my data, with its confirmation; the link then opens nothing.
    browser.click("button[data-erase]").await;
    browser.wait_for_url("/erase").await;
    assert_eq!(browser.text("h1").await, "删除您的数据？");
    browser.shot("erase-confirm-zh").await;
    chinese_page(&browser).await;
    browser.click("button[data-erase-confirm]").await;
    browser.wait_for_url("/erased").await;
    assert!(
        browser
            .text("[data-erased]")
            .await
            .contains("您的数据已删除")
    );
    browser.shot("erased-zh").await;
    browser
        .visit(&journey.edge(&manage), "manage-after-erase-zh")
        .await;
    assert_eq!(browser.text("h1").await, "此链接无效");
    assert!(
        !browser.exists("[data-status]").await && !browser.exists("[data-erase]").await,
        "the erased registration opens no more: {}",
        browser.page_text().await
    );
    let (status, gone) = journey
        .call(
            Method::GET,
            &format!("/v1/registrations/{registration_id}"),
            None,
            Some(&demo_token),
        )
        .await;
    assert!(
        status == StatusCode::NOT_FOUND || gone["email"].is_null(),
        "{status} {gone}"
    );

    // ---- The organiser, in English: "no limit" on the webinar's form ----
    browser
        .visit(
            &journey.edge(&format!("/lang/en?next=%2Forganiser%2Fevents%2F{webinar}")),
            "webinar-organiser",
        )
        .await;
    browser
        .wait_for_url(&format!("/organiser/events/{webinar}"))
        .await;
    browser.fill("#f-capacity", "").await;
    browser
        .click(&format!(
            "form[action='/organiser/events/{webinar}/form'] button[type=submit]"
        ))
        .await;
    browser.wait_for_url("done=form").await;
    shot_of(&browser, "#form", "webinar-no-limit").await;
    assert_eq!(value_of(&browser, "#f-capacity").await, json!(""));
    let (status, form) = journey
        .call(Method::GET, &format!("/v1/forms/{webinar}"), None, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{form}");
    assert!(form["capacity"].is_null(), "no limit: {form}");
    let newcomer = "elena.garcia@example.org";
    let (status, answer) = journey
        .call(
            Method::POST,
            "/v1/registrations",
            Some(
                json!({ "event_id": webinar, "email": newcomer, "name": "Elena García",
                         "consent": true, "locale": "en", "timezone": "Europe/Paris",
                         "answers": { "topic": "Pharmacogenomics" } }),
            ),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(answer["status"], "confirmed", "{answer}");
    let newcomer_mail = mail_to(&journey, newcomer, 1).await;

    // ---- Moving the webinar an hour later, with its agenda (the checkbox is on by default) ----
    let before = items_of(&journey, &demo_token, &webinar).await;
    assert!(!before.is_empty(), "the webinar has an agenda");
    assert_eq!(value_of(&browser, "#f-move-items").await, json!(true));
    let later = |css_value: Value| {
        let text = css_value
            .as_str()
            .expect("a datetime-local value")
            .to_owned();
        let at = NaiveDateTime::parse_from_str(&text, "%Y-%m-%dT%H:%M").expect(&text);
        (at + chrono::Duration::hours(1))
            .format("%Y-%m-%dT%H:%M")
            .to_string()
    };
    let starts = later(value_of(&browser, "#f-starts-at").await);
    let ends = later(value_of(&browser, "#f-ends-at").await);
    browser.set_value("#f-starts-at", &starts).await;
    browser.set_value("#f-ends-at", &ends).await;
    shot_of(&browser, "#details", "webinar-move-filled").await;
    browser
        .click(&format!(
            "form[action='/organiser/events/{webinar}'] button[type=submit]"
        ))
        .await;
    browser.wait_for_url("done=updated").await;
    shot_of(&browser, "#agenda", "webinar-moved").await;
    let after = items_of(&journey, &demo_token, &webinar).await;
    assert_eq!(after.len(), before.len());
    for (old, new) in before.iter().zip(&after) {
        assert_eq!(
            instant(&new["starts_at"]) - instant(&old["starts_at"]),
            chrono::Duration::hours(1),
            "{old} → {new}"
        );
    }
    let (_, moved) = journey
        .call(Method::GET, &format!("/v1/events/{webinar}"), None, None)
        .await;
    let zone: chrono_tz::Tz = moved["timezone"]
        .as_str()
        .expect("zone")
        .parse()
        .expect("an IANA zone");
    let first_item = instant(&after[0]["starts_at"]).with_timezone(&zone);
    let event_start = instant(&moved["starts_at"]).with_timezone(&zone);
    assert!(
        first_item >= event_start,
        "the agenda starts within the event: {first_item} {event_start}"
    );
    browser
        .visit(
            &journey.edge(&format!("/events/{}", demo::WEBINAR_SLUG)),
            "webinar-moved-public",
        )
        .await;
    let page = browser.page_text().await;
    assert!(
        page.contains("Times are shown in the event's time zone (Europe/Brussels).")
            && !page.contains("each stop"),
        "{page}"
    );
    let first_at = first_item.format("%H:%M").to_string();
    assert!(
        page.contains(&event_start.format("%H:%M").to_string()) && page.contains(&first_at),
        "the event at {event_start} and its agenda from {first_at}: {page}"
    );
    browser
        .visit(
            &journey.edge(&format!(
                "/lang/zh-CN?next=%2Fevents%2F{}",
                demo::WEBINAR_SLUG
            )),
            "webinar-moved-public-zh",
        )
        .await;
    assert!(
        !browser.page_text().await.contains("每一站"),
        "a webinar's page does not speak of a tour's stops"
    );

    // The updated invite, with the moved agenda, reaches an attendee.
    let newcomer_mail = mail_to(&journey, newcomer, newcomer_mail.len() + 1).await;
    let update = newcomer_mail.last().expect("the update");
    assert_eq!(update.method().as_deref(), Some("REQUEST"));
    assert!(
        update.sequence() > newcomer_mail[0].sequence(),
        "a higher SEQUENCE"
    );
    let paris = first_item
        .with_timezone(&chrono_tz::Europe::Paris)
        .format("%H:%M")
        .to_string();
    assert!(
        update.text.contains(&paris),
        "the moved agenda ({paris}) in:\n{}",
        update.text
    );
    let calendar = update
        .calendar
        .clone()
        .unwrap_or_default()
        .replace("\r\n ", "");
    assert!(
        calendar.contains(&paris),
        "the moved agenda ({paris}) in the invite:\n{calendar}"
    );
    let webinar_attendees: Vec<String> = demo::programme(Utc::now().date_naive())
        .expect("the demo programme")[0]
        .registrations
        .iter()
        .filter_map(|a| a.body["email"].as_str().map(str::to_owned))
        .chain([newcomer.to_owned()])
        .collect();

    // ---- Cancelling the workshop ----
    browser
        .visit(
            &journey.edge(&format!("/lang/en?next=%2Forganiser%2Fevents%2F{workshop}")),
            "workshop-organiser",
        )
        .await;
    browser
        .wait_for_url(&format!("/organiser/events/{workshop}"))
        .await;
    browser
        .fill("#f-reason", "The venue is closed for renovation.")
        .await;
    browser
        .click(&format!(
            "form[action='/organiser/events/{workshop}/cancel'] button[type=submit]"
        ))
        .await;
    browser.wait_for_url("done=cancelled").await;
    browser.shot("workshop-cancelled").await;
    shot_of(&browser, "#agenda", "workshop-cancelled-agenda").await;
    let ended = registrations_until(&journey, &demo_token, &workshop, |items| {
        items.iter().any(|r| r["status"] == "event_cancelled")
            && !items.iter().any(|r| {
                matches!(
                    r["status"].as_str(),
                    Some("confirmed" | "waitlisted" | "pending_approval")
                )
            })
    })
    .await;
    let ended_count = ended
        .iter()
        .filter(|r| r["status"] == "event_cancelled")
        .count();
    browser
        .visit(&journey.edge("/organiser"), "dashboard-after")
        .await;
    // The whole table of counts fits the page (its last columns were hidden behind a scroll bar), and the line
    // under each event's title is not bold.
    let fits = browser
        .client
        .execute(
            "const w = document.querySelector('.table-wrap'); return w.scrollWidth <= w.clientWidth;",
            vec![],
        )
        .await
        .expect("widths");
    assert_eq!(fits, json!(true), "the dashboard's table fits");
    let weight = browser
        .client
        .execute(
            "return getComputedStyle(document.querySelector('tbody th .muted')).fontWeight;",
            vec![],
        )
        .await
        .expect("weight");
    assert_eq!(weight, json!("400"));
    assert_eq!(
        dashboard_count(&browser, &workshop, "Event cancelled").await,
        ended_count.to_string()
    );
    browser
        .visit(
            &journey.edge("/lang/zh-CN?next=%2Forganiser"),
            "dashboard-after-zh",
        )
        .await;
    assert_eq!(
        dashboard_count(&browser, &workshop, "活动已取消").await,
        ended_count.to_string()
    );

    // An attendee's manage page says the event is cancelled, with no Change or Cancel.
    let attendee = ended
        .iter()
        .find(|r| r["status"] == "event_cancelled")
        .and_then(|r| r["email"].as_str())
        .expect("an attendee")
        .to_owned();
    let attendee_mail = mail_to(&journey, &attendee, 1).await;
    let attendee_link = manage_link(&public, &attendee_mail[0].text);
    let attendee_manage = attendee_link
        .strip_prefix(&public)
        .expect("path")
        .to_owned();
    browser
        .visit(
            &journey.edge(&attendee_manage),
            "workshop-manage-cancelled-zh",
        )
        .await;
    assert!(browser.exists("[data-event-cancelled]").await);
    assert_eq!(
        browser
            .attribute("[data-status]", "data-status")
            .await
            .as_deref(),
        Some("event_cancelled")
    );
    assert!(
        !browser.exists("form[action$='/answers']").await
            && !browser.exists("form[action$='/cancel']").await,
        "no Change or Cancel: {}",
        browser.page_text().await
    );
    browser
        .visit(
            &journey.edge(&format!(
                "/lang/en?next={}",
                attendee_manage.replace('/', "%2F")
            )),
            "workshop-manage-cancelled",
        )
        .await;
    assert!(
        browser
            .page_text()
            .await
            .contains("This event has been cancelled")
    );
    let workshop_attendees: Vec<String> = ended
        .iter()
        .filter(|r| r["status"] == "event_cancelled")
        .filter_map(|r| r["email"].as_str().map(str::to_owned))
        .collect();
    // Those who had an invite (the confirmed) get its CANCEL; everyone gets the cancellation's email.
    let invited: Vec<String> = workshop_attendees
        .iter()
        .filter(|to| {
            journey
                .mail()
                .iter()
                .any(|m| &&m.to == to && m.method().as_deref() == Some("REQUEST"))
        })
        .cloned()
        .collect();
    assert!(
        !invited.is_empty(),
        "some workshop attendees were confirmed"
    );
    // The cancellation's email links to the registration to see it, not to change or cancel it.
    for to in &workshop_attendees {
        let theirs = mail_to(&journey, to, 1).await;
        let last = theirs.last().expect("mail");
        if last.subject.starts_with("活动取消") || last.subject.starts_with("Cancelled") {
            assert!(
                !last.text.contains("修改或取消报名") && !last.text.contains("Manage or cancel"),
                "{}",
                last.text
            );
            assert!(
                last.text.contains("查看报名：") || last.text.contains("View your registration:"),
                "{}",
                last.text
            );
        }
    }
    for to in &invited {
        let deadline = Instant::now() + MAIL_WAIT;
        while !journey
            .mail()
            .iter()
            .any(|m| &m.to == to && m.method().as_deref() == Some("CANCEL"))
        {
            assert!(Instant::now() < deadline, "no CANCEL for {to}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    browser.close().await;

    // ---- check-invite --series on each attendee's messages of the move and the cancellation ----
    let all = journey.mail();
    for to in webinar_attendees.iter().chain(&invited) {
        let theirs: Vec<Mail> = all.iter().filter(|m| &m.to == to).cloned().collect();
        let checked = check_every_invite(&theirs);
        assert!(checked >= 1, "{to} has invites");
    }
    for to in &webinar_attendees {
        let updates = all
            .iter()
            .filter(|m| &m.to == to && m.method().as_deref() == Some("REQUEST"))
            .count();
        assert!(updates >= 2, "{to} got the invite and its update");
    }
    // The emails beside the screenshots, to read: the participant's, an update of the move, a cancellation.
    let folder = screenshots().join("demo_walk");
    let cancelled_attendee = invited.first().cloned().unwrap_or_default();
    for (n, mail) in all
        .iter()
        .filter(|m| {
            m.to == participant
                || m.to == newcomer
                || m.to == cancelled_attendee
                || m.to == "zhao.min@example.org"
        })
        .enumerate()
    {
        let text = format!(
            "To: {}\nSubject: {}\n\n{}\n\n{}",
            mail.to,
            mail.subject,
            mail.text,
            mail.calendar.as_deref().unwrap_or("")
        );
        std::fs::write(folder.join(format!("mail-{n:02}-{}.txt", mail.to)), text)
            .expect("write the mail");
    }
    journey.shutdown().await;
}
