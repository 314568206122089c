//! `cloverleaf seed --demo` and `cloverleaf serve --demo`: a Sino-EU PerMed programme to explore Cloverleaf with.
//!
//! The programme — a science and technology webinar, a stakeholder workshop in Siena and a Clover Leaf delegation
//! tour Berlin → Guangzhou → Nanjing, each with its agenda, registration form and a few registrations — is declared
//! below, one function per event, as the JSON bodies an organiser would send. [`load`] sends them through the public
//! HTTP API of a running system (the edge), logged in as a demo organiser whose account it creates the way
//! `cloverleaf accounts create` does. Dates are counted from today, so the demo never lies in the past.
//!
//! Loading is idempotent: when the three events exist already, nothing is sent and [`Outcome::AlreadyLoaded`] says so.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::Duration;

use chrono::{Days, NaiveDate, Utc};
use cloverleaf_service_kit::Settings;
use rand::Rng;
use rand::distributions::Alphanumeric;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::accounts::{AccountError, store_account};

/// The demo organiser's account; also the ORGANIZER of the demo events' invites.
pub const ORGANISER_EMAIL: &str = "demo.organiser@example.org";
pub const ORGANISER_NAME: &str = "Sino-EU PerMed Office (demo)";

pub const WEBINAR_SLUG: &str = "sino-eu-permed-science-technology-webinar";
pub const WORKSHOP_SLUG: &str = "sino-eu-permed-stakeholder-workshop-siena";
pub const TOUR_SLUG: &str = "clover-leaf-tour-berlin-guangzhou-nanjing";

/// Length of the generated organiser password (letters and digits: about 95 bits).
const PASSWORD_CHARS: usize = 16;

// ---------------------------------------------------------------------------------------------------------------
// The programme
// ---------------------------------------------------------------------------------------------------------------

