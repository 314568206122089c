//! The portal's rules, free of I/O: what the services answer ([`model`]), how pages show the contracts' event and
//! agenda item ([`view`]), times in zones and languages ([`time`]),
//! agendas by day and city ([`agenda`]), country names in each language from CLDR ([`countries`]), registration forms built from their questions with errors beside their
//! fields ([`forms`]), the registration form editor's drafts ([`form_editor`]), add-to-calendar links ([`calendar`]),
//! logging in with an institution's account ([`login_flow`]: PKCE, the sealed attempt), and an event's own reminders
//! as durations ([`reminders`]).

pub mod agenda;
pub mod calendar;
pub mod countries;
pub mod form_editor;
pub mod forms;
pub mod login_flow;
pub mod model;
pub mod reminders;
pub mod time;
pub mod view;
