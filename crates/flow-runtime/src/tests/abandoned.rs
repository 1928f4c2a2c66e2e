//! A turn whose caller stops waiting in the middle of a webhook still ends and is saved, so the
//! next message does not send the webhook again.

use std::sync::Arc;

use axum::extract::State;
use axum::http::Uri;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::json;
use tokio::sync::{Notify, Semaphore};

use super::server::{path_and_query, serve, started, Seen};

/// A server that records each request, says it arrived, and answers only when the test lets it.
#[derive(Clone)]
struct Held {
    seen: Seen,
    arrived: Arc<Notify>,
    answers: Arc<Semaphore>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_dropped_during_its_webhook_still_ends_and_the_webhook_is_not_sent_again() {
    let held = Held {
        seen: Seen::default(),
        arrived: Arc::new(Notify::new()),
        answers: Arc::new(Semaphore::new(0)),
    };
    let order = |State(held): State<Held>, uri: Uri| async move {
        let _request = held.seen.begin(path_and_query(&uri));
        held.arrived.notify_one();
        held.answers.acquire().await.expect("open").forget();
        Json(json!({"order": "A-1"}))
    };
    let base = serve(
        Router::new()
            .route("/orders", post(order))
            .with_state(held.clone()),
    )
    .await;
    let source = r#"
bot: orders
variables:
  placed: {type: number, default: 0}
  order: text
blocks:
  listen:
    wait: {}
    next: place
  place:
    webhook:
      method: POST
      url: "BASE/orders?placed={{placed}}"
      save:
        - path: order
          to: order
    next: count
  count:
    set:
      placed: {add: 1}
    next: listen
"#;
    let (sessions, id) = started(source, &base).await;

    // The caller gives up once the POST has reached the server, as a server does when its
    // client goes away; `select!` drops the unfinished turn.
    tokio::select! {
        _ = sessions.deliver(&id, "order please") => panic!("the turn ended before its webhook was answered"),
        () = held.arrived.notified() => {}
    }
    held.answers.add_permits(1);

    // `conversation` waits for the turn in progress, which went on without its caller.
    let conversation = sessions.conversation(&id).await.unwrap().unwrap();
    assert_eq!(conversation.variable("placed"), Some(json!(1)));
    assert_eq!(conversation.variable("order"), Some(json!("A-1")));

    held.answers.add_permits(1);
    sessions.deliver(&id, "another one").await.unwrap();
    assert_eq!(
        held.seen.requests(),
        ["/orders?placed=0", "/orders?placed=1"],
        "the first order was sent twice"
    );
}
