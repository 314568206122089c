//! The OpenAPI documents say what the services do (issue 16.8), checked on the documents the edge serves from a
//! started system (as `cloverleaf serve` starts it, on SQLite or PostgreSQL), the ones Schemathesis reads in CI:
//! errors are problem+json; the statuses the kit's extractors and layers give are documented; `limit` is 1–500;
//! fields the services require are marked required; the registrations list is JSON or CSV; and the edge has a
//! document of its own, listed on its `/docs/`.

use cloverleaf::system::{self, RunningSystem};
use cloverleaf_service_kit::Settings;
use cloverleaf_service_kit::config::ServiceName;
use cloverleaf_service_kit::testing::{TestDatabase, settings};
use reqwest::StatusCode;
use serde_json::{Value, json};

const ORGANISER: &str = "openapi.office@permed.example.org";
const PASSWORD: &str = "a long organiser passphrase";

struct System {
    running: Option<RunningSystem>,
    http: reqwest::Client,
    _databases: Vec<TestDatabase>,
    _dir: tempfile::TempDir,
}

impl System {
    async fn start() -> Self {
        let dir = tempfile::tempdir().expect("dir");
        let mut settings = settings(dir.path());
        let mut databases = Vec::new();
        for name in ServiceName::ALL {
            let database = TestDatabase::create(dir.path(), name).await;
            settings.service_mut(name).database_url = database.url().clone();
            settings.service_mut(name).listen = "127.0.0.1:0".to_owned();
            databases.push(database);
        }
        settings.edge.listen = "127.0.0.1:0".to_owned();
        let account_settings = settings.clone();
        let running = system::start(settings).await.expect("system starts");
        create_organiser(&account_settings).await;
        Self {
            running: Some(running),
            http: reqwest::Client::new(),
            _databases: databases,
            _dir: dir,
        }
    }

    fn edge(&self, path: &str) -> String {
        format!(
            "{}{path}",
            self.running.as_ref().expect("running").edge_url()
        )
    }

    async fn json(
        &self,
        method: reqwest::Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.http.request(method, self.edge(path));
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let text = response.text().await.expect("text");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// A document as the edge serves it (the services' forwarded, the edge's its own).
    async fn document(&self, name: &str) -> Value {
        let (status, document) = self
            .json(
                reqwest::Method::GET,
                &format!("/openapi/{name}.json"),
                None,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "/openapi/{name}.json: {document}");
        document
    }

    async fn organiser_token(&self) -> String {
        let (status, body) = self
            .json(
                reqwest::Method::POST,
                "/v1/auth/token",
                None,
                Some(json!({ "email": ORGANISER, "password": PASSWORD })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["access_token"].as_str().expect("token").to_owned()
    }

    async fn stop(mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await.expect("stops");
        }
    }
}

/// An organiser account, as `cloverleaf accounts create` makes it.
async fn create_organiser(settings: &Settings) {
    use cloverleaf_registration::domain::accounts::{AccountEmail, AccountRole, Password};
    use cloverleaf_registration::store::accounts::{NewAccount, create_account};
    let db =
        cloverleaf_service_kit::db::connect(&settings.database_url(ServiceName::Registration), 1)
            .await
            .expect("registration db");
    create_account(
        &db,
        NewAccount {
            email: AccountEmail::parse(ORGANISER).expect("email"),
            name: "PerMed Office".to_owned(),
            role: AccountRole::Organiser,
            password: Password::parse(PASSWORD).expect("password"),
        },
    )
    .await
    .expect("organiser account");
    let _ = db.close().await;
}

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
    let system = System::start().await;
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
    let system = System::start().await;
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
    let system = System::start().await;
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
    let system = System::start().await;
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
    let system = System::start().await;
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
    let system = System::start().await;
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
