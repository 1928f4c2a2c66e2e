//! Ten thousand shop conversations at once against a loopback server.

use std::sync::Arc;

use axum::extract::RawQuery;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use tokio::task::JoinSet;

use super::server::{http_runner, serve};
use super::support::{flow, SHOP};
use crate::{ConversationId, Executor, MemoryStore, Sessions, StartOptions, Status};

const CONVERSATIONS: usize = 10_000;

/// Requests in flight at once: enough to keep both cores busy, few enough for any file limit.
const MAX_IN_FLIGHT: usize = 64;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_shop_conversations_run_concurrently_and_each_ends_with_its_own_variables() {
    let products = |RawQuery(query): RawQuery| async move {
        let user = query.unwrap_or_default().replace("user=", "");
        Json(json!({"products": [
            {"title": format!("{user} phone"), "category": "smartphones"},
            {"title": format!("{user} laptop"), "category": "laptops"},
        ]}))
    };
    let base = serve(Router::new().route("/products", get(products))).await;
    let source = SHOP.replace("https://dummyjson.com", &base);
    let runner = http_runner().with_max_in_flight(MAX_IN_FLIGHT);
    let executor = Arc::new(Executor::single(flow(&source), runner));
    let sessions = Arc::new(Sessions::new(executor, MemoryStore::new()));

    let mut conversations = JoinSet::new();
    for index in 0..CONVERSATIONS {
        let sessions = sessions.clone();
        conversations.spawn(async move {
            let id = ConversationId::new(&format!("c{index}"));
            let name = format!("user{index}");
            sessions
                .start(&id, "shop", StartOptions::default())
                .await
                .unwrap();
            sessions.deliver(&id, &name).await.unwrap();
            let last = sessions.deliver(&id, "2").await.unwrap();
            assert_eq!(last.texts(), [format!("You picked {name} laptop.")]);
            id
        });
    }
    let mut finished = 0;
    while let Some(id) = conversations.join_next().await {
        let id = id.expect("no conversation panicked");
        let conversation = sessions.conversation(&id).await.unwrap().unwrap();
        let name = format!("user{}", &id.as_str()[1..]);
        assert_eq!(conversation.status(), Status::Ended, "{id}");
        assert_eq!(conversation.variable("name"), Some(json!(name)), "{id}");
        assert_eq!(
            conversation.variable("titles"),
            Some(json!([format!("{name} phone"), format!("{name} laptop")])),
            "{id}"
        );
        assert_eq!(
            conversation.variable("second category"),
            Some(json!("laptops")),
            "{id}"
        );
        assert_eq!(
            conversation.variable("choice"),
            Some(json!(format!("{name} laptop"))),
            "{id}"
        );
        assert_eq!(conversation.variable("shop failure"), None, "{id}");
        finished += 1;
    }
    assert_eq!(finished, CONVERSATIONS);
    assert_eq!(sessions.store().len(), CONVERSATIONS);
}
