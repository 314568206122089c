//! The registration form editor in a real browser: an organiser builds the form of a draft workshop question by
//! question — a text one, a single choice with its choices in both languages, a yes/no one shown at the door — in
//! Chinese too, moves one up, removes one, sets the seats (2, then no limit) and the window, and saves; the public
//! registration page then asks the questions in that order, in Chinese on the Chinese page. Bad input (an empty
//! question, a closing time before the opening) comes back beside its field with everything typed kept. What would
//! break: a button that loses what was typed, "no limit" refused or crashing, the order or the Chinese texts lost
//! on the way to registration.

use std::path::{Path, PathBuf};

use chrono::Duration as Span;
use chrono_tz::Tz;
use cloverleaf_e2e::Journey;
use cloverleaf_e2e::browser::Browser;
use cloverleaf_service_kit::clock::Clock;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn screenshots() -> PathBuf {
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent()
        .map_or(tmp.clone(), |target| target.join("screenshots"))
}

/// Saves what the browser shows, also as `<target>/screenshots/<name>.png` (the ones the README points to).
async fn keep(browser: &Browser, name: &str) {
    let shot = browser.shot(name).await;
    let kept = screenshots().join(format!("{name}.png"));
    std::fs::copy(&shot, &kept)
        .unwrap_or_else(|e| panic!("copy {} to {}: {e}", shot.display(), kept.display()));
}

async fn value_of(browser: &Browser, css: &str) -> String {
    let value: Value = browser
        .client
        .execute(
            "return document.querySelector(arguments[0]).value;",
            vec![json!(css)],
        )
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    value.as_str().unwrap_or_default().to_owned()
}

async fn checked(browser: &Browser, css: &str) -> bool {
    browser.attribute(css, "checked").await.as_deref() == Some("true")
}

