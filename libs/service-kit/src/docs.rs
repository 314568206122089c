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

/// Adds the `bearer` security scheme (a JWT in `Authorization: Bearer`) that handlers name with
/// `security(("bearer" = []))`: `#[openapi(modifiers(&BearerAuth))]`.
pub struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}
