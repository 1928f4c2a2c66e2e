//! The conversation every run measures: the shop bot of `flows/shop.yaml`, start to end.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use flow_core::flow::Flow;
use flow_runtime::{
    ConversationId, ConversationStore, Executor, Sessions, StartOptions, Status, Turn,
    WebhookResponse, WebhookRunner,
};

/// The shop bot, as in the repository.
const SHOP: &str = include_str!("../../../flows/shop.yaml");

/// The URL the shop bot calls in the repository; the bench never sends anything there.
const SHOP_URL: &str = "https://dummyjson.com/products";

/// What the products webhook answers: the shape of the shop's API, a handful of products.
pub const PRODUCTS: &str = r#"{"products":[{"id":1,"title":"iPhone 9","category":"smartphones","price":549,"stock":94},{"id":2,"title":"iPhone X","category":"smartphones","price":899,"stock":34},{"id":3,"title":"Samsung Universe 9","category":"smartphones","price":1249,"stock":36},{"id":4,"title":"OPPOF19","category":"smartphones","price":280,"stock":123},{"id":5,"title":"Huawei P30","category":"smartphones","price":499,"stock":32}],"total":5,"skip":0,"limit":5}"#;

/// What the bot says when the third turn picks the second product by answering `2`.
const PICKED_TEXT: &str = "You picked iPhone X.";

/// The shop bot's file, calling `url` instead of the shop's real address.
pub fn source_calling(url: &str) -> anyhow::Result<String> {
    ensure!(
        SHOP.contains(SHOP_URL),
        "flows/shop.yaml no longer calls {SHOP_URL}"
    );
    Ok(SHOP.replace(SHOP_URL, url))
}

/// The shop bot, calling `url` instead of the shop's real address.
pub fn flow(url: &str) -> anyhow::Result<Flow> {
    let source = source_calling(url)?;
    flow_core::load(&source)
        .into_flow()
        .context("the shop bot does not load")
}

/// Sessions of the shop bot over `store`, answering its webhook with `runner`.
pub fn sessions<R: WebhookRunner + 'static, S: ConversationStore + 'static>(
    flow: Flow,
    runner: R,
    store: S,
) -> Arc<Sessions<R, S>> {
    Arc::new(Sessions::new(
        Arc::new(Executor::single(flow, runner)),
        store,
    ))
}

/// The products response, as the webhook server sends it.
pub fn products_response() -> WebhookResponse {
    WebhookResponse {
        status: 200,
        headers: vec![("content-type".to_owned(), "application/json".to_owned())],
        body: PRODUCTS.as_bytes().to_vec(),
    }
}

/// The id of conversation number `index`.
pub fn conversation_id(index: usize) -> ConversationId {
    ConversationId::new(&format!("c{index}"))
}

/// The user name of conversation number `index`.
pub fn user_name(index: usize) -> String {
    format!("user{index}")
}

/// Starts conversation `index`: it must greet and ask the name.
pub async fn start<R: WebhookRunner + 'static, S: ConversationStore + 'static>(
    sessions: &Sessions<R, S>,
    index: usize,
) -> anyhow::Result<Turn> {
    let turn = sessions
        .start(&conversation_id(index), "shop", StartOptions::default())
        .await?;
    ensure!(
        turn.texts() == ["Welcome to the shop!", "What's your name?"],
        "the start said {:?}",
        turn.texts()
    );
    Ok(turn)
}

/// Runs conversation `index` start to end, three turns, pushing each turn's time to `latencies`,
/// then deletes it, as a host does with an ended conversation: the store holds only the
/// conversations in progress, so a longer run does not need more memory.
pub async fn converse<R: WebhookRunner + 'static, S: ConversationStore + 'static>(
    sessions: &Sessions<R, S>,
    index: usize,
    latencies: &mut Vec<Duration>,
) -> anyhow::Result<()> {
    let id = conversation_id(index);
    let name = user_name(index);

    let started = Instant::now();
    start(sessions, index).await?;
    latencies.push(started.elapsed());

    let started = Instant::now();
    let turn = sessions.deliver(&id, &name).await?;
    latencies.push(started.elapsed());
    let texts = turn.texts();
    if texts.first().is_some_and(|text| text.starts_with("Sorry")) {
        bail!("the webhook failed: {:?}", turn.trace.webhooks().next());
    }
    let listed = texts.len() == 2
        && texts[0]
            .strip_prefix(name.as_str())
            .is_some_and(|rest| rest.starts_with(", we have: "));
    ensure!(listed, "the name turn said {texts:?}");

    let started = Instant::now();
    let turn = sessions.deliver(&id, "2").await?;
    latencies.push(started.elapsed());
    ensure!(
        turn.status == Status::Ended && turn.texts() == [PICKED_TEXT],
        "the pick turn said {:?} ({})",
        turn.texts(),
        turn.status
    );
    sessions.delete(&id).await?;
    Ok(())
}
