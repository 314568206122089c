//! One page of a list: `{ "items": [...], "next_cursor": ... }`.
//!
//! Defined here, not in the service kit, because it is on the wire between services (notifications and the portal
//! read the pages scheduling and registration answer with): the kit re-exports it for building pages, so there is
//! one definition and the kit learns nothing about any service's domain.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last one.
    #[serde(default)]
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from rows fetched with `limit + 1`: the extra row only tells that there is more.
    pub fn from_rows<R, K: Serialize>(
        mut rows: Vec<R>,
        limit: u64,
        key: impl Fn(&R) -> K,
        item: impl FnMut(R) -> T,
    ) -> Self {
        let more = rows.len() as u64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let next_cursor = if more {
            rows.last().map(|last| encode_cursor(&key(last)))
        } else {
            None
        };
        Self {
            items: rows.into_iter().map(item).collect(),
            next_cursor,
        }
    }
}

/// A cursor: the sort key of the last row returned, serialised and base64url-encoded (opaque to callers).
pub fn encode_cursor<K: Serialize>(key: &K) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(key).unwrap_or_default())
}
