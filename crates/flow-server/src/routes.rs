//! The HTTP API: one handler per endpoint of the contract, the bearer-token check on `/v1`,
//! and the OpenAPI document derived from the handlers.
//!
//! The public endpoints of the web chat are in `public`, its page and assets in `web`.
//!
//! Handlers read bodies and path parameters themselves, so that every refusal, a body that is
//! not JSON included, gets the contract's error body instead of axum's plain text.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use http_body_util::BodyExt;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;
use utoipa::OpenApi;

use crate::engine::Answer;
use crate::error::ApiError;
use crate::store::{ConversationKey, Store};
use crate::wire::{self, BotsList, ConversationView, Health, MessageRequest, StartRequest};
use crate::AppState;

pub mod public;
mod web;

/// The longest a `GET .../outputs` is held waiting.
const MAX_WAIT: Duration = Duration::from_secs(30);

/// The router of the whole API over `state`.
pub fn router<S: Store>(state: Arc<AppState<S>>) -> Router {
    let v1 = Router::new()
        .route("/bots", get(list_bots::<S>))
        .route("/bots/{bot}/conversations", post(start::<S>))
        .route(
            "/bots/{bot}/conversations/{conversation}",
            get(show::<S>).delete(delete::<S>),
        )
        .route(
            "/bots/{bot}/conversations/{conversation}/messages",
            post(message::<S>),
        )
        .route(
            "/bots/{bot}/conversations/{conversation}/outputs",
            get(outputs::<S>),
        )
        .route("/admin/reload", post(reload::<S>))
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(&state),
            authorize::<S>,
        ));
    Router::new()
        .nest("/v1", v1)
        .nest_service("/public/v1", public::router(Arc::clone(&state)))
        .route("/chat/{bot}", get(web::chat_page::<S>))
        .route("/widget.js", get(web::widget))
        .route("/assets/{name}", get(web::asset))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz::<S>))
        .route("/metrics", get(metrics_text))
        .route("/openapi.json", get(openapi_json))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

/// The OpenAPI 3 document of the API, from the handlers' annotations and the wire types.
#[derive(OpenApi)]
#[openapi(
    info(title = "flowbot", description = "Runs chatbot flows: one turn per user message, stored durably before it is answered."),
    paths(
        list_bots, start, show, delete, message, outputs, reload,
        public::start, public::message, public::outputs,
        healthz, readyz, metrics_text, openapi_json
    ),
    components(schemas(
        public::PublicStartRequest, public::PublicMessageRequest,
        wire::MessageRequest, wire::StartRequest, wire::TurnAnswerDoc, wire::OutputDoc,
        wire::OutputsPageDoc, wire::ConversationView, wire::BotInfo, wire::BotsList,
        wire::ErrorBody, wire::ErrorDetail, wire::Health
    )),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

async fn authorize<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    request: Request,
    next: Next,
) -> Response {
    if state.tokens.is_empty() {
        return next.run(request).await;
    }
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim);
    let accepted = given.is_some_and(|given| {
        state
            .tokens
            .iter()
            .any(|token| constant_time_eq(token.as_bytes(), given.as_bytes()))
    });
    if accepted {
        next.run(request).await
    } else {
        let mut response = ApiError::Unauthorized.into_response();
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        response
    }
}

/// Compares without stopping at the first difference, so that timing tells nothing of a token.
fn constant_time_eq(left: &[u8], right: &[u8]) -> bool {
    if left.len() != right.len() {
        return false;
    }
    left.iter()
        .zip(right)
        .fold(0u8, |difference, (a, b)| difference | (a ^ b))
        == 0
}

/// Reads a request body of at most `limit` bytes. A larger one is `too_large`, after the rest
/// of it (up to [`DRAIN_LIMIT`]) is read and dropped: a client still sending its body would
/// otherwise see the connection break instead of the answer.
async fn read_body(body: Body, limit: usize) -> Result<Bytes, ApiError> {
    let mut body = body;
    let mut kept = Vec::new();
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|error| {
            ApiError::InvalidRequest(format!("the body could not be read: {error}"))
        })?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        total = total.saturating_add(data.len());
        if total <= limit {
            kept.extend_from_slice(&data);
        } else if total > DRAIN_LIMIT {
            break;
        }
    }
    if total > limit {
        return Err(ApiError::TooLarge(format!(
            "the request body is over the server's limit of {limit} bytes"
        )));
    }
    Ok(Bytes::from(kept))
}

/// The most of an oversized body read before the connection is given up on.
const DRAIN_LIMIT: usize = 16 * 1024 * 1024;

/// A JSON body read into `T`: not JSON is `invalid_json`, the wrong shape `invalid_request`,
/// over the limit `too_large`.
async fn parse_body<T: DeserializeOwned>(body: Body, limit: usize) -> Result<T, ApiError> {
    let body = read_body(body, limit).await?;
    parse_json(&body)
}

fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    // serde_json alone says "invalid type: integer `5`, expected a string" without the field;
    // the path to the error names it, as the contract asks.
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let field = error.path().to_string();
        let error = error.into_inner();
        match error.classify() {
            serde_json::error::Category::Data if field != "." => {
                ApiError::InvalidRequest(format!("`{field}`: {error}"))
            }
            serde_json::error::Category::Data => ApiError::InvalidRequest(error.to_string()),
            _ => ApiError::InvalidJson(error.to_string()),
        }
    })?;
    deserializer
        .end()
        .map_err(|error| ApiError::InvalidJson(error.to_string()))?;
    Ok(value)
}

/// The body of an optional JSON object: empty means the defaults.
async fn parse_optional_body<T: DeserializeOwned + Default>(
    body: Body,
    limit: usize,
) -> Result<T, ApiError> {
    let body = read_body(body, limit).await?;
    match body.iter().all(u8::is_ascii_whitespace) {
        true => Ok(T::default()),
        // The document makes the body optional, which OpenAPI 3.1 reads as "may be `null`".
        false => parse_json::<Option<T>>(&body).map(Option::unwrap_or_default),
    }
}

/// The `{bot}` and `{conversation}` of a path, checked.
fn conversation_key<S: Store>(
    state: &AppState<S>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<ConversationKey, ApiError> {
    let Path((bot, id)) = path.map_err(path_error)?;
    state.engine.check_bot(&bot)?;
    check_conversation_id(state, &id)?;
    Ok(ConversationKey::new(&bot, &id))
}

fn check_conversation_id<S: Store>(state: &AppState<S>, id: &str) -> Result<(), ApiError> {
    let max = state.engine.limits().max_conversation_id_bytes;
    if id.is_empty() || id.len() > max {
        return Err(ApiError::InvalidRequest(format!(
            "a conversation id is 1 to {max} bytes of UTF-8; this one is {} bytes",
            id.len()
        )));
    }
    if id.chars().any(char::is_control) {
        return Err(ApiError::InvalidRequest(
            "a conversation id cannot hold control characters".to_owned(),
        ));
    }
    Ok(())
}

fn path_error(rejection: PathRejection) -> ApiError {
    ApiError::InvalidRequest(format!("the path is not valid: {}", rejection.body_text()))
}

fn json_response(status: StatusCode, body: String) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}

fn answer_response(status: StatusCode, answer: Answer) -> Response {
    let mut response = json_response(status, answer.body);
    if answer.replay {
        response
            .headers_mut()
            .insert("idempotent-replay", HeaderValue::from_static("true"));
    }
    response
}

/// Lists the bots.
#[utoipa::path(get, path = "/v1/bots", responses(
    (status = 200, description = "The bots running", body = BotsList),
    (status = 401, description = "No token or a wrong one", body = wire::ErrorBody),
))]
async fn list_bots<S: Store>(State(state): State<Arc<AppState<S>>>) -> Json<BotsList> {
    Json(BotsList {
        bots: state.engine.running().bots.list.clone(),
    })
}

/// Starts a conversation explicitly.
#[utoipa::path(post, path = "/v1/bots/{bot}/conversations",
    params(("bot" = String, Path, description = "The bot")),
    request_body(content = Option<StartRequest>, description = "Both fields optional"),
    responses(
        (status = 201, description = "Started; same body as a turn", body = wire::TurnAnswerDoc),
        (status = 400, description = "Bad body", body = wire::ErrorBody),
        (status = 401, description = "No token or a wrong one", body = wire::ErrorBody),
        (status = 404, description = "No such bot", body = wire::ErrorBody),
        (status = 409, description = "A conversation with that id is running", body = wire::ErrorBody),
        (status = 413, description = "Over a limit", body = wire::ErrorBody),
        (status = 422, description = "A preset does not fit its variable", body = wire::ErrorBody),
    ))]
async fn start<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    path: Result<Path<String>, PathRejection>,
    body: Body,
) -> Result<Response, ApiError> {
    let Path(bot) = path.map_err(path_error)?;
    state.engine.check_bot(&bot)?;
    let limit = state.engine.limits().max_body_bytes;
    let request: StartRequest = parse_optional_body(body, limit).await?;
    let id = match request.id {
        Some(id) => {
            check_conversation_id(&state, &id)?;
            id
        }
        None => uuid::Uuid::new_v4().to_string(),
    };
    let key = ConversationKey::new(&bot, &id);
    let answer = state.engine.start(key, request.variables).await?;
    let mut response = answer_response(StatusCode::CREATED, answer);
    let location = format!(
        "/v1/bots/{}/conversations/{}",
        flow_http::percent_encode(&bot, false),
        flow_http::percent_encode(&id, false)
    );
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// Runs a turn with the user's message.
#[utoipa::path(post, path = "/v1/bots/{bot}/conversations/{conversation}/messages",
    params(
        ("bot" = String, Path, description = "The bot"),
        ("conversation" = String, Path, description = "The conversation id, 1 to 200 bytes"),
    ),
    request_body = MessageRequest,
    responses(
        (status = 200, description = "The turn's outputs; `Idempotent-Replay: true` for a repeated message id", body = wire::TurnAnswerDoc),
        (status = 400, description = "Bad body or path", body = wire::ErrorBody),
        (status = 401, description = "No token or a wrong one", body = wire::ErrorBody),
        (status = 404, description = "No such bot", body = wire::ErrorBody),
        (status = 413, description = "Over a limit", body = wire::ErrorBody),
        (status = 422, description = "A preset does not fit its variable", body = wire::ErrorBody),
    ))]
