//! `/openapi.json` (OpenAPI 3.1) and `/docs`, a Swagger UI whose assets are compiled into the binary — no CDN, so
//! the page works offline and from China.
//!
//! Each service serves its document at `/openapi.json` and at its public path `/openapi/<service>.json`, and its own
//! `/docs/`, which loads the document by a relative URL (so it works at the service's port and wherever a proxy
//! mounts the service, e.g. the edge's `/services/<name>/docs/`). [`public_router`] is the page the edge serves at
//! `/docs/`: the three services' documents, each at its public path on the edge.

use axum::Router;
use utoipa::OpenApi as _;
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
    let api = complete(api);
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

/// The path of the edge's own document.
pub const EDGE_PATH: &str = "/openapi/edge.json";

/// The edge's `/docs/`: a Swagger UI listing the edge's own document and the three services' documents at their
/// public paths; and the edge's document at [`EDGE_PATH`] (the others it forwards from the services).
pub fn public_router() -> Router {
    let urls = std::iter::once(Url::new("edge", EDGE_PATH))
        .chain(ServiceName::ALL.map(|service| Url::new(service.as_str(), public_path(service))))
        .collect::<Vec<_>>();
    let config = Config::new(urls).validator_url("none");
    let document = edge_document();
    Router::new()
        .route(
            EDGE_PATH,
            axum::routing::get(move || {
                let document = document.clone();
                async move { axum::Json(document) }
            }),
        )
        .merge(SwaggerUi::new("/docs").config(config))
}

/// The edge's own OpenAPI document: the paths the edge answers itself, and how it forwards the rest. What the
/// forwarded paths answer is in the owning service's document.
pub fn edge_document() -> OpenApi {
    complete(edge::EdgeDoc::openapi())
}

/// The edge's paths, described on stand-ins: the edge's handlers live in the `cloverleaf` binary crate, which has no
/// utoipa of its own.
mod edge {
    use utoipa::ToSchema;

    #[derive(utoipa::OpenApi)]
    #[openapi(
        info(
            title = "Cloverleaf edge",
            description = "The one public address: forwards `/v1/<collection>/…` to the service that owns the \
                collection (`accounts`, `auth`, `forms`, `registrations` → registration; `events`, `venues`, \
                `items` → scheduling; `messages`, `reminders` → notifications; see each service's document), \
                `/.well-known/jwks.json` to registration and every other path to the web pages. Errors are RFC 9457 \
                problem+json."
        ),
        paths(healthz, readyz, document, docs, jwks, forward),
        components(schemas(crate::Problem, crate::FieldError))
    )]
    pub struct EdgeDoc;

    /// `{"status": "ok"}` or `{"status": "ready"}`.
    #[derive(ToSchema)]
    #[allow(dead_code)] // only described
    struct Status {
        status: String,
    }

    /// An OpenAPI 3.1 document.
    #[derive(ToSchema)]
    #[schema(value_type = Object)]
    #[allow(dead_code)] // only described
    struct Document(serde_json::Value);

    /// A JSON Web Key Set: the public keys of people's tokens.
    #[derive(ToSchema)]
    #[allow(dead_code)] // only described
    struct Jwks {
        #[schema(value_type = Vec<Object>)]
        keys: Vec<serde_json::Value>,
    }

    /// The edge answers: it is running.
    #[utoipa::path(get, path = "/healthz", tag = "edge", responses((status = 200, body = Status)))]
    #[allow(dead_code)]
    fn healthz() {}

    /// Ready when every service has a ready instance.
    #[utoipa::path(get, path = "/readyz", tag = "edge", responses(
        (status = 200, body = Status),
        (status = 503, description = "a service is not ready; see Retry-After", body = crate::Problem)))]
    #[allow(dead_code)]
    fn readyz() {}

    /// An API document: `edge.json` (this one), `registration.json`, `scheduling.json` or `notifications.json`.
    #[utoipa::path(get, path = "/openapi/{document}", tag = "edge",
        params(("document" = String, Path, description = "`edge.json`, `registration.json`, `scheduling.json` or `notifications.json`")),
        responses((status = 200, body = Document), (status = 404, description = "no such document", body = crate::Problem)))]
    #[allow(dead_code)]
    fn document() {}

    /// Swagger UI listing these documents; "Try it out" calls the API through the edge.
    #[utoipa::path(get, path = "/docs/", tag = "edge",
        responses((status = 200, description = "the page", content_type = "text/html", body = String)))]
    #[allow(dead_code)]
    fn docs() {}

    /// Forwarded to registration: the keys that verify people's tokens.
    #[utoipa::path(get, path = "/.well-known/jwks.json", tag = "edge", responses((status = 200, body = Jwks)))]
    #[allow(dead_code)]
    fn jwks() {}

    /// Forwarded to the service that owns the collection, with the rest of the path and the query: every method,
    /// as that service's document describes it.
    #[utoipa::path(get, path = "/v1/{collection}", tag = "edge",
        params(("collection" = String, Path, description = "e.g. `events`; the owner's document lists its paths")),
        responses(
            (status = 404, description = "no service owns the collection", body = crate::Problem),
            (status = "default", description = "the owning service's answer, as its document describes"),
        ))]
    #[allow(dead_code)]
    fn forward() {}
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