/// One demo event: what is sent to create it, its agenda, its form and who registers.
pub struct DemoEvent {
    /// `POST /v1/events`, without `organiser` (the loader adds the demo organiser).
    pub event: Value,
    /// `POST /v1/people`, by a key that items name in `speakers` and `host` instead of an id.
    pub people: Vec<(&'static str, Value)>,
    /// `POST /v1/events/{id}/items`.
    pub items: Vec<Value>,
    /// `PUT /v1/forms/{id}`.
    pub form: Value,
    /// `POST /v1/registrations`, without `event_id`.
    pub registrations: Vec<Applicant>,
}

impl DemoEvent {
    pub fn slug(&self) -> &str {
        self.event["slug"].as_str().unwrap_or_default()
    }
}

/// A registration, and whether the organiser approves it (events with manual approval).
pub struct Applicant {
    pub body: Value,
    pub approve: bool,
}

fn applicant(body: Value) -> Applicant {
    Applicant {
        body,
        approve: false,
    }
}

fn approved(body: Value) -> Applicant {
    Applicant {
        body,
        approve: true,
    }
}

/// A wall-clock time on `day`, read by scheduling in the item's (or event's) own zone: `2027-05-15T09:30`.
fn at(day: NaiveDate, time: &str) -> String {
    format!("{day}T{time}")
}

/// "10:00 in Brussels is 17:00 in Beijing", in English and Chinese.
struct BeijingTime {
    english: String,
    chinese: String,
}

/// What `hour:minute` in Brussels on `day` is in Beijing, with both UTC offsets, worked out for that day (Brussels
/// is UTC+1 in winter and UTC+2 in summer; Beijing UTC+8 all year): "10:00 in Brussels (UTC+1) is 17:00 in Beijing
/// (UTC+8)." Empty texts for a time the clocks skip in Brussels.
fn beijing_time(day: NaiveDate, hour: u32, minute: u32) -> BeijingTime {
    use chrono::{Offset as _, TimeZone as _};
    let offset = |seconds: i32| match (seconds / 3600, seconds % 3600 / 60) {
        (hours, 0) => format!("UTC{hours:+}"),
        (hours, minutes) => format!("UTC{hours:+}:{:02}", minutes.abs()),
    };
    let Some(brussels) = day.and_hms_opt(hour, minute, 0).and_then(|local| {
        chrono_tz::Europe::Brussels
            .from_local_datetime(&local)
            .earliest()
    }) else {
        return BeijingTime {
            english: String::new(),
            chinese: String::new(),
        };
    };
    let beijing = brussels.with_timezone(&chrono_tz::Asia::Shanghai);
    let (from, to) = (
        offset(brussels.offset().fix().local_minus_utc()),
        offset(beijing.offset().fix().local_minus_utc()),
    );
    let (here, there) = (brussels.format("%H:%M"), beijing.format("%H:%M"));
    let next_day = if beijing.date_naive() > brussels.date_naive() {
        (" the next day", "次日")
    } else {
        ("", "")
    };
    BeijingTime {
        english: format!(
            "{here} in Brussels ({from}) is {there}{} in Beijing ({to}).",
            next_day.0
        ),
        chinese: format!(
            "布鲁塞尔时间{here}（{from}）即北京时间{}{there}（{to}）。",
            next_day.1
        ),
    }
}

/// `days` after `today`.
fn after(today: NaiveDate, days: u64) -> NaiveDate {
    today + Days::new(days)
}

/// The whole programme, its dates counted from `today`.
pub fn programme(today: NaiveDate) -> Vec<DemoEvent> {
    vec![webinar(today), workshop(today), tour(today)]
}

/// An online webinar in a month: two talks and a panel, confirmed automatically.
fn webinar(today: NaiveDate) -> DemoEvent {
    let day = after(today, 30);
    let in_beijing = beijing_time(day, 10, 0);
    DemoEvent {
        event: json!({
            "kind": "webinar",
            "slug": WEBINAR_SLUG,
            "title": "Sino-EU PerMed Science and Technology Webinar: Pharmacogenomics from Cohorts to the Clinic",
            "title_zh": "中欧个性化医学科技网络研讨会：药物基因组学从队列研究走向临床",
            "timezone": "Europe/Brussels",
            "starts_at": at(day, "10:00"),
            "ends_at": at(day, "12:00"),
            "summary": "How large cohorts in China and Europe turn pharmacogenomics into everyday clinical practice.",
            "summary_zh": "中国和欧洲的大型队列研究如何让药物基因组学走进日常临床实践。",
            "description": format!("Two short talks and a panel on pharmacogenomics research in China and Europe, \
                the data and infrastructures behind it, and how researchers can build joint consortia. {}",
                in_beijing.english),
            "description_zh": format!("两场简短报告和一场圆桌讨论，介绍中国和欧洲的药物基因组学研究、\
                其背后的数据与基础设施，以及研究人员如何组建联合研究团队。{}", in_beijing.chinese),
            "online_url": "https://meet.example.org/sino-eu-permed/science-technology-webinar",
        }),
        people: vec![
            (
                "wang-lei",
                json!({
                    "name": "Wang Lei 王磊",
                    "affiliation": "Peking University Health Science Center",
                    "email": "wang.lei@example.org",
                }),
            ),
            (
                "de-vries",
                json!({
                    "name": "Anneke de Vries",
                    "affiliation": "Erasmus MC, Rotterdam",
                    "email": "anneke.devries@example.org",
                }),
            ),
        ],
        items: vec![
            json!({
                "kind": "talk",
                "title": "Pharmacogenomics in China: from national cohorts to clinical practice", "title_zh": "中国的药物基因组学：从国家队列到临床实践",
                "starts_at": at(day, "10:00"),
                "ends_at": at(day, "10:45"),
                "speakers": ["wang-lei"],
            }),
            json!({
                "kind": "talk",
                "title": "Personalised medicine in Europe: what the partnership funds and how to join", "title_zh": "欧洲的个性化医学：合作伙伴计划资助哪些研究，如何加入",
                "starts_at": at(day, "10:45"),
                "ends_at": at(day, "11:20"),
                "speakers": ["de-vries"],
            }),
            json!({
                "kind": "panel",
                "title": "Panel: building Sino-European research consortia", "title_zh": "圆桌讨论：组建中欧联合研究团队",
                "starts_at": at(day, "11:20"),
                "ends_at": at(day, "12:00"),
                "speakers": ["wang-lei", "de-vries"],
            }),
        ],
        form: json!({
            "capacity": 250,
            "waitlist": true,
            "approval": "automatic",
            "questions": [{
                "id": "topic",
                "label": "Which topic interests you most?", "label_zh": "您最感兴趣的主题是？",
                "type": "single_choice",
                "required": true,
                "options": ["Pharmacogenomics", "Health data sharing and ethics", "AI in diagnostics",
                    "Funding and partnerships"],
                "options_zh": ["药物基因组学", "健康数据共享与伦理", "人工智能辅助诊断", "资助与合作"],
            }],
        }),
        registrations: vec![
            applicant(json!({
                "email": "zhang.wei@example.org", "name": "张伟", "affiliation": "Fudan University",
                "country": "CN", "locale": "zh-CN", "timezone": "Asia/Shanghai",
                "answers": {"topic": "Pharmacogenomics"},
            })),
            applicant(json!({
                "email": "sophie.laurent@example.org", "name": "Sophie Laurent",
                "affiliation": "KU Leuven", "country": "BE", "locale": "en", "timezone": "Europe/Brussels",
                "answers": {"topic": "Health data sharing and ethics"},
            })),
            applicant(json!({
                "email": "liu.yang@example.org", "name": "刘洋",
                "affiliation": "Sun Yat-sen University", "country": "CN", "locale": "zh-CN",
                "timezone": "Asia/Shanghai", "answers": {"topic": "AI in diagnostics"},
            })),
            applicant(json!({
                "email": "marco.bianchi@example.org", "name": "Marco Bianchi",
                "affiliation": "Università di Siena", "country": "IT", "locale": "en", "timezone": "Europe/Rome",
                "answers": {"topic": "Funding and partnerships"},
            })),
            applicant(json!({
                "email": "emma.schmidt@example.org", "name": "Emma Schmidt",
                "affiliation": "Charité – Universitätsmedizin Berlin", "country": "DE", "locale": "en",
                "timezone": "Europe/Berlin", "answers": {"topic": "Pharmacogenomics"},
            })),
        ],
    }
}

/// A two-day stakeholder workshop in Siena in two months: sessions, a panel, breaks and meals; organisers select
/// the participants.
fn workshop(today: NaiveDate) -> DemoEvent {
    let first = after(today, 60);
    let second = after(today, 61);
    DemoEvent {
        event: json!({
            "kind": "workshop",
            "slug": WORKSHOP_SLUG,
            "title": "Sino-EU PerMed Stakeholder Workshop: Sharing Health Data for Personalised Medicine",
            "title_zh": "中欧个性化医学利益相关方研讨会：为个性化医学共享健康数据",
            "timezone": "Europe/Rome",
            "starts_at": at(first, "09:00"),
            "ends_at": at(second, "14:00"),
            "summary": "Researchers, funders, clinicians and patient groups from Europe and China agree on how to \
                share health data for joint research.",
            "description": "Two days in Siena on the legal, technical and ethical sides of sharing health data \
                between Europe and China: GDPR and PIPL, biobanks and cohorts, AI in clinical decision support, \
                and priorities for the next joint call. Seats are limited; the organisers select participants.",
            "summary_zh": "来自欧洲和中国的研究人员、资助机构、临床医生和患者组织共同商定如何为联合研究共享健康数据。",
            "description_zh": "在锡耶纳举行的为期两天的研讨会，探讨欧洲与中国之间共享健康数据的法律、技术和伦理问题：\
                《通用数据保护条例》（GDPR）与《个人信息保护法》（PIPL），生物样本库与队列研究，人工智能辅助临床决策，\
                以及下一轮联合征集的优先方向。名额有限，参会者由主办方遴选。",
            "venue": {
                "name": "Università di Siena, Palazzo del Rettorato",
                "address": "Banchi di Sotto 55",
                "city": "Siena",
                "country": "IT",
            },
        }),
        people: vec![
            (
                "moretti",
                json!({
                    "name": "Giulia Moretti",
                    "affiliation": "Università di Siena",
                    "email": "giulia.moretti@example.org",
                }),
            ),
            (
                "zhou-min",
                json!({
                    "name": "Zhou Min 周敏",
                    "affiliation": "Nanjing Medical University",
                    "email": "zhou.min@example.org",
                }),
            ),
            (
                "li-xiaoyan",
                json!({
                    "name": "Li Xiaoyan 李晓燕",
                    "affiliation": "Sun Yat-sen University",
                    "email": "li.xiaoyan@example.org",
                }),
            ),
        ],
        items: vec![
            json!({
                "kind": "session", "title": "Welcome and opening", "title_zh": "欢迎致辞与开幕",
                "starts_at": at(first, "09:00"), "ends_at": at(first, "09:30"),
                "location": "Aula Magna", "host": "moretti",
            }),
            json!({
                "kind": "session", "title": "Session 1: Sharing data across borders — GDPR and PIPL", "title_zh": "第一场：跨境数据共享——GDPR与PIPL",
                "starts_at": at(first, "09:30"), "ends_at": at(first, "11:00"),
                "location": "Aula Magna", "speakers": ["moretti", "zhou-min"],
            }),
            json!({
                "kind": "break", "title": "Coffee break", "title_zh": "茶歇",
                "starts_at": at(first, "11:00"), "ends_at": at(first, "11:30"),
                "location": "Cortile del Rettorato",
            }),
            json!({
                "kind": "panel", "title": "Panel: aligning European and Chinese funding for personalised medicine", "title_zh": "圆桌讨论：协调欧洲与中国的个性化医学资助",
                "starts_at": at(first, "11:30"), "ends_at": at(first, "13:00"),
                "location": "Aula Magna", "speakers": ["zhou-min", "li-xiaoyan"],
            }),
            json!({
                "kind": "meal", "title": "Lunch", "title_zh": "午餐",
                "starts_at": at(first, "13:00"), "ends_at": at(first, "14:00"),
                "location": "Sala delle Lupe",
            }),
            json!({
                "kind": "session", "title": "Session 2: Biobanks and cohorts", "title_zh": "第二场：生物样本库与队列研究",
                "starts_at": at(first, "14:00"), "ends_at": at(first, "16:00"),
                "location": "Aula Magna", "speakers": ["li-xiaoyan"],
            }),
            json!({
                "kind": "meal", "title": "Workshop dinner", "title_zh": "研讨会晚宴",
                "starts_at": at(first, "19:30"), "ends_at": at(first, "22:00"),
                "location": "Piazza del Campo, Siena",
            }),
            json!({
                "kind": "session", "title": "Session 3: AI in clinical decision support", "title_zh": "第三场：人工智能辅助临床决策",
                "starts_at": at(second, "09:00"), "ends_at": at(second, "10:30"),
                "location": "Aula Magna", "speakers": ["zhou-min"],
            }),
            json!({
                "kind": "break", "title": "Coffee break", "title_zh": "茶歇",
                "starts_at": at(second, "10:30"), "ends_at": at(second, "11:00"),
                "location": "Cortile del Rettorato",
            }),
            json!({
                "kind": "session", "title": "Breakout groups: priorities for the next joint call", "title_zh": "分组讨论：下一轮联合征集的优先方向",
                "starts_at": at(second, "11:00"), "ends_at": at(second, "12:30"),
                "location": "Seminar rooms, first floor",
            }),
            json!({
                "kind": "session", "title": "Conclusions and next steps", "title_zh": "总结与下一步工作",
                "starts_at": at(second, "12:30"), "ends_at": at(second, "13:00"),
                "location": "Aula Magna", "host": "moretti",
            }),
            json!({
                "kind": "meal", "title": "Farewell lunch", "title_zh": "告别午餐",
                "starts_at": at(second, "13:00"), "ends_at": at(second, "14:00"),
                "location": "Sala delle Lupe",
            }),
        ],
        form: json!({
            "capacity": 40,
            "waitlist": true,
            "approval": "manual",
            "questions": [
                {
                    "id": "dietary", "label": "Dietary needs", "type": "single_choice", "required": true,
                    "options": ["none", "vegetarian", "vegan", "halal", "other"], "label_zh": "饮食需求",
                    "options_zh": ["无", "素食", "纯素", "清真", "其他"],
                },
                {
                    "id": "visa_letter", "label": "Do you need an invitation letter for a Schengen visa?",
                    "label_zh": "您是否需要申根签证邀请函？",
                    "type": "yes_no", "required": true,
                },
                {"id": "country", "label": "Country of residence", "label_zh": "居住国家/地区", "type": "country",
                    "required": true},
            ],
        }),
        registrations: vec![
            approved(json!({
                "email": "chen.xiaoming@example.org", "name": "陈晓明",
                "affiliation": "Guangzhou Institutes of Biomedicine and Health", "country": "CN",
                "locale": "zh-CN", "timezone": "Asia/Shanghai",
                "answers": {"dietary": "halal", "visa_letter": true, "country": "CN"},
            })),
            approved(json!({
                "email": "giulia.romano@example.org", "name": "Giulia Romano",
                "affiliation": "Fondazione Toscana Life Sciences", "country": "IT", "locale": "en",
                "timezone": "Europe/Rome",
                "answers": {"dietary": "none", "visa_letter": false, "country": "IT"},
            })),
            applicant(json!({
                "email": "wang.fang@example.org", "name": "王芳", "affiliation": "Nanjing University",
                "country": "CN", "locale": "zh-CN", "timezone": "Asia/Shanghai",
                "answers": {"dietary": "vegetarian", "visa_letter": true, "country": "CN"},
            })),
            applicant(json!({
                "email": "lars.nielsen@example.org", "name": "Lars Nielsen",
                "affiliation": "University of Copenhagen", "country": "DK", "locale": "en",
                "timezone": "Europe/Copenhagen",
                "answers": {"dietary": "vegan", "visa_letter": false, "country": "DK"},
            })),
        ],
    }
}

/// A six-day Clover Leaf delegation tour in three months: a briefing in Berlin, a flight to Guangzhou, visits to
/// host institutions there, the high-speed train to Nanjing and visits there. Each item in its own zone; the
/// itinerary has no conflicts (every visit after the transfer into its city, no transfer during a visit).
fn tour(today: NaiveDate) -> DemoEvent {
    let day = |n: u64| after(today, 90 + n);
    DemoEvent {
        event: json!({
            "kind": "tour",
            "slug": TOUR_SLUG,
            "title": "Clover Leaf Delegation Tour: Berlin – Guangzhou – Nanjing",
            "title_zh": "Clover Leaf代表团考察：柏林—广州—南京",
            "timezone": "Europe/Berlin",
            // It starts in Berlin and ends in Nanjing: its end is read and shown in Nanjing's zone.
            "end_timezone": "Asia/Shanghai",
            "starts_at": at(day(0), "09:00"),
            "ends_at": at(day(5), "12:00"),
            "summary": "A European delegation visits personalised-medicine research centres in Guangzhou and Nanjing.",
            "summary_zh": "欧洲代表团走访广州和南京的个性化医学研究中心。",
            "description": "Six days, two cities, four host institutions: after a briefing in Berlin the delegation \
                flies to Guangzhou (Sun Yat-sen University, Guangzhou Institutes of Biomedicine and Health), takes \
                the high-speed train to Nanjing (Nanjing University, Nanjing Medical University) and closes with a \
                debrief on joint projects. Up to 20 participants, selected by the organisers.",
            "description_zh": "六天，两座城市，四家接待机构：代表团在柏林参加行前说明会后飞往广州（中山大学、\
                中国科学院广州生物医药与健康研究院），再乘高铁前往南京（南京大学、南京医科大学），最后就联合项目进行总结交流。\
                最多20名参与者，由主办方遴选。",
        }),
        people: vec![],
        items: vec![
            json!({
                "kind": "session", "title": "Delegation briefing: programme, travel and etiquette", "title_zh": "代表团行前说明会：日程、差旅与礼仪",
                "timezone": "Europe/Berlin",
                "starts_at": at(day(0), "10:00"), "ends_at": at(day(0), "12:30"),
                "location": "Berlin Institute of Health at Charité, Anna-Louisa-Karsch-Straße 2, Berlin",
            }),
            json!({
                "kind": "transfer", "title": "Flight Berlin → Guangzhou", "title_zh": "航班：柏林→广州",
                // Leaves at 18:00 Berlin time, lands the next day at 12:30 Guangzhou time: each end in its zone.
                "timezone": "Europe/Berlin", "end_timezone": "Asia/Shanghai",
                "starts_at": at(day(0), "18:00"), "ends_at": at(day(1), "12:30"),
                "location": "Berlin Brandenburg Airport (BER)",
                "transfer": {"from": "Berlin", "to": "Guangzhou", "carrier": "China Southern Airlines",
                    "number": "CZ 346"},
            }),
            json!({
                "kind": "hotel", "title": "Hotel in Guangzhou", "title_zh": "广州住宿",
                "timezone": "Asia/Shanghai",
                "starts_at": at(day(1), "14:00"), "ends_at": at(day(3), "08:00"),
                "hotel": {"name": "The Garden Hotel Guangzhou",
                    "address": "368 Huanshi East Road, Yuexiu District", "city": "Guangzhou"},
            }),
            json!({
                "kind": "visit", "title": "Visit: Sun Yat-sen University, Zhongshan School of Medicine", "title_zh": "参访：中山大学中山医学院",
                "timezone": "Asia/Shanghai",
                "starts_at": at(day(2), "09:30"), "ends_at": at(day(2), "12:00"),
                "visit": {
                    "institution": "Sun Yat-sen University, Zhongshan School of Medicine",
                    "address": "74 Zhongshan 2nd Road, Yuexiu District", "city": "Guangzhou",
                    "contact": {"name": "Chen Jing 陈静", "email": "international.sysu@example.org"},
                },
            }),
            json!({
                "kind": "visit", "title": "Visit: Guangzhou Institutes of Biomedicine and Health", "title_zh": "参访：中国科学院广州生物医药与健康研究院",
                "timezone": "Asia/Shanghai",
                "starts_at": at(day(2), "14:30"), "ends_at": at(day(2), "17:00"),
                "visit": {
                    "institution": "Guangzhou Institutes of Biomedicine and Health, Chinese Academy of Sciences",
                    "address": "190 Kaiyuan Avenue, Huangpu District", "city": "Guangzhou",
                    "contact": {"name": "Huang Tao 黄涛", "email": "foreign.affairs.gibh@example.org"},
                },
            }),
            json!({
                "kind": "meal", "title": "Welcome dinner with the Guangzhou hosts", "title_zh": "广州接待方欢迎晚宴",
                "timezone": "Asia/Shanghai",
                "starts_at": at(day(2), "19:00"), "ends_at": at(day(2), "21:00"),
                "location": "Yuexiu District, Guangzhou",
            }),
            json!({
                "kind": "transfer", "title": "High-speed train Guangzhou South → Nanjing South",
                "title_zh": "高铁：广州南站→南京南站",
                "timezone": "Asia/Shanghai", "end_timezone": "Asia/Shanghai",
                "starts_at": at(day(3), "09:00"), "ends_at": at(day(3), "15:40"),
                "location": "Guangzhou South Railway Station",
                "transfer": {"from": "Guangzhou", "to": "Nanjing", "carrier": "China Railway", "number": "G1102"},
            }),
            json!({
                "kind": "hotel", "title": "Hotel in Nanjing", "title_zh": "南京住宿",
                "timezone": "Asia/Shanghai",
                "starts_at": at(day(3), "17:00"), "ends_at": at(day(5), "08:00"),
                "hotel": {"name": "Jinling Hotel", "address": "2 Hanzhong Road, Gulou District", "city": "Nanjing"},
            }),
            json!({
                "kind": "visit", "title": "Visit: Nanjing University Medical School", "title_zh": "参访：南京大学医学院",
                "timezone": "Asia/Shanghai",
                "starts_at": at(day(4), "09:30"), "ends_at": at(day(4), "12:00"),
                "visit": {
                    "institution": "Nanjing University Medical School",
                    "address": "22 Hankou Road, Gulou District", "city": "Nanjing",
                    "contact": {"name": "Xu Hui 徐慧", "email": "international.nju@example.org"},
                },
            }),
            json!({
                "kind": "visit", "title": "Visit: Nanjing Medical University", "title_zh": "参访：南京医科大学",
                "timezone": "Asia/Shanghai",
                "starts_at": at(day(4), "14:00"), "ends_at": at(day(4), "17:00"),
                "visit": {
                    "institution": "Nanjing Medical University",
                    "address": "101 Longmian Avenue, Jiangning District", "city": "Nanjing",
                    "contact": {"name": "Sun Li 孙莉", "email": "international.njmu@example.org"},
                },
            }),
            json!({
                "kind": "session", "title": "Closing debrief: joint projects and next steps", "title_zh": "总结交流：联合项目与下一步工作",
                "timezone": "Asia/Shanghai",
                "starts_at": at(day(5), "09:00"), "ends_at": at(day(5), "11:00"),
                "location": "Jinling Hotel, Nanjing",
            }),
        ],
        form: json!({
            "capacity": 20,
            "waitlist": false,
            "approval": "manual",
            "questions": [
                {"id": "passport_country", "label": "Passport country", "label_zh": "护照签发国家/地区",
                    "type": "country", "required": true},
                {
                    "id": "visa_letter", "label": "Do you need an invitation letter for a Chinese visa?",
                    "label_zh": "您是否需要中国签证邀请函？",
                    "type": "yes_no", "required": true,
                },
                {
                    "id": "dietary", "label": "Dietary needs", "type": "single_choice", "required": true,
                    "options": ["none", "vegetarian", "vegan", "halal", "other"], "label_zh": "饮食需求",
                    "options_zh": ["无", "素食", "纯素", "清真", "其他"],
                },
                {"id": "accessibility", "label": "Accessibility needs", "label_zh": "无障碍需求", "type": "text",
                    "required": false},
            ],
        }),
        registrations: vec![
            applicant(json!({
                "email": "katrin.weber@example.org", "name": "Katrin Weber",
                "affiliation": "Berlin Institute of Health at Charité", "country": "DE", "locale": "en",
                "timezone": "Europe/Berlin",
                "answers": {"passport_country": "DE", "visa_letter": true, "dietary": "vegetarian"},
            })),
            applicant(json!({
                "email": "aoife.byrne@example.org", "name": "Aoife Byrne",
                "affiliation": "University College Dublin", "country": "IE", "locale": "en",
                "timezone": "Europe/Dublin",
                "answers": {"passport_country": "IE", "visa_letter": true, "dietary": "none",
                    "accessibility": "step-free access where possible"},
            })),
            applicant(json!({
                "email": "zhao.min@example.org", "name": "赵敏",
                "affiliation": "University of Copenhagen", "country": "DK", "locale": "zh-CN",
                "timezone": "Europe/Copenhagen",
                "answers": {"passport_country": "CN", "visa_letter": false, "dietary": "none"},
            })),
        ],
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Loading it
// ---------------------------------------------------------------------------------------------------------------

/// A step of loading that failed, and why (for an HTTP answer: its status and problem).
#[derive(Debug, thiserror::Error)]
#[error("demo: {step}: {problem}")]
pub struct DemoError {
    pub step: String,
    pub problem: String,
}

fn failed(step: &str, problem: impl Into<String>) -> DemoError {
    DemoError {
        step: step.to_owned(),
        problem: problem.into(),
    }
}

/// An event of the demo as it is loaded.
#[derive(Debug, Clone)]
pub struct LoadedEvent {
    pub id: String,
    pub kind: String,
    pub slug: String,
    pub title: String,
    pub starts_at: String,
    pub timezone: String,
}

impl LoadedEvent {
    fn from_view(view: &Value) -> Self {
        let text = |field: &str| view[field].as_str().unwrap_or_default().to_owned();
        Self {
            id: text("id"),
            kind: text("kind"),
            slug: text("slug"),
            title: text("title"),
            starts_at: text("starts_at"),
            timezone: text("timezone"),
        }
    }
}

/// What [`load`] did.
#[derive(Debug)]
pub enum Outcome {
    /// The programme was loaded, with a new organiser account.
    Loaded {
        email: String,
        password: String,
        events: Vec<LoadedEvent>,
        /// Whether every applicant's email was queued before [`load`] returned (when asked to wait for them).
        letters_queued: bool,
    },
    /// The programme was there already; nothing was sent.
    AlreadyLoaded {
        email: String,
        events: Vec<LoadedEvent>,
    },
}

impl Outcome {
    /// What to tell the person who ran the command; event links start with `base` (where people reach the edge).
    pub fn report(&self, base: &str) -> String {
        let base = base.trim_end_matches('/');
        let mut out = String::new();
        let events = match self {
            Self::Loaded { events, .. } => {
                out.push_str("Sino-EU PerMed demo loaded:\n");
                events
            }
            Self::AlreadyLoaded { events, .. } => {
                out.push_str("Sino-EU PerMed demo already loaded (nothing was added):\n");
                events
            }
        };
        for event in events {
            let date = event.starts_at.get(..10).unwrap_or(&event.starts_at);
            let _ = writeln!(
                out,
                "  {:<9}{date} ({})  {}\n           {base}/events/{}   (API {base}/v1/events/{}, calendar \
                 {base}/v1/events/{}/calendar.ics)",
                event.kind, event.timezone, event.title, event.slug, event.slug, event.slug
            );
        }
        match self {
            Self::Loaded {
                email,
                password,
                letters_queued,
                ..
            } => {
                if !letters_queued {
                    out.push_str(
                        "Some applicants' emails were not written yet: they go out when Cloverleaf runs next \
                         (`cloverleaf serve`).\n",
                    );
                }
                let _ = writeln!(
                    out,
                    "Organiser login (the password is shown only now; keep it):\n  email:    {email}\n  \
                     password: {password}\n\
                     Log in at {base}/organiser/login, or get a token with POST {base}/v1/auth/token \
                     {{\"email\": ..., \"password\": ...}}."
                );
            }
            Self::AlreadyLoaded { email, .. } => {
                let _ = writeln!(
                    out,
                    "Organiser login: email {email}; its password was shown when the demo was loaded and cannot be \
                     shown again.\n\
                     For a new login, create another organiser account:\n  \
                     printf '%s\\n' \"$PASSWORD\" | cloverleaf accounts create --email you@example.org --name \"Your \
                     Name\" --role organiser"
                );
            }
        }
        out
    }
}

/// A new random password for the demo organiser: letters and digits from the thread's CSPRNG.
pub fn new_password() -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(PASSWORD_CHARS)
        .map(char::from)
        .collect()
}

/// Whether [`load`] returns as soon as the programme is loaded, or waits (a while) until notifications has queued an
/// email to every applicant — for a system that stops right after, so that nothing is left half-done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Letters {
    DontWait,
    WaitUntilQueued,
}

/// How long [`Letters::WaitUntilQueued`] waits at most.
const LETTERS_WAIT: Duration = Duration::from_secs(30);

/// Loads the demo programme into the running system whose edge is at `edge_url` (and whose registration database
/// `settings` names, for the organiser's account) — unless it is there already.
pub async fn load(
    settings: &Settings,
    edge_url: &str,
    letters: Letters,
) -> Result<Outcome, DemoError> {
    let programme = programme(Utc::now().date_naive());
    let mut api = Api::new(edge_url)?;

    let mut found = Vec::new();
    for event in &programme {
        if let Some(view) = api.find_event(event.slug()).await? {
            found.push(LoadedEvent::from_view(&view));
        }
    }
    if found.len() == programme.len() {
        return Ok(Outcome::AlreadyLoaded {
            email: ORGANISER_EMAIL.to_owned(),
            events: found,
        });
    }
    if !found.is_empty() {
        let slugs: Vec<&str> = found.iter().map(|e| e.slug.as_str()).collect();
        return Err(failed(
            "look for an earlier demo",
            format!(
                "only part of the demo is there ({}): an earlier load stopped half-way; load the demo into an empty \
                 data directory (--data-dir) and databases",
                slugs.join(", ")
            ),
        ));
    }

    let password = new_password();
    create_organiser(settings, &password).await?;
    api.log_in(ORGANISER_EMAIL, &password).await?;

    let mut events = Vec::new();
    let mut expected = Vec::new();
    for event in &programme {
        let loaded = api.load_event(event).await?;
        expected.extend(expected_letters(event, &loaded.id));
        events.push(loaded);
    }
    let letters_queued = match letters {
        Letters::DontWait => true,
        Letters::WaitUntilQueued => api.await_letters(&expected).await?,
    };
    Ok(Outcome::Loaded {
        email: ORGANISER_EMAIL.to_owned(),
        password,
        events,
        letters_queued,
    })
}

/// The demo organiser's account, created through the same code path as `cloverleaf accounts create`.
async fn create_organiser(settings: &Settings, password: &str) -> Result<(), DemoError> {
    use cloverleaf_registration::domain::accounts::{AccountEmail, AccountRole, Password};
    use cloverleaf_registration::store::accounts::NewAccount;

    let step = "create the demo organiser's account";
    let new = NewAccount {
        email: AccountEmail::parse(ORGANISER_EMAIL).map_err(|e| failed(step, e.message))?,
        name: ORGANISER_NAME.to_owned(),
        role: AccountRole::Organiser,
        password: Password::parse(password).map_err(|e| failed(step, e.message))?,
    };
    match store_account(settings, new).await {
        Ok(_) => Ok(()),
        Err(AccountError::Taken(email)) => Err(failed(
            step,
            format!(
                "an account with the email address {email} exists already, but the demo events do not (did an \
                 earlier load stop half-way?); load the demo into an empty data directory (--data-dir) and databases"
            ),
        )),
        Err(other) => Err(failed(step, other.to_string())),
    }
}

/// How often a request refused with 429 (rate limit) or, when repeating it is safe, 503 is tried in all.
const ATTEMPTS: u32 = 5;
/// The longest pause between two tries, whatever Retry-After says.
const LONGEST_PAUSE: Duration = Duration::from_secs(30);

/// The public HTTP API behind the edge, as an organiser (once logged in) or the public.
struct Api {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl Api {
    fn new(edge_url: &str) -> Result<Self, DemoError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| failed("make an HTTP client", e.to_string()))?;
        Ok(Self {
            http,
            base: edge_url.trim_end_matches('/').to_owned(),
            token: None,
        })
    }