async fn message<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    path: Result<Path<(String, String)>, PathRejection>,
    body: Body,
) -> Result<Response, ApiError> {
    let key = conversation_key(&state, path)?;
    let limits = state.engine.limits();
    let request: MessageRequest = parse_body(body, limits.max_body_bytes).await?;
    check_message(limits, &request.text, request.id.as_deref())?;
    let answer = state
        .engine
        .message(key, request.text, request.id, request.variables)
        .await?;
    Ok(answer_response(StatusCode::OK, answer))
}

/// A message's text and id checked against the limits.
fn check_message(
    limits: &crate::RequestLimits,
    text: &str,
    message_id: Option<&str>,
) -> Result<(), ApiError> {
    let chars = text.chars().count();
    if chars > limits.max_text_chars {
        return Err(ApiError::TooLarge(format!(
            "`text` is {chars} characters, over the limit of {}",
            limits.max_text_chars
        )));
    }
    if let Some(message_id) = message_id {
        if message_id.is_empty() || message_id.len() > limits.max_message_id_bytes {
            return Err(ApiError::InvalidRequest(format!(
                "`id` is 1 to {} bytes; this one is {} bytes",
                limits.max_message_id_bytes,
                message_id.len()
            )));
        }
    }
    Ok(())
}

/// Shows a conversation.
#[utoipa::path(get, path = "/v1/bots/{bot}/conversations/{conversation}",
    params(
        ("bot" = String, Path, description = "The bot"),
        ("conversation" = String, Path, description = "The conversation id"),
    ),
    responses(
        (status = 200, description = "The conversation", body = ConversationView),
        (status = 400, description = "Bad path", body = wire::ErrorBody),
        (status = 401, description = "No token or a wrong one", body = wire::ErrorBody),
        (status = 404, description = "No such bot or conversation", body = wire::ErrorBody),
    ))]
async fn show<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Json<ConversationView>, ApiError> {
    let key = conversation_key(&state, path)?;
    let stored = state
        .engine
        .conversation(&key)
        .await?
        .ok_or_else(|| unknown_conversation(&key))?;
    let conversation = &stored.conversation;
    let secrets = state.engine.secrets();
    let mut variables = serde_json::Map::new();
    for name in [
        flow_core::flow::LAST_USER_ANSWER,
        flow_core::flow::LAST_WEBHOOK_SUCCESS,
        flow_core::flow::LAST_WEBHOOK_FAILURE,
    ] {
        if let Some(value) = conversation.variable(name) {
            variables.insert(name.to_owned(), secrets.redact_json(&value));
        }
    }
    for (name, value) in conversation.variables() {
        variables.insert(name.to_string(), secrets.redact_json(value));
    }
    Ok(Json(ConversationView {
        bot: key.bot.clone(),
        conversation: key.id.to_string(),
        status: conversation.status().as_str().to_owned(),
        block: conversation.cursor().as_str().to_owned(),
        variables,
        revision: conversation.revision(),
        created_at: wire::rfc3339(stored.created_at),
        updated_at: wire::rfc3339(stored.updated_at),
    }))
}

fn unknown_conversation(key: &ConversationKey) -> ApiError {
    ApiError::UnknownConversation {
        bot: key.bot.clone(),
        id: key.id.to_string(),
    }
}

/// Deletes a conversation with its outputs and records.
#[utoipa::path(delete, path = "/v1/bots/{bot}/conversations/{conversation}",
    params(
        ("bot" = String, Path, description = "The bot"),
        ("conversation" = String, Path, description = "The conversation id"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Bad path", body = wire::ErrorBody),
        (status = 401, description = "No token or a wrong one", body = wire::ErrorBody),
        (status = 404, description = "No such bot or conversation", body = wire::ErrorBody),
    ))]
async fn delete<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let key = conversation_key(&state, path)?;
    match state.engine.delete(&key).await? {
        true => Ok(StatusCode::NO_CONTENT),
        false => Err(unknown_conversation(&key)),
    }
}

