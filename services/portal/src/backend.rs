//! Calling the three services over HTTP, as a browser's agent: with the visitor's own credential (an organiser's
//! access token from the session cookie, or a participant's manage token from the link), the request's
//! `x-request-id`, and timeouts. A service that cannot be reached, or answers 502/503/504, is [`Error::Unavailable`]
//! (a friendly 503 page); any other error answer is [`Error::Backend`] with its problem+json, which pages turn into
//! messages beside the fields it names.

use std::time::Duration;

use cloverleaf_problem::Problem;
use cloverleaf_service_kit::Settings;
use cloverleaf_service_kit::config::ServiceName;
use cloverleaf_service_kit::observe::{REQUEST_ID, current_request_id};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::Error;

#[derive(Clone, Debug)]
pub struct Backends {
    http: reqwest::Client,
    registration: String,
    scheduling: String,
    notifications: String,
}

/// One call: method, service, path (with query), and what goes with it.
#[derive(Debug)]
pub struct Call<'a> {
    pub method: Method,
    pub service: ServiceName,
    pub path: String,
    pub bearer: Option<&'a str>,
    pub body: Option<&'a Value>,
    pub accept: Option<&'a str>,
    /// The client's address chain, passed on so registration's per-client limit sees the visitor, not the portal.
    pub forwarded_for: Option<&'a str>,
}

impl<'a> Call<'a> {
    pub fn new(method: Method, service: ServiceName, path: impl Into<String>) -> Self {
        Self {
            method,
            service,
            path: path.into(),
            bearer: None,
            body: None,
            accept: None,
            forwarded_for: None,
        }
    }

    pub fn get(service: ServiceName, path: impl Into<String>) -> Self {
        Self::new(Method::GET, service, path)
    }

    pub fn post(service: ServiceName, path: impl Into<String>, body: &'a Value) -> Self {
        Self::new(Method::POST, service, path).body(body)
    }

    pub fn bearer(mut self, token: Option<&'a str>) -> Self {
        self.bearer = token;
        self
    }

    pub fn body(mut self, body: &'a Value) -> Self {
        self.body = Some(body);
        self
    }

    pub fn accept(mut self, accept: &'a str) -> Self {
        self.accept = Some(accept);
        self
    }

    pub fn forwarded_for(mut self, chain: Option<&'a str>) -> Self {
        self.forwarded_for = chain;
        self
    }
}

fn unavailable(service: ServiceName, reason: impl Into<String>) -> Error {
    Error::Unavailable {
        service: service.as_str(),
        reason: reason.into(),
    }
}

impl Backends {
    /// The services at the URLs the settings give them.
    pub fn from_settings(settings: &Settings) -> Self {
        let timeout = Duration::from_secs(settings.http.request_timeout_secs.clamp(1, 20));
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(2))
            .pool_idle_timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Self {
            http,
            registration: settings.service_url(ServiceName::Registration),
            scheduling: settings.service_url(ServiceName::Scheduling),
            notifications: settings.service_url(ServiceName::Notifications),
        }
    }

    fn base(&self, service: ServiceName) -> &str {
        match service {
            ServiceName::Registration => &self.registration,
            ServiceName::Scheduling => &self.scheduling,
            ServiceName::Notifications => &self.notifications,
        }
    }

    /// Sends the call; a success answer is returned as it is (for downloads), an error answer as an [`Error`].
    pub async fn send(&self, call: Call<'_>) -> Result<reqwest::Response, Error> {
        let service = call.service;
        let mut request = self
            .http
            .request(call.method, format!("{}{}", self.base(service), call.path));
        if let Some(token) = call.bearer {
            request = request.bearer_auth(token);
        }
        if let Some(id) = current_request_id() {
            request = request.header(REQUEST_ID, id);
        }
        if let Some(accept) = call.accept {
            request = request.header(reqwest::header::ACCEPT, accept);
        }
        if let Some(chain) = call.forwarded_for {
            request = request.header("x-forwarded-for", chain);
        }
        if let Some(body) = call.body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| unavailable(service, e.to_string()))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        if matches!(status.as_u16(), 502..=504) {
            return Err(unavailable(service, format!("answered {status}")));
        }
        let problem = response.json::<Problem>().await.ok().map(Box::new);
        Err(Error::Backend {
            service: service.as_str(),
            status: status.as_u16(),
            problem,
        })
    }

    /// Sends the call and reads the JSON answer (`null` for an empty one).
    pub async fn json<T: DeserializeOwned>(&self, call: Call<'_>) -> Result<T, Error> {
        let service = call.service;
        let response = self.send(call).await?;
        let bytes = response
            .bytes()
            .await
            .map_err(|e| unavailable(service, e.to_string()))?;
        let bytes: &[u8] = if bytes.is_empty() { b"null" } else { &bytes };
        serde_json::from_slice(bytes).map_err(|e| Error::Decode {
            service: service.as_str(),
            reason: e.to_string(),
        })
    }

    /// Sends the call, ignoring the answer's body.
    pub async fn done(&self, call: Call<'_>) -> Result<(), Error> {
        self.send(call).await.map(drop)
    }
}
