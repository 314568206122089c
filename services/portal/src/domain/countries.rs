//! Country and territory names in the reader's language, from the CLDR data compiled into ICU4X (nothing is fetched
//! at build or run time), sorted the way that language sorts (CLDR collation: pinyin for Chinese). The values stay
//! ISO 3166-1 alpha-2 codes, the ones registration accepts.

use std::cmp::Ordering;
use std::collections::HashMap;

use icu_collator::Collator;
use icu_collator::options::CollatorOptions;
use icu_experimental::displaynames::DisplayNamesOptions;
use icu_experimental::displaynames::multi::RegionDisplayNames;
use icu_locale_core::Locale as IcuLocale;
use icu_locale_core::subtags::Region;

use crate::Error;
use crate::i18n::Locale;

/// One country as a list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Country {
    pub code: String,
    pub name: String,
}

/// Every country, by language: sorted lists and names by code.
#[derive(Debug)]
pub struct Countries {
    sorted: HashMap<Locale, Vec<Country>>,
    by_code: HashMap<Locale, HashMap<String, String>>,
}

fn icu_locale(locale: Locale) -> Result<IcuLocale, Error> {
    locale
        .code()
        .parse::<IcuLocale>()
        .map_err(|e| Error::Countries(format!("{}: {e}", locale.code())))
}

impl Countries {
    /// The names of every ISO 3166-1 country in each language the portal speaks.
    pub fn load() -> Result<Self, Error> {
        let mut sorted = HashMap::new();
        let mut by_code = HashMap::new();
        for locale in Locale::ALL {
            let icu = icu_locale(locale)?;
            let names = RegionDisplayNames::try_new((&icu).into(), DisplayNamesOptions::default())
                .map_err(|e| Error::Countries(format!("names for {}: {e}", locale.code())))?;
            let collator = Collator::try_new((&icu).into(), CollatorOptions::default())
                .map_err(|e| Error::Countries(format!("collation for {}: {e}", locale.code())))?;
            let mut list: Vec<Country> = isocountry::CountryCode::iter()
                .map(|c| {
                    let code = c.alpha2().to_owned();
                    let name = Region::try_from_str(&code)
                        .ok()
                        .and_then(|r| names.of(r))
                        .map_or_else(|| code.clone(), str::to_owned);
                    Country { code, name }
                })
                .collect();
            list.sort_by(|a, b| match collator.compare(&a.name, &b.name) {
                Ordering::Equal => a.code.cmp(&b.code),
                other => other,
            });
            by_code.insert(
                locale,
                list.iter()
                    .map(|c| (c.code.clone(), c.name.clone()))
                    .collect(),
            );
            sorted.insert(locale, list);
        }
        Ok(Self { sorted, by_code })
    }

    /// Every country in `locale`, in that language's order.
    pub fn list(&self, locale: Locale) -> &[Country] {
        self.sorted.get(&locale).map_or(&[], Vec::as_slice)
    }

    /// The name of `code` (any case) in `locale`, or `None` when it is no country.
    pub fn name(&self, locale: Locale, code: &str) -> Option<&str> {
        self.by_code
            .get(&locale)
            .and_then(|m| m.get(&code.trim().to_ascii_uppercase()))
            .map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_cldr_in_each_language_sorted_by_it() {
        let countries = Countries::load().expect("countries");
        assert_eq!(countries.name(Locale::En, "cn"), Some("China"));
        assert_eq!(countries.name(Locale::ZhCn, "CN"), Some("中国"));
        assert_eq!(countries.name(Locale::ZhCn, "DE"), Some("德国"));
        let taiwan = countries.name(Locale::ZhCn, "TW").expect("TW");
        assert!(taiwan.contains("台湾"), "{taiwan}");
        assert_ne!(
            countries.name(Locale::En, "TW"),
            Some("Taiwan, Province of China")
        );
        assert_eq!(countries.name(Locale::En, "XX"), None);
        let english: Vec<&str> = countries
            .list(Locale::En)
            .iter()
            .map(|c| c.code.as_str())
            .collect();
        assert!(english.len() > 240, "{}", english.len());
        let at = |code: &str, list: &[&str]| list.iter().position(|c| *c == code).expect(code);
        assert!(at("AF", &english) < at("DE", &english));
        assert!(at("DE", &english) < at("ZW", &english));
        // Pinyin order: 阿富汗 (Afuhan) before 德国 (Deguo) before 中国 (Zhongguo).
        let chinese: Vec<&str> = countries
            .list(Locale::ZhCn)
            .iter()
            .map(|c| c.code.as_str())
            .collect();
        assert!(at("AF", &chinese) < at("DE", &chinese), "{chinese:?}");
        assert!(at("DE", &chinese) < at("CN", &chinese), "{chinese:?}");
    }
}
