//! `cloverleaf seed --demo` and `cloverleaf serve --demo`: a Sino-EU PerMed programme to explore Cloverleaf with.
//!
//! The programme — a science and technology webinar, a stakeholder workshop in Siena and a Clover Leaf delegation
//! tour Berlin → Guangzhou → Nanjing, each with its agenda, registration form and a few registrations — is data:
//! `demo/programme.toml`, embedded in the binary and read into typed structs ([`programme`]) that become the JSON
//! bodies an organiser would send. [`load`] sends them through the public
//! HTTP API of a running system (the edge), logged in as a demo organiser whose account it creates the way
//! `cloverleaf accounts create` does. Dates are counted from today, so the demo never lies in the past.
//!
//! Loading is idempotent: when the three events exist already, nothing is sent and [`Outcome::AlreadyLoaded`] says so.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::time::Duration;

use chrono::{Days, NaiveDate, NaiveTime, Timelike as _, Utc};
use cloverleaf_service_kit::Settings;
use cloverleaf_service_kit::retry::{RetryPolicy, Verdict};
use rand::Rng;
use rand::distributions::Alphanumeric;
use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};
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

/// The programme as data: events, agendas, forms and registrations, with dates counted from today (see the file's
/// head for its format). Embedded, so the binary needs no file beside it.
const PROGRAMME: &str = include_str!("../demo/programme.toml");

/// One demo event: what is sent to create it, its agenda, its form and who registers — the JSON bodies the loader
/// sends, made from [`PROGRAMME`] with its dates and placeholders worked out.
pub struct DemoEvent {
    /// `POST /v1/events`, without `organiser` (the loader adds the demo organiser).
    pub event: Value,
    /// `POST /v1/people`, by a key that items name in `speakers` and `host` instead of an id.
    pub people: Vec<(String, Value)>,
    /// `POST /v1/events/{id}/items`.
    pub items: Vec<Value>,
    /// `PUT /v1/forms/{id}`.
    pub form: Value,
    /// `POST /v1/registrations`, without `event_id`.
    pub registrations: Vec<Applicant>,
    /// The partner whose event it is: a team the loader creates (the demo organiser organises for each).
    pub team: DemoTeam,
}

/// A demo team, in English and Chinese.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoTeam {
    pub name: String,
    pub name_zh: String,
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

/// The programme file. Every struct below refuses fields it does not know, so a misspelt key in the file fails the
/// tests instead of being dropped silently.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProgrammeFile {
    event: Vec<EventEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventEntry {
    /// How many days after today the event's first day is.
    first_day: u64,
    team: DemoTeam,
    details: EventDetails,
    #[serde(default)]
    people: Vec<PersonEntry>,
    items: Vec<ItemEntry>,
    form: FormEntry,
    registrations: Vec<RegistrationEntry>,
}

/// A wall-clock time `day` days after its event's first day, `time` as `HH:MM`; sent as `2027-05-15T09:30`, which
/// scheduling reads in the item's (or event's) own zone. It can be sent once it is dated ([`WallTime::date`]).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WallTime {
    day: u64,
    time: String,
    #[serde(skip)]
    first_day: Option<NaiveDate>,
}

impl WallTime {
    fn date(&mut self, first_day: NaiveDate) -> Result<(), String> {
        NaiveTime::parse_from_str(&self.time, "%H:%M")
            .map_err(|e| format!("the time {:?} is not HH:MM: {e}", self.time))?;
        self.first_day = Some(first_day);
        Ok(())
    }

    fn day(&self) -> Option<NaiveDate> {
        self.first_day.map(|first| after(first, self.day))
    }

    /// Hour and minute (checked by [`WallTime::date`]).
    fn hour_minute(&self) -> Option<(u32, u32)> {
        let time = NaiveTime::parse_from_str(&self.time, "%H:%M").ok()?;
        Some((time.hour(), time.minute()))
    }
}

