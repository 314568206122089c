//! Rendering every kind: what the text and HTML say, escaping, paragraphs, durations.

use super::*;

#[test]
fn templates_are_shareable() {
    fn check<T: Send + Sync>() {}
    check::<Templates>();
}

#[test]
fn every_built_in_is_listed_once_and_every_kind_has_one() {
    let names = BUILT_IN
        .iter()
        .map(|(name, _)| *name)
        .collect::<BTreeSet<_>>();
    assert_eq!(names.len(), BUILT_IN.len());
    assert_eq!(names.len(), LOCALES.len() * (LetterKind::ALL.len() + 2));
    for locale in LOCALES {
        for kind in LetterKind::ALL {
            assert!(
                names.contains(template_name(locale, &format!("{}.txt", kind.as_str())).as_str())
            );
        }
    }
}

#[test]
fn every_kind_renders_in_both_locales() {
    let templates = templates();
    let changes = start_change();
    for event in [webinar(), workshop()] {
        for locale in LOCALES {
            let recipient = recipient(locale, Some(chrono_tz::Asia::Shanghai));
            for kind in LetterKind::ALL {
                let ctx = context(kind, &event, &recipient, &changes);
                let letter = templates
                    .render(&ctx)
                    .unwrap_or_else(|err| panic!("{kind:?} {locale:?}: {err}"));
                let what = format!("{kind:?} {locale:?}\n{}\n{}", letter.text, letter.html);
                assert!(!letter.subject.is_empty(), "{what}");
                assert!(!letter.subject.contains('\n'), "{what}");
                assert!(letter.subject.contains(&event.title), "{what}");
                for part in [&letter.text, &letter.html] {
                    assert!(part.contains(&recipient.name), "{what}");
                    assert!(part.contains(&event.title), "{what}");
                    assert!(
                        part.contains("https://events.example.org/r/tok3n"),
                        "{what}"
                    );
                    assert!(part.contains(&event.organiser_email), "{what}");
                    assert!(!part.contains("none"), "{what}");
                }
                assert!(letter.html.starts_with("<!DOCTYPE html>"), "{what}");
                assert!(
                    letter
                        .html
                        .contains(&format!("<html lang=\"{}\">", locale.code()))
                );
                assert!(
                    letter
                        .html
                        .contains("href=\"https://events.example.org/r/tok3n\""),
                    "{what}"
                );
                assert!(letter.text.ends_with('\n') && !letter.text.ends_with("\n\n"));
                assert!(!letter.text.contains("\n\n\n"), "{what}");
            }
        }
    }
}

#[test]
fn every_kind_renders_without_optional_values() {
    let templates = templates();
    let mut event = webinar();
    event.online_url = None;
    event.page_url = None;
    event.feed_url = None;
    for locale in LOCALES {
        let recipient = recipient(locale, None);
        for kind in LetterKind::ALL {
            let ctx = LetterContext {
                kind,
                event: &event,
                recipient: &recipient,
                manage_url: None,
                check_in: false,
                waitlist_position: None,
                changes: None,
                reminder_minutes: None,
                calendar: None,
            };
            let letter = templates
                .render(&ctx)
                .unwrap_or_else(|err| panic!("{kind:?} {locale:?}: {err}"));
            assert!(!letter.subject.is_empty());
            assert!(letter.text.contains(&event.title));
            assert!(
                !letter.html.contains("<a href=\"https://"),
                "{}",
                letter.html
            );
        }
    }
}

#[test]
fn english_confirmation_reads_as_a_whole() {
    let event = webinar();
    let recipient = recipient(Locale::En, None);
    let changes = ChangeSet::default();
    let letter = templates()
        .render(&context(
            LetterKind::Confirmed,
            &event,
            &recipient,
            &changes,
        ))
        .unwrap();
    assert_eq!(
        letter.subject,
        "Confirmed: Data sharing in personalised medicine"
    );
    assert_eq!(
        letter.text,
        "Dear Ada Lovelace,\n\
         \n\
         Your registration for Data sharing in personalised medicine is confirmed. We look forward to seeing you online.\n\
         \n\
         You will find the details below.\n\
         \n\
         A calendar invitation is attached, so you can add the event to your calendar.\n\
         \n\
         Event: Data sharing in personalised medicine\n\
         When: Saturday 15 May 2027, 09:00–10:30 UTC+2 (Europe/Berlin)\n\
         Online: https://meet.example.org/j/42\n\
         Event page: https://events.example.org/e/data-sharing\n\
         Subscribe to the agenda in your calendar app: https://events.example.org/e/data-sharing/agenda.ics\n\
         \n\
         Manage or cancel your registration: https://events.example.org/r/tok3n\n\
         \n\
         Kind regards,\n\
         Cloverleaf Research Network\n\
         \n\
         Questions? Contact the organisers at events@cloverleaf.example.org.\n\
         This email was sent to ada@example.org.\n"
    );
}

