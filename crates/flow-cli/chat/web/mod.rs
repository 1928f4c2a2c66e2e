//! `flowbot chat --web`: the simulator as a page in the browser, served on a loopback address.
//!
//! The session is the terminal's own ([`Session`]): the page's text box sends lines as the
//! prompt reads them (messages, `/vars`, `/goto`, `/set`, `/fire`...), and what the session
//! shows becomes entries of the transcript ([`view::WebScreen`]). A webhook step waits in the
//! [`runner::WebRunner`] until the page answers it: a fake success checked as it is typed by
//! the chooser's own check (S18), a fake failure, or the real request. "Save as test" writes
//! the conversation as `--record` would.
//!
//! The page is plain HTML, CSS and a JavaScript module embedded in the binary. Every response
//! carries a strict Content-Security-Policy; requests must name this server in `Host` (no DNS
//! rebinding), and a `POST` must be JSON from this origin (no cross-site form or `fetch`).

mod runner;
mod view;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use flow_core::flow::BlockId;
use flow_core::Project;
use flow_http::{Client, ClientConfig, Secrets, WebhookError};
use flow_runtime::{Executor, HttpRunner};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use super::chooser::{check, failure_response, success_response, Refusal};
use super::commands::{self, short_json};
use super::record::Recorder;
use super::{Go, Screen, Session};
use runner::WebRunner;
use view::{Answer, Shared, View, WebScreen};

/// Where the web simulator listens unless `--listen` says otherwise.
pub(crate) const DEFAULT_LISTEN: SocketAddr =
    SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8090);

const INDEX_HTML: &str = include_str!("page/index.html");
const APP_JS: &str = include_str!("page/app.js");
const APP_CSS: &str = include_str!("page/app.css");

/// Nothing but this server's own files, no inline script or style, no frames.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
                   img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// What `flowbot chat --web` was given.
pub(crate) struct Setup {
    pub(crate) project: Arc<Project>,
    pub(crate) bot: String,
    pub(crate) file: PathBuf,
    pub(crate) presets: Vec<(String, Value)>,
    pub(crate) start: Option<BlockId>,
    pub(crate) secrets: Arc<Secrets>,
    pub(crate) listen: SocketAddr,
}

/// Why the web simulator does not start.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ListenError {
    /// A `--listen` address other machines could reach.
    #[error(
        "the web simulator listens on a loopback address only (127.0.0.1:PORT or [::1]:PORT), \
         not {0}: whoever reaches it can send the bot's webhook requests and write files"
    )]
    NotLoopback(SocketAddr),
}

/// Serves the simulator until the process is stopped.
pub(crate) async fn run(setup: Setup) -> Result<ExitCode> {
    if !setup.listen.ip().is_loopback() {
        return Err(ListenError::NotLoopback(setup.listen).into());
    }
    let listener = tokio::net::TcpListener::bind(setup.listen)
        .await
        .with_context(|| format!("listening on {}", setup.listen))?;
    let address = listener.local_addr()?;
    let app = App::new(setup, address)?;
    app.spawn(Action::Begin)?;
    let router = router(app);
    // One write, so that a reader never sees half the address.
    let line = format!("flowbot chat: listening on http://{address}\n");
    eprint!("{line}");
    axum::serve(listener, router)
        .await
        .context("serving the web simulator")?;
    Ok(ExitCode::SUCCESS)
}

/// The server's state.
#[derive(Clone)]
struct App(Arc<Inner>);

struct Inner {
    session: tokio::sync::Mutex<Session<WebRunner>>,
    shared: Arc<Shared>,
    screen: Arc<dyn Screen>,
    secrets: Arc<Secrets>,
    bot: String,
    file: PathBuf,
    default_test: PathBuf,
    /// `http://ADDRESS`, what `Origin` must be.
    origin: String,
    /// What `Host` may be.
    hosts: Vec<String>,
}

/// What a turn task does.
enum Action {
    Begin,
    Line(String),
}

