//! Request extractors whose rejections are problem+json naming the field, instead of axum's plain-text defaults.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts};
use axum::http::StatusCode;

use crate::{FieldError, Problem};

/// The rejection of these extractors: a [`Problem`].
#[derive(Debug)]
pub struct Rejection(pub Problem);

impl axum::response::IntoResponse for Rejection {
    fn into_response(self) -> axum::response::Response {
        self.0.into_response()
    }
}

/// `axum::Json`, rejecting with problem+json: 415 without a JSON content type, 400 for JSON that does not parse,
/// 422 naming the field whose value has the wrong type or is missing.
#[derive(Debug, Clone, Copy, Default, FromRequest)]
#[from_request(via(axum::Json), rejection(Rejection))]
pub struct Json<T>(pub T);

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
            JsonRejection::MissingJsonContentType(_) => Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Expected a JSON body",
            )
            .with_detail("send Content-Type: application/json"),
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
    use super::split_serde_path;

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
