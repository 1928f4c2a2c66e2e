//! The public endpoints under `/public/v1`: what the web chat and the widget call, without a
//! token, for the bots the operator opened with `--public-bot`.
//!
//! A public client gets less than a channel does: the server makes the conversation id (a
//! random UUID v4), the client cannot preset variables, it can only send messages and follow
//! outputs, and each peer address is held to a rate limit. CORS lets any site call them.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::{header, HeaderName, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::Deserialize;
use serde_json::Value;
use tower_http::cors::{Any, CorsLayer};

use super::{answer_response, check_message, follow_outputs, parse_body, parse_optional_body};
use super::{path_error, OutputsQuery};
use crate::error::ApiError;
use crate::store::{ConversationKey, Store};
use crate::AppState;

/// Which bots are public, and the rate limit their endpoints keep per peer address.
pub struct PublicAccess {
    bots: HashSet<String>,
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    checks: AtomicU64,
}

impl std::fmt::Debug for PublicAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublicAccess")
            .field("bots", &self.bots)
            .finish_non_exhaustive()
    }
}

/// The default rate limit: requests per minute from one address to the public endpoints.
pub const DEFAULT_RATE_PER_MINUTE: u32 = 60;

/// Past this many addresses remembered, the limiter forgets those whose allowance is full again.
const FORGET_ABOVE: usize = 10_000;

/// How often (in requests) the limiter looks whether it should forget: forgetting walks every
/// address, which must not happen at each request of a crowd.
const FORGET_EVERY: u64 = 1024;

impl Default for PublicAccess {
    fn default() -> Self {
        PublicAccess::new(Vec::<String>::new(), DEFAULT_RATE_PER_MINUTE)
    }
}

impl PublicAccess {
    /// `bots` open to the public endpoints, each address allowed `per_minute` requests a
    /// minute (a burst of as many, then one every `60 / per_minute` s; 0 is taken as 1).
    pub fn new(bots: impl IntoIterator<Item = impl Into<String>>, per_minute: u32) -> Self {
        let per_minute = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        PublicAccess {
            bots: bots.into_iter().map(Into::into).collect(),
            limiter: RateLimiter::keyed(Quota::per_minute(per_minute)),
            checks: AtomicU64::new(0),
        }
    }

    /// True when `bot` was opened with `--public-bot`.
    pub fn is_public(&self, bot: &str) -> bool {
        self.bots.contains(bot)
    }

    /// The public bots, in no order.
    pub fn bots(&self) -> impl Iterator<Item = &str> {
        self.bots.iter().map(String::as_str)
    }

    /// Counts one request from `address`; `rate_limited` with the seconds to wait when it is
    /// over the limit.
    fn check_rate(&self, address: IpAddr) -> Result<(), ApiError> {
        let checks = self.checks.fetch_add(1, Ordering::Relaxed);
        if checks.is_multiple_of(FORGET_EVERY) && self.limiter.len() > FORGET_ABOVE {
            self.limiter.retain_recent();
        }
        self.limiter.check_key(&address).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            ApiError::RateLimited {
                retry_after: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
            }
        })
    }
}

/// The router of `/public/v1`: rate-limited, with CORS for any origin (preflights are answered
/// before the limit, and never count). It is a service of its own, so that the CORS layer sees
/// a preflight before any method routing does.
pub fn router<S: Store>(state: Arc<AppState<S>>) -> axum::Router {
    use axum::routing::{get, post};
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE])
        .expose_headers([
            header::RETRY_AFTER,
            HeaderName::from_static("idempotent-replay"),
        ])
        .max_age(std::time::Duration::from_secs(3600));
    axum::Router::new()
        .route("/bots/{bot}/conversations", post(start::<S>))
        .route(
            "/bots/{bot}/conversations/{conversation}/messages",
            post(message::<S>),
        )
        .route(
            "/bots/{bot}/conversations/{conversation}/outputs",
            get(outputs::<S>),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            rate_limit::<S>,
        ))
        .fallback(super::not_found)
        .method_not_allowed_fallback(super::method_not_allowed)
        .with_state(state)
        .layer(cors)
}

/// Holds each peer address to the limit. Behind a reverse proxy every client has the proxy's
/// address (docs/web-chat.md says what to do).
async fn rate_limit<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    request: Request,
    next: Next,
) -> Response {
    let address = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip());
    match state.public.check_rate(address) {
        Ok(()) => next.run(request).await,
        Err(error) => {
            tracing::debug!(%address, "public endpoint: rate limited");
            crate::metrics::public_rate_limited();
            error.into_response()
        }
    }
}

/// `unknown_bot` unless `bot` is public and running; no did-you-mean, which would name bots
/// that are not public.
pub(super) fn check_public_bot<S: Store>(state: &AppState<S>, bot: &str) -> Result<(), ApiError> {
    match state.public.is_public(bot) && state.engine.check_bot(bot).is_ok() {
        true => Ok(()),
        false => Err(ApiError::UnknownBot {
            bot: bot.to_owned(),
            suggestion: None,
        }),
    }
}

/// True for the ids the public start makes: a UUID v4, hyphenated, lowercase.
fn is_public_id(id: &str) -> bool {
    uuid::Uuid::try_parse(id)
        .is_ok_and(|uuid| uuid.get_version_num() == 4 && uuid.hyphenated().to_string() == id)
}

