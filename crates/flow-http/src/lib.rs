//! Webhook steps of flowbot: rendering the request, sending it, classifying the response,
//! storing parts of it, secrets and path suggestions.
//!
//! A step goes through four functions, of which only [`Client::send`] does I/O:
//! [`build_request`] renders the step's templates into a [`WebhookRequest`], encoding every
//! value for the place it lands in (S9); [`Client::send`] sends it and returns the response's
//! JSON, or a [`WebhookError`] fit to be stored in the step's failure variable (S11, S16);
//! [`extract`] applies the step's saves to that JSON, all or nothing (S15).
//! [`suggest_paths`] lists the paths an author can pick in a response.
//! [`ClientConfig::address_policy`] decides which addresses a webhook may reach: any
//! ([`AddressPolicy::Open`], the default) or public ones and an allow list
//! ([`AddressPolicy::PublicOnly`], for a server whose bots must stay out of its network).
//!
//! ```no_run
//! use std::borrow::Cow;
//! use std::sync::Arc;
//! use flow_core::flow::BlockKind;
//! use flow_http::{build_request, extract, Client, ClientConfig, Secrets};
//! use serde_json::json;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let source = r#"
//! bot: shop
//! blocks:
//!   fetch:
//!     webhook:
//!       url: https://shop.example/products
//!       headers: {Authorization: "Bearer {{secret.SHOP_TOKEN}}"}
//!       query: {user: "{{name}}"}
//!       save: [{path: "products.flatMap(item => item.title)", to: titles}]
//!     next: done
//!   done:
//!     end: Bye
//! "#;
//! let flow = flow_core::load(source).flow.unwrap();
//! let BlockKind::Webhook(webhook) = &flow.block("fetch").unwrap().kind else { unreachable!() };
//! let secrets = Arc::new(Secrets::load(None)?);
//! let client = Client::new(ClientConfig::for_version("1.2.0"))?.with_secrets(secrets.clone());
//! let variables = |name: &str| (name == "name").then(|| Cow::Owned(json!("Jérôme")));
//! let outcome = match build_request("fetch", webhook, &flow.settings().webhook, &variables, &secrets) {
//!     Ok(request) => match client.send(&request).await {
//!         Ok(response) => extract(&webhook.save, &response.body, &|name: &str| {
//!             flow.variables().get(name).and_then(|decl| decl.var_type)
//!         }),
//!         Err(error) => Err(error),
//!     },
//!     Err(error) => Err(error),
//! };
//! match outcome {
//!     // e.g. `[("titles", ["iPhone 9", "iPhone X"])]`
//!     Ok(stored) => println!("{stored:?}"),
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
mod extract;
mod guard;
mod render;
mod request;
mod secrets;
mod suggest;

pub use classify::classify;
pub use client::{
    refused_error, timeout_error, user_agent, Client, ClientBuildError, ClientConfig, RawResponse,
    Response, DEFAULT_USER_AGENT,
};
pub use encode::percent_encode;
pub use error::{
    error_body, truncate_chars, ErrorKind, UnknownErrorKind, WebhookError, ERROR_BODY_MAX_CHARS,
};
pub use extract::extract;
pub use guard::{non_public, AddressPolicy, AllowEntry, AllowEntryError, NonPublic};
pub use render::{build_request, FORM_CONTENT_TYPE};
pub use request::{format_duration, RequestBody, WebhookRequest, DEFAULT_TIMEOUT};
// The flow model's types a request is made of, so that a caller of the client can name them
// without naming flow-core; they are the same types, not copies.
pub use flow_core::flow::{AcceptStatus, AcceptStatusError, Method, MethodError};
pub use secrets::{Secrets, SecretsError, ENV_PREFIX, MASK};
pub use suggest::{suggest_paths, PathSuggestion, MAX_DEPTH, MAX_SUGGESTIONS, PREVIEW_MAX_CHARS};