impl Serialize for WallTime {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.day() {
            Some(day) => serializer.serialize_str(&at(day, &self.time)),
            None => Err(serde::ser::Error::custom(
                "a demo time was sent before it was dated",
            )),
        }
    }
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct EventDetails {
    kind: String,
    slug: String,
    title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    title_zh: Option<String>,
    timezone: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    end_timezone: Option<String>,
    starts_at: WallTime,
    ends_at: WallTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    summary_zh: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description_zh: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    online_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    venue: Option<VenueEntry>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct VenueEntry {
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    country: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct PersonEntry {
    /// What items call this person in `speakers` and `host`; not sent.
    #[serde(skip_serializing)]
    key: String,
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    affiliation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    email: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct ItemEntry {
    kind: String,
    title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    title_zh: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    timezone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    end_timezone: Option<String>,
    starts_at: WallTime,
    ends_at: WallTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    location: Option<String>,
    /// A person's key (replaced by their id when sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    host: Option<String>,
    /// People's keys (replaced by their ids when sent).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    speakers: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    transfer: Option<TransferEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hotel: Option<HotelEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    visit: Option<VisitEntry>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct TransferEntry {
    from: String,
    to: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    carrier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    number: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct HotelEntry {
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    city: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct VisitEntry {
    institution: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    contact: Option<ContactEntry>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct ContactEntry {
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    email: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct FormEntry {
    capacity: u32,
    waitlist: bool,
    approval: String,
    questions: Vec<QuestionEntry>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct QuestionEntry {
    id: String,
    label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    label_zh: Option<String>,
    #[serde(rename = "type")]
    kind: String,
    required: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    options: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    options_zh: Vec<String>,
    /// The answer is shown to the check-in staff at the door.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    show_at_check_in: bool,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct RegistrationEntry {
    /// Whether the organiser approves it after it is made; not sent.
    #[serde(default, skip_serializing)]
    approve: bool,
    email: String,
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    affiliation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    locale: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    timezone: Option<String>,
    #[serde(default)]
    answers: BTreeMap<String, Answer>,
}

/// An answer to a form question: yes/no, or a text (a choice, a country code, free text).
#[derive(Debug, Deserialize, Serialize)]
#[serde(untagged)]
enum Answer {
    YesNo(bool),
    Text(String),
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

/// The placeholders a text of [`PROGRAMME`] may hold, for an event in Brussels starting at `starts_at`.
fn fill_in(text: &mut Option<String>, timezone: &str, starts_at: &WallTime) -> Result<(), String> {
    let Some(text) = text else { return Ok(()) };
    if text.contains("{beijing_time_") {
        if timezone != "Europe/Brussels" {
            return Err(format!(
                "{{beijing_time_…}} is for an event in Europe/Brussels, not {timezone}"
            ));
        }
        let (Some(day), Some((hour, minute))) = (starts_at.day(), starts_at.hour_minute()) else {
            return Err("{beijing_time_…} before the start was dated".to_owned());
        };
        let in_beijing = beijing_time(day, hour, minute);
        *text = text
            .replace("{beijing_time_en}", &in_beijing.english)
            .replace("{beijing_time_zh}", &in_beijing.chinese);
    }
    if let Some(start) = text.find('{') {
        let placeholder: String = text[start..].chars().take_while(|c| *c != '}').collect();
        return Err(format!("unknown placeholder {placeholder}}}"));
    }
    Ok(())
}

/// The whole programme, its dates counted from `today`, read from [`PROGRAMME`].
pub fn programme(today: NaiveDate) -> Result<Vec<DemoEvent>, DemoError> {
    let step = "read the demo programme (demo/programme.toml)";
    let file: ProgrammeFile = toml::from_str(PROGRAMME).map_err(|e| failed(step, e.to_string()))?;
    file.event
        .into_iter()
        .map(|entry| {
            let slug = entry.details.slug.clone();
            dated(entry, today).map_err(|problem| failed(step, format!("{slug}: {problem}")))
        })
        .collect()
}

/// One event of the file as the bodies to send: its times dated from `today`, its placeholders filled in.
fn dated(mut entry: EventEntry, today: NaiveDate) -> Result<DemoEvent, String> {
    let first = after(today, entry.first_day);
    let details = &mut entry.details;
    details.starts_at.date(first)?;
    details.ends_at.date(first)?;
    fill_in(
        &mut details.description,
        &details.timezone,
        &details.starts_at,
    )?;
    fill_in(
        &mut details.description_zh,
        &details.timezone,
        &details.starts_at,
    )?;
    for item in &mut entry.items {
        item.starts_at.date(first)?;
        item.ends_at.date(first)?;
    }
    let json = |what: &str, value: Result<Value, serde_json::Error>| {
        value.map_err(|e| format!("{what}: {e}"))
    };
    Ok(DemoEvent {
        event: json("the event", serde_json::to_value(&entry.details))?,
        people: entry
            .people
            .iter()
            .map(|person| {
                Ok((
                    person.key.clone(),
                    json(&person.key, serde_json::to_value(person))?,
                ))
            })
            .collect::<Result<_, String>>()?,
        items: entry
            .items
            .iter()
            .map(|item| json(&item.title, serde_json::to_value(item)))
            .collect::<Result<_, String>>()?,
        form: json("the form", serde_json::to_value(&entry.form))?,
        registrations: entry
            .registrations
            .iter()
            .map(|registration| {
                Ok(Applicant {
                    body: json(&registration.email, serde_json::to_value(registration))?,
                    approve: registration.approve,
                })
            })
            .collect::<Result<_, String>>()?,
        team: entry.team,
    })
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
                     {{\"email\": ..., \"password\": ...}}.\n\
                     Each event belongs to its partner's team, and this organiser organises for all three. Accounts \
                     and teams are an admin's: create one with `cloverleaf accounts create --role admin`, then \
                     {base}/organiser/admin."
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
    let programme = programme(Utc::now().date_naive())?;
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
    let organiser = create_organiser(settings, &password).await?;
    let teams = create_teams(settings, organiser, &programme).await?;
    // Logged in after joining the teams, so the token carries them.
    api.log_in(ORGANISER_EMAIL, &password).await?;

    let mut events = Vec::new();
    let mut expected = Vec::new();
    for event in &programme {
        let team = teams
            .iter()
            .find(|(t, _)| *t == event.team)
            .map(|(_, id)| *id);
        let loaded = api.load_event(event, team).await?;
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
async fn create_organiser(settings: &Settings, password: &str) -> Result<uuid::Uuid, DemoError> {
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
        Ok(account) => Ok(account.id),
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

/// The programme's partners as teams, each with the demo organiser as an organiser, written to registration's
/// database the way an admin's `POST /v1/teams` and `PUT /v1/teams/{id}/members/{account}` would (the demo has no
/// admin account to call them with).
async fn create_teams(
    settings: &Settings,
    organiser: uuid::Uuid,
    programme: &[DemoEvent],
) -> Result<Vec<(DemoTeam, uuid::Uuid)>, DemoError> {
    use cloverleaf_registration::store::teams::{NewTeam, create_team, set_member};
    use cloverleaf_service_kit::db;

    let step = "create the demo teams";
    let conn = db::connect(
        &settings.database_url(cloverleaf_service_kit::config::ServiceName::Registration),
        1,
    )
    .await
    .map_err(|e| failed(step, e.to_string()))?;
    let mut teams: Vec<(DemoTeam, uuid::Uuid)> = Vec::new();
    for event in programme {
        if teams.iter().any(|(t, _)| *t == event.team) {
            continue;
        }
        let made = create_team(
            &conn,
            NewTeam {
                name: event.team.name.clone(),
                name_zh: Some(event.team.name_zh.clone()),
            },
        )
        .await;
        let team = match made {
            Ok(team) => team,
            Err(error) => {
                let _ = conn.close().await;
                return Err(failed(step, error.to_string()));
            }
        };
        if let Err(error) = set_member(
            &conn,
            team.id,
            organiser,
            cloverleaf_auth::TeamRole::Organiser,
            "cloverleaf demo",
        )
        .await
        {
            let _ = conn.close().await;
            return Err(failed(step, error.to_string()));
        }
        teams.push((event.team.clone(), team.id));
    }
    let _ = conn.close().await;
    Ok(teams)
}

/// A request refused with 429 (rate limit) or, when repeating it is safe, 503 is tried five times in all, after
/// the pause its Retry-After asks for (else 1 s, doubling), never longer than 30 s.
const REFUSED_AGAIN: RetryPolicy =
    RetryPolicy::new(5, Duration::from_secs(1), Duration::from_secs(30));

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
        let safe_to_repeat = method == Method::GET || idempotency_key.is_some();
        let judge =
            |outcome: &Result<(StatusCode, Option<Duration>, String), DemoError>| match outcome {
                Ok((status, asked, _))
                    if *status == StatusCode::TOO_MANY_REQUESTS
                        || (*status == StatusCode::SERVICE_UNAVAILABLE && safe_to_repeat) =>
                {
                    tracing::info!(%status, path, ?asked, "demo: trying again after a pause");
                    asked.map_or(Verdict::Retry, Verdict::RetryAfter)
                }
                _ => Verdict::Done,
            };
        let attempt = |_| async {
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
            let asked = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let text = response
                .text()
                .await
                .map_err(|e| failed(step, format!("{method} {path}: reading the answer: {e}")))?;
            Ok((status, asked, text))
        };
        let (status, _, text) = REFUSED_AGAIN.run(attempt, judge).await?;
        Ok((status, text))
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
    async fn load_event(
        &self,
        demo: &DemoEvent,
        team: Option<uuid::Uuid>,
    ) -> Result<LoadedEvent, DemoError> {
        let slug = demo.slug();
        let mut body = demo.event.clone();
        body["organiser"] = json!({ "name": ORGANISER_NAME, "email": ORGANISER_EMAIL });
        body["team_id"] = json!(team);
        let step = format!("create the event {slug}");
        let created = self.post(&step, "/v1/events", &body).await?;
        let id = text_field(&step, &created, "id")?;

        let mut people = HashMap::new();
        for (key, person) in &demo.people {
            let step = format!("add the person {key} for {slug}");
            let created = self.post(&step, "/v1/people", person).await?;
            people.insert(
                key.as_str(),
                Value::String(text_field(&step, &created, "id")?),
            );
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
        let webinar = programme(day("2026-12-01")).expect("programme").remove(0);
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
    fn the_file_declares_the_three_events_by_their_slugs() {
        let today = Utc::now().date_naive();
        let slugs: Vec<String> = programme(today)
            .expect("programme")
            .iter()
            .map(|e| e.slug().to_owned())
            .collect();
        assert_eq!(slugs, [WEBINAR_SLUG, WORKSHOP_SLUG, TOUR_SLUG]);
    }

    #[test]
    fn times_are_dated_from_the_events_first_day() {
        let day = |s: &str| s.parse::<NaiveDate>().expect("date");
        let programme = programme(day("2026-12-01")).expect("programme");
        let tour = &programme[2];
        assert_eq!(tour.event["starts_at"], "2027-03-01T09:00");
        assert_eq!(tour.event["ends_at"], "2027-03-06T12:00");
        assert_eq!(tour.items[1]["ends_at"], "2027-03-02T12:30");
        // Keys the loader uses but does not send stay out of the bodies.
        assert!(programme[1].registrations[0].approve);
        assert!(programme[1].registrations[0].body.get("approve").is_none());
        assert!(programme[0].people[0].1.get("key").is_none());
    }

    #[test]
    fn placeholders_are_filled_in_or_refused() {
        let mut start: WallTime = toml::from_str("day = 0\ntime = \"20:30\"").expect("time");
        start
            .date("2027-01-10".parse().expect("date"))
            .expect("dated");
        let mut text = Some("At {beijing_time_en}".to_owned());
        fill_in(&mut text, "Europe/Brussels", &start).expect("filled in");
        assert_eq!(
            text.as_deref(),
            Some("At 20:30 in Brussels (UTC+1) is 03:30 the next day in Beijing (UTC+8).")
        );
        let mut elsewhere = Some("{beijing_time_zh}".to_owned());
        assert!(fill_in(&mut elsewhere, "Europe/Rome", &start).is_err());
        let mut unknown = Some("see {beijing_tme_en}".to_owned());
        let error = fill_in(&mut unknown, "Europe/Brussels", &start).expect_err("unknown");
        assert!(error.contains("{beijing_tme_en}"), "{error}");
        let mut wrong: WallTime = toml::from_str("day = 0\ntime = \"9h30\"").expect("time");
        assert!(wrong.date("2027-01-10".parse().expect("date")).is_err());
    }

    #[test]
    fn a_misspelt_key_in_the_file_is_an_error() {
        let misspelt = PROGRAMME.replacen("first_day = 30", "first_dya = 30", 1);
        assert!(toml::from_str::<ProgrammeFile>(&misspelt).is_err());
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
        let programme = programme(today).expect("programme");
        assert_eq!(programme.len(), 3);
        for event in &programme {
            let starts = event.event["starts_at"].as_str().expect("start");
            assert!(starts > today.to_string().as_str(), "{starts}");
            let people: HashMap<&str, Value> = event
                .people
                .iter()
                .map(|(k, _)| (k.as_str(), Value::String(format!("id-{k}"))))
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
