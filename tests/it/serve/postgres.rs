//! Several real `flowbot serve` processes on one PostgreSQL database (a schema of its own per
//! test on the database of `FLOWBOT_TEST_POSTGRES_URL`), with the messages of each conversation
//! spread over them: they behave as one instance does. Without the variable each test says it
//! was skipped and passes.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio_postgres::NoTls;

use super::support::{
    assert_migrate_applies_once, eventually, scratch, shop_flow, texts, Api, Reply, Serve, Stub,
};
use super::{load_messages, ALLOW_STUB, TIMERS_FLOW};

const URL_VARIABLE: &str = "FLOWBOT_TEST_POSTGRES_URL";

/// A schema of its own on the test database, dropped at the end of the test.
struct Schema {
    base: String,
    name: String,
}

impl Schema {
    async fn new(test: &str) -> Option<Schema> {
        let Ok(base) = std::env::var(URL_VARIABLE) else {
            eprintln!(
                "{test}: skipped, {URL_VARIABLE} is not set (e.g. \
                 postgres://postgres@127.0.0.1:5432/test), so several instances on PostgreSQL \
                 are not tested"
            );
            return None;
        };
        let nanos = std::time::UNIX_EPOCH.elapsed().unwrap().as_nanos();
        let name = format!("flowbot_test_{}_{nanos:x}", std::process::id());
        let (client, connection) = tokio_postgres::connect(&base, NoTls)
            .await
            .unwrap_or_else(|error| panic!("{URL_VARIABLE}={base}: {error}"));
        tokio::spawn(connection);
        client
            .batch_execute(&format!("CREATE SCHEMA {name}"))
            .await
            .unwrap();
        Some(Schema { base, name })
    }

    /// The store URL of the schema, for `--store`.
    fn url(&self) -> String {
        let separator = if self.base.contains('?') { '&' } else { '?' };
        format!(
            "{}{separator}options=-csearch_path%3D{}",
            self.base, self.name
        )
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        let _ = std::process::Command::new("psql")
            .arg(&self.base)
            .args([
                "-q",
                "-c",
                &format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name),
            ])
            .output();
    }
}

macro_rules! schema {
    ($test:literal) => {
        match Schema::new($test).await {
            Some(schema) => schema,
            None => return,
        }
    };
}

/// `count` instances on the store of `url`; the first applies the migrations alone, so that
/// the others start on a ready schema (they would wait on its lock anyway).
fn instances(dir: &Path, url: &str, count: usize, extra: &[&str]) -> Vec<Serve> {
    let mut args = ALLOW_STUB.to_vec();
    args.extend_from_slice(extra);
    (0..count)
        .map(|_| Serve::start_on(dir, url, &args))
        .collect()
}

/// Sends the shop load: `conversations` conversations at once, message `j` of conversation `i`
/// to instance `(i + j) % K`, and each message a second time, at the same moment, to the next
/// instance (a channel's redelivery that lands elsewhere). The answers by message id, and the
/// second deliveries' answers.
async fn spread_load(
    api: &Api,
    bases: &[String],
    conversations: usize,
) -> (HashMap<String, Reply>, HashMap<String, Reply>) {
    let mut tasks = Vec::new();
    for index in 0..conversations {
        let (api, bases) = (api.clone(), bases.to_vec());
        tasks.push(tokio::spawn(async move {
            let mut replies = Vec::new();
            for (turn, (text, message_id)) in load_messages(index).into_iter().enumerate() {
                let id = format!("c{index}");
                let first = &bases[(index + turn) % bases.len()];
                let second = &bases[(index + turn + 1) % bases.len()];
                let (one, two) = tokio::join!(
                    api.message(first, "shop", &id, &text, &message_id),
                    api.message(second, "shop", &id, &text, &message_id),
                );
                replies.push((message_id, one.unwrap(), two.unwrap()));
            }
            replies
        }));
    }
    let (mut firsts, mut seconds) = (HashMap::new(), HashMap::new());
    for task in tasks {
        for (message_id, one, two) in task.await.unwrap() {
            firsts.insert(message_id.clone(), one);
            seconds.insert(message_id, two);
        }
    }
    (firsts, seconds)
}