#[test]
fn chinese_confirmation_reads_as_a_whole() {
    let event = webinar();
    let recipient = recipient(Locale::ZhCn, Some(chrono_tz::Asia::Shanghai));
    let changes = ChangeSet::default();
    let letter = templates()
        .render(&context(
            LetterKind::Confirmed,
            &event,
            &recipient,
            &changes,
        ))
        .unwrap();
    assert_eq!(
        letter.subject,
        "报名成功：Data sharing in personalised medicine"
    );
    assert_eq!(
        letter.text,
        "张伟，您好：\n\
         \n\
         您已成功报名“Data sharing in personalised medicine”，期待与您在线上相见。\n\
         \n\
         活动详情请见下文。\n\
         \n\
         邮件附有日历邀请，您可以将活动添加到自己的日历中。\n\
         \n\
         活动：Data sharing in personalised medicine\n\
         时间：2027年5月15日（周六）09:00–10:30 UTC+2（Europe/Berlin）\n\
         您所在时区的时间：2027年5月15日（周六）15:00–16:30 UTC+8（Asia/Shanghai）\n\
         在线参会链接：https://meet.example.org/j/42\n\
         活动页面：https://events.example.org/e/data-sharing\n\
         在日历应用中订阅活动日程：https://events.example.org/e/data-sharing/agenda.ics\n\
         \n\
         查看、修改或取消报名：https://events.example.org/r/tok3n\n\
         \n\
         祝好！\n\
         Cloverleaf Research Network\n\
         \n\
         如有疑问，请发送邮件至 events@cloverleaf.example.org 联系主办方。\n\
         本邮件发送至 zhang.wei@example.cn。\n"
    );
}

#[test]
fn a_beijing_participant_sees_their_own_time() {
    // 09:00 in Berlin in winter (CET, UTC+1) is 16:00 in Beijing.
    let mut event = webinar();
    event.starts_at = utc(2027, 1, 14, 8, 0);
    event.ends_at = utc(2027, 1, 14, 9, 0);
    let templates = templates();
    let changes = ChangeSet::default();
    for (locale, local) in [
        (
            Locale::En,
            "In your time zone: Thursday 14 January 2027, 16:00–17:00 UTC+8 (Asia/Shanghai)",
        ),
        (
            Locale::ZhCn,
            "您所在时区的时间：2027年1月14日（周四）16:00–17:00 UTC+8（Asia/Shanghai）",
        ),
    ] {
        let recipient = recipient(locale, Some(chrono_tz::Asia::Shanghai));
        let letter = templates
            .render(&context(
                LetterKind::Confirmed,
                &event,
                &recipient,
                &changes,
            ))
            .unwrap();
        assert!(letter.text.contains(local), "{}", letter.text);
        assert!(letter.text.contains("09:00–10:00"), "{}", letter.text);
        assert!(letter.html.contains("16:00–17:00"), "{}", letter.html);
    }
}

#[test]
fn local_time_is_left_out_when_the_offset_is_the_same() {
    let event = webinar();
    let templates = templates();
    let changes = ChangeSet::default();
    for own in [
        None,
        Some(chrono_tz::Europe::Paris),
        Some(chrono_tz::Europe::Berlin),
    ] {
        let recipient = recipient(Locale::En, own);
        let letter = templates
            .render(&context(
                LetterKind::Confirmed,
                &event,
                &recipient,
                &changes,
            ))
            .unwrap();
        assert!(
            !letter.text.contains("In your time zone"),
            "{}",
            letter.text
        );
        assert!(
            !letter.html.contains("In your time zone"),
            "{}",
            letter.html
        );
    }
    // London is an hour behind Berlin.
    let recipient = recipient(Locale::En, Some(chrono_tz::Europe::London));
    let letter = templates
        .render(&context(
            LetterKind::Confirmed,
            &event,
            &recipient,
            &changes,
        ))
        .unwrap();
    assert!(
        letter
            .text
            .contains("In your time zone: Saturday 15 May 2027, 08:00–09:30 UTC+1 (Europe/London)")
    );
}

