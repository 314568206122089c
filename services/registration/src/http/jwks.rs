//! `GET /.well-known/jwks.json`: the public keys that verify people's tokens, current key first, then keys being
//! retired. Other services fetch it (and refetch on an unknown `kid`), so keys rotate without downtime.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use super::AppState;

#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    tag = "auth",
    responses((status = 200, description = "JSON Web Key Set (RFC 7517) of Ed25519 public keys", content_type = "application/json"))
)]
pub async fn jwks(State(state): State<AppState>) -> impl IntoResponse {
    let document = cloverleaf_auth::jwks_document(state.signing_keys.all());
    // Short enough that a rotated-in key is seen within minutes even by caches that ignore refetch-on-unknown-kid.
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(document),
    )
}