impl App {
    fn new(setup: Setup, address: SocketAddr) -> Result<App> {
        let shared = Arc::new(Shared::new());
        let screen: Arc<dyn Screen> = Arc::new(WebScreen(shared.clone()));
        let client = Client::new(ClientConfig::default())?.with_secrets(setup.secrets.clone());
        let runner = WebRunner::new(
            HttpRunner::new(client),
            shared.clone(),
            setup.secrets.clone(),
        );
        let executor = Executor::new(setup.project, runner).with_secrets(setup.secrets.clone());
        let recorder = Recorder::in_memory(&setup.file, setup.secrets.clone())?;
        let session = Session {
            executor,
            screen: screen.clone(),
            secrets: setup.secrets.clone(),
            bot: setup.bot.clone(),
            presets: setup.presets,
            start: setup.start,
            state: None,
            n_conversations: 0,
            recorder: Some(recorder),
        };
        let port = address.port();
        let hosts = vec![
            address.to_string(),
            format!("localhost:{port}"),
            format!("127.0.0.1:{port}"),
            format!("[::1]:{port}"),
        ];
        Ok(App(Arc::new(Inner {
            session: tokio::sync::Mutex::new(session),
            shared,
            screen,
            secrets: setup.secrets,
            bot: setup.bot,
            default_test: default_test_file(&setup.file),
            file: setup.file,
            origin: format!("http://{address}"),
            hosts,
        })))
    }

    /// Starts a turn as a task of its own: a webhook step inside it waits for a later request.
    fn spawn(&self, action: Action) -> Result<(), WebError> {
        self.0.shared.update(|view| {
            if let Some(pending) = &view.pending {
                return Err(WebError::StepWaiting(pending.step_block().to_owned()));
            }
            if view.busy {
                return Err(WebError::Busy);
            }
            view.busy = true;
            Ok(())
        })?;
        let app = self.clone();
        tokio::spawn(async move {
            let mut session = app.0.session.lock().await;
            let result = match action {
                Action::Begin => session.begin().await.map(|()| Go::On),
                Action::Line(line) => session.line(&line).await,
            };
            match result {
                Ok(Go::On) => {}
                Ok(Go::Quit) => app.0.screen.note(
                    "the web simulator stops with Ctrl-C where it was started; \
                     /restart starts over",
                ),
                Err(error) => app.0.screen.error(&format!("{error:#}")),
            }
            let panels = panels(&session, &app.0.secrets);
            app.0.shared.update(|view| {
                (view.options, view.status, view.vars, view.trace) = panels;
                view.busy = false;
            });
        });
        Ok(())
    }

    /// The view once no turn runs, or one waits at a webhook step.
    async fn settled(&self) -> Json<Value> {
        self.0.shared.wait(View::settled).await;
        Json(self.0.shared.read(|view| {
            let mut state = view.to_json();
            state["bot"] = json!(self.0.bot);
            state["file"] = json!(self.0.file.display().to_string());
            state["default_test"] = json!(self.0.default_test.display().to_string());
            state
        }))
    }
}

/// The options, status, `/vars` and `/trace` of the session as it is.
fn panels(
    session: &Session<WebRunner>,
    secrets: &Secrets,
) -> (Vec<String>, String, String, String) {
    let Some(state) = &session.state else {
        return (Vec::new(), String::new(), String::new(), String::new());
    };
    let flow = session.executor.project().flow(state.conversation.bot());
    let vars = commands::vars(&state.conversation, flow, secrets);
    let trace = match &state.last_turn {
        Some(turn) => commands::trace(&turn.trace),
        None => String::new(),
    };
    let status = state.conversation.status().as_str().to_owned();
    (state.options.clone(), status, vars, trace)
}

/// `FLOW_FOLDER/tests/STEM.yaml`: beside the flow, but not among the flows of its folder.
fn default_test_file(flow_file: &Path) -> PathBuf {
    let folder = flow_file.parent().unwrap_or(Path::new(""));
    let stem = flow_file.file_stem().unwrap_or_default();
    let mut name = stem.to_owned();
    name.push(".yaml");
    folder.join("tests").join(name)
}