    /// Sends one request and gives its status and body. Retries what was refused before anything was written: 429
    /// always, 503 for reads and for requests with an Idempotency-Key.
    async fn exchange(
        &self,
        step: &str,
        method: Method,
        path: &str,
        body: Option<&Value>,
        idempotency_key: Option<&str>,
    ) -> Result<(StatusCode, String), DemoError> {
        let url = format!("{}{path}", self.base);
        let mut attempt = 1;
        loop {
            let mut request = self.http.request(method.clone(), &url);
            if let Some(token) = &self.token {
                request = request.bearer_auth(token);
            }
            if let Some(key) = idempotency_key {
                request = request.header("Idempotency-Key", key);
            }
            if let Some(body) = body {
                request = request.json(body);
            }
            let response = request
                .send()
                .await
                .map_err(|e| failed(step, format!("{method} {path}: {e}")))?;
            let status = response.status();
            let pause = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map_or(Duration::from_secs(1), Duration::from_secs)
                .min(LONGEST_PAUSE);
            let text = response
                .text()
                .await
                .map_err(|e| failed(step, format!("{method} {path}: reading the answer: {e}")))?;
            let safe_to_repeat = method == Method::GET || idempotency_key.is_some();
            let retry = status == StatusCode::TOO_MANY_REQUESTS
                || (status == StatusCode::SERVICE_UNAVAILABLE && safe_to_repeat);
            if retry && attempt < ATTEMPTS {
                tracing::info!(%status, path, ?pause, "demo: trying again after a pause");
                tokio::time::sleep(pause).await;
                attempt += 1;
                continue;
            }
            return Ok((status, text));
        }
    }

