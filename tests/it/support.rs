//! Shared by the CLI tests: the built binary, stub HTTP servers on 127.0.0.1, scratch folders.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

/// The `flowbot` binary, run from the repository root, without colour and without any secret
/// of the environment the tests run in.
pub fn flowbot() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_flowbot"));
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1");
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("FLOWBOT_SECRET_") {
            command.env_remove(name);
        }
    }
    command
}

/// Runs `command` with `input` on stdin (a pipe) and waits for it.
pub fn run_with_input(mut command: Command, input: &str) -> Output {
    use std::io::Write;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("flowbot starts");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    // flowbot may stop before reading (a usage error), so the pipe may already be closed.
    match stdin.write_all(input.as_bytes()) {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other.expect("flowbot reads its input"),
    }
    drop(stdin);
    child.wait_with_output().expect("flowbot ends")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A fresh scratch folder for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `flows/shop.yaml` written into `dir`, fetching its products from `url` instead of the
/// internet, with an `Authorization` header that uses the secret `SHOP_TOKEN` when `secret`.
pub fn shop_copy(dir: &Path, url: &str, secret: bool) -> PathBuf {
    let shop =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/flows/shop.yaml")).unwrap();
    let mut copy = shop.replace("https://dummyjson.com/products", url);
    if secret {
        copy = copy.replace(
            "        Accept: application/json\n",
            "        Accept: application/json\n        Authorization: \"Bearer {{secret.SHOP_TOKEN}}\"\n",
        );
    }
    assert_ne!(copy, shop, "the shop's URL moved: update the tests");
    let path = dir.join("shop.yaml");
    std::fs::write(&path, copy).unwrap();
    path
}

/// What a stub server was asked: the path and query, and the `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub uri: String,
    pub authorization: Option<String>,
}

/// A shop's API on 127.0.0.1, on a thread of its own, stopped when dropped:
/// - `/products`: two products;
/// - `/one-product`: one product, so `products[1]` does not match;
/// - `/down`: status 500 with `{"error": "down"}`;
/// - `/echo`: two short products, and the `Authorization` header it got under `seen`;
/// - `/many`: a hundred products.
pub struct ShopServer {
    pub base: String,
    hits: Arc<Mutex<Vec<Hit>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

/// Serves `app` on 127.0.0.1 from a thread of its own; the sender stops it.
pub fn spawn_server(app: Router) -> (std::net::SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (ready, address) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            ready.send(listener.local_addr().unwrap()).unwrap();
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
    });
    (address.recv().expect("the stub server starts"), stop)
}

impl ShopServer {
    pub fn start() -> ShopServer {
        let hits = Arc::new(Mutex::new(Vec::new()));
        let app = Router::new()
            .route("/products", get(products))
            .route("/one-product", get(one_product))
            .route("/down", get(down))
            .route("/echo", get(echo))
            .route("/many", get(many))
            .with_state(hits.clone());
        let (address, stop) = spawn_server(app);
        ShopServer {
            base: format!("http://{address}"),
            hits,
            stop: Some(stop),
        }
    }

    /// The URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The requests it got, in order.
    pub fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }
}

impl Drop for ShopServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

type Hits = State<Arc<Mutex<Vec<Hit>>>>;

fn remember(hits: &Hits, request: &Request) {
    let authorization = request
        .headers()
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    hits.lock().unwrap().push(Hit {
        uri: request.uri().to_string(),
        authorization,
    });
}

async fn products(hits: Hits, request: Request) -> Response {
    remember(&hits, &request);
    Json(json!({"products": [
        {"title": "iPhone 9", "category": "smartphones"},
        {"title": "iPhone X", "category": "smartphones"},
    ], "total": 2}))
    .into_response()
}

async fn one_product(hits: Hits, request: Request) -> Response {
    remember(&hits, &request);
    Json(json!({"products": [{"title": "iPhone 9", "category": "smartphones"}]})).into_response()
}

async fn down(hits: Hits, request: Request) -> Response {
    remember(&hits, &request);
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(json!({"error": "down"})),
    )
        .into_response()
}

async fn echo(hits: Hits, request: Request) -> Response {
    remember(&hits, &request);
    let seen = request
        .headers()
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    Json(json!({"products": [{"title": "A"}, {"title": "B", "category": "c"}], "seen": seen}))
        .into_response()
}

async fn many(hits: Hits, request: Request) -> Response {
    remember(&hits, &request);
    let products: Vec<_> = (0..100)
        .map(|n| json!({"title": format!("product {n}"), "category": "things"}))
        .collect();
    Json(json!({"products": products})).into_response()
}
