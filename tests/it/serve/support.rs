//! For the server tests: the real `flowbot serve` as a child process, an HTTP client, and a
//! stub on 127.0.0.1 that plays the shop's API and an outbound receiver.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

/// A running `flowbot serve`, killed when dropped.
pub struct Serve {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    log: Arc<Mutex<String>>,
}

impl Serve {
    /// Starts `flowbot serve` on `dir/flows` and `dir/flowbot.db`, on a free loopback port,
    /// with `extra` arguments and `env`, and waits until it listens.
    pub fn start(dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Serve {
        Serve::try_start(dir, extra, env)
            .unwrap_or_else(|log| panic!("flowbot serve did not start:\n{log}"))
    }

    /// As [`Serve::start`], or what it printed when it stopped before listening.
    pub fn try_start(dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Result<Serve, String> {
        let store = format!("sqlite:{}", dir.join("flowbot.db").display());
        Serve::try_start_on(dir, &store, extra, env)
    }

    /// As [`Serve::start`], on the store of `store` (a URL) instead of `dir/flowbot.db`.
    pub fn start_on(dir: &Path, store: &str, extra: &[&str]) -> Serve {
        Serve::try_start_on(dir, store, extra, &[])
            .unwrap_or_else(|log| panic!("flowbot serve did not start:\n{log}"))
    }

    /// As [`Serve::start_on`], or what it printed when it stopped before listening.
    pub fn try_start_on(
        dir: &Path,
        store: &str,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Result<Serve, String> {
        let mut command = Command::new(env!("CARGO_BIN_EXE_flowbot"));
        command
            .arg("serve")
            .arg("--flows")
            .arg(dir.join("flows"))
            .arg("--store")
            .arg(store)
            .args(["--listen", "127.0.0.1:0"])
            .args(extra)
            .current_dir(dir)
            .env("NO_COLOR", "1")
            .env("RUST_LOG", "info")
            .env_remove("FLOWBOT_API_TOKENS")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("flowbot starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let log = Arc::new(Mutex::new(String::new()));
        let (address_sender, address) = std::sync::mpsc::channel();
        let log_writer = Arc::clone(&log);
        std::thread::spawn(move || {
            let mut address_sender = Some(address_sender);
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(address) = line.strip_prefix("flowbot serve: listening on ") {
                    if let Some(sender) = address_sender.take() {
                        let _ = sender.send(address.to_owned());
                    }
                }
                let mut log = log_writer.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        match address.recv_timeout(Duration::from_secs(60)) {
            Ok(base) => Ok(Serve { child, base, log }),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                std::thread::sleep(Duration::from_millis(100));
                Err(log.lock().unwrap().clone())
            }
        }
    }

    /// The URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The URL of a conversation's `suffix` (`/messages`, `/outputs?...`, or empty).
    pub fn conversation_url(&self, bot: &str, id: &str, suffix: &str) -> String {
        self.url(&format!("/v1/bots/{bot}/conversations/{id}{suffix}"))
    }

    /// What it logged so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Sends `signal` (`TERM`, `HUP`, `KILL`...) to the process.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// SIGKILL, and waits for the process to be gone.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits for the process to exit by itself, at most `limit`.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(status) = self
                .child
                .try_wait()
                .expect("the process can be waited for")
            {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh scratch folder with an empty `flows/` in it.
pub fn scratch(name: &str) -> PathBuf {
    let dir = crate::support::scratch(&format!("serve-{name}"));
    std::fs::create_dir_all(dir.join("flows")).unwrap();
    dir
}

/// `flows/shop.yaml` in `dir/flows`, fetching its products from `url`.
pub fn shop_flow(dir: &Path, url: &str) -> PathBuf {
    crate::support::shop_copy(&dir.join("flows"), url, false)
}

/// An answer: status, `Idempotent-Replay`, the body as text and as JSON.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub replay: bool,
    pub text: String,
    pub json: Value,
}

/// An HTTP client for the server, with an optional bearer token.
#[derive(Clone)]
pub struct Api {
    client: reqwest::Client,
}

impl Api {
    pub fn new() -> Api {
        // reqwest is built without a crypto provider of its own, as flow-http builds it.
        let _ = rustls::crypto::ring::default_provider().install_default();
        Api {
            client: reqwest::Client::builder()
                .no_proxy()
                .pool_max_idle_per_host(512)
                .build()
                .unwrap(),
        }
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> Result<Reply, reqwest::Error> {
        let mut request = self
            .client
            .request(method, url)
            .timeout(Duration::from_secs(60));
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let replay = response
            .headers()
            .get("idempotent-replay")
            .is_some_and(|value| value == "true");
        let text = response.text().await?;
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok(Reply {
            status,
            replay,
            text,
            json,
        })
    }

    pub async fn get(&self, url: &str) -> Reply {
        self.send(reqwest::Method::GET, url, None, None)
            .await
            .expect("the server answers")
    }

    pub async fn post(&self, url: &str, body: Value) -> Reply {
        self.send(reqwest::Method::POST, url, Some(body), None)
            .await
            .expect("the server answers")
    }

    /// Sends a user message with its id.
    pub async fn message(
        &self,
        serve_base: &str,
        bot: &str,
        id: &str,
        text: &str,
        message_id: &str,
    ) -> Result<Reply, reqwest::Error> {
        let url = format!("{serve_base}/v1/bots/{bot}/conversations/{id}/messages");
        self.send(
            reqwest::Method::POST,
            &url,
            Some(json!({"text": text, "id": message_id})),
            None,
        )
        .await
    }
}

/// The texts of an answer's message outputs.
pub fn texts(reply: &Value) -> Vec<String> {
    reply["outputs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|output| output["type"] == "message")
        .map(|output| output["text"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The products the stub answers with.
pub fn products() -> Value {
    json!({"products": [
        {"title": "iPhone 9", "category": "smartphones"},
        {"title": "iPhone X", "category": "smartphones"},
    ], "total": 2})
}

/// A shop API and an outbound receiver on 127.0.0.1, on a thread of its own:
/// - `GET /products?user=NAME`: the products, counting each `user`;
/// - `GET /slow-products?user=NAME`: the products after `slow` ms, counting each `user` too;
/// - `POST /outbound`: fails (500) the first `outbound_failures` times, then keeps the bodies.
pub struct Stub {
    pub base: String,
    state: Arc<StubState>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

#[derive(Default)]
struct StubState {
    users: Mutex<HashMap<String, u32>>,
    keys: Mutex<HashMap<String, Vec<String>>>,
    outbound_failures: Mutex<u32>,
    outbound_attempts: Mutex<u32>,
    delivered: Mutex<Vec<Value>>,
    slow_ms: Mutex<u64>,
}

impl Stub {
    pub fn start() -> Stub {
        let state = Arc::new(StubState::default());
        let app = Router::new()
            .route("/products", get(stub_products))
            .route("/slow-products", get(stub_slow_products))
            .route("/outbound", post(stub_outbound))
            .route("/redirect-private", get(stub_redirect_private))
            .with_state(Arc::clone(&state));
        let (address, stop) = crate::support::spawn_server(app);
        Stub {
            base: format!("http://{address}"),
            state,
            stop: Some(stop),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// How many product requests each `user` made.
    pub fn users(&self) -> HashMap<String, u32> {
        self.state.users.lock().unwrap().clone()
    }

    /// The `Idempotency-Key` of each product request, by `user`, in order.
    pub fn idempotency_keys(&self) -> HashMap<String, Vec<String>> {
        self.state.keys.lock().unwrap().clone()
    }

    /// The outbound receiver fails its next `count` deliveries.
    pub fn fail_outbound(&self, count: u32) {
        *self.state.outbound_failures.lock().unwrap() = count;
    }

    /// Outbound bodies accepted, in order.
    pub fn delivered(&self) -> Vec<Value> {
        self.state.delivered.lock().unwrap().clone()
    }

    /// Outbound attempts, failed ones included.
    pub fn outbound_attempts(&self) -> u32 {
        *self.state.outbound_attempts.lock().unwrap()
    }

    /// `/slow-products` answers after `ms`.
    pub fn set_slow(&self, ms: u64) {
        *self.state.slow_ms.lock().unwrap() = ms;
    }
}

impl Drop for Stub {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn stub_products(
    State(state): State<Arc<StubState>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Json<Value> {
    let user = query.get("user").cloned().unwrap_or_default();
    count_user(&state, &user, &headers);
    Json(products())
}

/// A redirect to a private address, which a server's webhook must not follow.
async fn stub_redirect_private() -> Response {
    (
        StatusCode::FOUND,
        [(axum::http::header::LOCATION, "http://10.0.0.1/products")],
    )
        .into_response()
}

/// Counts a request of `user`, and keeps its `Idempotency-Key` if it has one.
fn count_user(state: &StubState, user: &str, headers: &HeaderMap) {
    *state
        .users
        .lock()
        .unwrap()
        .entry(user.to_owned())
        .or_default() += 1;
    if let Some(key) = headers.get("idempotency-key") {
        let key = key.to_str().unwrap_or_default().to_owned();
        state
            .keys
            .lock()
            .unwrap()
            .entry(user.to_owned())
            .or_default()
            .push(key);
    }
}

async fn stub_slow_products(
    State(state): State<Arc<StubState>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Json<Value> {
    if let Some(user) = query.get("user") {
        count_user(&state, user, &headers);
    }
    let ms = *state.slow_ms.lock().unwrap();
    tokio::time::sleep(Duration::from_millis(ms)).await;
    Json(products())
}

async fn stub_outbound(State(state): State<Arc<StubState>>, Json(body): Json<Value>) -> Response {
    *state.outbound_attempts.lock().unwrap() += 1;
    {
        let mut failures = state.outbound_failures.lock().unwrap();
        if *failures > 0 {
            *failures -= 1;
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    }
    state.delivered.lock().unwrap().push(body);
    StatusCode::OK.into_response()
}

/// Polls `check` every 50 ms until it holds, at most `limit`.
pub async fn eventually(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    check()
}

/// `flowbot migrate --store STORE` on a new store applies migration 1 and says so, and a
/// second run finds nothing to apply.
pub fn assert_migrate_applies_once(store: &str) {
    let run = || {
        crate::support::flowbot()
            .args(["migrate", "--store", store])
            .output()
            .unwrap()
    };
    let first = run();
    assert!(
        first.status.success(),
        "{}",
        crate::support::text(&first.stderr)
    );
    assert_eq!(crate::support::text(&first.stdout), "applied migration 1\n");
    let again = run();
    assert_eq!(
        crate::support::text(&again.stdout),
        "the store is up to date: no migration to apply\n"
    );
}
