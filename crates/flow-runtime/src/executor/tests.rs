//! Tests of the executor with scripted webhooks: every block kind, answers, timers, jumps,
//! restarts, flow changes, limits and serialization.

use std::sync::Arc;

use flow_http::Secrets;
use insta::assert_snapshot;
use serde_json::json;

use super::{Executor, Limits, StartOptions};
use crate::tests::support::{
    flow, print, project, Chat, FAQ, LEAD_CAPTURE, ORDER_STATUS, SHOP, SUPPORT,
};
use crate::{Conversation, ConversationId, RunError, Scripted, ScriptedRunner, Status, TraceEvent};

fn products() -> Scripted {
    Scripted::json(
        200,
        json!({"products": [
            {"title": "iPhone 9", "category": "smartphones"},
            {"title": "iPhone X", "category": "smartphones"},
        ]}),
    )
}

fn crm_token() -> Arc<Secrets> {
    let mut secrets = Secrets::new();
    secrets.insert("CRM_TOKEN", "s3cr3t");
    Arc::new(secrets)
}

#[tokio::test]
async fn the_shop_lists_the_products_and_the_request_is_built_for_real() {
    let runner = ScriptedRunner::new().with("fetch_products", products());
    let executor = Executor::single(flow(SHOP), runner);
    let (mut chat, first) = Chat::start(&executor, "shop").await;
    assert_snapshot!(first, @r"
    bot: Welcome to the shop!
    bot: What's your name?
    (waiting)
    ");
    assert_snapshot!(chat.say("Ada").await, @r"
    bot: Ada, we have: iPhone 9, iPhone X
    bot: Which one? [iPhone 9 | iPhone X]
    (waiting)
    ");
    assert_snapshot!(chat.say("iPhone X").await, @r"
    bot: You picked iPhone X.
    (ended)
    ");
    assert_eq!(chat.var("titles"), json!(["iPhone 9", "iPhone X"]));
    assert_eq!(chat.var("second category"), json!("smartphones"));
    let requests = executor.runner().requests_for("fetch_products");
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].url, "https://dummyjson.com/products?user=Ada");
    assert_eq!(
        requests[0].headers,
        [("Accept".to_owned(), "application/json".to_owned())]
    );
}

#[tokio::test]
async fn a_preset_conversation_may_start_at_any_block() {
    let runner = ScriptedRunner::new().with("fetch_products", Scripted::Timeout);
    let executor = Executor::single(flow(SHOP), runner);
    let options = StartOptions {
        block: Some("fetch_products".into()),
        variables: vec![("name".to_owned(), json!("Ada"))],
    };
    let (chat, first) = Chat::start_with(&executor, "shop", options).await;
    assert_snapshot!(first, @r"
    bot: Sorry Ada, the shop is closed.
    (ended)
    ");
    assert_eq!(chat.var("shop failure")["type"], json!("Timeout"));

    let unknown = StartOptions {
        block: Some("nowhere".into()),
        variables: Vec::new(),
    };
    let error = executor
        .start("x".into(), "shop", unknown)
        .await
        .unwrap_err();
    assert_snapshot!(error, @"bot `shop` has no block `nowhere` to start at");
    let error = executor
        .start("x".into(), "nobody", StartOptions::default())
        .await
        .unwrap_err();
    assert_eq!(error, RunError::UnknownBot("nobody".to_owned()));
}

#[tokio::test]
async fn presets_are_converted_to_the_declared_type_or_refused() {
    let executor = Executor::single(flow(LEAD_CAPTURE), ScriptedRunner::new());
    let preset = |name: &str, value: serde_json::Value| StartOptions {
        block: None,
        variables: vec![(name.to_owned(), value)],
    };
    let (chat, _) = Chat::start_with(
        &executor,
        "lead_capture",
        preset("crm attempts", json!("2")),
    )
    .await;
    assert_eq!(chat.var("crm attempts"), json!(2));
    let (chat, _) = Chat::start_with(&executor, "lead_capture", preset("name", json!(7))).await;
    assert_eq!(chat.var("name"), json!("7"));

    let refused = [
        preset("crm attempts", json!("two")),
        preset("crm attempts", json!([1, 2])),
        preset("bot", json!("other")),
        preset("conversation id", json!("other")),
    ];
    let mut errors = Vec::new();
    for options in refused {
        let error = executor
            .start("x".into(), "lead_capture", options)
            .await
            .unwrap_err();
        errors.push(error.to_string());
    }
    assert_snapshot!(errors.join("\n"), @r#"
    cannot preset `crm attempts` of bot `lead_capture`: "two" is a text, and `crm attempts` is a number variable
    cannot preset `crm attempts` of bot `lead_capture`: [1,2] is a list, and `crm attempts` is a number variable
    cannot preset `bot` of bot `lead_capture`: flowbot sets it for every conversation
    cannot preset `conversation id` of bot `lead_capture`: flowbot sets it for every conversation
    "#);
}

#[tokio::test]
async fn invalid_answers_get_the_retry_text_until_the_attempts_run_out() {
    let executor = Executor::single(flow(LEAD_CAPTURE), ScriptedRunner::new());
    let (mut chat, _) = Chat::start(&executor, "lead_capture").await;
    assert_snapshot!(chat.say("Ada").await, @r"
    bot: Thanks Ada. Which email address should we use?
    (waiting)
    ");
    assert_snapshot!(chat.say("ada at home").await, @r#"
    bot: "ada at home" doesn't look like an email address; could you check it?
    (waiting)
    "#);
    assert_snapshot!(chat.say("still no").await, @r#"
    bot: "still no" doesn't look like an email address; could you check it?
    (waiting)
    "#);
    // The third invalid answer in a row goes to `on_invalid`, without the retry text.
    assert_snapshot!(chat.say("nope").await, @r"
    bot: No problem, a colleague will continue with you here.
    handoff: sales
    (handed_off)
    ");
    assert_eq!(chat.var("last user answer"), json!("nope"));
    assert_snapshot!(chat.say("hello?").await, @r#"
    notice: {"type":"message_ignored","status":"handed_off"}
    (handed_off)
    "#);
}

#[tokio::test]
async fn a_question_with_options_repeats_them_after_an_invalid_answer() {
    let executor = Executor::single(flow(LEAD_CAPTURE), ScriptedRunner::new());
    let (mut chat, _) = Chat::start(&executor, "lead_capture").await;
    chat.say("Ada").await;
    assert_snapshot!(chat.say("ada@example.com").await, @r"
    bot: What are you interested in? [Pricing | A demo | A partnership]
    (waiting)
    ");
    assert_snapshot!(chat.say("a car").await, @r"
    bot: Please pick one of: Pricing, A demo, A partnership. [Pricing | A demo | A partnership]
    (waiting)
    ");
}

#[tokio::test]
async fn the_lead_bot_retries_the_crm_after_a_sleep_then_hands_off() {
    let runner = ScriptedRunner::new().with_sequence(
        "send_lead",
        vec![
            Scripted::json(503, json!({"error": "busy"})),
            Scripted::ConnectionError,
        ],
    );
    let executor = Executor::single(flow(LEAD_CAPTURE), runner).with_secrets(crm_token());
    let (mut chat, _) = Chat::start(&executor, "lead_capture").await;
    chat.say("Ada").await;
    chat.say("ada@example.com").await;
    assert_snapshot!(chat.say("2").await, @"(sleeping, timer Sleep in 2s)");
    assert_eq!(chat.var("crm attempts"), json!(1));
    assert_eq!(chat.var("crm failure")["status"], json!(503));
    // A message during the sleep is no answer and gets no reply.
    let turn = chat.say_turn("are you there?").await;
    assert_snapshot!(print(&turn), @"(sleeping, timer Sleep in 2s)");
    assert!(matches!(
        turn.trace.events[..],
        [TraceEvent::MessageNotAnswer { .. }]
    ));
    assert_snapshot!(chat.fire().await, @"(sleeping, timer Sleep in 2s)");
    assert_snapshot!(chat.fire().await, @r"
    bot: Sorry Ada, I couldn't save your details. A colleague will take it from here.
    handoff: sales
    (handed_off)
    ");
    let requests = executor.runner().requests_for("send_lead");
    assert_eq!(requests.len(), 3);
    // The real request carries the secret; the trace masks it.
    assert!(requests[0]
        .headers
        .contains(&("Authorization".to_owned(), "Bearer s3cr3t".to_owned())));
    assert!(!serde_json::to_string(&chat.conversation)
        .unwrap()
        .contains("s3cr3t"));
    let body: serde_json::Value =
        serde_json::from_slice(&requests[2].body.as_ref().unwrap().bytes).unwrap();
    assert_eq!(
        body,
        json!({"name": "Ada", "email": "ada@example.com", "interest": "A demo", "source": "chatbot", "conversation": "test", "attempt": 2})
    );
}

#[tokio::test]
async fn a_saved_lead_raises_an_event_and_ends() {
    let runner = ScriptedRunner::new().with("send_lead", Scripted::json(201, json!({"id": "L-7"})));
    let executor = Executor::single(flow(LEAD_CAPTURE), runner).with_secrets(crm_token());
    let (mut chat, _) = Chat::start(&executor, "lead_capture").await;
    chat.say("Ada").await;
    chat.say("ada@example.com").await;
    assert_snapshot!(chat.say("Pricing").await, @r#"
    event: lead_created {"lead_id":"L-7","email":"ada@example.com","interest":"Pricing"}
    bot: Thanks Ada! our sales team will write to you at ada@example.com.
    (ended)
    "#);
    assert_snapshot!(chat.say("thanks").await, @r#"
    notice: {"type":"message_ignored","status":"ended"}
    (ended)
    "#);
}

#[tokio::test]
async fn timeouts_of_questions_and_waits_are_pending_timers_the_caller_fires() {
    let runner = ScriptedRunner::new().with("lookup", Scripted::Timeout);
    let executor = Executor::single(flow(ORDER_STATUS), runner);
    let (mut chat, first) = Chat::start(&executor, "order_status").await;
    assert_snapshot!(first, @r"
    bot: I can tell you where your order is.
    bot: What's your order number? It looks like A-1234.
    (waiting, timer QuestionTimeout in 600s)
    ");
    let timer = chat.conversation.timer().unwrap().clone();
    assert_snapshot!(chat.say("A-12").await, @r"
    bot: Order numbers are an A, a dash and four digits, like A-1234. Could you check it?
    (waiting, timer QuestionTimeout in 600s)
    ");
    // Each wait arms a new timer, so an older one is never fired by mistake.
    assert_ne!(chat.conversation.timer().unwrap().id, timer.id);
    assert_snapshot!(chat.say("A-1234").await, @r"
    bot: Our order system is slow right now. Send me any message when you'd like me to try again.
    (waiting, timer WaitTimeout in 1800s)
    ");
    assert_snapshot!(chat.fire().await, @r"
    bot: I'll close this chat for now; write again whenever you like.
    (ended)
    ");
    assert_snapshot!(chat.fire().await, @r#"
    notice: {"type":"no_timer"}
    (ended)
    "#);
}

#[tokio::test]
async fn an_end_with_restart_resets_the_variables_and_the_next_message_starts_over() {
    let runner = ScriptedRunner::new().with(
        "lookup",
        Scripted::json(200, json!({"order": {"state": "delivered"}})),
    );
    let executor = Executor::single(flow(ORDER_STATUS), runner);
    let (mut chat, _) = Chat::start(&executor, "order_status").await;
    assert_snapshot!(chat.say("A-1234").await, @r"
    bot: Order A-1234 has been delivered.
    bot: Anything else? [Check another order | No, thanks]
    (waiting)
    ");
    assert_snapshot!(chat.say("1").await, @r"
    bot: Sure, let's start over: send me any message.
    (ended)
    ");
    assert_eq!(chat.var("order number"), json!(null));
    assert_eq!(chat.var("last user answer"), json!(null));
    // That message starts the bot over; it is not an answer to the first question.
    assert_snapshot!(chat.say("hi again").await, @r#"
    bot: I can tell you where your order is.
    bot: What's your order number? It looks like A-1234.
    notice: {"type":"restarted"}
    (waiting, timer QuestionTimeout in 600s)
    "#);
    assert_eq!(chat.var("last user answer"), json!(null));
}

#[tokio::test]
async fn a_jump_with_return_runs_the_other_bot_and_copies_its_saves_back() {
    let executor = Executor::new(project(&[SUPPORT, FAQ]), ScriptedRunner::new());
    let (mut chat, _) = Chat::start(&executor, "support").await;
    chat.say("Ada").await;
    assert_snapshot!(chat.say("returns").await, @r"
    bot: You can return any item within 30 days; the return label is in your order email.
    bot: Did that answer your question, Ada? [Yes | No]
    (waiting)
    ");
    assert_eq!(chat.conversation.bot(), "faq");
    assert_eq!(chat.var("topic"), json!("Returns"));
    assert_eq!(chat.var("helped"), json!(false));
    assert_eq!(chat.conversation.stack().len(), 1);
    assert_snapshot!(chat.say("yes").await, @r"
    bot: Glad I could help, Ada!
    (ended)
    ");
    assert_eq!(chat.conversation.bot(), "support");
    assert_eq!(chat.var("faq helped"), json!(true));
    // The child's own variables stayed in the child.
    assert_eq!(chat.var("helped"), json!(null));
    assert_eq!(chat.var("last user answer"), json!("yes"));
}

#[tokio::test]
async fn a_jump_without_return_hands_the_conversation_to_the_other_bot() {
    let front = "bot: front\nvariables: {name: text}\nblocks:\n  ask:\n    question: Name?\n    save_to: name\n    next: go\n  go:\n    jump: {bot: faq, with: {asker: \"{{name}}\"}}\n";
    let executor = Executor::new(project(&[front, FAQ]), ScriptedRunner::new());
    let (mut chat, _) = Chat::start(&executor, "front").await;
    assert_snapshot!(chat.say("Ada").await, @r"
    bot: Hi Ada! Which topic is your question about? [Delivery times | Returns]
    (waiting)
    ");
    assert!(chat.conversation.stack().is_empty());
    assert_eq!(chat.var("bot"), json!("faq"));
    chat.say("1").await;
    assert_snapshot!(chat.say("no").await, @"(ended)");
}

#[tokio::test]
async fn a_bot_that_jumps_into_itself_stops_at_the_depth_limit() {
    let source = "bot: loop\nblocks:\n  again:\n    jump: {bot: loop, return: true}\n    next: done\n  done:\n    end: {}\n";
    let executor = Executor::single(flow(source), ScriptedRunner::new());
    let (chat, first) = Chat::start(&executor, "loop").await;
    assert_snapshot!(first, @r"
    error: block `again` would nest more than 16 bots that return; does a bot jump back into itself?
    (waiting)
    ");
    assert_eq!(chat.conversation.stack().len(), 16);
}

#[tokio::test]
async fn set_applies_every_operation_with_its_type_rules() {
    let source = r#"
bot: sets
variables:
  count: {type: number, default: 10}
  label: text
  items: list
  flag: boolean
blocks:
  ops:
    set:
      count: {add: 5}
      label: "n={{count}}"
      items: {push: "{{count}}"}
      flag: "true"
      other: {multiply: 3}
    next: more
  more:
    set:
      count: {divide: 4}
      label: {append: "!"}
      items: {push: b}
      undeclared: "{{items}}"
    next: errors
  errors:
    set:
      count: {divide: 0}
      label: {push: x}
      items: {add: 1}
      flag: maybe
    next: cleanup
  cleanup:
    set:
      items: {remove: B}
      undeclared: {clear: true}
      count: {subtract: "{{count}}"}
    next: done
  done:
    end: "{{count}} | {{label}} | {{items}} | {{flag}} | {{other}} | {{undeclared}}"
"#;
    let executor = Executor::single(flow(source), ScriptedRunner::new());
    let (chat, first) = Chat::start(&executor, "sets").await;
    assert_snapshot!(first, @r"
    error: block `errors` could not divide `count`: it would divide by zero; its value is unchanged
    error: block `errors` could not push `label`: `push` works on lists, but the variable holds a text; its value is unchanged
    error: block `errors` could not add `items`: the variable holds a list, not a number; its value is unchanged
    error: block `errors` could not assign `flag`: a text does not fit a boolean variable; its value is unchanged
    bot: 0 | n=15! | 15 | true | 0 | 
    (ended)
    ");
    assert_eq!(chat.var("items"), json!([15]));
    assert_eq!(chat.var("undeclared"), json!([]));
    assert_eq!(chat.var("flag"), json!(true));
}

#[tokio::test]
async fn a_turn_that_never_waits_stops_at_the_block_limit_and_the_conversation_stays_usable() {
    let source = "bot: spin\nvariables: {n: {type: number, default: 0}}\nblocks:\n  a:\n    set: {n: {add: 1}}\n    next: b\n  b:\n    choice:\n      - if: {var: n, at_least: 1000000}\n        next: done\n      - else: a\n  done:\n    end: done\n";
    let limits = Limits {
        max_blocks_per_turn: 100,
        ..Limits::default()
    };
    let executor = Executor::single(flow(source), ScriptedRunner::new()).with_limits(limits);
    let (mut chat, first) = Chat::start(&executor, "spin").await;
    assert_snapshot!(first, @r"
    error: the bot ran 100 blocks without waiting for the user and was stopped before block `a`; check the flow for a loop with no question, wait or sleep in it
    (waiting)
    ");
    assert_eq!(chat.var("n"), json!(50));
    // The next message goes on from where it stopped, with a fresh budget.
    let turn = chat.say_turn("hello").await;
    assert_eq!(turn.errors().count(), 1);
    assert_eq!(chat.var("n"), json!(100));
    // A server sends the turn as JSON: the error keeps a stable code beside its message.
    let json = serde_json::to_value(&turn).unwrap();
    assert_eq!(json["outputs"][0]["type"], json!("error"));
    assert_eq!(json["outputs"][0]["code"], json!("block_limit"));
    assert_eq!(json["outputs"][0]["block"], json!("a"));
    assert_eq!(
        json["outputs"][0]["message"],
        json!(turn.errors().next().unwrap().to_string())
    );
    assert_eq!(
        json["trace"]["events"][0]["type"],
        json!("message_not_answer")
    );
}

#[tokio::test]
async fn a_webhook_without_a_scripted_outcome_stops_the_turn_and_names_the_block() {
    let executor = Executor::single(flow(SHOP), ScriptedRunner::new());
    let (mut chat, _) = Chat::start(&executor, "shop").await;
    assert_snapshot!(chat.say("Ada").await, @r"
    error: webhook `fetch_products` did not run: no scripted outcome for webhook `fetch_products` (add one under `webhooks:` in the test)
    (waiting)
    ");
    assert_eq!(chat.conversation.cursor().as_str(), "fetch_products");
    assert_eq!(chat.var("shop failure"), json!(null));
}

#[tokio::test]
async fn a_conversation_survives_serialization_between_turns() {
    let runner = ScriptedRunner::new().with("fetch_products", products());
    let executor = Executor::single(flow(SHOP), runner);
    let (mut conversation, _) = executor
        .start("c".into(), "shop", StartOptions::default())
        .await
        .unwrap();
    executor.deliver(&mut conversation, "Ada").await.unwrap();
    let stored = serde_json::to_string(&conversation).unwrap();
    let mut restored: Conversation = serde_json::from_str(&stored).unwrap();
    assert_eq!(restored, conversation);
    let turn = executor.deliver(&mut restored, "1").await.unwrap();
    assert_eq!(turn.texts(), ["You picked iPhone 9."]);
}

#[tokio::test]
async fn a_changed_flow_goes_on_when_the_block_exists_and_restarts_when_it_is_gone() {
    let runner = || ScriptedRunner::new().with("fetch_products", products());
    let old = Executor::single(flow(SHOP), runner());
    let (mut conversation, _) = old
        .start(ConversationId::new("c"), "shop", StartOptions::default())
        .await
        .unwrap();
    old.deliver(&mut conversation, "Ada").await.unwrap();

    let reworded = SHOP.replace("You picked {{choice}}.", "Good choice: {{choice}}!");
    let kept = Executor::single(flow(&reworded), runner());
    let mut going_on = conversation.clone();
    let turn = kept.deliver(&mut going_on, "2").await.unwrap();
    assert_snapshot!(print(&turn), @r"
    bot: Good choice: iPhone X!
    (ended)
    ");

    let renamed = SHOP.replace("pick", "select");
    let moved = Executor::single(flow(&renamed), runner());
    let mut restarted = conversation.clone();
    let turn = moved.deliver(&mut restarted, "2").await.unwrap();
    assert_snapshot!(print(&turn), @r#"
    bot: Welcome to the shop!
    bot: What's your name?
    notice: {"type":"flow_changed","bot":"shop","missing_block":"pick"}
    (waiting)
    "#);
    assert_eq!(restarted.variable("name"), None);
    assert_eq!(restarted.status(), Status::Waiting);
}

#[tokio::test]
async fn the_trace_lists_blocks_webhooks_and_variable_changes() {
    let runner = ScriptedRunner::new().with("fetch_products", products());
    let executor = Executor::single(flow(SHOP), runner);
    let (mut chat, _) = Chat::start(&executor, "shop").await;
    let turn = chat.say_turn("Ada").await;
    let blocks: Vec<&str> = turn.trace.blocks().iter().map(|id| id.as_str()).collect();
    assert_eq!(blocks, ["fetch_products", "check", "list_products", "pick"]);
    let webhook = turn.trace.webhooks().next().unwrap();
    assert_eq!(
        webhook.url.as_deref(),
        Some("https://dummyjson.com/products?user=Ada")
    );
    let changed: Vec<&str> = turn
        .trace
        .variable_changes()
        .map(|change| &*change.name)
        .collect();
    assert_eq!(
        changed,
        [
            "last user answer",
            "name",
            "titles",
            "second category",
            "last webhook success"
        ]
    );
}

#[tokio::test]
async fn a_request_that_cannot_be_built_fails_the_step_and_nothing_is_sent() {
    // No CRM_TOKEN secret is given, so the Authorization header cannot be built.
    let runner = ScriptedRunner::new().with("send_lead", Scripted::json(201, json!({"id": "L-7"})));
    let executor = Executor::single(flow(LEAD_CAPTURE), runner);
    let (mut chat, _) = Chat::start(&executor, "lead_capture").await;
    chat.say("Ada").await;
    chat.say("ada@example.com").await;
    assert_snapshot!(chat.say("Pricing").await, @"(sleeping, timer Sleep in 2s)");
    assert_eq!(chat.var("crm failure")["type"], json!("BadRequest"));
    assert!(executor.runner().requests().is_empty());
}

#[test]
fn trace_events_stay_small_enough_for_a_turn_to_allocate_its_trace_once() {
    // Turn::new reserves 16 events; 1 KiB in all keeps that one allocation a cheap one.
    assert!(std::mem::size_of::<crate::turn::TraceEvent>() <= 64);
}