/// The query of the outputs endpoint.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct OutputsQuery {
    /// Outputs with a `seq` greater than this (default 0: all).
    #[serde(default)]
    after: u64,
    /// Seconds to hold the request until there is one (at most 30; default 0).
    #[serde(default)]
    #[param(minimum = 0.0)]
    wait: f64,
}

/// The outputs after a `seq`, held until there is one with `wait`.
#[utoipa::path(get, path = "/v1/bots/{bot}/conversations/{conversation}/outputs",
    params(
        ("bot" = String, Path, description = "The bot"),
        ("conversation" = String, Path, description = "The conversation id"),
        OutputsQuery,
    ),
    responses(
        (status = 200, description = "The outputs, oldest first", body = wire::OutputsPageDoc),
        (status = 400, description = "Bad path or query", body = wire::ErrorBody),
        (status = 401, description = "No token or a wrong one", body = wire::ErrorBody),
        (status = 404, description = "No such bot or conversation", body = wire::ErrorBody),
    ))]
async fn outputs<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    path: Result<Path<(String, String)>, PathRejection>,
    query: Result<Query<OutputsQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let key = conversation_key(&state, path)?;
    follow_outputs(&state, key, query).await
}

/// The outputs page of `key` as the query asks, held while the query's `wait` allows.
async fn follow_outputs<S: Store>(
    state: &AppState<S>,
    key: ConversationKey,
    query: Result<Query<OutputsQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|rejection| {
        ApiError::InvalidRequest(format!("the query is not valid: {}", rejection.body_text()))
    })?;
    if !query.wait.is_finite() || query.wait < 0.0 {
        return Err(ApiError::InvalidRequest(
            "`wait` is a number of seconds from 0 to 30".to_owned(),
        ));
    }
    let wait = Duration::from_secs_f64(query.wait.min(MAX_WAIT.as_secs_f64()));
    let mut stop = state.stop.clone();
    let page = tokio::select! {
        page = state.engine.outputs(&key, query.after, wait) => page?,
        _ = stop.changed() => return Err(ApiError::ShuttingDown),
    };
    match page {
        Some(body) => Ok(json_response(StatusCode::OK, body)),
        None => Err(unknown_conversation(&key)),
    }
}

/// Loads the flows again; refused whole when they have errors.
#[utoipa::path(post, path = "/v1/admin/reload", responses(
    (status = 200, description = "The bots now running", body = BotsList),
    (status = 401, description = "No token or a wrong one", body = wire::ErrorBody),
    (status = 422, description = "The flows have errors; the old bots keep serving", body = wire::ErrorBody),
))]
async fn reload<S: Store>(
    State(state): State<Arc<AppState<S>>>,
) -> Result<Json<BotsList>, ApiError> {
    let bots = state.reload()?;
    Ok(Json(BotsList { bots }))
}

/// The process is alive.
#[utoipa::path(get, path = "/healthz", security(()), responses(
    (status = 200, description = "Alive", body = Health),
))]
async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// The flows are loaded and the store answers.
#[utoipa::path(get, path = "/readyz", security(()), responses(
    (status = 200, description = "Ready", body = Health),
    (status = 503, description = "Not ready, or shutting down", body = wire::ErrorBody),
))]
async fn readyz<S: Store>(State(state): State<Arc<AppState<S>>>) -> Result<Json<Health>, ApiError> {
    if *state.stop.borrow() {
        return Err(ApiError::ShuttingDown);
    }
    state
        .engine
        .store()
        .ping()
        .await
        .map_err(|error| ApiError::NotReady(format!("the store does not answer: {error}")))?;
    Ok(Json(Health { status: "ok" }))
}

/// The metrics, in Prometheus text.
#[utoipa::path(get, path = "/metrics", security(()), responses(
    (status = 200, description = "Prometheus text exposition", content_type = "text/plain"),
))]
async fn metrics_text() -> Response {
    let text = crate::metrics::handle()
        .map(|handle| handle.render())
        .unwrap_or_default();
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        text,
    )
        .into_response()
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", security(()), responses(
    (status = 200, description = "The OpenAPI document of the API", content_type = "application/json"),
))]
async fn openapi_json() -> Response {
    json_response(
        StatusCode::OK,
        ApiDoc::openapi().to_json().unwrap_or_default(),
    )
}

async fn not_found() -> Response {
    let body = serde_json::json!({"error": {"code": "not_found", "message": "there is no such endpoint; see /openapi.json"}});
    json_response(StatusCode::NOT_FOUND, body.to_string())
}

async fn method_not_allowed() -> Response {
    let body: Value = serde_json::json!({"error": {"code": "method_not_allowed", "message": "this endpoint does not take that method; see /openapi.json"}});
    json_response(StatusCode::METHOD_NOT_ALLOWED, body.to_string())
}

#[cfg(test)]
mod tests;
