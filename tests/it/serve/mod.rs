//! `flowbot serve` as an operator runs it: the real binary on a temporary SQLite file, over
//! real HTTP, with webhooks answered by a stub on 127.0.0.1, killed and restarted.

mod postgres;
mod support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use support::{
    assert_migrate_applies_once, eventually, scratch, shop_flow, texts, Api, Reply, Serve, Stub,
};

/// The flag that lets the shop reach the stub on loopback.
const ALLOW_STUB: [&str; 2] = ["--allow-webhook", "127.0.0.1"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shop_conversation_over_http_reads_as_flowbot_test_reads_it() {
    let dir = scratch("shop-transcript");
    let stub = Stub::start();
    shop_flow(&dir, &stub.url("/products"));
    let serve = Serve::start(&dir, &ALLOW_STUB, &[]);
    let api = Api::new();
    let mut transcript = Vec::new();
    for (index, text) in ["hi", "Ada", "iPhone X"].into_iter().enumerate() {
        let reply = api
            .message(&serve.base, "shop", "c-1", text, &format!("m{index}"))
            .await
            .unwrap();
        assert_eq!(reply.status, 200, "{}", reply.text);
        // The first message starts the bot: it is not an answer, and a test has no such line.
        if index > 0 {
            transcript.push(json!({"user": text}));
        }
        for output in reply.json["outputs"].as_array().unwrap() {
            let mut line = json!({"bot": output["text"]});
            if output["options"]
                .as_array()
                .is_some_and(|options| !options.is_empty())
            {
                line["options"] = output["options"].clone();
            }
            transcript.push(line);
        }
    }
    let bot_lines: Vec<&str> = transcript
        .iter()
        .filter_map(|line| line["bot"].as_str())
        .collect();
    assert_eq!(
        bot_lines,
        [
            "Welcome to the shop!",
            "What's your name?",
            "Ada, we have: iPhone 9, iPhone X",
            "Which one?",
            "You picked iPhone X."
        ]
    );
    let test_file = json!({
        "flow": "flows/shop.yaml",
        "cases": [{
            "name": "the server's transcript",
            "webhooks": {"fetch_products": {"status": 200, "json": support::products()}},
            "conversation": transcript,
            "expect": {"status": "ended"},
        }],
    });
    let path = dir.join("server_transcript.test.yaml");
    std::fs::write(&path, serde_yaml::to_string(&test_file).unwrap()).unwrap();
    let output = crate::support::flowbot()
        .arg("test")
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "flowbot test disagrees with the server:\n{}",
        crate::support::text(&output.stdout)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_message_id_gets_the_same_bytes_and_runs_its_webhook_once() {
    let dir = scratch("replay");
    let stub = Stub::start();
    shop_flow(&dir, &stub.url("/products"));
    let serve = Serve::start(&dir, &ALLOW_STUB, &[]);
    let api = Api::new();
    api.message(&serve.base, "shop", "c-1", "hi", "m1")
        .await
        .unwrap();
    let first = api
        .message(&serve.base, "shop", "c-1", "Ada", "m2")
        .await
        .unwrap();
    let again = api
        .message(&serve.base, "shop", "c-1", "Ada", "m2")
        .await
        .unwrap();
    assert_eq!(first.status, 200);
    assert!(!first.replay);
    assert!(again.replay, "a replay says so in Idempotent-Replay");
    assert_eq!(first.text, again.text, "byte for byte");
    assert_eq!(stub.users().get("Ada"), Some(&1), "the webhook ran once");
    // A replay changes nothing: the conversation is still where the first delivery left it.
    let shown = api.get(&serve.conversation_url("shop", "c-1", "")).await;
    assert_eq!(shown.json["revision"], 2);
    assert_eq!(shown.json["block"], "pick");
}

/// One conversation of the load: its messages, with ids, in order.
fn load_messages(index: usize) -> [(String, String); 3] {
    [
        ("hi".to_owned(), format!("c{index}-m1")),
        (format!("user-{index}"), format!("c{index}-m2")),
        ("iPhone 9".to_owned(), format!("c{index}-m3")),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_load_loses_no_acknowledged_turn_and_runs_no_webhook_twice() {
    const CONVERSATIONS: usize = 200;
    let dir = scratch("sigkill");
    let stub = Stub::start();
    shop_flow(&dir, &stub.url("/products"));
    let serve = Serve::start(&dir, &ALLOW_STUB, &[]);
    let api = Api::new();
    let acknowledged: Arc<Mutex<HashMap<String, Reply>>> = Arc::default();
    let acked_count = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for index in 0..CONVERSATIONS {
        let (api, base) = (api.clone(), serve.base.clone());
        let (acknowledged, acked_count) = (Arc::clone(&acknowledged), Arc::clone(&acked_count));
        tasks.push(tokio::spawn(async move {
            for (text, message_id) in load_messages(index) {
                let id = format!("c{index}");
                match api.message(&base, "shop", &id, &text, &message_id).await {
                    Ok(reply) if reply.status == 200 => {
                        acknowledged.lock().unwrap().insert(message_id, reply);
                        acked_count.fetch_add(1, Ordering::SeqCst);
                    }
                    // The server was killed: this message and the rest of the conversation
                    // are sent again after the restart.
                    _ => return,
                }
            }
        }));
    }
    let mid_load = eventually(Duration::from_secs(60), || {
        acked_count.load(Ordering::SeqCst) >= CONVERSATIONS
    })
    .await;
    assert!(mid_load, "the load did not get going:\n{}", serve.log());
    serve.kill();
    for task in tasks {
        let _ = task.await;
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() < CONVERSATIONS * 3,
        "the kill came after the whole load; nothing was in flight"
    );
    let hits_before_restart = stub.users();

    let serve = Serve::start(&dir, &ALLOW_STUB, &[]);
    let mut resent = Vec::new();
    for index in 0..CONVERSATIONS {
        let (api, base) = (api.clone(), serve.base.clone());
        resent.push(tokio::spawn(async move {
            let mut replies = Vec::new();
            for (text, message_id) in load_messages(index) {
                let reply = api
                    .message(&base, "shop", &format!("c{index}"), &text, &message_id)
                    .await
                    .expect("the restarted server answers");
                replies.push((message_id, reply));
            }
            replies
        }));
    }
    for (index, task) in resent.into_iter().enumerate() {
        for (message_id, reply) in task.await.unwrap() {
            assert_eq!(reply.status, 200, "{}", reply.text);
            if let Some(before) = acknowledged.get(&message_id) {
                assert!(
                    reply.replay,
                    "{message_id} was acknowledged: it is not run again"
                );
                assert_eq!(
                    reply.text, before.text,
                    "{message_id} answers byte for byte"
                );
            }
        }
        let user = format!("user-{index}");
        let hits = stub.users().get(&user).copied().unwrap_or(0);
        if acknowledged.contains_key(&format!("c{index}-m2")) {
            assert_eq!(hits, 1, "{user}'s acknowledged webhook ran {hits} times");
        } else {
            // Killed in the middle of this turn, the request may have gone out before the kill:
            // the redelivery sends it again (ARCHITECTURE.md says so).
            assert!((1..=2).contains(&hits), "{user}: {hits} webhook requests");
        }
        let shown = api
            .get(&serve.conversation_url("shop", &format!("c{index}"), ""))
            .await;
        assert_eq!(shown.json["status"], "ended", "c{index}: {}", shown.text);
        assert_eq!(
            shown.json["revision"], 3,
            "c{index}: each of its three turns ran exactly once"
        );
    }
    assert!(
        hits_before_restart.values().all(|hits| *hits == 1),
        "no request went out twice before the kill"
    );
}

/// A bot that sleeps after the first message, and whose question times out.
const TIMERS_FLOW: &str = r#"bot: timers
blocks:
  hello:
    message: "Hello!"
    next: nap
  nap:
    sleep: 1s
    next: awake
  awake:
    message: "I slept."
    next: ask
  ask:
    question: "Still there?"
    save_to: answer
    timeout: 1s
    on_timeout: gone
    next: bye
  gone:
    end: "You left."
  bye:
    end: "Bye."
"#;

/// Long-polls the outputs after `after` until a message with `text` arrives; the texts seen.
async fn poll_until(api: &Api, serve: &Serve, id: &str, text: &str) -> Vec<(u64, String)> {
    let mut seen = Vec::new();
    let mut after = 0;
    for _ in 0..40 {
        let url = serve.conversation_url("timers", id, &format!("/outputs?after={after}&wait=5"));
        let page = api.get(&url).await;
        assert_eq!(page.status, 200, "{}", page.text);
        for output in page.json["outputs"].as_array().unwrap() {
            let seq = output["seq"].as_u64().unwrap();
            after = after.max(seq);
            seen.push((seq, output["text"].as_str().unwrap_or_default().to_owned()));
        }
        if seen.iter().any(|(_, seen)| seen == text) {
            return seen;
        }
    }
    panic!("`{text}` never came; saw {seen:?}\n{}", serve.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sleep_and_a_question_timeout_fire_once_by_long_poll_and_at_the_outbound_receiver() {
    let dir = scratch("timers");
    std::fs::write(dir.join("flows/timers.yaml"), TIMERS_FLOW).unwrap();
    let stub = Stub::start();
    stub.fail_outbound(2);
    let outbound = stub.url("/outbound");
    let serve = Serve::start(&dir, &["--outbound-url", &outbound], &[]);
    let api = Api::new();
    let first = api
        .message(&serve.base, "timers", "t-1", "hi", "m1")
        .await
        .unwrap();
    assert_eq!(texts(&first.json), ["Hello!"]);
    assert_eq!(first.json["status"], "sleeping");
    let seen = poll_until(&api, &serve, "t-1", "You left.").await;
    let texts_seen: Vec<&str> = seen.iter().map(|(_, text)| text.as_str()).collect();
    assert_eq!(
        texts_seen,
        ["Hello!", "I slept.", "Still there?", "You left."]
    );
    let seqs: Vec<u64> = seen.iter().map(|(seq, _)| *seq).collect();
    assert_eq!(seqs, [1, 2, 3, 4], "each output once, numbered in order");
    // Two timer turns, each delivered once it got through the two failures, in seq order.
    let delivered = eventually(Duration::from_secs(20), || stub.delivered().len() >= 2).await;
    assert!(
        delivered,
        "deliveries: {:?}\n{}",
        stub.delivered(),
        serve.log()
    );
    let delivered = stub.delivered();
    let delivered_seqs: Vec<u64> = delivered
        .iter()
        .flat_map(|body| body["outputs"].as_array().unwrap().clone())
        .map(|output| output["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(delivered_seqs, [2, 3, 4]);
    assert_eq!(delivered[0]["bot"], "timers");
    assert_eq!(delivered[0]["conversation"], "t-1");
    assert_eq!(
        stub.outbound_attempts(),
        4,
        "two failures, then one delivery per turn"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timer_that_fell_due_while_the_server_was_down_fires_once_at_start() {
    let dir = scratch("timers-restart");
    std::fs::write(dir.join("flows/timers.yaml"), TIMERS_FLOW).unwrap();
    let serve = Serve::start(&dir, &[], &[]);
    let api = Api::new();
    let first = api
        .message(&serve.base, "timers", "t-1", "hi", "m1")
        .await
        .unwrap();
    assert_eq!(first.json["status"], "sleeping");
    serve.kill();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let serve = Serve::start(&dir, &[], &[]);
    let seen = poll_until(&api, &serve, "t-1", "Still there?").await;
    assert_eq!(
        seen.iter().filter(|(_, text)| text == "I slept.").count(),
        1
    );
    // Killed again while the question's timer runs, then restarted after it fell due.
    serve.kill();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let serve = Serve::start(&dir, &[], &[]);
    let seen = poll_until(&api, &serve, "t-1", "You left.").await;
    let texts_seen: Vec<&str> = seen.iter().map(|(_, text)| text.as_str()).collect();
    assert_eq!(
        texts_seen,
        ["Hello!", "I slept.", "Still there?", "You left."]
    );
    let shown = api.get(&serve.conversation_url("timers", "t-1", "")).await;
    assert_eq!(shown.json["status"], "ended");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_with_a_broken_flow_keeps_the_old_flow_serving() {
    let dir = scratch("reload");
    let flow = dir.join("flows/timers.yaml");
    std::fs::write(&flow, TIMERS_FLOW).unwrap();
    let serve = Serve::start(&dir, &[], &[]);
    let api = Api::new();
    let bots = api.get(&serve.url("/v1/bots")).await;
    let hash = bots.json["bots"][0]["hash"].clone();
    std::fs::write(&flow, TIMERS_FLOW.replace("next: awake", "next: awke")).unwrap();

    serve.signal("HUP");
    let refused = eventually(Duration::from_secs(10), || {
        serve.log().contains("reload refused")
    })
    .await;
    assert!(refused, "{}", serve.log());
    let reply = api
        .message(&serve.base, "timers", "r-1", "hi", "m1")
        .await
        .unwrap();
    assert_eq!(texts(&reply.json), ["Hello!"], "the old flow still serves");

    let reload = api.post(&serve.url("/v1/admin/reload"), json!({})).await;
    assert_eq!(reload.status, 422, "{}", reload.text);
    assert_eq!(reload.json["error"]["code"], "invalid_flow");
    let diagnostics = reload.json["error"]["diagnostics"].to_string();
    assert!(diagnostics.contains("awke"), "{diagnostics}");
    assert!(
        diagnostics.contains("timers.yaml:"),
        "with file and line: {diagnostics}"
    );
    assert_eq!(
        api.get(&serve.url("/v1/bots")).await.json["bots"][0]["hash"],
        hash
    );

    std::fs::write(&flow, TIMERS_FLOW.replace("Hello!", "Hello again!")).unwrap();
    let reload = api.post(&serve.url("/v1/admin/reload"), json!({})).await;
    assert_eq!(reload.status, 200, "{}", reload.text);
    assert_ne!(reload.json["bots"][0]["hash"], hash);
    let reply = api
        .message(&serve.base, "timers", "r-2", "hi", "m1")
        .await
        .unwrap();
    assert_eq!(texts(&reply.json), ["Hello again!"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_answers_the_turns_in_flight_then_exits_0() {
    let dir = scratch("sigterm");
    let stub = Stub::start();
    stub.set_slow(1500);
    shop_flow(&dir, &stub.url("/slow-products"));
    let mut serve = Serve::start(&dir, &ALLOW_STUB, &[]);
    let api = Api::new();
    for index in 0..5 {
        api.message(&serve.base, "shop", &format!("s{index}"), "hi", "m1")
            .await
            .unwrap();
    }
    let in_flight: Vec<_> = (0..5)
        .map(|index| {
            let (api, base) = (api.clone(), serve.base.clone());
            tokio::spawn(async move {
                api.message(&base, "shop", &format!("s{index}"), "Ada", "m2")
                    .await
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    serve.signal("TERM");
    for task in in_flight {
        let reply = task.await.unwrap().expect("a turn in flight is answered");
        assert_eq!(reply.status, 200, "{}", reply.text);
        assert_eq!(texts(&reply.json)[0], "Ada, we have: iPhone 9, iPhone X");
    }
    let status = serve
        .wait_exit(Duration::from_secs(30))
        .expect("the server exits");
    assert!(status.success(), "exit status {status:?}\n{}", serve.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_required_when_configured() {
    let dir = scratch("tokens");
    std::fs::write(dir.join("flows/timers.yaml"), TIMERS_FLOW).unwrap();
    let serve = Serve::start(&dir, &[], &[("FLOWBOT_API_TOKENS", "alpha,beta")]);
    let api = Api::new();
    let url = serve.url("/v1/bots");
    let missing = api
        .send(reqwest::Method::GET, &url, None, None)
        .await
        .unwrap();
    assert_eq!(missing.status, 401);
    assert_eq!(missing.json["error"]["code"], "unauthorized");
    let wrong = api
        .send(reqwest::Method::GET, &url, None, Some("gamma"))
        .await
        .unwrap();
    assert_eq!(wrong.status, 401);
    let right = api
        .send(reqwest::Method::GET, &url, None, Some("beta"))
        .await
        .unwrap();
    assert_eq!(right.status, 200, "{}", right.text);
    assert_eq!(
        api.get(&serve.url("/healthz")).await.status,
        200,
        "health needs no token"
    );
}

#[test]
fn listening_on_a_non_loopback_address_without_tokens_is_refused() {
    let dir = scratch("no-auth");
    std::fs::write(dir.join("flows/timers.yaml"), TIMERS_FLOW).unwrap();
    let output = crate::support::flowbot()
        .args(["serve", "--listen", "0.0.0.0:0", "--flows"])
        .arg(dir.join("flows"))
        .arg("--store")
        .arg(format!("sqlite:{}", dir.join("flowbot.db").display()))
        .env_remove("FLOWBOT_API_TOKENS")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = crate::support::text(&output.stderr);
    assert!(
        stderr.contains("refusing to listen on 0.0.0.0:0 without authentication"),
        "{stderr}"
    );
    assert!(stderr.contains("FLOWBOT_API_TOKENS"), "{stderr}");
}

#[test]
fn a_broken_flow_stops_the_start_with_its_file_and_line() {
    let dir = scratch("broken-start");
    std::fs::write(
        dir.join("flows/timers.yaml"),
        TIMERS_FLOW.replace("next: awake", "next: awke"),
    )
    .unwrap();
    let error = match Serve::try_start(&dir, &[], &[]) {
        Ok(_) => panic!("a server with a broken flow started"),
        Err(log) => log,
    };
    assert!(error.contains("timers.yaml:8:11: error:"), "{error}");
    assert!(error.contains("awke"), "{error}");
    assert!(error.contains("the server did not start"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_the_contract_error_bodies_from_the_real_server() {
    let dir = scratch("bad-input");
    std::fs::write(dir.join("flows/timers.yaml"), TIMERS_FLOW).unwrap();
    let serve = Serve::start(&dir, &[], &[]);
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let messages = serve.conversation_url("timers", "b-1", "/messages");
    let cases: Vec<(String, Vec<u8>, u16, &str)> = vec![
        (
            messages.clone(),
            b"{\"text\": ".to_vec(),
            400,
            "invalid_json",
        ),
        (
            messages.clone(),
            br#"{"text": 42}"#.to_vec(),
            400,
            "invalid_request",
        ),
        (
            messages.clone(),
            br#"{"id": "m"}"#.to_vec(),
            400,
            "invalid_request",
        ),
        (
            messages.clone(),
            vec![b'x'; 10 * 1024 * 1024],
            413,
            "too_large",
        ),
        (
            serve.conversation_url("timers", &"x".repeat(201), "/messages"),
            br#"{"text": "hi"}"#.to_vec(),
            400,
            "invalid_request",
        ),
        (
            serve.conversation_url("timers", "%FF%FE", "/messages"),
            br#"{"text": "hi"}"#.to_vec(),
            400,
            "invalid_request",
        ),
        (
            serve.conversation_url("timres", "b-1", "/messages"),
            br#"{"text": "hi"}"#.to_vec(),
            404,
            "unknown_bot",
        ),
    ];
    for (url, body, status, code) in cases {
        let response = client.post(&url).body(body).send().await.unwrap();
        assert_eq!(response.status().as_u16(), status, "{url}");
        let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
        assert_eq!(body["error"]["code"], code, "{url}: {body}");
        assert!(body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
    }
    let unknown = api_message(
        &client,
        &serve.conversation_url("timres", "b-1", "/messages"),
    )
    .await;
    assert_eq!(
        unknown["error"]["message"],
        "there is no bot `timres` (did you mean `timers`?)"
    );
}

async fn api_message(client: &reqwest::Client, url: &str) -> Value {
    let response = client
        .post(url)
        .body(r#"{"text": "hi"}"#)
        .send()
        .await
        .unwrap();
    serde_json::from_str(&response.text().await.unwrap()).unwrap()
}

/// A shop bot `shop-NAME` in `dir/flows/NAME.yaml` for each `(NAME, URL)`, fetching its
/// products from URL.
fn write_shop_bots(dir: &std::path::Path, targets: &[(&str, String)]) {
    for (name, url) in targets {
        let flow = std::fs::read_to_string(shop_flow(dir, url)).unwrap();
        std::fs::remove_file(dir.join("flows/shop.yaml")).unwrap();
        let flow = flow.replace("bot: shop", &format!("bot: shop-{name}"));
        std::fs::write(dir.join(format!("flows/{name}.yaml")), flow).unwrap();
    }
}

/// The stub's products as the loopback address, as `localhost` and as the IPv4-mapped IPv6
/// address, by name: the targets that a server refuses and `--allow-webhook` lets through.
fn loopback_targets(stub: &Stub) -> [(&'static str, String); 3] {
    let url = stub.url("/products");
    [
        ("loopback", url.clone()),
        ("localhost", url.replace("127.0.0.1", "localhost")),
        ("mapped", url.replace("127.0.0.1", "[::ffff:127.0.0.1]")),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_to_a_local_address_is_blocked_stored_and_the_bot_goes_on() {
    let dir = scratch("blocked");
    let stub = Stub::start();
    let mut targets = loopback_targets(&stub).to_vec();
    targets.extend([
        (
            "ipv6-loopback",
            stub.url("/products").replace("127.0.0.1", "[::1]"),
        ),
        ("private", "http://10.0.0.1/products".to_owned()),
        (
            "metadata",
            "http://169.254.169.254/latest/meta-data".to_owned(),
        ),
    ]);
    write_shop_bots(&dir, &targets);
    let serve = Serve::start(&dir, &[], &[]);
    let api = Api::new();
    for (name, _) in &targets {
        let bot = format!("shop-{name}");
        api.message(&serve.base, &bot, "b-1", "hi", "m1")
            .await
            .unwrap();
        let reply = api
            .message(&serve.base, &bot, "b-1", "Ada", "m2")
            .await
            .unwrap();
        assert_eq!(
            texts(&reply.json),
            ["Sorry Ada, the shop is closed."],
            "{name}: S4, the bot goes on"
        );
        let shown = api.get(&serve.conversation_url(&bot, "b-1", "")).await;
        let failure = &shown.json["variables"]["shop failure"];
        assert_eq!(failure["type"], "ConnectionError", "{name}: {failure}");
        let message = failure["message"].as_str().unwrap();
        assert!(
            message.contains("blocked") && message.contains("--allow-webhook"),
            "{name}: {message}"
        );
    }
    assert!(
        stub.users().is_empty(),
        "nothing reached the stub: {:?}",
        stub.users()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allow_listed_targets_go_through_and_a_redirect_to_a_private_address_is_blocked() {
    // The allowed cases of the test above, on a server that allows them. `[::1]`, 10.0.0.1 and
    // 169.254.169.254 are left out: tests listen on 127.0.0.1 only and call no other address.
    let dir = scratch("allowed");
    let stub = Stub::start();
    let mut targets = loopback_targets(&stub).to_vec();
    targets.push(("redirect", stub.url("/redirect-private")));
    write_shop_bots(&dir, &targets);
    let allow = [
        "--allow-webhook",
        "127.0.0.1",
        "--allow-webhook",
        "localhost",
    ];
    let serve = Serve::start(&dir, &allow, &[]);
    let api = Api::new();
    for (number, (name, _)) in loopback_targets(&stub).iter().enumerate() {
        let bot = format!("shop-{name}");
        api.message(&serve.base, &bot, "a-1", "hi", "m1")
            .await
            .unwrap();
        let user = format!("Ada{number}");
        let reply = api
            .message(&serve.base, &bot, "a-1", &user, "m2")
            .await
            .unwrap();
        let texts = texts(&reply.json);
        assert!(
            texts[0].starts_with(&format!("{user}, we have: ")),
            "{name}: {texts:?}"
        );
        assert_eq!(stub.users().get(&user), Some(&1), "{name}");
    }

    api.message(&serve.base, "shop-redirect", "r-1", "hi", "m1")
        .await
        .unwrap();
    let reply = api
        .message(&serve.base, "shop-redirect", "r-1", "Ada", "m2")
        .await
        .unwrap();
    assert_eq!(
        texts(&reply.json),
        ["Sorry Ada, the shop is closed."],
        "S4, the bot goes on"
    );
    let shown = api
        .get(&serve.conversation_url("shop-redirect", "r-1", ""))
        .await;
    let failure = &shown.json["variables"]["shop failure"];
    assert_eq!(failure["type"], "ConnectionError", "{failure}");
    let message = failure["message"].as_str().unwrap();
    assert!(
        message.contains("10.0.0.1")
            && message.contains("blocked")
            && message.contains("--allow-webhook"),
        "{message}"
    );
}

#[test]
fn a_bad_allow_webhook_entry_stops_the_start() {
    let dir = scratch("bad-allow");
    std::fs::write(dir.join("flows/timers.yaml"), TIMERS_FLOW).unwrap();
    let error = match Serve::try_start(&dir, &["--allow-webhook", "10.0.0.0/99"], &[]) {
        Ok(_) => panic!("a server with a bad --allow-webhook started"),
        Err(log) => log,
    };
    assert!(error.contains("--allow-webhook 10.0.0.0/99"), "{error}");
}

#[test]
fn flowbot_migrate_brings_a_sqlite_file_up_to_date_and_says_so() {
    let dir = scratch("migrate-sqlite");
    let store = format!("sqlite:{}", dir.join("flowbot.db").display());
    assert_migrate_applies_once(&store);
    // The server starts on the migrated file.
    std::fs::write(dir.join("flows/timers.yaml"), TIMERS_FLOW).unwrap();
    let serve = Serve::start(&dir, &[], &[]);
    drop(serve);
}

#[test]
fn a_public_bot_that_is_not_in_the_flows_folder_stops_the_start_naming_it() {
    let dir = scratch("unknown-public-bot");
    std::fs::write(dir.join("flows/timers.yaml"), TIMERS_FLOW).unwrap();
    let error = match Serve::try_start(&dir, &["--public-bot", "timer"], &[]) {
        Ok(_) => panic!("a server with an unknown --public-bot started"),
        Err(log) => log,
    };
    assert!(
        error.contains(
            "--public-bot timer: there is no bot `timer` in the flows folder (did you mean `timers`?)"
        ),
        "{error}"
    );
}

#[tokio::test]
async fn a_public_bot_is_served_without_a_token_while_v1_asks_for_one() {
    let dir = scratch("public-bot");
    std::fs::write(dir.join("flows/timers.yaml"), TIMERS_FLOW).unwrap();
    let serve = Serve::start(
        &dir,
        &["--public-bot", "timers", "--public-rate-limit", "3"],
        &[("FLOWBOT_API_TOKENS", "t-1")],
    );
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let page = client.get(serve.url("/chat/timers")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let started = client
        .post(serve.url("/public/v1/bots/timers/conversations"))
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), 201);
    let v1 = client
        .post(serve.conversation_url("timers", "c-1", "/messages"))
        .body(r#"{"text": "hi"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(v1.status(), 401);
    // Two more starts use up the three a minute; the fourth is refused, and says when to retry.
    for _ in 0..2 {
        let started = client
            .post(serve.url("/public/v1/bots/timers/conversations"))
            .send()
            .await
            .unwrap();
        assert_eq!(started.status(), 201);
    }
    let refused = client
        .post(serve.url("/public/v1/bots/timers/conversations"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().contains_key("retry-after"));
    let body: Value = serde_json::from_slice(&refused.bytes().await.unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");
}

#[test]
fn an_unreachable_postgresql_stops_the_start_with_a_clear_error_and_no_password() {
    let dir = scratch("pg-unreachable");
    std::fs::write(dir.join("flows/timers.yaml"), TIMERS_FLOW).unwrap();
    // A loopback port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let store = format!("postgres://flowbot:hunter2@127.0.0.1:{port}/flowbot");
    let log = match Serve::try_start_on(&dir, &store, &[], &[]) {
        Err(log) => log,
        Ok(_) => panic!("flowbot serve started without its database"),
    };
    assert!(
        log.contains("error: opening the store: the store failed: postgresql"),
        "{log}"
    );
    assert!(log.contains("refused"), "{log}");
    assert!(!log.contains("hunter2"), "{log}");
    let migrate = crate::support::flowbot()
        .args(["migrate", "--store", &store])
        .output()
        .unwrap();
    assert_eq!(migrate.status.code(), Some(2));
    let message = crate::support::text(&migrate.stderr);
    assert!(message.contains("flowbot:***@127.0.0.1"), "{message}");
    assert!(!message.contains("hunter2"), "{message}");
}
