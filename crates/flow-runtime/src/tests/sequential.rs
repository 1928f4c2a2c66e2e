//! Two messages sent at once to one conversation: the second turn waits for the first.

use std::time::Duration;

use axum::extract::State;
use axum::http::Uri;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use super::server::{path_and_query, serve, started, Seen};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_messages_at_once_to_one_conversation_are_processed_one_after_the_other() {
    let seen = Seen::default();
    let slow = |State(seen): State<Seen>, uri: Uri| async move {
        let _request = seen.begin(path_and_query(&uri));
        // Long enough that a second turn running alongside would be caught in flight.
        tokio::time::sleep(Duration::from_millis(50)).await;
        Json(json!({}))
    };
    let base = serve(
        Router::new()
            .route("/slow", get(slow))
            .with_state(seen.clone()),
    )
    .await;
    let source = r#"
bot: counter
variables:
  count: {type: number, default: 0}
  seen: list
blocks:
  listen:
    wait: {}
    next: call
  call:
    webhook: {url: "BASE/slow?count={{count}}"}
    next: bump
  bump:
    set:
      count: {add: 1}
      seen: {push: "{{last user answer}}"}
    next: listen
"#;
    let (sessions, id) = started(source, &base).await;

    let (first, second) = tokio::join!(sessions.deliver(&id, "a"), sessions.deliver(&id, "b"));
    first.unwrap();
    second.unwrap();

    let conversation = sessions.conversation(&id).await.unwrap().unwrap();
    assert_eq!(
        conversation.variable("count"),
        Some(json!(2)),
        "an update was lost"
    );
    assert_eq!(conversation.variable("seen"), Some(json!(["a", "b"])));
    // The second turn read the count the first one saved.
    assert_eq!(seen.requests(), ["/slow?count=0", "/slow?count=1"]);
    assert_eq!(seen.max_in_flight(), 1, "the two turns overlapped");
}