fn router(app: App) -> Router {
    Router::new()
        .route(
            "/",
            get(|| async { page(INDEX_HTML, "text/html; charset=utf-8") }),
        )
        .route(
            "/app.js",
            get(|| async { page(APP_JS, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/app.css",
            get(|| async { page(APP_CSS, "text/css; charset=utf-8") }),
        )
        .route("/api/state", get(state))
        .route("/api/message", post(message))
        .route("/api/restart", post(restart))
        .route("/api/step/check", post(check_payload))
        .route("/api/step/answer", post(answer))
        .route("/api/test", post(save_test))
        .fallback(
            |request: Request| async move { WebError::NotFound(request.uri().path().to_owned()) },
        )
        .layer(middleware::from_fn_with_state(app.clone(), guard))
        .with_state(app)
}

fn page(text: &'static str, content_type: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type)], text).into_response()
}

/// Refuses requests for another host or from another origin, and sets the security headers.
async fn guard(State(app): State<App>, request: Request, next: Next) -> Response {
    let mut response = match refusal(&app, &request) {
        Some(error) => error.into_response(),
        None => next.run(request).await,
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn refusal(app: &App, request: &Request) -> Option<WebError> {
    let headers = request.headers();
    let host = headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok());
    if !host.is_some_and(|host| app.0.hosts.iter().any(|allowed| allowed == host)) {
        return Some(WebError::Host(app.0.origin.clone()));
    }
    if request.method() != Method::POST {
        return None;
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let same = origin.to_str().ok().is_some_and(|origin| {
            app.0
                .hosts
                .iter()
                .any(|host| origin == format!("http://{host}"))
        });
        if !same {
            return Some(WebError::Origin);
        }
    }
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|kind| kind.to_str().ok())
        .is_some_and(|kind| {
            kind.split(';')
                .next()
                .is_some_and(|kind| kind.trim() == "application/json")
        });
    (!json).then_some(WebError::ContentType)
}

/// An error of the simulator's API, answered as `{"error": {"code", "message"}}`.
#[derive(Debug, thiserror::Error)]
enum WebError {
    #[error("the request body is not what this endpoint takes: {0}")]
    BadBody(String),
    #[error("no webhook step is waiting for an answer")]
    NoStep,
    #[error(
        "webhook step `{0}` is waiting: answer it first (fake success, fake failure or real \
         request), or restart"
    )]
    StepWaiting(String),
    #[error("the bot is still running a turn")]
    Busy,
    #[error("not JSON: {0}")]
    NotJson(String),
    #[error("{0}; give a payload where that path holds a list")]
    ListType(WebhookError),
    #[error("{0}; use it anyway (`anyway: true`) to see the step fail with it")]
    WouldFail(WebhookError),
    #[error("{0}")]
    Save(String),
    #[error("this simulator answers requests for {0} only")]
    Host(String),
    #[error("requests from another origin are refused")]
    Origin,
    #[error("a POST body must be sent as application/json")]
    ContentType,
    #[error("there is no {0} here")]
    NotFound(String),
}

impl WebError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            WebError::BadBody(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            WebError::NoStep => (StatusCode::CONFLICT, "no_step"),
            WebError::StepWaiting(_) => (StatusCode::CONFLICT, "step_waiting"),
            WebError::Busy => (StatusCode::CONFLICT, "busy"),
            WebError::NotJson(_) => (StatusCode::UNPROCESSABLE_ENTITY, "payload_not_json"),
            WebError::ListType(_) => (StatusCode::UNPROCESSABLE_ENTITY, "payload_not_list"),
            WebError::WouldFail(_) => (StatusCode::UNPROCESSABLE_ENTITY, "payload_fails"),
            WebError::Save(_) => (StatusCode::UNPROCESSABLE_ENTITY, "not_saved"),
            WebError::Host(_) => (StatusCode::MISDIRECTED_REQUEST, "wrong_host"),
            WebError::Origin => (StatusCode::FORBIDDEN, "wrong_origin"),
            WebError::ContentType => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "not_json"),
            WebError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let body = json!({"error": {"code": code, "message": self.to_string()}});
        (status, Json(body)).into_response()
    }
}

