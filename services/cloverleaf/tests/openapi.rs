//! The OpenAPI documents say what the services do (issue 16.8), checked on the documents the edge serves from a
//! started system (as `cloverleaf serve` starts it, on SQLite or PostgreSQL), the ones Schemathesis reads in CI:
//! errors are problem+json; the statuses the kit's extractors and layers give are documented; `limit` is 1–500;
//! fields the services require are marked required; the registrations list is JSON or CSV; and the edge has a
//! document of its own, listed on its `/docs/`.

mod support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::System;

const SERVICES: [&str; 3] = ["registration", "scheduling", "notifications"];
const METHODS: [&str; 5] = ["get", "put", "post", "patch", "delete"];

/// Every operation of a document: (method, path, operation).
fn operations(document: &Value) -> Vec<(String, String, Value)> {
    let mut found = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for method in METHODS {
            if let Some(operation) = item.get(method) {
                found.push((method.to_owned(), path.clone(), operation.clone()));
            }
        }
    }
    found
}

/// The schema a `$ref` names, or the schema itself.
fn resolve<'a>(document: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference.rsplit('/').next().expect("ref name");
            &document["components"]["schemas"][name]
        }
        None => schema,
    }
}

#[tokio::test]
async fn every_error_is_documented_as_problem_json() {
    let system = System::start(|_| {}).await;
    for name in SERVICES.into_iter().chain(["edge"]) {
        let document = system.document(name).await;
        let mut untrue = Vec::new();
        for (method, path, operation) in operations(&document) {
            for (status, response) in operation["responses"].as_object().expect("responses") {
                if !(status.starts_with('4') || status.starts_with('5')) {
                    continue;
                }
                let content = response["content"].as_object().cloned().unwrap_or_default();
                let types: Vec<&String> = content.keys().collect();
                let problem = &content
                    .get("application/problem+json")
                    .map(|c| c["schema"]["$ref"].clone());
                if types != ["application/problem+json"]
                    || problem.as_ref().and_then(Value::as_str)
                        != Some("#/components/schemas/Problem")
                {
                    untrue.push(format!("{name}: {method} {path} {status}: {types:?}"));
                }
            }
        }
        assert!(untrue.is_empty(), "errors not problem+json:\n{untrue:#?}");
        assert!(
            document["components"]["schemas"]["Problem"].is_object(),
            "{name}: the Problem schema"
        );
    }
    system.stop().await;
}

