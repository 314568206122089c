//! Pages from the minijinja templates in `templates/` (compiled in; HTML-escaped). Templates call `t("key", n=…)`
//! for every text: one template environment per language, each with `t` reading that language's catalog, so macros
//! imported from `macros.html` speak the page's language too.

use std::collections::HashMap;
use std::sync::Arc;

use minijinja::value::Kwargs;
use minijinja::{Environment, Value};

use crate::Error;
use crate::i18n::{Catalog, Locale};

macro_rules! templates {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../templates/", $name)))),*]
    };
}

/// Every template, by the name pages use.
const TEMPLATES: &[(&str, &str)] = templates![
    "base.html",
    "macros.html",
    "error.html",
    "events.html",
    "event.html",
    "register.html",
    "confirmation.html",
    "manage.html",
    "erase.html",
    "erased.html",
    "organiser/login.html",
    "organiser/dashboard.html",
    "organiser/new_event.html",
    "organiser/event.html",
    "organiser/registrations.html",
    "organiser/messages.html",
    "organiser/check_in.html",
    "organiser/item.html",
    "organiser/history.html",
    "organiser/admin/nav.html",
    "organiser/admin/accounts.html",
    "organiser/admin/teams.html",
    "organiser/admin/team.html",
    "organiser/admin/audit.html",
    "organiser/no_role.html",
    "organiser/form.html",
];

pub struct Renderer {
    envs: HashMap<Locale, Environment<'static>>,
}

impl std::fmt::Debug for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renderer").finish_non_exhaustive()
    }
}

fn environment(catalog: Arc<Catalog>, locale: Locale) -> Result<Environment<'static>, Error> {
    let mut env = Environment::new();
    for (name, source) in TEMPLATES {
        env.add_template(name, source)?;
    }
    env.add_function(
        "t",
        move |key: &str, kwargs: Kwargs| -> Result<String, minijinja::Error> {
            let mut args = Vec::new();
            for name in kwargs.args() {
                let value: Value = kwargs.get(name)?;
                let text = value
                    .as_str()
                    .map_or_else(|| value.to_string(), str::to_owned);
                args.push((name, text));
            }
            Ok(catalog.format(locale, key, &args))
        },
    );
    // One line of an error summary: the label, the language's colon, the message.
    env.add_function("summary_line", move |label: &str, message: &str| {
        crate::i18n::label_and_message(locale, label, message)
    });
    // The space between a label and what follows it: none in Chinese, whose full-width marks carry their own.
    env.add_function("gap", move || match locale {
        Locale::En => " ",
        Locale::ZhCn => "",
    });
    // A list of names: `A, B` in English, `A、B` in Chinese.
    env.add_function("names", move |items: Vec<String>| match locale {
        Locale::En => items.join(", "),
        Locale::ZhCn => items.join("、"),
    });
    // Parts of an address or a place: `A, B` in English, `A，B` in Chinese; empty parts left out.
    env.add_function("parts", move |items: Vec<Value>| {
        let texts: Vec<String> = items
            .iter()
            .filter(|v| v.is_true())
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            .collect();
        match locale {
            Locale::En => texts.join(", "),
            Locale::ZhCn => texts.join("，"),
        }
    });
    // A label and its value: `City: Berlin`, in Chinese `城市：Berlin`.
    env.add_function("labelled", move |label: &str, value: Value| {
        let value = value
            .as_str()
            .map_or_else(|| value.to_string(), str::to_owned);
        match locale {
            Locale::En => format!("{label}: {value}"),
            Locale::ZhCn => format!("{label}：{value}"),
        }
    });
    // Something in brackets after a text: ` (…)` in English, `（…）` in Chinese.
    env.add_function("bracketed", move |value: Value| {
        let value = value
            .as_str()
            .map_or_else(|| value.to_string(), str::to_owned);
        match locale {
            Locale::En => format!(" ({value})"),
            Locale::ZhCn => format!("（{value}）"),
        }
    });
    // Every template must compile now, not on a visitor's request.
    for (name, _) in TEMPLATES {
        env.get_template(name)?;
    }
    Ok(env)
}

impl Renderer {
    pub fn new(catalog: Arc<Catalog>) -> Result<Self, Error> {
        let mut envs = HashMap::new();
        for locale in Locale::ALL {
            envs.insert(locale, environment(catalog.clone(), locale)?);
        }
        Ok(Self { envs })
    }

    pub fn render(&self, locale: Locale, name: &str, context: Value) -> Result<String, Error> {
        let env = self
            .envs
            .get(&locale)
            .ok_or_else(|| Error::Template(format!("no templates for {}", locale.code())))?;
        Ok(env.get_template(name)?.render(context)?)
    }
}
