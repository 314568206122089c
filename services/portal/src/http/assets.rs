//! The portal's own CSS and JavaScript, compiled in and served from `/static/` — no CDN, no external fonts or
//! scripts, so the pages load the same in China and offline.

use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::Error;

const FILES: &[(&str, &str, &str)] = &[
    (
        "portal.css",
        "text/css; charset=utf-8",
        include_str!("../../static/portal.css"),
    ),
    (
        "portal.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/portal.js"),
    ),
    (
        "check-in.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/check-in.js"),
    ),
    // jsQR 1.4.0 from the npm registry (Apache-2.0, see static/vendor/README.md): decodes QR codes on phones whose
    // browser has no BarcodeDetector, on the phone itself, so scanning works without a connection.
    (
        "jsQR.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/vendor/jsQR.js"),
    ),
];

pub async fn file(Path(name): Path<String>) -> Result<Response, Error> {
    let (_, content_type, body) = FILES
        .iter()
        .find(|(file, _, _)| *file == name)
        .ok_or(Error::NotFound)?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            ),
        ],
        *body,
    )
        .into_response())
}