/// A request body read as JSON of type `T`.
fn body<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, WebError> {
    serde_json::from_slice(bytes).map_err(|error| WebError::BadBody(error.to_string()))
}

async fn state(State(app): State<App>) -> Json<Value> {
    app.settled().await
}

/// `{"text": LINE}`: a message, or a command as the terminal's prompt reads it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MessageBody {
    text: String,
}

async fn message(State(app): State<App>, bytes: Bytes) -> Result<Json<Value>, WebError> {
    let request: MessageBody = body(&bytes)?;
    app.spawn(Action::Line(request.text))?;
    Ok(app.settled().await)
}

/// Starts over; a webhook step waiting is left unanswered.
async fn restart(State(app): State<App>) -> Result<Json<Value>, WebError> {
    app.0.shared.update(|view| view.pending = None);
    app.0.shared.wait(|view| !view.busy).await;
    app.spawn(Action::Line("/restart".to_owned()))?;
    Ok(app.settled().await)
}

/// Which of the three answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Choice {
    Success,
    Failure,
    Real,
}

/// `{"choice", "payload", "anyway"}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerBody {
    choice: Choice,
    #[serde(default)]
    payload: String,
    /// Take a fake success whose saves fail (not one a list variable refuses), so that the
    /// step fails as it would.
    #[serde(default)]
    anyway: bool,
}

/// A payload as typed: JSON, or for a failure a line of text.
fn parse_payload(text: &str, text_ok: bool) -> Result<Value, WebError> {
    match serde_json::from_str(text) {
        Ok(value) => Ok(value),
        Err(_) if text_ok && !text.trim().is_empty() && !text.trim().contains('\n') => {
            Ok(Value::String(text.trim().to_owned()))
        }
        Err(error) => Err(WebError::NotJson(error.to_string())),
    }
}

/// Every save of the waiting step applied to `payload` as a fake success (S18), or what a fake
/// failure with it stores: for the editor, as the author types.
async fn check_payload(State(app): State<App>, bytes: Bytes) -> Result<Json<Value>, WebError> {
    let request: AnswerBody = body(&bytes)?;
    app.0.shared.read(|view| {
        let pending = view.pending.as_ref().ok_or(WebError::NoStep)?;
        let shape = &pending.shape;
        match request.choice {
            Choice::Success => Ok(Json(success_check(shape, &request.payload, &app.0.secrets))),
            Choice::Failure => {
                let payload = match parse_payload(&request.payload, true) {
                    Ok(payload) => payload,
                    Err(error) => {
                        return Ok(Json(json!({"verdict": "json", "error": error.to_string()})))
                    }
                };
                let response = failure_response(&shape.accept, &payload);
                let stored = flow_http::classify(
                    response.status,
                    &response.headers,
                    &response.body,
                    &shape.accept,
                )
                .err()
                .map(|error| app.0.secrets.redact_json(&json!(error)));
                Ok(Json(json!({"verdict": "fits", "failure": stored})))
            }
            Choice::Real => Err(WebError::BadBody(
                "only a fake payload is checked".to_owned(),
            )),
        }
    })
}