#[test]
fn a_workshop_across_days_shows_the_whole_span() {
    let event = workshop();
    let changes = ChangeSet::default();
    let templates = templates();
    let en = templates
        .render(&context(
            LetterKind::EventCancelled,
            &event,
            &recipient(Locale::En, None),
            &changes,
        ))
        .unwrap();
    assert!(en.text.contains(
        "When: Wednesday 12 May 2027, 09:00 – Friday 14 May 2027, 17:00 UTC+2 (Europe/Berlin)"
    ));
    assert!(
        en.text
            .contains("The organisers gave this reason: The venue is closed for urgent repairs.")
    );
    assert!(en.text.contains("removes the event from your calendar"));
    assert!(en.text.contains(
        "Where: DKFZ Communication Centre, Im Neuenheimer Feld 280, Heidelberg, Germany"
    ));
    let zh = templates
        .render(&context(
            LetterKind::EventCancelled,
            &event,
            &recipient(Locale::ZhCn, None),
            &changes,
        ))
        .unwrap();
    assert!(zh.text.contains(
        "时间：2027年5月12日（周三）09:00 至 2027年5月14日（周五）17:00 UTC+2（Europe/Berlin）"
    ));
    assert!(
        zh.text
            .contains("取消原因：The venue is closed for urgent repairs.")
    );
    assert_eq!(zh.subject, "活动取消：Biobank governance workshop");
}

#[test]
fn subjects_are_specific() {
    let templates = templates();
    let event = webinar();
    let changes = start_change();
    let subject = |kind: LetterKind, locale: Locale, minutes: Option<i64>| {
        let recipient = recipient(locale, None);
        let mut ctx = context(kind, &event, &recipient, &changes);
        ctx.reminder_minutes = minutes;
        templates.render(&ctx).unwrap().subject
    };
    let title = "Data sharing in personalised medicine";
    assert_eq!(
        subject(LetterKind::Waitlisted, Locale::En, None),
        format!("Waiting list (3): {title}")
    );
    assert_eq!(
        subject(LetterKind::Waitlisted, Locale::ZhCn, None),
        format!("候补名单第3位：{title}")
    );
    assert_eq!(
        subject(LetterKind::EventUpdated, Locale::En, None),
        format!("Updated: {title}")
    );
    assert_eq!(
        subject(LetterKind::EventUpdated, Locale::ZhCn, None),
        format!("活动变更：{title}")
    );
    assert_eq!(
        subject(LetterKind::EventCancelled, Locale::En, None),
        format!("Cancelled: {title}")
    );
    assert_eq!(
        subject(LetterKind::EventCancelled, Locale::ZhCn, None),
        format!("活动取消：{title}")
    );
    assert_eq!(
        subject(LetterKind::Reminder, Locale::En, Some(15)),
        format!("Reminder: {title} starts in 15 minutes")
    );
    assert_eq!(
        subject(LetterKind::Reminder, Locale::ZhCn, Some(15)),
        format!("提醒：“{title}”将于15分钟后开始")
    );
    assert_eq!(
        subject(LetterKind::Reminder, Locale::En, Some(1440)),
        format!("Reminder: {title} starts in 24 hours")
    );
    assert_eq!(
        subject(LetterKind::Reminder, Locale::ZhCn, Some(10080)),
        format!("提醒：“{title}”将于7天后开始")
    );
    assert_eq!(
        subject(LetterKind::Reminder, Locale::En, None),
        format!("Reminder: {title} starts soon")
    );
}

#[test]
fn webinar_reminders_carry_the_join_link() {
    let templates = templates();
    let event = webinar();
    let changes = ChangeSet::default();
    let en_recipient = recipient(Locale::En, None);
    let mut ctx = context(LetterKind::Reminder, &event, &en_recipient, &changes);
    ctx.reminder_minutes = Some(2880);
    let en = templates.render(&ctx).unwrap();
    assert!(en.text.contains(
        "This is a reminder that Data sharing in personalised medicine starts in 2 days: Saturday 15 May 2027, 09:00–10:30 UTC+2 (Europe/Berlin).\n\nJoin online: https://meet.example.org/j/42\n"
    ), "{}", en.text);
    let zh_recipient = recipient(Locale::ZhCn, None);
    let zh = templates
        .render(&context(
            LetterKind::Reminder,
            &event,
            &zh_recipient,
            &changes,
        ))
        .unwrap();
    assert!(
        zh.text.contains(
            "将于24小时后开始，时间为2027年5月15日（周六）09:00–10:30 UTC+2（Europe/Berlin）。"
        ),
        "{}",
        zh.text
    );
    assert!(
        zh.text
            .contains("在线参会链接：https://meet.example.org/j/42")
    );
}

#[test]
fn every_body_has_separate_paragraphs() {
    let templates = templates();
    let event = webinar();
    let changes = start_change();
    for locale in LOCALES {
        let recipient = recipient(locale, None);
        for kind in LetterKind::ALL {
            let letter = templates
                .render(&context(kind, &event, &recipient, &changes))
                .unwrap();
            let paragraphs = letter
                .html
                .matches("<p style=\"margin:0 0 16px;\">")
                .count();
            // Greeting, at least one body paragraph, and the manage link.
            assert!(paragraphs >= 3, "{kind:?} {locale:?}: {}", letter.html);
            assert!(
                !letter.html.contains("<br>") || letter.html.matches("<br>").count() == 2,
                "{kind:?} {locale:?}: only the footer breaks lines: {}",
                letter.html
            );
        }
    }
    let recipient = recipient(Locale::En, None);
    let letter = templates
        .render(&context(
            LetterKind::ManageLink,
            &event,
            &recipient,
            &changes,
        ))
        .unwrap();
    assert!(
        letter
            .text
            .contains("with the link below.\n\nIf this wasn't you"),
        "{}",
        letter.text
    );
}

