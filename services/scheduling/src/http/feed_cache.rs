//! The rendered bodies of the `.ics` feeds, kept by this process so that a feed whose data has not changed is served
//! without loading or rendering anything.
//!
//! Each feed's entry holds the version it was rendered for (the digest of its stamp, see `store::stamps`) and the
//! body; a request serves the body only when its freshly computed version is the same, and otherwise renders and
//! replaces it. Bounded by a number of feeds and a byte budget, evicting the least recently used (a moka cache).
//! Each replica has its own: the version comes from the data, so what one serves is what another would render.

use axum::body::Bytes;
use sea_orm::ActiveEnum;
use uuid::Uuid;

use crate::domain::event::EventKind;

/// Which feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FeedKey {
    /// An event's agenda (`/v1/events/{id}/calendar.ics`), by the event's id and the language asked for.
    Agenda(Uuid, FeedLang),
    /// Every published event (`/v1/events.ics?kind=`), by the kind and the language asked for.
    Events(Option<EventKind>, FeedLang),
}

/// The language of a feed's texts (`?lang=`): English, or Simplified Chinese where there is a Chinese text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FeedLang {
    En,
    ZhCn,
}

impl FeedLang {
    pub fn is_chinese(self) -> bool {
        self == Self::ZhCn
    }

    fn suffix(self) -> &'static str {
        match self {
            Self::En => "",
            Self::ZhCn => "/zh-CN",
        }
    }
}

/// How the key is written into the feed's version (stable across processes and builds).
impl std::fmt::Display for FeedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Agenda(id, lang) => write!(f, "agenda/{id}{}", lang.suffix()),
            Self::Events(kind, lang) => {
                let kind = kind.map_or_else(|| "*".to_owned(), |k| k.to_value());
                write!(f, "events/{kind}{}", lang.suffix())
            }
        }
    }
}

/// A version: the digest of a feed's stamp.
pub type Version = [u8; 16];

/// A bounded map from feed to its last rendered body; cheap to share (the bodies are reference-counted).
///
/// A moka cache evicting the least recently used. Moka bounds one total weight, so each feed weighs its body's length
/// but at least an even share of the byte budget (`max_bytes / max_feeds`): no more than `max_feeds` feeds fit, and
/// never more than `max_bytes` of bodies.
pub struct FeedCache {
    entries: moka::sync::Cache<FeedKey, (Version, Bytes)>,
    max_feeds: usize,
    max_bytes: usize,
}

impl std::fmt::Debug for FeedCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedCache")
            .field("max_feeds", &self.max_feeds)
            .field("max_bytes", &self.max_bytes)
            .finish_non_exhaustive()
    }
}

impl FeedCache {
    /// At most `max_feeds` feeds and `max_bytes` of bodies; a body larger than the budget is never kept.
    pub fn new(max_feeds: usize, max_bytes: usize) -> Self {
        let share = u32::try_from(max_bytes / max_feeds.max(1)).unwrap_or(u32::MAX);
        let entries = moka::sync::Cache::builder()
            .max_capacity(if max_feeds == 0 { 0 } else { max_bytes as u64 })
            .eviction_policy(moka::policy::EvictionPolicy::lru())
            .weigher(move |_key: &FeedKey, (_, body): &(Version, Bytes)| {
                u32::try_from(body.len()).unwrap_or(u32::MAX).max(share)
            })
            .build();
        Self {
            entries,
            max_feeds,
            max_bytes,
        }
    }

    /// The body rendered for `version` of the feed, if that is the one kept.
    pub fn get(&self, key: &FeedKey, version: &Version) -> Option<Bytes> {
        let (kept, body) = self.entries.get(key)?;
        (kept == *version).then_some(body)
    }

    /// Keeps `body` as the feed's rendering of `version`, replacing what was kept and evicting the least recently
    /// used feeds beyond the bounds.
    pub fn put(&self, key: FeedKey, version: Version, body: Bytes) {
        if body.len() > self.max_bytes || self.max_feeds == 0 {
            self.entries.invalidate(&key);
        } else {
            self.entries.insert(key, (version, body));
        }
        // Evict now (puts follow a render, so this is off the fast path): the bounds hold as soon as put returns.
        self.entries.run_pending_tasks();
    }

    /// How many feeds are kept, and their bytes.
    pub fn size(&self) -> (usize, usize) {
        self.entries.run_pending_tasks();
        self.entries
            .iter()
            .fold((0, 0), |(feeds, bytes), (_, (_, body))| {
                (feeds + 1, bytes + body.len())
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u128) -> FeedKey {
        FeedKey::Agenda(Uuid::from_u128(n), FeedLang::En)
    }

    #[test]
    fn serves_only_the_version_it_was_rendered_for() {
        let cache = FeedCache::new(4, 1024);
        cache.put(key(1), [1; 16], Bytes::from_static(b"one"));
        assert_eq!(
            cache.get(&key(1), &[1; 16]),
            Some(Bytes::from_static(b"one"))
        );
        assert_eq!(cache.get(&key(1), &[2; 16]), None);
        assert_eq!(cache.get(&key(2), &[1; 16]), None);
        cache.put(key(1), [2; 16], Bytes::from_static(b"two"));
        assert_eq!(cache.get(&key(1), &[1; 16]), None);
        assert_eq!(
            cache.get(&key(1), &[2; 16]),
            Some(Bytes::from_static(b"two"))
        );
        assert_eq!(cache.size(), (1, 3));
    }

    #[test]
    fn evicts_the_least_recently_used_beyond_its_bounds() {
        let cache = FeedCache::new(2, 10);
        cache.put(key(1), [0; 16], Bytes::from_static(b"aaa"));
        cache.put(key(2), [0; 16], Bytes::from_static(b"bbb"));
        assert!(cache.get(&key(1), &[0; 16]).is_some());
        cache.put(key(3), [0; 16], Bytes::from_static(b"ccc"));
        assert!(
            cache.get(&key(2), &[0; 16]).is_none(),
            "least recently used"
        );
        assert!(cache.get(&key(1), &[0; 16]).is_some());
        assert!(cache.get(&key(3), &[0; 16]).is_some());
        assert_eq!(cache.size(), (2, 6));

        // Room for a third feed evicts the older, then the byte budget (3 + 8 > 10) the other.
        cache.put(key(4), [0; 16], Bytes::from_static(b"dddddddd"));
        assert!(cache.get(&key(1), &[0; 16]).is_none());
        assert!(cache.get(&key(4), &[0; 16]).is_some());
        assert_eq!(cache.size(), (1, 8));

        // A body over the budget is not kept, and drops what the feed had.
        cache.put(key(4), [1; 16], Bytes::from_static(b"eeeeeeeeeeee"));
        assert!(cache.get(&key(4), &[1; 16]).is_none());
        assert_eq!(cache.size(), (0, 0));
    }
}