/// Clicks a button of the editor and waits for the page it sends back (the old one gone).
async fn press(browser: &Browser, css: &str) {
    browser
        .client
        .execute("document.body.setAttribute('data-old', '1');", vec![])
        .await
        .expect("mark the page");
    browser.click(css).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let old: Value = browser
            .client
            .execute(
                "return document.readyState === 'complete' && !document.body.hasAttribute('data-old');",
                vec![],
            )
            .await
            .unwrap_or(Value::Bool(false));
        if old == Value::Bool(true) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no new page after {css}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// The event's form as registration answers it.
async fn form(journey: &Journey, id: &str) -> Value {
    let (status, form) = journey
        .call(Method::GET, &format!("/v1/forms/{id}"), None, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{form}");
    form
}

/// Where `needle` first appears in `text` (panics when it does not).
fn at(text: &str, needle: &str) -> usize {
    text.find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in:\n{text}"))
}

#[tokio::test]
async fn an_organiser_builds_the_registration_form_and_participants_see_it_in_both_languages() {
    let journey = Journey::start().await;
    let rome: Tz = "Europe/Rome".parse().expect("zone");
    let starts = journey.clock.now() + Span::days(20);
    let draft = journey
        .organise(
            Method::POST,
            "/v1/events",
            json!({ "kind": "workshop", "title": "Data stewardship workshop", "timezone": "Europe/Rome",
                    "title_zh": "数据管理研讨会",
                    "starts_at": starts.to_rfc3339(), "ends_at": (starts + Span::hours(6)).to_rfc3339(),
                    "venue": { "name": "Università di Bologna", "city": "Bologna", "country": "IT" },
                    "organiser": { "name": "PerMed Office", "email": Journey::ORGANISER_EMAIL } }),
        )
        .await;
    let id = draft["id"].as_str().expect("id").to_owned();
    let slug = draft["slug"].as_str().expect("slug").to_owned();
    let browser = Browser::start("form_editor", &screenshots()).await;
    let shots: &Path = &screenshots();
    assert!(shots.is_dir());

    browser
        .client
        .goto(&journey.edge("/lang/en?next=%2Forganiser%2Flogin"))
        .await
        .expect("open the login");
    browser.fill("#f-email", Journey::ORGANISER_EMAIL).await;
    browser
        .fill("#f-password", Journey::ORGANISER_PASSWORD)
        .await;
    browser
        .click("form[action='/organiser/login'] button[type=submit]")
        .await;
    browser.text("a[href='/organiser/events/new']").await;

    // From the event page to its editor: no form yet, no questions.
    browser
        .visit(&journey.edge(&format!("/organiser/events/{id}")), "event")
        .await;
    browser.click("a[data-form-editor]").await;
    browser
        .wait_for_url(&format!("/organiser/events/{id}/form"))
        .await;
    assert!(!browser.exists("[data-question]").await);
    browser.shot("empty").await;

    // Three questions, each added with the whole page sent: what was typed stays.
    press(&browser, "button[value='add']").await;
    browser
        .fill("#f-q-0-label", "Your role at your institution")
        .await;
    browser.fill("#f-q-0-label-zh", "您在所在机构的职务").await;
    browser.click("#f-q-0-required").await;
    press(&browser, "button[value='add']").await;
    assert_eq!(
        value_of(&browser, "#f-q-0-label").await,
        "Your role at your institution"
    );
    assert!(checked(&browser, "#f-q-0-required").await, "kept");
    browser
        .fill("#f-q-1-label", "Which session will you join?")
        .await;
    browser
        .fill("#f-q-1-label-zh", "您将参加哪个分会场？")
        .await;
    browser.select("#f-q-1-kind", "single_choice").await;
    // Its choices were folded away while it was a text question.
    browser.click("#q-1 details summary").await;
    browser
        .fill("#f-q-1-options", "Genomics\nEthics\nData sharing")
        .await;
    browser
        .fill("#f-q-1-options-zh", "基因组学\n伦理\n数据共享")
        .await;
    press(&browser, "button[value='add']").await;
    browser
        .fill("#f-q-2-label", "Do you need step-free access?")
        .await;
    browser
        .fill("#f-q-2-label-zh", "您需要无障碍通道吗？")
        .await;
    browser.fill("#f-q-2-help", "For the venue's staff").await;
    browser.fill("#f-q-2-help-zh", "供场地工作人员参考").await;
    browser.select("#f-q-2-kind", "yes_no").await;
    browser.click("#f-q-2-show-at-check-in").await;
    // A fourth, removed again.
    press(&browser, "button[value='add']").await;
    browser.fill("#f-q-3-label", "Hotel preference").await;
    keep(&browser, "form_editor").await;

    // The third moves up; the fourth goes.
    press(&browser, "button[value='up:2']").await;
    assert_eq!(
        value_of(&browser, "#f-q-1-label").await,
        "Do you need step-free access?"
    );
    assert_eq!(value_of(&browser, "#f-q-1-kind").await, "yes_no");
    assert!(checked(&browser, "#f-q-1-show-at-check-in").await);
    assert_eq!(
        value_of(&browser, "#f-q-2-label").await,
        "Which session will you join?"
    );
    assert_eq!(
        value_of(&browser, "#f-q-2-options-zh").await,
        "基因组学\n伦理\n数据共享"
    );
    press(&browser, "button[value='remove:3']").await;
    assert!(!browser.exists("#q-3").await, "removed");
    assert!(!browser.exists("button[value='up:0']").await);
    assert!(!browser.exists("button[value='down:2']").await);

    // Two seats, saved.
    browser.fill("#f-capacity", "2").await;
    press(&browser, "#save").await;
    browser.wait_for_url("done=saved").await;
    let saved = form(&journey, &id).await;
    assert_eq!(saved["capacity"], 2, "{saved}");
    let q = &saved["questions"];
    assert_eq!(q.as_array().map(Vec::len), Some(3), "{saved}");
    assert_eq!(q[0]["label_zh"], "您在所在机构的职务");
    assert_eq!(q[0]["required"], true);
    assert_eq!(q[1]["type"], "yes_no");
    assert_eq!(q[1]["show_at_check_in"], true);
    assert_eq!(q[1]["help_zh"], "供场地工作人员参考");
    assert_eq!(
        q[2]["options"],
        json!(["Genomics", "Ethics", "Data sharing"])
    );
    assert_eq!(q[2]["options_zh"], json!(["基因组学", "伦理", "数据共享"]));
    let keys: Vec<&str> = q
        .as_array()
        .expect("questions")
        .iter()
        .filter_map(|q| q["id"].as_str())
        .collect();
    assert_eq!(
        keys,
        [
            "your_role_at_your_institution",
            "do_you_need_step_free_access",
            "which_session_will_you_join"
        ]
    );

    // No limit, and a window: open since yesterday, closing the day before the workshop (Rome time).
    assert_eq!(value_of(&browser, "#f-capacity").await, "2");
    browser.fill("#f-capacity", "").await;
    let wall = |t: chrono::DateTime<chrono::Utc>| {
        t.with_timezone(&rome).format("%Y-%m-%dT%H:%M").to_string()
    };
    let opens = wall(chrono::Utc::now() - Span::days(1));
    let closes = wall(starts - Span::days(1));
    browser.set_value("#f-opens-at", &opens).await;
    browser.set_value("#f-closes-at", &closes).await;
    press(&browser, "#save").await;
    browser.wait_for_url("done=saved").await;
    assert_eq!(
        value_of(&browser, "#f-capacity").await,
        "",
        "no limit shown"
    );
    assert_eq!(value_of(&browser, "#f-closes-at").await, closes);
    let saved = form(&journey, &id).await;
    assert!(saved["capacity"].is_null(), "no limit: {saved}");
    assert_eq!(saved["seats_left"], Value::Null);
    assert!(
        saved["open"].as_bool().unwrap_or(false),
        "open now: {saved}"
    );
    assert_eq!(saved["questions"][2]["options_zh"][0], "基因组学", "kept");

    // Bad input: an empty question and a closing time before the opening, shown at their fields, nothing saved.
    browser.fill("#f-q-0-label", "").await;
    browser.set_value("#f-closes-at", &opens).await;
    browser.set_value("#f-opens-at", &closes).await;
    press(&browser, "#save").await;
    assert!(browser.exists("[data-error-summary]").await);
    let label_error = browser.text("#f-q-0-label-error").await;
    assert!(label_error.contains("Write the question"), "{label_error}");
    let window_error = browser.text("#f-closes-at-error").await;
    assert!(window_error.contains("after it opens"), "{window_error}");
    assert_eq!(
        value_of(&browser, "#f-q-2-options").await,
        "Genomics\nEthics\nData sharing",
        "everything typed is kept"
    );
    assert_eq!(value_of(&browser, "#f-opens-at").await, closes);
    keep(&browser, "form_editor_error").await;
    let unchanged = form(&journey, &id).await;
    assert_eq!(
        unchanged["questions"][0]["label"], "Your role at your institution",
        "nothing saved"
    );

    // The editor in Chinese, as stored.
    browser
        .visit(
            &journey.edge(&format!(
                "/lang/zh-CN?next=%2Forganiser%2Fevents%2F{id}%2Fform"
            )),
            "editor-zh",
        )
        .await;
    browser
        .wait_for_url(&format!("/organiser/events/{id}/form"))
        .await;
    let text = browser.page_text().await;
    assert!(
        text.contains("保存报名表") && text.contains("上移"),
        "{text}"
    );
    assert!(!text.contains("Move up"), "no English on the Chinese page");
    assert_eq!(
        value_of(&browser, "#f-q-0-label").await,
        "Your role at your institution"
    );
    keep(&browser, "form_editor_zh").await;

    // Published, the public registration page asks the questions in the new order, in each language.
    journey
        .organise(Method::POST, &format!("/v1/events/{id}/publish"), json!({}))
        .await;
    browser
        .visit(
            &journey.edge(&format!("/lang/en?next=%2Fevents%2F{slug}%2Fregister")),
            "public-en",
        )
        .await;
    browser
        .wait_for_url(&format!("/events/{slug}/register"))
        .await;
    let text = browser.page_text().await;
    assert!(
        at(&text, "Your role at your institution") < at(&text, "Do you need step-free access?")
            && at(&text, "Do you need step-free access?")
                < at(&text, "Which session will you join?"),
        "{text}"
    );
    assert!(text.contains("Data sharing"));
    browser
        .visit(
            &journey.edge(&format!("/lang/zh-CN?next=%2Fevents%2F{slug}%2Fregister")),
            "public-zh",
        )
        .await;
    browser
        .wait_for_url(&format!("/events/{slug}/register"))
        .await;
    let text = browser.page_text().await;
    assert!(
        at(&text, "您在所在机构的职务") < at(&text, "您需要无障碍通道吗？")
            && at(&text, "您需要无障碍通道吗？") < at(&text, "您将参加哪个分会场？"),
        "{text}"
    );
    assert!(
        text.contains("基因组学") && text.contains("数据共享"),
        "{text}"
    );
    assert!(text.contains("供场地工作人员参考"), "{text}");
    assert!(!text.contains("Genomics"), "the Chinese choices: {text}");
    keep(&browser, "form_public_zh").await;

    browser.close().await;
    journey.shutdown().await;
}
