//! Request extractors whose rejections are problem+json naming the field, instead of axum's plain-text defaults;
//! and [`refuse_nul`], which keeps NUL characters from outside (in the path, the query or a JSON string) away from
//! every handler — PostgreSQL cannot store them in text and answers an error that would become a 500.

use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::{FieldError, Problem};

const NUL_MESSAGE: &str = "must not contain a NUL character";

/// The middleware every service runs before routing: a path with a NUL character (`%00`) names nothing there is
/// (404); a query parameter with one is invalid (422 naming it). JSON bodies are checked by [`Json`].
pub async fn refuse_nul(request: Request, next: Next) -> Response {
    let uri = request.uri();
    if has_escaped_nul(uri.path()) {
        return Problem::not_found("This resource")
            .with_detail("the path contains a NUL character")
            .into_response();
    }
    if let Some(query) = uri.query()
        && has_escaped_nul(query)
    {
        let fields = url::form_urlencoded::parse(query.as_bytes())
            .filter(|(name, value)| name.contains('\0') || value.contains('\0'))
            .map(|(name, _)| {
                let name = name.replace('\0', "");
                FieldError::new(
                    if name.is_empty() {
                        "query".to_owned()
                    } else {
                        name
                    },
                    "invalid",
                    NUL_MESSAGE,
                )
            })
            .collect::<Vec<_>>();
        if !fields.is_empty() {
            return Problem::invalid(fields).into_response();
        }
    }
    next.run(request).await
}

/// Whether percent-encoded text holds `%00` (a raw NUL byte cannot be in a URI at all).
fn has_escaped_nul(text: &str) -> bool {
    text.as_bytes()
        .windows(3)
        .any(|w| w[0] == b'%' && w[1] == b'0' && w[2] == b'0')
}

/// The rejection of these extractors: a [`Problem`].
#[derive(Debug)]
pub struct Rejection(pub Problem);

impl axum::response::IntoResponse for Rejection {
    fn into_response(self) -> axum::response::Response {
        self.0.into_response()
    }
}

/// `axum::Json`, rejecting with problem+json: 415 without a JSON content type, 400 for JSON that does not parse,
/// 422 naming the field whose value has the wrong type or is missing, or whose text (or key) holds a NUL character.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Rejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !json_content_type(request.headers()) {
            return Err(Rejection(unsupported_media_type()));
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| Rejection(Problem::bad_request(rejection.body_text())))?;
        // JSON writes a NUL only as the escape \u0000; look closer only when one is there.
        if bytes.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000"))
            && let Ok(value) = serde_json::from_slice::<Value>(&bytes)
        {
            let mut fields = Vec::new();
            nul_fields(&value, "", &mut fields);
            if !fields.is_empty() {
                return Err(Rejection(Problem::invalid(
                    fields
                        .into_iter()
                        .map(|field| {
                            let field = if field.is_empty() {
                                "body".to_owned()
                            } else {
                                field
                            };
                            FieldError::new(field, "invalid", NUL_MESSAGE)
                        })
                        .collect(),
                )));
            }
        }
        axum::Json::<T>::from_bytes(&bytes)
            .map(|axum::Json(value)| Self(value))
            .map_err(Rejection::from)
    }
}

fn unsupported_media_type() -> Problem {
    Problem::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported-media-type",
        "Expected a JSON body",
    )
    .with_detail("send Content-Type: application/json")
}

/// `application/json` or any `application/*+json`, as axum's own `Json` accepts.
fn json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || essence
            .strip_prefix("application/")
            .is_some_and(|sub| sub.ends_with("+json"))
}

/// The paths (`answers.topic`, `items.2`) of every string or key holding a NUL character, in document order, so
/// that one answer names every field to fix.
fn nul_fields(value: &Value, at: &str, found: &mut Vec<String>) {
    let join = |key: &str| {
        if at.is_empty() {
            key.to_owned()
        } else {
            format!("{at}.{key}")
        }
    };
    match value {
        Value::String(text) if text.contains('\0') => found.push(at.to_owned()),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                nul_fields(item, &join(&i.to_string()), found);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                if key.contains('\0') {
                    found.push(join(&key.replace('\0', "")));
                } else {
                    nul_fields(item, &join(key), found);
                }
            }
        }
        _ => {}
    }
}

impl<T: serde::Serialize> axum::response::IntoResponse for Json<T> {
    fn into_response(self) -> axum::response::Response {
        axum::Json(self.0).into_response()
    }
}

impl From<JsonRejection> for Rejection {
    fn from(rejection: JsonRejection) -> Self {
        Self(match rejection {
            JsonRejection::JsonDataError(error) => {
                let (field, message) = split_serde_path(&error.body_text());
                Problem::invalid(vec![FieldError::new(field, "invalid", message)])
            }
            JsonRejection::MissingJsonContentType(_) => unsupported_media_type(),
            other => Problem::bad_request(other.body_text()),
        })
    }
}

