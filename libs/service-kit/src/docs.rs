//! `/openapi.json` (OpenAPI 3.1) and `/docs`, a Swagger UI whose assets are compiled into the binary — no CDN, so
//! the page works offline and from China.

use axum::Router;
use utoipa::openapi::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

pub fn router(api: OpenApi) -> Router {
    Router::new().merge(SwaggerUi::new("/docs").url("/openapi.json", api))
}
