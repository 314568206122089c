//! `/openapi.json` (OpenAPI 3.1) and `/docs`, a Swagger UI whose assets are compiled into the binary — no CDN, so
//! the page works offline and from China.

use axum::Router;
use utoipa::openapi::OpenApi;
use utoipa_swagger_ui::{Config, SwaggerUi};

pub fn router(api: OpenApi) -> Router {
    // Swagger UI would otherwise show a badge image fetched from validator.swagger.io for any non-local spec URL.
    let config = Config::new(["/openapi.json"]).validator_url("none");
    Router::new().merge(
        SwaggerUi::new("/docs")
            .url("/openapi.json", api)
            .config(config),
    )
}