/// The responses that the kit's layers and extractors give any operation, added to each operation's own list where
/// its `#[utoipa::path]` does not name them, and every error's content type made `application/problem+json` (utoipa
/// writes `application/json` for a `body = Problem`). Done once here, on the finished document, so that a new
/// endpoint is documented truly without repeating the common errors on every handler:
///
/// - a JSON request body ([`crate::extract::Json`]): 400 (not JSON, or larger than `http.body_limit_bytes`), 413
///   (larger than that, from the edge, which reads the body before forwarding it), 415 (not sent as JSON), 422 (a
///   field missing, of the wrong type, or holding a NUL character);
/// - query parameters ([`crate::extract::Query`], [`crate::extract::refuse_nul`]): 422 naming the parameter;
/// - path parameters ([`crate::extract::Path`], [`crate::extract::refuse_nul`]): 404 for an id that names nothing;
/// - a bearer token named (the auth extractors): 401; and when one is required, 403 for a token without the role.
///
/// 409 and 429 depend on the handler's rules, so each handler names them itself.
pub fn complete(mut api: OpenApi) -> OpenApi {
    for item in api.paths.paths.values_mut() {
        let shared = item.parameters.clone().unwrap_or_default();
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ];
        for operation in operations.into_iter().flatten() {
            complete_operation(operation, &shared);
        }
    }
    let components = api.components.get_or_insert_with(Default::default);
    for (name, schema) in [
        (
            "Problem",
            <crate::Problem as utoipa::PartialSchema>::schema(),
        ),
        (
            "FieldError",
            <crate::FieldError as utoipa::PartialSchema>::schema(),
        ),
    ] {
        components.schemas.entry(name.to_owned()).or_insert(schema);
    }
    api
}