/// The statuses that the kit's extractors and layers give are on the operations that can get them.
#[tokio::test]
async fn the_statuses_of_the_shared_extractors_are_documented() {
    let system = System::start(|_| {}).await;
    let mut missing = Vec::new();
    for name in SERVICES {
        let document = system.document(name).await;
        for (method, path, operation) in operations(&document) {
            let responses = &operation["responses"];
            let parameters = operation["parameters"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let place = |at: &str| parameters.iter().any(|p| p["in"] == at);
            let json_body = operation["requestBody"]["content"]
                .as_object()
                .is_some_and(|c| c.contains_key("application/json"));
            let requirements = operation["security"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let secured = requirements.iter().any(|r| r.get("bearer").is_some());
            let token_required = secured && requirements.iter().all(|r| r.get("bearer").is_some());
            let mut expected = Vec::new();
            if json_body {
                expected.extend(["400", "413", "415", "422"]);
            }
            if place("query") {
                expected.push("422");
            }
            if place("path") {
                expected.push("404");
            }
            if secured {
                expected.push("401");
            }
            if token_required {
                expected.push("403");
            }
            for status in expected {
                if !responses[status].is_object() {
                    missing.push(format!("{name}: {method} {path} {status}"));
                }
            }
        }
    }
    assert!(missing.is_empty(), "undocumented statuses:\n{missing:#?}");

    // And the ones the handlers' rules give, on the paths where they happen.
    let registration = system.document("registration").await;
    for (path, method, status) in [
        ("/v1/registrations", "post", "429"),
        ("/v1/registrations", "post", "409"),
        ("/v1/auth/token", "post", "429"),
        ("/v1/accounts", "get", "403"),
    ] {
        assert!(
            registration["paths"][path][method]["responses"][status].is_object(),
            "{method} {path} {status}"
        );
    }
    system.stop().await;
}

#[tokio::test]
async fn limit_is_documented_as_the_lists_take_it() {
    let system = System::start(|_| {}).await;
    let token = system.organiser_token().await;
    let max = cloverleaf_service_kit::pagination::MAX_LIMIT;
    let mut lists = 0;
    for name in SERVICES {
        let document = system.document(name).await;
        for (method, path, operation) in operations(&document) {
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                if parameter["name"] != "limit" {
                    continue;
                }
                lists += 1;
                let schema = resolve(&document, &parameter["schema"]);
                assert_eq!(schema["minimum"], 1, "{method} {path}: {schema}");
                assert_eq!(schema["maximum"], max, "{method} {path}: {schema}");
            }
        }
    }
    assert!(lists >= 5, "the lists have a limit: {lists}");
    // What the document says is what a list does.
    for (limit, expected) in [
        ("0", StatusCode::UNPROCESSABLE_ENTITY),
        ("1", StatusCode::OK),
        (&max.to_string(), StatusCode::OK),
        (&(max + 1).to_string(), StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let (status, body) = system
            .json(
                reqwest::Method::GET,
                &format!("/v1/people?limit={limit}"),
                Some(&token),
                None,
            )
            .await;
        assert_eq!(status, expected, "limit={limit}: {body}");
    }
    system.stop().await;
}

/// `{}` sent to a create endpoint: every field the 422 names as required is marked required in the document.
#[tokio::test]
async fn fields_the_services_require_are_marked_required() {
    let system = System::start(|_| {}).await;
    let token = system.organiser_token().await;
    let scheduling = system.document("scheduling").await;
    let registration = system.document("registration").await;
    for (document, path, schema_path) in [
        (&scheduling, "/v1/people", "/v1/people"),
        (&scheduling, "/v1/venues", "/v1/venues"),
        (&scheduling, "/v1/events", "/v1/events"),
        (&registration, "/v1/registrations", "/v1/registrations"),
    ] {
        let (status, problem) = system
            .json(reqwest::Method::POST, path, Some(&token), Some(json!({})))
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path}: {problem}"
        );
        let body = &document["paths"][schema_path]["post"]["requestBody"]["content"]["application/json"]
            ["schema"];
        let schema = resolve(document, body);
        let required: Vec<&str> = schema["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let asked: Vec<&str> = problem["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .filter_map(|e| e["field"].as_str())
            .collect();
        assert!(!asked.is_empty(), "{path}: {problem}");
        for field in asked {
            assert!(
                required.contains(&field),
                "{path}: `{field}` is required ({problem}) but the document's required is {required:?}"
            );
        }
    }
    system.stop().await;
}

#[tokio::test]
async fn the_registrations_list_is_documented_as_json_and_csv() {
    let system = System::start(|_| {}).await;
    let document = system.document("registration").await;
    let content = document["paths"]["/v1/registrations"]["get"]["responses"]["200"]["content"]
        .as_object()
        .expect("content of 200");
    let mut types: Vec<&str> = content.keys().map(String::as_str).collect();
    types.sort_unstable();
    assert_eq!(types, ["application/json", "text/csv"]);
    assert_eq!(
        content["application/json"]["schema"]["$ref"],
        "#/components/schemas/RegistrationList"
    );
    system.stop().await;
}

#[tokio::test]
async fn the_edge_serves_a_document_of_its_own_listed_on_its_docs_page() {
    let system = System::start(|_| {}).await;
    let edge = system.document("edge").await;
    assert!(
        edge["openapi"]
            .as_str()
            .expect("version")
            .starts_with("3.1")
    );
    for path in [
        "/healthz",
        "/readyz",
        "/openapi/{document}",
        "/docs/",
        "/.well-known/jwks.json",
        "/v1/{collection}",
    ] {
        assert!(edge["paths"][path]["get"].is_object(), "GET {path}");
    }
    // What it says of its own paths is what they answer.
    let (status, health) = system
        .json(reqwest::Method::GET, "/healthz", None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(health["status"].is_string(), "{health}");
    let (status, _) = system
        .json(reqwest::Method::GET, "/openapi/nothing.json", None, None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(edge["paths"]["/openapi/{document}"]["get"]["responses"]["404"].is_object());
    // /docs/ lists it beside the three services' documents.
    let config = system
        .http
        .get(system.edge("/docs/swagger-initializer.js"))
        .send()
        .await
        .expect("docs config")
        .text()
        .await
        .expect("text");
    for name in SERVICES.into_iter().chain(["edge"]) {
        assert!(
            config.contains(&format!("/openapi/{name}.json")),
            "/docs/ lists {name}: {config}"
        );
    }
    system.stop().await;
}