/// The `{bot}` and `{conversation}` of a public path: a public bot and an id of the form the
/// server makes (anything else is `unknown_conversation`, so a public client never reaches a
/// conversation a channel named).
fn public_key<S: Store>(
    state: &AppState<S>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<ConversationKey, ApiError> {
    let Path((bot, id)) = path.map_err(path_error)?;
    check_public_bot(state, &bot)?;
    if !is_public_id(&id) {
        return Err(ApiError::UnknownConversation { bot, id });
    }
    Ok(ConversationKey::new(&bot, &id))
}

/// `POST /public/v1/bots/{bot}/conversations`: empty, or an object without `id` and
/// `variables`, which a public client may not choose.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublicStartRequest {
    /// Refused: the server makes the id.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    id: Option<Value>,
    /// Refused: a public client cannot preset variables.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    variables: Option<Value>,
}

/// `POST .../messages` on the public endpoints: a message, with no presets.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublicMessageRequest {
    /// What the user wrote.
    text: String,
    /// A message id the page makes per message: a retried send gets the stored answer.
    #[serde(default)]
    id: Option<String>,
    /// Refused: a public client cannot preset variables.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    variables: Option<Value>,
}

fn no_presets(variables: &Option<Value>) -> Result<(), ApiError> {
    match variables {
        Some(_) => Err(ApiError::InvalidRequest(
            "`variables` cannot be preset through the public endpoints".to_owned(),
        )),
        None => Ok(()),
    }
}

/// Starts a conversation of a public bot, with an id the server makes.
#[utoipa::path(post, path = "/public/v1/bots/{bot}/conversations", security(()),
    params(("bot" = String, Path, description = "A bot opened with `--public-bot`")),
    request_body(content = Option<PublicStartRequest>, description = "Empty: the server makes the id"),
    responses(
        (status = 201, description = "Started; same body as a turn, with the new id in `conversation`", body = crate::wire::TurnAnswerDoc),
        (status = 400, description = "Bad body, or an `id` or `variables` given", body = crate::wire::ErrorBody),
        (status = 404, description = "No such public bot", body = crate::wire::ErrorBody),
        (status = 413, description = "Over a limit", body = crate::wire::ErrorBody),
        (status = 429, description = "Too many requests from this address; see `Retry-After`", body = crate::wire::ErrorBody),
    ))]
pub(super) async fn start<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    path: Result<Path<String>, PathRejection>,
    body: Body,
) -> Result<Response, ApiError> {
    let Path(bot) = path.map_err(path_error)?;
    check_public_bot(&state, &bot)?;
    let limit = state.engine.limits().max_body_bytes;
    let request: PublicStartRequest = parse_optional_body(body, limit).await?;
    if request.id.is_some() {
        return Err(ApiError::InvalidRequest(
            "`id`: a public conversation's id is made by the server; send no `id`".to_owned(),
        ));
    }
    no_presets(&request.variables)?;
    let id = uuid::Uuid::new_v4().to_string();
    let answer = state
        .engine
        .start(ConversationKey::new(&bot, &id), None)
        .await?;
    Ok(answer_response(StatusCode::CREATED, answer))
}

/// Runs a turn of a public conversation the server made.
#[utoipa::path(post, path = "/public/v1/bots/{bot}/conversations/{conversation}/messages", security(()),
    params(
        ("bot" = String, Path, description = "A bot opened with `--public-bot`"),
        ("conversation" = String, Path, description = "An id the public start made"),
    ),
    request_body = PublicMessageRequest,
    responses(
        (status = 200, description = "The turn's outputs; `Idempotent-Replay: true` for a repeated message id", body = crate::wire::TurnAnswerDoc),
        (status = 400, description = "Bad body or path", body = crate::wire::ErrorBody),
        (status = 404, description = "No such public bot, or no such conversation", body = crate::wire::ErrorBody),
        (status = 413, description = "Over a limit", body = crate::wire::ErrorBody),
        (status = 429, description = "Too many requests from this address; see `Retry-After`", body = crate::wire::ErrorBody),
    ))]
pub(super) async fn message<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    path: Result<Path<(String, String)>, PathRejection>,
    body: Body,
) -> Result<Response, ApiError> {
    let key = public_key(&state, path)?;
    let limits = state.engine.limits();
    let request: PublicMessageRequest = parse_body(body, limits.max_body_bytes).await?;
    no_presets(&request.variables)?;
    check_message(limits, &request.text, request.id.as_deref())?;
    // Only the public start makes a conversation: a message never creates one with an id the
    // client chose.
    let answer = state
        .engine
        .message_to_stored(key, request.text, request.id)
        .await?;
    Ok(answer_response(StatusCode::OK, answer))
}

/// The outputs of a public conversation after a `seq`, held until there is one with `wait`.
#[utoipa::path(get, path = "/public/v1/bots/{bot}/conversations/{conversation}/outputs", security(()),
    params(
        ("bot" = String, Path, description = "A bot opened with `--public-bot`"),
        ("conversation" = String, Path, description = "An id the public start made"),
        OutputsQuery,
    ),
    responses(
        (status = 200, description = "The outputs, oldest first", body = crate::wire::OutputsPageDoc),
        (status = 400, description = "Bad path or query", body = crate::wire::ErrorBody),
        (status = 404, description = "No such public bot, or no such conversation", body = crate::wire::ErrorBody),
        (status = 429, description = "Too many requests from this address; see `Retry-After`", body = crate::wire::ErrorBody),
        (status = 503, description = "The server is shutting down", body = crate::wire::ErrorBody),
    ))]
pub(super) async fn outputs<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    path: Result<Path<(String, String)>, PathRejection>,
    query: Result<Query<OutputsQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let key = public_key(&state, path)?;
    follow_outputs(&state, key, query).await
}

#[cfg(test)]
mod tests;
