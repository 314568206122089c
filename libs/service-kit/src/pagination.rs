//! Lists as the HTTP conventions want them: `?limit=&cursor=` in, `{ "items": [...], "next_cursor": ... }` out.
//!
//! A cursor is the sort key of the last row returned, serialised and base64url-encoded: opaque to callers, stable
//! while rows are added (keyset pagination, never `OFFSET`), and checked on the way back in.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::{FieldError, Problem};

pub const DEFAULT_LIMIT: u64 = 50;
pub const MAX_LIMIT: u64 = 500;

/// The paging part of a list's query string.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// How many items at most (1–500, default 50).
    #[serde(default, deserialize_with = "limit_param")]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// `?limit=` as a whole number: anything else (`-1`, `1.5`, a number beyond `u64`) is refused with a message that
/// names the parameter, so the 422 of [`crate::extract::Query`] says `limit` (serde's own "invalid digit found in
/// string" names nothing). Use it on every `limit` of a query string: `#[serde(default, deserialize_with = …)]`.
pub fn limit_param<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<u64>, D::Error> {
    let raw: Option<String> = Option::deserialize(deserializer)?;
    raw.map(|text| {
        text.trim().parse::<u64>().map_err(|_| {
            serde::de::Error::custom(format!(
                "`limit` must be a whole number between 1 and {MAX_LIMIT}"
            ))
        })
    })
    .transpose()
}

impl PageQuery {
    pub fn limit(&self) -> Result<u64, Problem> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            Some(_) => Err(Problem::invalid(vec![FieldError::new(
                "limit",
                "out_of_range",
                format!("must be between 1 and {MAX_LIMIT}"),
            )])),
        }
    }

    /// The decoded cursor, or `None` on the first page.
    pub fn cursor<K: DeserializeOwned>(&self) -> Result<Option<K>, Problem> {
        let Some(raw) = self.cursor.as_deref().filter(|c| !c.is_empty()) else {
            return Ok(None);
        };
        let invalid = || {
            Problem::invalid(vec![FieldError::new(
                "cursor",
                "invalid",
                "is not a cursor this list gave out",
            )])
        };
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| invalid())?;
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|_| invalid())
    }
}

/// One page of a list, and its cursors: on the wire between services (notifications and the portal read the pages
/// the others answer with), so defined once in the contracts; re-exported here for building pages. Generic
/// plumbing only: the kit knows nothing of any service's domain through it.
pub use cloverleaf_contracts::{Page, encode_cursor};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_of_rows_carries_the_key_of_its_last_row() {
        let page = Page::from_rows(vec![1, 2, 3], 2, |n| *n, |n| n * 10);
        assert_eq!(page.items, vec![10, 20]);
        let query = PageQuery {
            limit: Some(2),
            cursor: page.next_cursor,
        };
        assert_eq!(query.cursor::<i32>().expect("cursor"), Some(2));
        let last = Page::from_rows(vec![3], 2, |n| *n, |n| n);
        assert!(last.next_cursor.is_none());
    }

    #[test]
    fn bad_limits_and_cursors_name_their_field() {
        let query = PageQuery {
            limit: Some(0),
            cursor: Some("not json".into()),
        };
        assert_eq!(query.limit().expect_err("limit").errors[0].field, "limit");
        assert_eq!(
            query.cursor::<i32>().expect_err("cursor").errors[0].field,
            "cursor"
        );
    }
}