/// The answers of one instance on SQLite, one message at a time: the reference transcript.
async fn single_instance_answers(api: &Api, conversations: usize) -> HashMap<String, Value> {
    let dir = scratch("pg-reference");
    let stub = Stub::start();
    shop_flow(&dir, &stub.url("/products"));
    let serve = Serve::start(&dir, &ALLOW_STUB, &[]);
    let mut answers = HashMap::new();
    for index in 0..conversations {
        for (text, message_id) in load_messages(index) {
            let reply = api
                .message(
                    &serve.base,
                    "shop",
                    &format!("c{index}"),
                    &text,
                    &message_id,
                )
                .await
                .unwrap();
            answers.insert(message_id, reply.json);
        }
    }
    answers
}

/// S1: several instances on one database, the messages of every conversation spread over them
/// and each delivered twice at once to two instances: every answer is the one a single instance
/// gives, both deliveries get it byte for byte (one of them a replay), every turn ran once, and
/// every webhook once.
async fn instances_behave_as_one(count: usize, test: &'static str) {
    const CONVERSATIONS: usize = 24;
    let schema = match Schema::new(test).await {
        Some(schema) => schema,
        None => return,
    };
    let api = Api::new();
    let reference = single_instance_answers(&api, CONVERSATIONS).await;
    let dir = scratch(test);
    let stub = Stub::start();
    shop_flow(&dir, &stub.url("/products"));
    let servers = instances(&dir, &schema.url(), count, &[]);
    let bases: Vec<String> = servers.iter().map(|serve| serve.base.clone()).collect();
    let (firsts, seconds) = spread_load(&api, &bases, CONVERSATIONS).await;
    for (message_id, first) in &firsts {
        let second = &seconds[message_id];
        assert_eq!(first.status, 200, "{message_id}: {}", first.text);
        assert_eq!(second.status, 200, "{message_id}: {}", second.text);
        assert_eq!(
            first.text, second.text,
            "{message_id}: both deliveries, byte for byte"
        );
        assert!(
            first.replay != second.replay,
            "{message_id}: exactly one of the two deliveries ran the turn"
        );
        assert_eq!(
            first.json, reference[message_id],
            "{message_id}: the answer a single instance gives"
        );
    }
    for index in 0..CONVERSATIONS {
        let user = format!("user-{index}");
        assert_eq!(
            stub.users().get(&user).copied(),
            Some(1),
            "{user}: one webhook request for its message"
        );
        let shown = api
            .get(&servers[index % count].conversation_url("shop", &format!("c{index}"), ""))
            .await;
        assert_eq!(shown.json["status"], "ended", "c{index}: {}", shown.text);
        assert_eq!(
            shown.json["revision"], 3,
            "c{index}: no turn lost or run twice"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_database_behave_as_one() {
    instances_behave_as_one(2, "two_instances_on_one_database_behave_as_one").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_on_one_database_behave_as_one() {
    instances_behave_as_one(3, "three_instances_on_one_database_behave_as_one").await;
}

/// One instance of three is SIGKILLed with turns in flight; the clients send what it did not
/// answer to the next instance, which takes each conversation over once its lease expired.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_others_finish_a_killed_instances_conversations_once_its_leases_expired() {
    const CONVERSATIONS: usize = 30;
    let schema =
        schema!("the_others_finish_a_killed_instances_conversations_once_its_leases_expired");
    let dir = scratch("pg-sigkill");
    let stub = Stub::start();
    // Slow webhooks, so that the killed instance has turns in flight.
    stub.set_slow(200);
    let shop = shop_flow(&dir, &stub.url("/slow-products"));
    let text = std::fs::read_to_string(&shop).unwrap();
    let keyed = text.replace(
        "        Accept: application/json\n",
        "        Accept: application/json\n      idempotency_key: true\n",
    );
    assert_ne!(keyed, text, "the shop's headers moved: update the test");
    std::fs::write(&shop, keyed).unwrap();
    let mut servers = instances(&dir, &schema.url(), 3, &["--lease-ttl", "1s"]);
    let bases: Vec<String> = servers.iter().map(|serve| serve.base.clone()).collect();
    let api = Api::new();
    let acknowledged: Arc<Mutex<HashMap<String, Reply>>> = Arc::default();
    let taken_over = Arc::new(AtomicUsize::new(0));
    let first_turns = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for index in 0..CONVERSATIONS {
        let (api, bases) = (api.clone(), bases.clone());
        let (acknowledged, taken_over) = (Arc::clone(&acknowledged), Arc::clone(&taken_over));
        let first_turns = Arc::clone(&first_turns);
        tasks.push(tokio::spawn(async move {
            let id = format!("c{index}");
            for (turn, (text, message_id)) in load_messages(index).into_iter().enumerate() {
                // Round-robin over the instances; an instance that does not answer is skipped
                // for the next one, with the same message id.
                let mut target = (index + turn) % bases.len();
                let reply = loop {
                    match api
                        .message(&bases[target], "shop", &id, &text, &message_id)
                        .await
                    {
                        Ok(reply) => break reply,
                        Err(_) => {
                            taken_over.fetch_add(1, Ordering::SeqCst);
                            target = (target + 1) % bases.len();
                        }
                    }
                };
                assert_eq!(reply.status, 200, "{message_id}: {}", reply.text);
                acknowledged.lock().unwrap().insert(message_id, reply);
                if turn == 0 {
                    first_turns.fetch_add(1, Ordering::SeqCst);
                }
            }
        }));
    }
    // Once every conversation started, its second turn (the slow webhook) is in flight on each
    // instance: kill the first.
    let started = eventually(Duration::from_secs(60), || {
        first_turns.load(Ordering::SeqCst) >= CONVERSATIONS
    })
    .await;
    assert!(started, "the load did not get going:\n{}", servers[0].log());
    let killed = servers.remove(0);
    killed.kill();
    for task in tasks {
        task.await.unwrap();
    }
    assert!(
        taken_over.load(Ordering::SeqCst) > 0,
        "no message was in flight on the killed instance"
    );
    let acknowledged = acknowledged.lock().unwrap().clone();
    let (mut repeated, mut all_keys) = (0, std::collections::HashSet::new());
    for index in 0..CONVERSATIONS {
        let id = format!("c{index}");
        let shown = api
            .get(&servers[index % 2].conversation_url("shop", &id, ""))
            .await;
        assert_eq!(shown.json["status"], "ended", "{id}: {}", shown.text);
        assert_eq!(
            shown.json["revision"], 3,
            "{id}: each of its turns was stored once"
        );
        let user = format!("user-{index}");
        let hits = stub.users().get(&user).copied().unwrap_or(0);
        // A turn cut by the kill after its request went out is run again by the next
        // instance, which sends it again (ARCHITECTURE.md says so); never more than that, and
        // with the same Idempotency-Key, so that the target can drop the repeat.
        assert!((1..=2).contains(&hits), "{user}: {hits} webhook requests");
        let keys = &stub.idempotency_keys()[&user];
        assert_eq!(keys.len() as u32, hits, "{user}: every request had a key");
        assert!(keys.iter().all(|key| key == &keys[0]), "{user}: {keys:?}");
        repeated += usize::from(hits == 2);
        all_keys.insert(keys[0].clone());
        // Every answer given is the stored one: sent again, it comes back byte for byte.
        for (text, message_id) in load_messages(index) {
            let again = api
                .message(
                    &servers[(index + 1) % 2].base,
                    "shop",
                    &id,
                    &text,
                    &message_id,
                )
                .await
                .unwrap();
            assert!(again.replay, "{message_id} is not run again");
            assert_eq!(again.text, acknowledged[&message_id].text, "{message_id}");
        }
    }
    assert_eq!(
        all_keys.len(),
        CONVERSATIONS,
        "each conversation's message has its own key"
    );
    eprintln!("{repeated} webhook request(s) sent again after the kill, each with its first key");
}

/// S9: a `sleep` and a question `timeout` set on one instance fire exactly once with three
/// instances running, each output once, and each timer turn delivered once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timer_fires_exactly_once_with_three_instances_running() {
    const CONVERSATIONS: usize = 6;
    let schema = schema!("a_timer_fires_exactly_once_with_three_instances_running");
    let dir = scratch("pg-timers");
    std::fs::write(dir.join("flows/timers.yaml"), TIMERS_FLOW).unwrap();
    let stub = Stub::start();
    let outbound = stub.url("/outbound");
    let servers = instances(&dir, &schema.url(), 3, &["--outbound-url", &outbound]);
    let api = Api::new();
    for index in 0..CONVERSATIONS {
        let serve = &servers[index % 3];
        let first = api
            .message(&serve.base, "timers", &format!("t{index}"), "hi", "m1")
            .await
            .unwrap();
        assert_eq!(texts(&first.json), ["Hello!"]);
    }
    for index in 0..CONVERSATIONS {
        // Followed on another instance than the one that set the timers.
        let serve = &servers[(index + 1) % 3];
        let seen = super::poll_until(&api, serve, &format!("t{index}"), "You left.").await;
        let seen: Vec<(u64, &str)> = seen
            .iter()
            .map(|(seq, text)| (*seq, text.as_str()))
            .collect();
        assert_eq!(
            seen,
            [
                (1, "Hello!"),
                (2, "I slept."),
                (3, "Still there?"),
                (4, "You left.")
            ],
            "t{index}"
        );
        let shown = api
            .get(&serve.conversation_url("timers", &format!("t{index}"), ""))
            .await;
        assert_eq!(shown.json["revision"], 3, "t{index}: one turn per timer");
    }
    let all_delivered = eventually(Duration::from_secs(20), || {
        stub.delivered().len() >= CONVERSATIONS * 2
    })
    .await;
    assert!(all_delivered, "deliveries: {:?}", stub.delivered());
    // Whatever was still to come has had its chance to be sent twice.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut seqs: HashMap<String, Vec<u64>> = HashMap::new();
    for body in stub.delivered() {
        let id = body["conversation"].as_str().unwrap().to_owned();
        let outputs = body["outputs"].as_array().unwrap();
        seqs.entry(id)
            .or_default()
            .extend(outputs.iter().map(|output| output["seq"].as_u64().unwrap()));
    }
    for index in 0..CONVERSATIONS {
        assert_eq!(
            seqs.get(&format!("t{index}")).map(Vec::as_slice),
            Some(&[2, 3, 4][..]),
            "t{index}: each timer turn delivered once, in seq order"
        );
    }
}

/// `flowbot migrate` applies the migrations alone and says which; a second run has none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flowbot_migrate_applies_the_migrations_once_and_says_which() {
    let schema = schema!("flowbot_migrate_applies_the_migrations_once_and_says_which");
    assert_migrate_applies_once(&schema.url());
    let refused = crate::support::flowbot()
        .args(["migrate", "--store", "mysql://flowbot@127.0.0.1/flowbot"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let message = crate::support::text(&refused.stderr);
    assert!(message.contains("unknown store `mysql://"), "{message}");
}

/// A long poll on one instance returns the outputs of a turn another instance ran, within its
/// wait: a commit elsewhere wakes nothing here, so the poll looks at the store again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_poll_on_one_instance_sees_a_turn_another_instance_ran() {
    let schema = schema!("a_long_poll_on_one_instance_sees_a_turn_another_instance_ran");
    let dir = scratch("pg-long-poll");
    let stub = Stub::start();
    shop_flow(&dir, &stub.url("/products"));
    let servers = instances(&dir, &schema.url(), 2, &[]);
    let api = Api::new();
    let first = api
        .message(&servers[0].base, "shop", "c-1", "hi", "m1")
        .await
        .unwrap();
    assert_eq!(
        texts(&first.json),
        ["Welcome to the shop!", "What's your name?"]
    );
    let poll_url = servers[1].conversation_url("shop", "c-1", "/outputs?after=2&wait=20");
    let poll = tokio::spawn({
        let api = api.clone();
        async move { api.get(&poll_url).await }
    });
    // The poll is waiting on the second instance when the first runs the turn.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let turn = api
        .message(&servers[0].base, "shop", "c-1", "Ada", "m2")
        .await
        .unwrap();
    assert_eq!(turn.status, 200, "{}", turn.text);
    let page = poll.await.unwrap();
    assert_eq!(page.status, 200, "{}", page.text);
    assert_eq!(
        texts(&page.json),
        ["Ada, we have: iPhone 9, iPhone X", "Which one?"],
        "the poll returned before its wait ended, with the turn's outputs"
    );
}

/// A turn waits for a lease another instance holds, and after four lease times is refused with
/// `503 not_ready`, saying why; once the lease is free the same message runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_behind_a_lease_held_too_long_is_refused_then_runs_once_free() {
    let schema = schema!("a_turn_behind_a_lease_held_too_long_is_refused_then_runs_once_free");
    let dir = scratch("pg-lease-busy");
    let stub = Stub::start();
    shop_flow(&dir, &stub.url("/products"));
    let servers = instances(&dir, &schema.url(), 1, &["--lease-ttl", "300ms"]);
    let api = Api::new();
    let first = api
        .message(&servers[0].base, "shop", "c-1", "hi", "m1")
        .await
        .unwrap();
    assert_eq!(first.status, 200, "{}", first.text);
    // Another instance's turn that goes on renewing its lease for an hour.
    let psql = |sql: &str| {
        let output = std::process::Command::new("psql")
            .arg(schema.url())
            .args(["-qc", sql])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            crate::support::text(&output.stderr)
        );
    };
    psql(
        "INSERT INTO leases (bot, id, owner, expires_at) VALUES ('shop', 'c-1', 'elsewhere', \
         (extract(epoch from now()) * 1000)::bigint + 3600000)",
    );
    let refused = api
        .message(&servers[0].base, "shop", "c-1", "Ada", "m2")
        .await
        .unwrap();
    assert_eq!(refused.status, 503, "{}", refused.text);
    assert_eq!(refused.json["error"]["code"], "not_ready");
    let message = refused.json["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("busy with a turn on another instance"),
        "{message}"
    );
    assert_eq!(stub.users().get("Ada"), None, "nothing ran");
    let metrics = api.get(&servers[0].url("/metrics")).await.text;
    assert!(
        metrics
            .lines()
            .any(|line| line == "flowbot_lease_waits_total 1"),
        "{metrics}"
    );
    psql("DELETE FROM leases WHERE owner = 'elsewhere'");
    let ran = api
        .message(&servers[0].base, "shop", "c-1", "Ada", "m2")
        .await
        .unwrap();
    assert_eq!(ran.status, 200, "{}", ran.text);
    assert!(!ran.replay);
    assert_eq!(stub.users().get("Ada"), Some(&1));
}

