//! Webhook steps of flowbot: sending a rendered request, classifying the response, secrets and
//! path suggestions.
//!
//! A rendered [`WebhookRequest`] goes through [`Client::send`], which returns the response's JSON
//! or a [`WebhookError`] fit to be stored in the step's failure variable (S11, S16).
//! [`suggest_paths`] lists the paths an author can pick in that JSON.
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::time::Duration;
//! use flow_http::{Client, ClientConfig, Method, Secrets, WebhookRequest};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let secrets = Arc::new(Secrets::load(None)?);
//! let client = Client::new(ClientConfig::for_version("1.2.0"))?.with_secrets(secrets.clone());
//! let token = secrets.get("SHOP_TOKEN").unwrap_or_default();
//! let request = WebhookRequest::new("fetch_products", Method::Get, "https://shop.example/products")
//!     .with_header("Authorization", format!("Bearer {token}"))
//!     .with_timeout(Duration::from_secs(5))
//!     .with_accept("2xx".parse()?);
//! match client.send(&request).await {
//!     Ok(response) => {
//!         for suggestion in flow_http::suggest_paths(&response.body) {
//!             println!("{}  {}", suggestion.path, suggestion.preview);
//!         }
//!     }
//!     // Reads e.g. `BadResponse: Invalid response status: 404`.
//!     Err(error) => println!("{error}"),
//! }
//! # Ok(())
//! # }
//! ```

mod classify;
mod client;
mod encode;
mod error;
mod request;
mod secrets;
mod suggest;

pub use classify::classify;
pub use client::{
    user_agent, Client, ClientBuildError, ClientConfig, RawResponse, Response, DEFAULT_USER_AGENT,
};
pub use error::{error_body, ErrorKind, UnknownErrorKind, WebhookError, ERROR_BODY_MAX_CHARS};
pub use request::{format_duration, RequestBody, WebhookRequest, DEFAULT_TIMEOUT};
// The flow model's types a request is made of, so that a caller of the client can name them
// without naming flow-core; they are the same types, not copies.
pub use flow_core::flow::{AcceptStatus, AcceptStatusError, Method, MethodError};
pub use secrets::{Secrets, SecretsError, ENV_PREFIX, MASK};
pub use suggest::{suggest_paths, PathSuggestion, MAX_DEPTH, MAX_SUGGESTIONS, PREVIEW_MAX_CHARS};