    /// A request that must succeed; its JSON answer (`null` for an empty one).
    async fn send(
        &self,
        step: &str,
        method: Method,
        path: &str,
        body: Option<&Value>,
        idempotency_key: Option<&str>,
    ) -> Result<Value, DemoError> {
        let (status, text) = self
            .exchange(step, method.clone(), path, body, idempotency_key)
            .await?;
        if !status.is_success() {
            return Err(failed(step, describe(&method, path, status, &text)));
        }
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text).map_err(|e| {
            failed(
                step,
                format!("{method} {path}: the answer is not JSON: {e}"),
            )
        })
    }

    async fn post(&self, step: &str, path: &str, body: &Value) -> Result<Value, DemoError> {
        self.send(step, Method::POST, path, Some(body), None).await
    }

    /// An event by its slug, if it exists (for the public: once published).
    async fn find_event(&self, slug: &str) -> Result<Option<Value>, DemoError> {
        let step = format!("look for the event {slug}");
        let path = format!("/v1/events/{slug}");
        let (status, text) = self.exchange(&step, Method::GET, &path, None, None).await?;
        match status {
            StatusCode::NOT_FOUND => Ok(None),
            ok if ok.is_success() => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| failed(&step, format!("the answer is not JSON: {e}"))),
            other => Err(failed(&step, describe(&Method::GET, &path, other, &text))),
        }
    }

    async fn log_in(&mut self, email: &str, password: &str) -> Result<(), DemoError> {
        let step = "log in as the demo organiser";
        let answer = self
            .post(
                step,
                "/v1/auth/token",
                &json!({ "email": email, "password": password }),
            )
            .await?;
        self.token = Some(text_field(step, &answer, "access_token")?);
        Ok(())
    }

    /// Waits until notifications has queued each `(event id, address, kind)` letter (`GET /v1/messages`), for at
    /// most [`LETTERS_WAIT`]; says whether they all were.
    async fn await_letters(
        &self,
        expected: &[(String, String, &'static str)],
    ) -> Result<bool, DemoError> {
        let step = "wait for the applicants' emails";
        let deadline = tokio::time::Instant::now() + LETTERS_WAIT;
        let mut events: Vec<&str> = expected.iter().map(|(id, _, _)| id.as_str()).collect();
        events.dedup();
        loop {
            let mut queued = Vec::new();
            for event in &events {
                let path = format!("/v1/messages?event_id={event}&limit=500");
                let page = self.send(step, Method::GET, &path, None, None).await?;
                for message in page["items"].as_array().into_iter().flatten() {
                    if let (Some(to), Some(kind)) =
                        (message["to"].as_str(), message["kind"].as_str())
                    {
                        queued.push((*event, to.to_lowercase(), kind.to_owned()));
                    }
                }
            }
            let all = expected.iter().all(|(event, email, kind)| {
                queued
                    .iter()
                    .any(|(e, to, k)| e == event && to == email && k == kind)
            });
            if all {
                return Ok(true);
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(false);
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Creates one event with its people and agenda, checks it has no conflicts, publishes it, opens its form and
    /// registers its applicants (approving the ones marked so).
    async fn load_event(&self, demo: &DemoEvent) -> Result<LoadedEvent, DemoError> {
        let slug = demo.slug();
        let mut body = demo.event.clone();
        body["organiser"] = json!({ "name": ORGANISER_NAME, "email": ORGANISER_EMAIL });
        let step = format!("create the event {slug}");
        let created = self.post(&step, "/v1/events", &body).await?;
        let id = text_field(&step, &created, "id")?;

        let mut people = HashMap::new();
        for (key, person) in &demo.people {
            let step = format!("add the person {key} for {slug}");
            let created = self.post(&step, "/v1/people", person).await?;
            people.insert(*key, Value::String(text_field(&step, &created, "id")?));
        }

        for item in &demo.items {
            let title = item["title"].as_str().unwrap_or_default();
            let step = format!("add “{title}” to {slug}");
            let item = with_people_ids(&step, item, &people)?;
            self.post(&step, &format!("/v1/events/{id}/items"), &item)
                .await?;
        }

        let step = format!("check {slug} for conflicts");
        let conflicts = self
            .send(
                &step,
                Method::GET,
                &format!("/v1/events/{id}/conflicts"),
                None,
                None,
            )
            .await?;
        if let Some(found) = conflicts["items"].as_array().filter(|c| !c.is_empty()) {
            let messages: Vec<&str> = found.iter().filter_map(|c| c["message"].as_str()).collect();
            return Err(failed(&step, messages.join("; ")));
        }

        // Published before its form is opened: registration then learns (and remembers) the event as published.
        let step = format!("publish {slug}");
        let published = self
            .send(
                &step,
                Method::POST,
                &format!("/v1/events/{id}/publish"),
                None,
                None,
            )
            .await?;

        let step = format!("open the registration form of {slug}");
        self.send(
            &step,
            Method::PUT,
            &format!("/v1/forms/{id}"),
            Some(&demo.form),
            None,
        )
        .await?;

        for applicant in &demo.registrations {
            let email = applicant.body["email"].as_str().unwrap_or_default();
            let step = format!("register {email} for {slug}");
            let mut body = applicant.body.clone();
            body["event_id"] = Value::String(id.clone());
            body["consent"] = Value::Bool(true);
            // A retry (after 429) gets the first answer, never a second registration.
            let key = format!("demo-{slug}-{email}");
            let registered = self
                .send(
                    &step,
                    Method::POST,
                    "/v1/registrations",
                    Some(&body),
                    Some(&key),
                )
                .await?;
            if applicant.approve {
                let registration = text_field(&step, &registered, "id")?;
                let step = format!("approve {email} for {slug}");
                self.send(
                    &step,
                    Method::POST,
                    &format!("/v1/registrations/{registration}/approve"),
                    None,
                    None,
                )
                .await?;
            }
        }
        // The answer is the event (its fields flattened) with `conflicts`.
        Ok(LoadedEvent::from_view(&published))
    }
}

/// The last email each applicant of `event` (whose id is `event_id`) gets from loading: (event id, address, kind).
fn expected_letters(event: &DemoEvent, event_id: &str) -> Vec<(String, String, &'static str)> {
    let manual = event.form["approval"] == "manual";
    event
        .registrations
        .iter()
        .map(|applicant| {
            let kind = if manual && !applicant.approve {
                "pending_approval"
            } else {
                "confirmed"
            };
            let email = applicant.body["email"].as_str().unwrap_or_default();
            (event_id.to_owned(), email.to_owned(), kind)
        })
        .collect()
}

/// `item` with the people keys in `speakers` and `host` replaced by the ids scheduling gave them.
fn with_people_ids(
    step: &str,
    item: &Value,
    people: &HashMap<&str, Value>,
) -> Result<Value, DemoError> {
    let id_of = |key: &Value| {
        key.as_str()
            .and_then(|k| people.get(k))
            .cloned()
            .ok_or_else(|| failed(step, format!("the demo names no person {key}")))
    };
    let mut item = item.clone();
    if let Some(speakers) = item["speakers"].as_array() {
        let ids = speakers.iter().map(id_of).collect::<Result<Vec<_>, _>>()?;
        item["speakers"] = Value::Array(ids);
    }
    if !item["host"].is_null() {
        let host = id_of(&item["host"])?;
        item["host"] = host;
    }
    Ok(item)
}

fn text_field(step: &str, answer: &Value, field: &str) -> Result<String, DemoError> {
    answer[field]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| failed(step, format!("the answer has no {field}: {answer}")))
}

/// A refused request as a line: method, path, status, and the problem's title, detail and invalid fields.
fn describe(method: &Method, path: &str, status: StatusCode, body: &str) -> String {
    let mut line = format!("{method} {path} answered {status}");
    match serde_json::from_str::<Value>(body) {
        Ok(problem) if problem.is_object() => {
            for part in ["title", "detail"] {
                if let Some(text) = problem[part].as_str() {
                    let _ = write!(line, ": {text}");
                }
            }
            for error in problem["errors"].as_array().into_iter().flatten() {
                let _ = write!(
                    line,
                    "; {} {}",
                    error["field"].as_str().unwrap_or("?"),
                    error["message"]
                        .as_str()
                        .or(error["code"].as_str())
                        .unwrap_or("is invalid")
                );
            }
        }
        _ if !body.trim().is_empty() => {
            let short: String = body.chars().take(500).collect();
            let _ = write!(line, ": {short}");
        }
        _ => {}
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_webinars_beijing_time_is_worked_out_for_its_day() {
        let day = |s: &str| s.parse::<NaiveDate>().expect("date");
        let winter = beijing_time(day("2026-12-31"), 10, 0);
        assert_eq!(
            winter.english,
            "10:00 in Brussels (UTC+1) is 17:00 in Beijing (UTC+8)."
        );
        assert_eq!(
            winter.chinese,
            "布鲁塞尔时间10:00（UTC+1）即北京时间17:00（UTC+8）。"
        );
        let summer = beijing_time(day("2027-06-15"), 10, 0);
        assert_eq!(
            summer.english,
            "10:00 in Brussels (UTC+2) is 16:00 in Beijing (UTC+8)."
        );
        let late = beijing_time(day("2027-01-10"), 20, 30);
        assert_eq!(
            late.english,
            "20:30 in Brussels (UTC+1) is 03:30 the next day in Beijing (UTC+8)."
        );
        assert_eq!(
            late.chinese,
            "布鲁塞尔时间20:30（UTC+1）即北京时间次日03:30（UTC+8）。"
        );
        let webinar = programme(day("2026-12-01")).remove(0);
        let description = webinar.event["description"].as_str().expect("description");
        assert!(
            description.ends_with("10:00 in Brussels (UTC+1) is 17:00 in Beijing (UTC+8)."),
            "{description}"
        );
        assert!(
            webinar.event["description_zh"]
                .as_str()
                .expect("zh")
                .contains("北京时间17:00")
        );
    }

    #[test]
    fn passwords_are_random_16_letters_and_digits() {
        let (a, b) = (new_password(), new_password());
        assert_eq!(a.chars().count(), 16);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }

    #[test]
    fn the_programme_lies_ahead_and_names_only_declared_people() {
        let today = Utc::now().date_naive();
        let programme = programme(today);
        assert_eq!(programme.len(), 3);
        for event in &programme {
            let starts = event.event["starts_at"].as_str().expect("start");
            assert!(starts > today.to_string().as_str(), "{starts}");
            let people: HashMap<&str, Value> = event
                .people
                .iter()
                .map(|(k, _)| (*k, Value::String(format!("id-{k}"))))
                .collect();
            for item in &event.items {
                with_people_ids("test", item, &people).expect("every key declared");
            }
        }
    }

    #[test]
    fn problems_are_described_with_their_fields() {
        let body = r#"{"type":"about:blank","title":"Invalid input","status":422,"detail":"check the fields",
            "errors":[{"field":"answers.topic","code":"required","message":"is required"}]}"#;
        let line = describe(
            &Method::POST,
            "/v1/registrations",
            StatusCode::UNPROCESSABLE_ENTITY,
            body,
        );
        assert_eq!(
            line,
            "POST /v1/registrations answered 422 Unprocessable Entity: Invalid input: check the fields; \
             answers.topic is required"
        );
    }
}
