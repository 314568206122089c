//! `/openapi.json` (OpenAPI 3.1) and `/docs`, a Swagger UI whose assets are compiled into the binary — no CDN, so
//! the page works offline and from China.
//!
//! Each service serves its document at `/openapi.json` and at its public path `/openapi/<service>.json`, and its own
//! `/docs/`, which loads the document by a relative URL (so it works at the service's port and wherever a proxy
//! mounts the service, e.g. the edge's `/services/<name>/docs/`). [`public_router`] is the page the edge serves at
//! `/docs/`: the three services' documents, each at its public path on the edge.

use axum::Router;
use utoipa::openapi::OpenApi;
use utoipa_swagger_ui::{Config, SwaggerUi, Url};

use crate::config::ServiceName;

/// The public path of a service's OpenAPI document, on the service and on the edge.
pub fn public_path(service: ServiceName) -> &'static str {
    match service {
        ServiceName::Registration => "/openapi/registration.json",
        ServiceName::Scheduling => "/openapi/scheduling.json",
        ServiceName::Notifications => "/openapi/notifications.json",
    }
}

pub fn router(service: ServiceName, api: OpenApi) -> Router {
    // Relative to the page (`…/docs/`), so a proxy's prefix is kept. Swagger UI would otherwise show a badge image
    // fetched from validator.swagger.io for any non-local spec URL.
    let config = Config::new(["../openapi.json"]).validator_url("none");
    let document = api.clone();
    Router::new()
        .route(
            public_path(service),
            axum::routing::get(move || {
                let document = document.clone();
                async move { axum::Json(document) }
            }),
        )
        .merge(
            SwaggerUi::new("/docs")
                .url("/openapi.json", api)
                .config(config),
        )
}

/// The edge's `/docs/`: a Swagger UI listing the three services' documents at their public paths.
pub fn public_router() -> Router {
    let urls = ServiceName::ALL
        .map(|service| Url::new(service.as_str(), public_path(service)))
        .to_vec();
    let config = Config::new(urls).validator_url("none");
    Router::new().merge(SwaggerUi::new("/docs").config(config))
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