fn complete_operation(
    operation: &mut utoipa::openapi::path::Operation,
    shared: &[utoipa::openapi::path::Parameter],
) {
    use utoipa::openapi::path::ParameterIn;
    let parameters = || shared.iter().chain(operation.parameters.iter().flatten());
    let has = |place: ParameterIn| parameters().any(|p| p.parameter_in == place);
    let (in_path, in_query) = (has(ParameterIn::Path), has(ParameterIn::Query));
    let json_body = operation
        .request_body
        .as_ref()
        .is_some_and(|body| body.content.keys().any(|type_| type_.contains("json")));
    // A requirement is a map from scheme names to scopes; `{}` (an empty one) is "no token is fine too".
    let requirements: Vec<bool> = operation
        .security
        .iter()
        .flatten()
        .map(|requirement| {
            serde_json::to_value(requirement)
                .ok()
                .and_then(|value| value.as_object().map(|schemes| !schemes.is_empty()))
                .unwrap_or(false)
        })
        .collect();
    let secured = requirements.iter().any(|&names_a_scheme| names_a_scheme);
    let token_required = secured && requirements.iter().all(|&names_a_scheme| names_a_scheme);
    let mut common: Vec<(&str, &str)> = Vec::new();
    if json_body {
        common.push(("400", "The body is not JSON"));
        // The edge reads a body whole before forwarding it and refuses a larger one itself; the service alone
        // answers 400 for it (above).
        common.push((
            "413",
            "The body is larger than http.body_limit_bytes (from the edge)",
        ));
        common.push(("415", "The body is not sent as application/json"));
        common.push((
            "422",
            "A field is missing, has the wrong type, is invalid or holds a NUL character",
        ));
    }
    if in_query {
        common.push(("422", "A query parameter is invalid"));
    }
    if in_path {
        common.push(("404", "Not found"));
    }
    if secured {
        common.push((
            "401",
            "No bearer token, or one that is not valid (see WWW-Authenticate)",
        ));
    }
    // Every extractor that requires a token also requires a role or a relation (Organiser, Admin, ServiceCaller,
    // RegistrationAccess…): another caller's valid token is refused.
    if token_required {
        common.push(("403", "The token does not allow this"));
    }
    let responses = &mut operation.responses.responses;
    for (status, description) in common {
        responses
            .entry(status.to_owned())
            .or_insert_with(|| utoipa::openapi::RefOr::T(problem_response(description)));
    }
    for (status, response) in responses.iter_mut() {
        let is_error = status.starts_with('4') || status.starts_with('5');
        if let (true, utoipa::openapi::RefOr::T(response)) = (is_error, response) {
            let json = response.content.shift_remove("application/json");
            if !response
                .content
                .contains_key(cloverleaf_problem::CONTENT_TYPE)
            {
                response.content.insert(
                    cloverleaf_problem::CONTENT_TYPE.to_owned(),
                    json.unwrap_or_else(problem_content),
                );
            }
        }
    }
}

fn problem_content() -> utoipa::openapi::Content {
    utoipa::openapi::Content::new(Some(utoipa::openapi::Ref::from_schema_name("Problem")))
}

fn problem_response(description: &str) -> utoipa::openapi::Response {
    utoipa::openapi::ResponseBuilder::new()
        .description(description)
        .content(cloverleaf_problem::CONTENT_TYPE, problem_content())
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, utoipa::ToSchema)]
    #[allow(dead_code)] // only described
    struct Input {
        name: String,
    }

    #[utoipa::path(post, path = "/v1/things/{id}", params(("id" = String, Path), crate::pagination::PageQuery),
        request_body = Input, security(("bearer" = [])),
        responses((status = 201), (status = 409, body = crate::Problem)))]
    #[allow(dead_code)]
    fn create() {}

    #[derive(utoipa::OpenApi)]
    #[openapi(paths(create))]
    struct Doc;

    #[test]
    fn every_operation_gets_the_kits_statuses_and_errors_are_problem_json() {
        let document = serde_json::to_value(complete(Doc::openapi())).expect("json");
        let responses = &document["paths"]["/v1/things/{id}"]["post"]["responses"];
        for status in ["400", "401", "403", "404", "409", "413", "415", "422"] {
            let content = responses[status]["content"].as_object().expect(status);
            assert_eq!(
                content.keys().collect::<Vec<_>>(),
                ["application/problem+json"],
                "{status}"
            );
            assert_eq!(
                content["application/problem+json"]["schema"]["$ref"],
                "#/components/schemas/Problem",
                "{status}"
            );
        }
        assert!(responses["201"]["content"].is_null(), "success untouched");
        assert!(responses["429"].is_null(), "only what the kit gives");
        assert!(document["components"]["schemas"]["Problem"].is_object());
        let limit = &document["paths"]["/v1/things/{id}"]["post"]["parameters"]
            .as_array()
            .expect("parameters")
            .iter()
            .find(|p| p["name"] == "limit")
            .expect("limit")["schema"];
        assert_eq!(limit["minimum"], 1);
        assert_eq!(limit["maximum"], crate::pagination::MAX_LIMIT);
    }

    #[test]
    fn the_edge_document_names_the_edges_own_paths() {
        let document = serde_json::to_value(edge_document()).expect("json");
        for path in [
            "/healthz",
            "/readyz",
            "/openapi/{document}",
            "/docs/",
            "/v1/{collection}",
        ] {
            assert!(document["paths"][path]["get"].is_object(), "{path}");
        }
    }
}