/// The editor's report on a fake success payload: each save's value or error, and whether
/// the payload fits (`fits`), is refused (`list`), would make the step fail (`fails`), or is
/// not JSON (`json`).
fn success_check(shape: &super::chooser::Shape, text: &str, secrets: &Secrets) -> Value {
    let payload = match parse_payload(text, false) {
        Ok(payload) => payload,
        Err(error) => return json!({"verdict": "json", "error": error.to_string(), "saves": []}),
    };
    let response = success_response(&shape.accept, &payload);
    let declared = |name: &str| shape.declared(name);
    let saves: Vec<Value> = shape
        .saves
        .iter()
        .map(|save| {
            let mut report = json!({"to": save.to, "path": save.path.to_string()});
            match flow_http::extract(std::slice::from_ref(save), &payload, &declared) {
                Ok(values) => {
                    let value = values.into_iter().next().map(|(_, value)| value);
                    let shown = value.map(|value| short_json(&secrets.redact_json(&value), 200));
                    report["value"] = json!(shown);
                }
                Err(error) => report["error"] = json!(secrets.redact(&error.to_string())),
            }
            report
        })
        .collect();
    let (verdict, error) = match check(shape, &response) {
        Ok(_) => ("fits", None),
        Err(Refusal::ListType(error)) => ("list", Some(error)),
        Err(Refusal::Fails(error)) => ("fails", Some(error)),
    };
    json!({
        "verdict": verdict,
        "error": error.map(|error| secrets.redact(&error.to_string())),
        "saves": saves,
    })
}

/// Answers the waiting step and returns the view once the turn has gone on.
async fn answer(State(app): State<App>, bytes: Bytes) -> Result<Json<Value>, WebError> {
    let request: AnswerBody = body(&bytes)?;
    let notes = app.0.shared.update(|view| {
        let pending = view.pending.as_ref().ok_or(WebError::NoStep)?;
        let shape = &pending.shape;
        let mut notes = Vec::new();
        let answer = match request.choice {
            Choice::Success => {
                let payload = parse_payload(&request.payload, false)?;
                let response = success_response(&shape.accept, &payload);
                match check(shape, &response) {
                    Ok(saves) => {
                        for (name, value) in saves {
                            let value = app.0.secrets.redact_json(&value);
                            notes.push(format!("{name} = {}", short_json(&value, 120)));
                        }
                    }
                    Err(Refusal::ListType(error)) => return Err(WebError::ListType(error)),
                    Err(Refusal::Fails(error)) if !request.anyway => {
                        return Err(WebError::WouldFail(error))
                    }
                    Err(Refusal::Fails(_)) => {}
                }
                Answer::Respond(response)
            }
            Choice::Failure => {
                let payload = parse_payload(&request.payload, true)?;
                Answer::Respond(failure_response(&shape.accept, &payload))
            }
            Choice::Real => Answer::Real,
        };
        if let Some(pending) = view.pending.take() {
            // The runner waits on the other end; it is gone only if the turn was dropped.
            let _ = pending.answer.send(answer);
        }
        Ok(notes)
    })?;
    for note in notes {
        app.0.screen.note(&note);
    }
    Ok(app.settled().await)
}

/// `{"path": FILE}` (or none, for the default beside the flow).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TestBody {
    #[serde(default)]
    path: Option<String>,
}

/// Writes the conversation so far as a case of a conversation test file.
async fn save_test(State(app): State<App>, bytes: Bytes) -> Result<Json<Value>, WebError> {
    let request: TestBody = body(&bytes)?;
    let path = match request.path.as_deref().map(str::trim) {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => app.0.default_test.clone(),
    };
    let Ok(session) = app.0.session.try_lock() else {
        return Err(app.0.shared.read(|view| match &view.pending {
            Some(pending) => WebError::StepWaiting(pending.step_block().to_owned()),
            None => WebError::Busy,
        }));
    };
    let (Some(recorder), Some(state)) = (&session.recorder, &session.state) else {
        return Err(WebError::Save(
            "there is no conversation to save yet".to_owned(),
        ));
    };
    let lines = recorder
        .save_current(&path, &state.conversation)
        .map_err(|error| WebError::Save(format!("{error:#}")))?;
    drop(session);
    for line in &lines {
        app.0.screen.note(line);
    }
    let written = lines.iter().any(|line| line.starts_with("recorded "));
    Ok(Json(json!({
        "path": path.display().to_string(),
        "written": written,
        "lines": lines,
    })))
}