/// `axum::extract::Query`, rejecting with a 422 that names the parameter.
#[derive(Debug, Clone, Copy, Default, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(Rejection))]
pub struct Query<T>(pub T);

impl From<QueryRejection> for Rejection {
    fn from(rejection: QueryRejection) -> Self {
        let text = rejection.body_text();
        let message = text
            .strip_prefix("Failed to deserialize query string: ")
            .unwrap_or(&text);
        let field = message.split('`').nth(1).unwrap_or("query").to_owned();
        Self(Problem::invalid(vec![FieldError::new(
            field, "invalid", message,
        )]))
    }
}

/// `axum::extract::Path`, rejecting with a 404 for an id that cannot exist (not a UUID, say).
#[derive(Debug, Clone, Copy, Default, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(Rejection))]
pub struct Path<T>(pub T);

impl From<PathRejection> for Rejection {
    fn from(rejection: PathRejection) -> Self {
        Self(Problem::not_found("This resource").with_detail(rejection.body_text()))
    }
}

/// The `Idempotency-Key` a client sent with a POST it may repeat, trimmed (none without the header). Anything but
/// 1–255 visible characters is refused with a 422 naming the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(pub Option<String>);

/// The longest key kept (the stores index it).
const IDEMPOTENCY_KEY_MAX: usize = 255;

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = Rejection;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get("idempotency-key") else {
            return Ok(Self(None));
        };
        value
            .to_str()
            .ok()
            .map(str::trim)
            .filter(|k| !k.is_empty() && k.len() <= IDEMPOTENCY_KEY_MAX)
            .map(|key| Self(Some(key.to_owned())))
            .ok_or_else(|| {
                Rejection(Problem::invalid(vec![FieldError::new(
                    "Idempotency-Key",
                    "invalid",
                    "must be 1–255 visible characters",
                )]))
            })
    }
}

/// axum's JSON errors read "Failed to deserialize the JSON body into the target type: venue.city: invalid type: …".
fn split_serde_path(text: &str) -> (String, String) {
    let rest = text
        .split_once("target type: ")
        .map_or(text, |(_, rest)| rest);
    match rest.split_once(": ") {
        Some((path, message)) if !path.contains(' ') && path != "." => {
            (path.to_owned(), message.to_owned())
        }
        _ => {
            // "missing field `title` at line 1 column 2"
            let field = rest.split('`').nth(1).unwrap_or("body").to_owned();
            (field, rest.to_owned())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{IdempotencyKey, has_escaped_nul, nul_fields, split_serde_path};
    use axum::extract::FromRequestParts;

    #[tokio::test]
    async fn idempotency_keys_are_trimmed_and_bounded() {
        async fn key(value: Option<&[u8]>) -> Result<Option<String>, u16> {
            let mut request = axum::http::Request::builder();
            if let Some(value) = value {
                request = request.header("idempotency-key", value);
            }
            let mut parts = request.body(()).expect("request").into_parts().0;
            IdempotencyKey::from_request_parts(&mut parts, &())
                .await
                .map(|IdempotencyKey(key)| key)
                .map_err(|rejection| rejection.0.status)
        }
        assert_eq!(key(None).await, Ok(None));
        assert_eq!(key(Some(b" k-1 ")).await, Ok(Some("k-1".to_owned())));
        assert_eq!(
            key(Some("x".repeat(255).as_bytes()))
                .await
                .map(|k| k.map(|k| k.len())),
            Ok(Some(255))
        );
        for bad in [&b"   "[..], "x".repeat(256).as_bytes(), b"caf\xc3\xa9"] {
            assert_eq!(
                key(Some(bad)).await,
                Err(axum::http::StatusCode::UNPROCESSABLE_ENTITY.as_u16())
            );
        }
    }

    fn found(value: &serde_json::Value) -> Vec<String> {
        let mut fields = Vec::new();
        nul_fields(value, "", &mut fields);
        fields
    }

    #[test]
    fn nul_characters_are_found_with_their_field() {
        assert!(has_escaped_nul("/v1/events/a%00b"));
        assert!(!has_escaped_nul("/v1/events/a%2500b"));
        let value = serde_json::json!({"email": "a@b.org", "answers": {"topic": "x\u{0}y"}, "tags": ["a", "\u{0}"]});
        assert_eq!(found(&value), ["answers.topic", "tags.1"]);
        let value = serde_json::json!({"tags": ["a", "\u{0}"], "k\u{0}ey": 1});
        assert_eq!(found(&value), ["key", "tags.1"]);
        assert!(found(&serde_json::json!({"a": "b"})).is_empty());
    }

    #[test]
    fn field_paths_are_taken_from_serde_messages() {
        let (field, message) = split_serde_path(
            "Failed to deserialize the JSON body into the target type: venue.city: invalid type: integer `3`, expected a string at line 1 column 20",
        );
        assert_eq!(field, "venue.city");
        assert!(message.starts_with("invalid type"));
        let (field, _) = split_serde_path(
            "Failed to deserialize the JSON body into the target type: missing field `title` at line 1 column 2",
        );
        assert_eq!(field, "title");
    }
}