/// The fence: an instance whose lease is lost mid-turn (here taken from it by hand) while
/// another instance runs the same message cannot store its turn over the other's. One of the
/// two commits conflicts, and that turn is run again from the replay check: both deliveries get
/// the same answer byte for byte, and the conversation holds one turn.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_whose_lease_was_lost_cannot_overwrite_the_other_instances_turn() {
    let schema = schema!("a_turn_whose_lease_was_lost_cannot_overwrite_the_other_instances_turn");
    let dir = scratch("pg-fence");
    let stub = Stub::start();
    shop_flow(&dir, &stub.url("/slow-products"));
    let servers = instances(&dir, &schema.url(), 2, &["--lease-ttl", "300ms"]);
    let api = Api::new();
    let first = api
        .message(&servers[0].base, "shop", "c-1", "hi", "m1")
        .await
        .unwrap();
    assert_eq!(first.status, 200, "{}", first.text);
    stub.set_slow(1500);
    let on_first = tokio::spawn({
        let (api, base) = (api.clone(), servers[0].base.clone());
        async move {
            api.message(&base, "shop", "c-1", "Ada", "m2")
                .await
                .unwrap()
        }
    });
    let in_webhook = eventually(Duration::from_secs(20), || {
        stub.users().get("Ada").copied() == Some(1)
    })
    .await;
    assert!(
        in_webhook,
        "the first instance's turn did not reach its webhook"
    );
    // The first instance's lease is gone, as if it had stalled past its expiry.
    let output = std::process::Command::new("psql")
        .arg(schema.url())
        .args(["-qc", "DELETE FROM leases"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        crate::support::text(&output.stderr)
    );
    let on_second = api
        .message(&servers[1].base, "shop", "c-1", "Ada", "m2")
        .await
        .unwrap();
    let on_first = on_first.await.unwrap();
    assert_eq!(on_first.status, 200, "{}", on_first.text);
    assert_eq!(on_second.status, 200, "{}", on_second.text);
    assert_eq!(on_first.text, on_second.text, "one answer, byte for byte");
    assert!(
        on_first.replay != on_second.replay,
        "the turn that conflicted answered with the stored one"
    );
    assert_eq!(
        stub.users().get("Ada"),
        Some(&2),
        "both turns sent their request"
    );
    let shown = api
        .get(&servers[1].conversation_url("shop", "c-1", ""))
        .await;
    assert_eq!(
        shown.json["revision"], 2,
        "one turn stored after the first: {}",
        shown.text
    );
    let mut conflicts = 0;
    for serve in &servers {
        let metrics = api.get(&serve.url("/metrics")).await.text;
        conflicts += metrics
            .lines()
            .find_map(|line| line.strip_prefix("flowbot_commit_conflicts_total "))
            .map_or(0, |count| count.parse::<u32>().unwrap());
    }
    assert_eq!(conflicts, 1, "one commit was fenced off");
}