#[test]
fn durations() {
    let en = |m| duration(m, Locale::En).unwrap();
    let zh = |m| duration(m, Locale::ZhCn).unwrap();
    assert_eq!(en(1), "1 minute");
    assert_eq!(en(15), "15 minutes");
    assert_eq!(en(60), "1 hour");
    assert_eq!(en(90), "1 hour 30 minutes");
    assert_eq!(en(1440), "24 hours");
    assert_eq!(en(2160), "36 hours");
    assert_eq!(en(2880), "2 days");
    assert_eq!(en(10080), "7 days");
    assert_eq!(zh(15), "15分钟");
    assert_eq!(zh(90), "1小时30分钟");
    assert_eq!(zh(1440), "24小时");
    assert_eq!(zh(2880), "2天");
    assert_eq!(duration(0, Locale::En), None);
    assert_eq!(duration(-5, Locale::ZhCn), None);
}

#[test]
fn html_is_escaped_and_text_is_not() {
    let mut event = webinar();
    event.title = "Tom & Jerry's <b>show</b>".to_owned();
    let mut recipient = recipient(Locale::En, None);
    recipient.name = "<script>alert(1)</script> & \"x\"".to_owned();
    let changes = ChangeSet::default();
    let templates = templates();
    for locale in LOCALES {
        recipient.locale = locale;
        let letter = templates
            .render(&context(
                LetterKind::Confirmed,
                &event,
                &recipient,
                &changes,
            ))
            .unwrap();
        assert!(letter.text.contains("<script>alert(1)</script> & \"x\""));
        assert!(letter.text.contains("Tom & Jerry's <b>show</b>"));
        assert!(letter.subject.contains("Tom & Jerry's <b>show</b>"));
        assert!(!letter.html.contains("<script>"), "{}", letter.html);
        assert!(!letter.html.contains("<b>show"), "{}", letter.html);
        assert!(
            letter
                .html
                .contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;"),
            "{}",
            letter.html
        );
        assert!(
            letter
                .html
                .contains("Tom &amp; Jerry&#39;s &lt;b&gt;show&lt;/b&gt;")
        );
    }
}

#[test]
fn html_has_the_details_table_change_list_and_links() {
    let event = webinar();
    let recipient = recipient(Locale::En, None);
    let changes = start_change();
    let letter = templates()
        .render(&context(
            LetterKind::EventUpdated,
            &event,
            &recipient,
            &changes,
        ))
        .unwrap();
    let html = &letter.html;
    assert!(html.contains("<table"));
    assert!(html.contains("<th scope=\"row\""));
    assert!(html.contains(
        "<li style=\"margin:0 0 4px;\">Start: Saturday 15 May 2027, 09:30 UTC+2 → 10:30 UTC+2</li>"
    ), "{html}");
    assert!(html.contains("<li style=\"margin:0 0 4px;\">Online link changed</li>"));
    for url in [
        "https://meet.example.org/j/42",
        "https://events.example.org/e/data-sharing",
        "https://events.example.org/e/data-sharing/agenda.ics",
        "https://events.example.org/r/tok3n",
    ] {
        assert!(
            html.contains(&format!("<a href=\"{url}\"")),
            "{url}\n{html}"
        );
    }
    assert!(html.contains("href=\"mailto:events@cloverleaf.example.org\""));
    assert!(!html.contains("http://"), "no external resources: {html}");
    assert!(!html.contains("<img") && !html.contains("<link") && !html.contains("<script"));
    assert!(letter.text.contains(
        "Here is what is different:\n\n- Start: Saturday 15 May 2027, 09:30 UTC+2 → 10:30 UTC+2\n- Online link changed\n"
    ), "{}", letter.text);
    assert!(
        letter
            .text
            .contains("An updated calendar entry is attached")
    );
}

#[test]
fn body_lines_within_a_paragraph_become_line_breaks() {
    assert_eq!(
        paragraphs("\n  \nOne\ntwo  \n\n\n\nThree\n"),
        vec!["One\ntwo".to_owned(), "Three".to_owned()]
    );
    assert_eq!(tidy("\n\nA  \n\n\n\nB\n\n"), "A\n\nB\n");
    assert_eq!(one_line("  Hello\n  world \t!"), "Hello world !");
}
