//! A webhook server on 127.0.0.1 for the tests, and the runner that reaches it for real.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use flow_http::{Client, ClientConfig};

use crate::tests::support::flow;
use crate::{ConversationId, Executor, HttpRunner, MemoryStore, Sessions, StartOptions};

/// Serves `router` on a free port of 127.0.0.1 until the test's runtime stops; returns its base
/// URL, `http://127.0.0.1:<port>`.
pub(crate) async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port on 127.0.0.1");
    let address = listener.local_addr().expect("the port bound");
    tokio::spawn(async move {
        axum::serve(listener, router)
            .await
            .expect("the test server runs");
    });
    format!("http://{address}")
}

/// A base URL where nothing listens: connecting to it is refused.
pub(crate) async fn closed_port() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port on 127.0.0.1");
    let address = listener.local_addr().expect("the port bound");
    drop(listener);
    format!("http://{address}")
}

/// A runner that sends requests for real.
pub(crate) fn http_runner() -> HttpRunner {
    HttpRunner::new(Client::new(ClientConfig::default()).expect("an http client"))
}

/// What a test server saw: each request's path and query, and how many ran at once at most.
#[derive(Debug, Default, Clone)]
pub(crate) struct Seen {
    requests: Arc<Mutex<Vec<String>>>,
    in_flight: Arc<AtomicUsize>,
    max_in_flight: Arc<AtomicUsize>,
}

impl Seen {
    /// Records that a request for `path_and_query` started; the guard marks its end.
    pub(crate) fn begin(&self, path_and_query: String) -> InFlight {
        self.requests.lock().unwrap().push(path_and_query);
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(self.in_flight.clone())
    }

    /// The requests, in the order they arrived.
    pub(crate) fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }

    /// The most requests that were in progress at the same time.
    pub(crate) fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }
}

/// A request in progress; dropping it marks it done.
pub(crate) struct InFlight(Arc<AtomicUsize>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The path and query of a request URI, as `Seen` records them.
pub(crate) fn path_and_query(uri: &axum::http::Uri) -> String {
    uri.path_and_query()
        .map_or_else(|| uri.path().to_owned(), ToString::to_string)
}

/// `Sessions` over a memory store for the one bot of `source`, whose webhooks go to `base`
/// (written `BASE` in the source), with conversation `one` started.
pub(crate) async fn started(
    source: &str,
    base: &str,
) -> (Sessions<HttpRunner, MemoryStore>, ConversationId) {
    let flow = flow(&source.replace("BASE", base));
    let bot = flow.id().to_owned();
    let sessions = Sessions::new(
        Arc::new(Executor::single(flow, http_runner())),
        MemoryStore::new(),
    );
    let id = ConversationId::new("one");
    sessions
        .start(&id, &bot, StartOptions::default())
        .await
        .expect("the conversation starts");
    (sessions, id)
}
