//! Calling another Cloverleaf service: JSON over HTTP with a service token for that service, the current request's
//! `x-request-id`, a timeout, and — for idempotent calls only — retries with backoff on failures that may pass
//! (connection refused, timeouts, 502/503/504, 429).

use std::sync::Arc;
use std::time::Duration;

use cloverleaf_auth::{AuthError, ServiceTokens};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Problem;
use crate::config::ServiceName;
use crate::observe::{REQUEST_ID, current_request_id};
use crate::retry::{RetryPolicy, Verdict};

/// The longest pause between two tries of one call.
const LONGEST_PAUSE: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{service} is unreachable: {reason}")]
    Unreachable {
        service: ServiceName,
        reason: String,
    },
    #[error("{service} answered {status}")]
    Status {
        service: ServiceName,
        status: StatusCode,
        problem: Option<Box<Problem>>,
    },
    #[error("{service} answered something unreadable: {reason}")]
    Decode {
        service: ServiceName,
        reason: String,
    },
    #[error("no service token: {0}")]
    Token(#[from] AuthError),
}

impl ClientError {
    /// The answer was 404.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Status { status, .. } if *status == StatusCode::NOT_FOUND)
    }

    /// The other service could not be asked (down, overloaded, too slow): the caller should answer 503.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Unreachable { .. } => true,
            Self::Status { status, .. } => retryable(*status),
            _ => false,
        }
    }
}

#[derive(Clone)]
pub struct ServiceClient {
    service: ServiceName,
    base_url: String,
    http: reqwest::Client,
    tokens: Arc<ServiceTokens>,
    /// For idempotent calls only; the others are tried once.
    retry: RetryPolicy,
}

impl std::fmt::Debug for ServiceClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceClient")
            .field("service", &self.service)
            .field("base_url", &self.base_url)
            .finish()
    }
}

fn http_client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(2))
        .pool_idle_timeout(Duration::from_secs(30))
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

fn retryable(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::BAD_GATEWAY
            | StatusCode::SERVICE_UNAVAILABLE
            | StatusCode::GATEWAY_TIMEOUT
            | StatusCode::TOO_MANY_REQUESTS
    )
}

impl ServiceClient {
    pub fn new(
        service: ServiceName,
        base_url: impl Into<String>,
        tokens: Arc<ServiceTokens>,
    ) -> Self {
        let http = http_client(Duration::from_secs(5));
        Self {
            service,
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            http,
            tokens,
            retry: RetryPolicy::new(3, Duration::from_millis(100), LONGEST_PAUSE),
        }
    }

    /// How many times an idempotent call is tried, and the first pause between tries (doubled each time).
    pub fn with_retries(mut self, attempts: u32, backoff: Duration) -> Self {
        self.retry = RetryPolicy::new(attempts.max(1), backoff, LONGEST_PAUSE);
        self
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.http = http_client(timeout);
        self
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        self.call::<(), T>(Method::GET, path, None, true).await
    }

    /// A POST that may be repeated safely (the receiver ignores repeats, like `/v1/inbox`), so it is retried.
    pub async fn post_json_idempotent<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        self.call(Method::POST, path, Some(body), true).await
    }

    pub async fn post_json<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        self.call(Method::POST, path, Some(body), false).await
    }

    async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
        idempotent: bool,
    ) -> Result<T, ClientError> {
        let judge = |outcome: &Result<T, ClientError>| match outcome {
            Err(error) if idempotent && error.is_unavailable() => {
                tracing::debug!(service = %self.service, %path, %error, "retrying");
                Verdict::Retry
            }
            _ => Verdict::Done,
        };
        self.retry
            .run(|_| self.once(method.clone(), path, body), judge)
            .await
    }

    async fn once<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, ClientError> {
        let token = self.tokens.token_for(self.service.audience())?;
        let mut request = self
            .http
            .request(method, format!("{}{}", self.base_url, path))
            .bearer_auth(token);
        if let Some(id) = current_request_id() {
            request = request.header(REQUEST_ID, id);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let service = self.service;
        let response = request.send().await.map_err(|e| ClientError::Unreachable {
            service,
            reason: e.to_string(),
        })?;
        let status = response.status();
        if !status.is_success() {
            let problem = response.json::<Problem>().await.ok().map(Box::new);
            return Err(ClientError::Status {
                service,
                status,
                problem,
            });
        }
        response.json::<T>().await.map_err(|e| ClientError::Decode {
            service,
            reason: e.to_string(),
        })
    }
}
