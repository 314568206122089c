//! Check-in at the door, in a real browser: check-in staff of the event's team log in on a "phone" (headless
//! Chromium), open the event's check-in page, and its camera — Chromium's fake camera, fed the QR code taken out of
//! the participant's confirmation email — scans them in; the code shown again says "already checked in at …". A
//! second phone loses its connection, checks someone in by name (kept on the phone, said once even when tapped
//! twice), and sends it when the connection is back. Registration then holds one check-in and one audit entry per
//! person: what would break is a scan lost offline, or a retried scan checking someone in twice.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use base64::Engine;
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

/// The inline PNG (`Content-ID: <check-in-code@cloverleaf>`) of a raw email, decoded to greyscale pixels.
fn qr_picture(raw: &str) -> (Vec<u8>, usize, usize) {
    let start = raw
        .find("Content-ID: <check-in-code@cloverleaf>")
        .unwrap_or_else(|| panic!("no check-in QR code in the email:\n{raw}"));
    let part = &raw[start..];
    let body_at = part.find("\r\n\r\n").expect("the image part's body") + 4;
    let body: String = part[body_at..]
        .lines()
        .take_while(|line| !line.starts_with("--") && !line.is_empty())
        .collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(body.trim())
        .expect("base64 PNG");
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut pixels).expect("its pixels");
    assert_eq!(
        info.color_type,
        png::ColorType::Grayscale,
        "a greyscale QR code"
    );
    pixels.truncate(info.buffer_size());
    (pixels, info.width as usize, info.height as usize)
}

/// A YUV4MPEG2 video for Chromium's fake camera at 2 frames a second: the QR code on white for 3 s, then 6 s of a
/// white page (the code taken away), looping — so the page sees the code, loses it, and sees it again.
fn camera_video(qr: &(Vec<u8>, usize, usize), path: &Path) {
    let (pixels, width, height) = qr;
    let (w, h) = (480usize, 360usize);
    assert!(*width <= w && *height <= h, "the code fits the frame");
    let mut with_code = vec![255u8; w * h];
    let (left, top) = ((w - width) / 2, (h - height) / 2);
    for y in 0..*height {
        with_code[(top + y) * w + left..(top + y) * w + left + width]
            .copy_from_slice(&pixels[y * width..(y + 1) * width]);
    }
    let blank = vec![255u8; w * h];
    let chroma = vec![128u8; (w / 2) * (h / 2) * 2];
    let mut video = format!("YUV4MPEG2 W{w} H{h} F2:1 Ip A1:1 C420jpeg\n").into_bytes();
    for frame in 0..18 {
        video.extend_from_slice(b"FRAME\n");
        video.extend_from_slice(if frame < 6 { &with_code } else { &blank });
        video.extend_from_slice(&chroma);
    }
    std::fs::write(path, video).expect("write the camera video");
}

