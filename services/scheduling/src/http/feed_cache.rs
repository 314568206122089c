//! The rendered bodies of the `.ics` feeds, kept by this process so that a feed whose data has not changed is served
//! without loading or rendering anything.
//!
//! Each feed's entry holds the version it was rendered for (the digest of its stamp, see `store::stamps`) and the
//! body; a request serves the body only when its freshly computed version is the same, and otherwise renders and
//! replaces it. Bounded by a number of feeds and a byte budget, evicting the least recently used. Each replica has its
//! own: the version comes from the data, so what one serves is what another would render.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use axum::body::Bytes;
use uuid::Uuid;

/// Which feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FeedKey {
    /// An event's agenda (`/v1/events/{id}/calendar.ics`), by the event's id and the language asked for.
    Agenda(Uuid, FeedLang),
    /// Every published event (`/v1/events.ics?kind=`), by the kind and the language asked for.
    Events(Option<&'static str>, FeedLang),
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
                write!(f, "events/{}{}", kind.unwrap_or("*"), lang.suffix())
            }
        }
    }
}

/// A version: the digest of a feed's stamp.
pub type Version = [u8; 16];

#[derive(Debug)]
struct Entry {
    version: Version,
    body: Bytes,
    /// When it was last used, in ticks of [`Inner::clock`].
    used: u64,
}

#[derive(Debug, Default)]
struct Inner {
    entries: HashMap<FeedKey, Entry>,
    bytes: usize,
    clock: u64,
}

/// A bounded map from feed to its last rendered body; cheap to share (the bodies are reference-counted).
#[derive(Debug)]
pub struct FeedCache {
    inner: Mutex<Inner>,
    max_feeds: usize,
    max_bytes: usize,
}

impl FeedCache {
    /// At most `max_feeds` feeds and `max_bytes` of bodies; a body larger than the budget is never kept.
    pub fn new(max_feeds: usize, max_bytes: usize) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            max_feeds,
            max_bytes,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // Every change below leaves the map consistent before anything can panic, so a poisoned lock is still good.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The body rendered for `version` of the feed, if that is the one kept.
    pub fn get(&self, key: &FeedKey, version: &Version) -> Option<Bytes> {
        let mut inner = self.lock();
        inner.clock += 1;
        let now = inner.clock;
        let entry = inner.entries.get_mut(key)?;
        if entry.version != *version {
            return None;
        }
        entry.used = now;
        Some(entry.body.clone())
    }

    /// Keeps `body` as the feed's rendering of `version`, replacing what was kept and evicting the least recently
    /// used feeds beyond the bounds.
    pub fn put(&self, key: FeedKey, version: Version, body: Bytes) {
        let mut inner = self.lock();
        if let Some(old) = inner.entries.remove(&key) {
            inner.bytes -= old.body.len();
        }
        if body.len() > self.max_bytes || self.max_feeds == 0 {
            return;
        }
        while inner.entries.len() >= self.max_feeds || inner.bytes + body.len() > self.max_bytes {
            let Some(oldest) = inner
                .entries
                .iter()
                .min_by_key(|(_, entry)| entry.used)
                .map(|(key, _)| *key)
            else {
                break;
            };
            if let Some(evicted) = inner.entries.remove(&oldest) {
                inner.bytes -= evicted.body.len();
            }
        }
        inner.clock += 1;
        let used = inner.clock;
        inner.bytes += body.len();
        inner.entries.insert(
            key,
            Entry {
                version,
                body,
                used,
            },
        );
    }

    /// How many feeds are kept, and their bytes.
    pub fn size(&self) -> (usize, usize) {
        let inner = self.lock();
        (inner.entries.len(), inner.bytes)
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