/// Waits until the result card says `kind` (`ok`, `again`, `queued`, `refused`) and its outcome contains `words`.
async fn wait_for_card(browser: &Browser, kind: &str, words: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let seen: Value = browser
            .client
            .execute(
                "const c = document.querySelector('[data-result]'); \
                 return c && !c.hidden ? [c.getAttribute('data-kind'), c.innerText] : null;",
                vec![],
            )
            .await
            .expect("read the card");
        if let Some([shown, text]) = seen.as_array().map(Vec::as_slice) {
            let text = text.as_str().unwrap_or_default();
            if shown == kind && text.contains(words) {
                return text.to_owned();
            }
        }
        if Instant::now() >= deadline {
            browser.shot("timed-out").await;
            let page: Value = browser
                .client
                .execute(
                    "const v = document.querySelector('[data-video]');                      return [document.querySelector('#door') ? document.querySelector('#door').innerText : document.body.innerText,                              v ? [v.readyState, v.videoWidth, v.videoHeight] : null, typeof window.jsQR, 'BarcodeDetector' in window];",
                    vec![],
                )
                .await
                .unwrap_or(Value::Null);
            panic!("the card never said {kind} {words:?}; last: {seen}; the page: {page}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn check_in_staff_scan_the_emailed_code_and_check_in_by_name_through_a_lost_connection() {
    let journey = Journey::start().await;
    let (_, admin) = journey
        .account(
            "admin@permed.example.org",
            "Programme admin",
            AccountRole::Admin,
        )
        .await;
    let as_admin = |method: Method, path: &'static str, body: Value| {
        let journey = &journey;
        let admin = admin.clone();
        async move {
            let (status, answer) = journey.call(method, path, Some(body), Some(&admin)).await;
            assert!(status.is_success(), "{path}: {status} {answer}");
            answer
        }
    };
    let team = as_admin(
        Method::POST,
        "/v1/teams",
        json!({ "name": "Università di Siena" }),
    )
    .await;
    let team = team["id"].as_str().expect("team id").to_owned();
    let (door_account, _) = journey
        .account(
            "door@unisi.example.org",
            "Reception desk",
            AccountRole::Organiser,
        )
        .await;
    let (status, member) = journey
        .call(
            Method::PUT,
            &format!("/v1/teams/{team}/members/{door_account}"),
            Some(json!({ "role": "check_in" })),
            Some(&admin),
        )
        .await;
    assert!(status.is_success(), "{status} {member}");

    // A workshop of that team whose form shows the access needs at the door.
    let starts = journey.clock.now() + Span::days(5);
    let (status, event) = journey
        .call(
            Method::POST,
            "/v1/events",
            Some(json!({ "kind": "workshop", "title": "Stakeholder workshop in Siena", "timezone": "Europe/Rome",
                "team_id": team, "starts_at": starts.to_rfc3339(), "ends_at": (starts + Span::hours(8)).to_rfc3339(),
                "venue": { "name": "Università di Siena", "city": "Siena", "country": "IT" },
                "organiser": { "name": "PerMed Office", "email": Journey::ORGANISER_EMAIL } })),
            Some(&admin),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{event}");
    let id = event["id"].as_str().expect("id").to_owned();
    let (status, form) = journey
        .call(
            Method::PUT,
            &format!("/v1/forms/{id}"),
            Some(json!({ "capacity": 30, "waitlist": true, "approval": "automatic", "questions": [
                { "id": "dietary", "label": "Dietary needs", "type": "single_choice", "required": true,
                  "options": ["none", "vegetarian", "halal"] },
                { "id": "access_needs", "label": "Accessibility needs", "label_zh": "无障碍需求", "type": "text",
                  "show_at_check_in": true } ] })),
            Some(&admin),
        )
        .await;
    assert!(status.is_success(), "{status} {form}");
    let (status, published) = journey
        .call(
            Method::POST,
            &format!("/v1/events/{id}/publish"),
            Some(json!({})),
            Some(&admin),
        )
        .await;
    assert!(status.is_success(), "{status} {published}");

    let register = |email: &'static str, name: &'static str, answers: Value| {
        let journey = &journey;
        let id = id.clone();
        async move {
            let (status, answer) = journey
                .call(
                    Method::POST,
                    "/v1/registrations",
                    Some(
                        json!({ "event_id": id, "email": email, "name": name, "consent": true,
                                 "answers": answers }),
                    ),
                    None,
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{answer}");
            answer["id"].as_str().expect("registration id").to_owned()
        }
    };
    let chen = register(
        "chen.xiaoming@example.org",
        "Chen Xiaoming",
        json!({ "dietary": "halal", "access_needs": "Step-free access: wheelchair" }),
    )
    .await;
    let giulia = register(
        "giulia.romano@example.org",
        "Giulia Romano",
        json!({ "dietary": "none" }),
    )
    .await;
    let mail = journey.wait_for_mail(2, Duration::from_secs(60)).await;
    let confirmation = mail
        .iter()
        .find(|m| m.to == "chen.xiaoming@example.org")
        .expect("Chen's confirmation");
    assert!(
        confirmation.text.contains("check-in code"),
        "the text part says where the code is:\n{}",
        confirmation.text
    );
    let raw = std::fs::read_to_string(&confirmation.path).expect("the email");
    let video = std::env::temp_dir().join(format!("cloverleaf-door-{}.y4m", std::process::id()));
    camera_video(&qr_picture(&raw), &video);

    // Phone 1: its camera is shown the code from the email.
    let phone = Browser::start_with(
        "door_scan",
        &screenshots(),
        &[
            "--use-fake-ui-for-media-stream".to_owned(),
            "--use-fake-device-for-media-stream".to_owned(),
            format!("--use-file-for-fake-video-capture={}", video.display()),
        ],
    )
    .await;
    phone
        .log_in(
            &journey.edge("/organiser/login"),
            "door@unisi.example.org",
            Journey::ORGANISER_PASSWORD,
        )
        .await;
    phone.shot("dashboard").await;
    // Check-in staff get the way to the door, not the registrations.
    phone
        .click(&format!("a[href='/organiser/events/{id}/check-in']"))
        .await;
    phone.wait_for_url("/check-in").await;
    let first = wait_for_card(&phone, "ok", "Checked in").await;
    assert!(first.contains("Chen Xiaoming"), "{first}");
    assert!(
        first.contains("Step-free access: wheelchair"),
        "the access needs are shown: {first}"
    );
    assert!(
        !first.contains("halal"),
        "answers not meant for the door stay hidden: {first}"
    );
    phone.shot("scanned").await;
    // The code taken away and shown again: the second scan says when the first one was.
    let again = wait_for_card(&phone, "again", "Already checked in at").await;
    assert!(again.contains("Chen Xiaoming"), "{again}");
    // The time of the first scan, on the event's 24-hour clock (Siena).
    let first_time = chrono::Utc::now().with_timezone(&chrono_tz::Europe::Rome);
    assert!(
        again.contains(&first_time.format("%H:").to_string())
            || again.contains(&(first_time - Span::minutes(1)).format("%H:").to_string()),
        "{again}"
    );
    phone.shot("scanned-again").await;
    phone.close().await;
    let _ = std::fs::remove_file(&video);

    // Phone 2 (a camera that shows no code) loses its connection and checks Giulia in by name, twice.
    let second = Browser::start_with(
        "door_offline",
        &screenshots(),
        &[
            "--use-fake-ui-for-media-stream".to_owned(),
            "--use-fake-device-for-media-stream".to_owned(),
        ],
    )
    .await;
    second
        .log_in(
            &journey.edge("/organiser/login"),
            "door@unisi.example.org",
            Journey::ORGANISER_PASSWORD,
        )
        .await;
    second
        .client
        .goto(&journey.edge(&format!("/organiser/events/{id}/check-in")))
        .await
        .expect("open the check-in page");
    // The door list has arrived when a search finds her.
    second.fill("[data-search]", "giul").await;
    second.text(&format!("[data-check-in='{giulia}']")).await;
    second.network(true).await;
    second.click(&format!("[data-check-in='{giulia}']")).await;
    let kept = wait_for_card(
        &second,
        "queued",
        "it will be sent when the connection is back",
    )
    .await;
    assert!(
        kept.contains("Giulia Romano"),
        "the phone knows whose it is: {kept}"
    );
    second.click(&format!("[data-check-in='{giulia}']")).await;
    wait_for_card(&second, "again", "Already scanned at").await;
    assert!(
        second.text("[data-waiting]").await.contains('1'),
        "one waits, not two"
    );
    second.shot("offline-queued").await;
    second.network(false).await;
    let sent = wait_for_card(&second, "ok", "Checked in").await;
    assert!(sent.contains("Giulia Romano"), "{sent}");
    second.shot("sent-when-back").await;
    // The same page in Chinese, with what the door list says of her.
    second
        .client
        .goto(&journey.edge(&format!("/lang/zh-CN?next=/organiser/events/{id}/check-in")))
        .await
        .expect("switch to Chinese");
    second.wait_for_url("/check-in").await;
    assert!(second.text("h1").await.contains("签到"));
    second.fill("[data-search]", "Giulia").await;
    assert!(
        second
            .text("[data-matches] li")
            .await
            .contains("Giulia Romano")
    );
    second.shot("chinese").await;
    second.close().await;

    // Registration: each checked in once, each with one audit entry by the door account.
    for registration in [&chen, &giulia] {
        let (status, body) = journey
            .call(
                Method::GET,
                &format!("/v1/registrations/{registration}"),
                None,
                Some(&admin),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body["checked_in_at"].is_string(), "{body}");
    }
    let (status, audit) = journey
        .call(
            Method::GET,
            &format!("/v1/audit?event_id={id}&action=checked_in&limit=100"),
            None,
            Some(&admin),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{audit}");
    let entries = audit["items"].as_array().expect("items");
    let mut checked: Vec<&str> = entries
        .iter()
        .map(|e| e["registration_id"].as_str().expect("registration"))
        .collect();
    checked.sort_unstable();
    let mut expected = vec![chen.as_str(), giulia.as_str()];
    expected.sort_unstable();
    assert_eq!(checked, expected, "one check-in each: {audit}");
    assert!(
        entries
            .iter()
            .all(|e| e["actor"] == "door@unisi.example.org"),
        "{audit}"
    );
    journey.shutdown().await;
}
