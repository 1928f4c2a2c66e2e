//! `flowbot chat`: the simulator through a pseudo-terminal (the three webhook choices, colour,
//! history) and through a pipe (the scripted transcript, commands, recording).

use std::path::{Path, PathBuf};
use std::process::Command;

use rexpect::reader::Options;
use rexpect::session::PtySession;

use crate::support::{flowbot, run_with_input, scratch, shop_copy, text, ShopServer};

/// Generous, since CI machines are slow; nothing here measures time.
const TIMEOUT_MS: u64 = 30_000;

/// `flowbot chat ARGS` on a pseudo-terminal, colour on or off.
fn terminal(args: &[&str], colour: bool) -> PtySession {
    let mut command = Command::new(env!("CARGO_BIN_EXE_flowbot"));
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("chat")
        .args(args)
        .env("TERM", "xterm-256color");
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("FLOWBOT_SECRET_") {
            command.env_remove(name);
        }
    }
    if colour {
        command.env_remove("NO_COLOR");
    } else {
        command.env("NO_COLOR", "1");
    }
    let options = Options::new()
        .timeout_ms(Some(TIMEOUT_MS))
        .strip_ansi_escape_codes(!colour);
    rexpect::session::spawn_with_options(command, options).expect("flowbot starts on a pty")
}

/// A search bot whose `save` puts `results` into a list-typed variable.
fn catalog(dir: &Path, url: &str) -> PathBuf {
    let flow = format!(
        "bot: catalog\n\
         variables:\n  titles: list\n\
         blocks:\n  \
           ask:\n    question: What are you looking for?\n    save_to: query\n    next: search\n  \
           search:\n    webhook:\n      url: {url}\n      query:\n        q: \"{{{{query}}}}\"\n      \
             save:\n        - path: results\n          to: titles\n      failure: search failure\n    \
             next: show\n  \
           show:\n    end: \"Found: {{{{titles}}}}\"\n"
    );
    let path = dir.join("catalog.yaml");
    std::fs::write(&path, flow).unwrap();
    path
}

#[test]
fn terminal_fake_success_refuses_a_non_list_for_a_list_variable_until_one_fits() {
    let server = ShopServer::start();
    let dir = scratch("chat-pty-list");
    let flow = catalog(&dir, &server.url("/products"));
    let mut chat = terminal(&[flow.to_str().unwrap()], false);
    chat.exp_string("What are you looking for?").unwrap();
    chat.exp_string("you>").unwrap();
    chat.send_line("shoes").unwrap();
    chat.exp_string("webhook `search` is about to send:")
        .unwrap();
    chat.exp_string("choice>").unwrap();
    chat.send_line("1").unwrap();
    chat.exp_string("payload>").unwrap();
    chat.send_line(r#"{"results": "none"}"#).unwrap();
    chat.exp_string("error: KeyError: path results gives a string, but `titles` is a list")
        .unwrap();
    // The conversation does not move on: the prompt asks for a payload again.
    let between = chat.exp_string("payload>").unwrap();
    assert!(!between.contains("Found"), "{between}");
    // Pasted, over two lines: the terminal brackets the paste, so it arrives whole.
    chat.send("\u{1b}[200~{\"results\": [\"red shoes\",\n \"blue shoes\"]}\u{1b}[201~")
        .unwrap();
    chat.send_line("").unwrap();
    chat.exp_string(r#"titles = ["red shoes","blue shoes"]"#)
        .unwrap();
    chat.exp_string("bot: Found: red shoes, blue shoes")
        .unwrap();
    chat.send_line("/quit").unwrap();
    chat.exp_eof().unwrap();
    assert!(server.hits().is_empty(), "a fake success sends nothing");
}

#[test]
fn terminal_fake_failure_puts_the_payload_in_the_failure_variable() {
    let server = ShopServer::start();
    let dir = scratch("chat-pty-failure");
    let flow = shop_copy(&dir, &server.url("/products"), false);
    let mut chat = terminal(&[flow.to_str().unwrap()], false);
    chat.exp_string("bot: Welcome to the shop!").unwrap();
    chat.exp_string("What's your name?").unwrap();
    chat.exp_string("you>").unwrap();
    chat.send_line("Ada").unwrap();
    chat.exp_string("2  fake failure: type the payload that goes into `shop failure`")
        .unwrap();
    chat.exp_string("choice>").unwrap();
    chat.send_line("2").unwrap();
    chat.exp_string("failure payload>").unwrap();
    chat.send_line(r#"{"error": "out of stock"}"#).unwrap();
    chat.exp_string("BadResponse: Invalid response status: 500 (into `shop failure`)")
        .unwrap();
    chat.exp_string("bot: Sorry Ada, the shop is closed.")
        .unwrap();
    chat.send_line("/vars").unwrap();
    chat.exp_string(
        r#"shop failure (text) = {"type":"BadResponse","message":"Invalid response status: 500","status":500,"body":{"error":"out of stock"}}"#,
    )
    .unwrap();
    chat.send_line("/quit").unwrap();
    chat.exp_eof().unwrap();
    assert!(server.hits().is_empty(), "a fake failure sends nothing");
}

#[test]
fn terminal_real_request_is_sent_and_its_outcome_used_in_colour_with_history() {
    let server = ShopServer::start();
    let dir = scratch("chat-pty-real");
    let flow = shop_copy(&dir, &server.url("/products"), false);
    let mut chat = terminal(&[flow.to_str().unwrap()], true);
    let banner = chat.exp_string("Welcome to the shop!").unwrap();
    // Styled: the bot's label is wrapped in escape codes.
    assert!(banner.contains("\u{1b}["), "{banner:?}");
    chat.exp_string("What's your name?").unwrap();
    chat.exp_string("you>").unwrap();
    chat.send_line("Ada").unwrap();
    chat.exp_string("choice>").unwrap();
    chat.send_line("3").unwrap();
    chat.exp_string("for real: whatever it does on the server happens")
        .unwrap();
    chat.exp_string("Ada, we have: iPhone 9, iPhone X").unwrap();
    chat.exp_string("Which one?").unwrap();
    chat.exp_string("2.").unwrap();
    chat.exp_string("iPhone X").unwrap();
    chat.exp_string("you>").unwrap();
    // Typing the number picks the option.
    chat.send_line("2").unwrap();
    chat.exp_string("picked iPhone X").unwrap();
    chat.exp_string("You picked iPhone X.").unwrap();
    assert_eq!(server.hits().len(), 1);
    assert_eq!(server.hits()[0].uri, "/products?user=Ada");
    // The up arrow brings back the last line.
    chat.exp_string("you>").unwrap();
    chat.send_line("/trace").unwrap();
    chat.exp_string("end `confirm` (shop)").unwrap();
    chat.exp_string("you>").unwrap();
    chat.send("\u{1b}[A").unwrap();
    chat.send_line("").unwrap();
    chat.exp_string("end `confirm` (shop)").unwrap();
    chat.send_control('d').unwrap();
    chat.exp_eof().unwrap();
}

/// The transcript with the stub server's address written `SERVER`.
fn transcript(stdout: &[u8], server: &ShopServer) -> String {
    text(stdout).replace(&server.base, "SERVER")
}

#[test]
fn a_piped_conversation_prints_a_plain_transcript_with_real_requests() {
    let server = ShopServer::start();
    let dir = scratch("chat-pipe");
    let flow = shop_copy(&dir, &server.url("/products"), false);
    let mut command = flowbot();
    command.args(["chat", flow.to_str().unwrap()]);
    let output = run_with_input(command, "Ada\n2\n");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(
        transcript(&output.stdout, &server),
        "\
bot: Welcome to the shop!
bot: What's your name?
user: Ada
webhook fetch_products: GET SERVER/products?user=Ada -> 200, saved titles, second category
bot: Ada, we have: iPhone 9, iPhone X
bot: Which one?
  1. iPhone 9
  2. iPhone X
user: iPhone X
bot: You picked iPhone X.
-- the conversation ended (/restart starts over)
"
    );
    assert_eq!(server.hits().len(), 1);
}

#[test]
fn presets_and_a_start_block_come_from_the_command_line() {
    let server = ShopServer::start();
    let dir = scratch("chat-pipe-presets");
    let flow = shop_copy(&dir, &server.url("/products"), false);
    let mut command = flowbot();
    command.args(["chat", flow.to_str().unwrap(), "--start", "fetch_products"]);
    command.args(["--var", "name=Ada", "--var", "visits=3"]);
    let output = run_with_input(command, "/vars\n");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let stdout = transcript(&output.stdout, &server);
    assert!(
        stdout.starts_with(
            "webhook fetch_products: GET SERVER/products?user=Ada -> 200, saved titles, second category\n\
             bot: Ada, we have: iPhone 9, iPhone X\n"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("  visits (number) = 3\n"), "{stdout}");
    let bad = flowbot()
        .args(["chat", flow.to_str().unwrap(), "--var", "titles=shoes"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("`titles` is declared as a list"));
    let typo = flowbot()
        .args(["chat", flow.to_str().unwrap(), "--var", "visit=3"])
        .output()
        .unwrap();
    assert_eq!(typo.status.code(), Some(2));
    assert!(
        text(&typo.stderr).contains(
            "--var `visit`: bot `shop` never declares or assigns `visit`, so it cannot read it \
             (did you mean `visits`?)"
        ),
        "{}",
        text(&typo.stderr)
    );
}

#[test]
fn success_and_failure_answer_every_webhook_without_asking() {
    let server = ShopServer::start();
    let dir = scratch("chat-pipe-modes");
    let flow = shop_copy(&dir, &server.url("/products"), false);
    let mut command = flowbot();
    command.args(["chat", flow.to_str().unwrap(), "--webhooks", "success"]);
    let output = run_with_input(command, "Ada\n");
    let stdout = transcript(&output.stdout, &server);
    // `{}` has no `products`: the saves fail as they would on a real empty object.
    assert!(
        stdout.contains(
            "webhook fetch_products: GET SERVER/products?user=Ada -> KeyError: no key 'products' \
             in object at the top level (path products.flatMap(item => item.title)) (into `shop failure`)\n"
        ),
        "{stdout}"
    );
    let mut command = flowbot();
    command.args(["chat", flow.to_str().unwrap(), "--webhooks", "failure"]);
    let output = run_with_input(command, "Ada\n/vars\n");
    let stdout = transcript(&output.stdout, &server);
    assert!(
        stdout.contains("-> BadResponse: Invalid response status: 500 (into `shop failure`)\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains(r#"shop failure (text) = {"type":"BadResponse","message":"Invalid response status: 500","status":500,"body":{"error":"simulated failure"}}"#),
        "{stdout}"
    );
    assert!(server.hits().is_empty());
}

#[test]
fn a_piped_fake_success_is_checked_like_on_a_terminal() {
    let server = ShopServer::start();
    let dir = scratch("chat-pipe-list");
    let flow = catalog(&dir, &server.url("/products"));
    let mut command = flowbot();
    command.args(["chat", flow.to_str().unwrap(), "--webhooks", "ask"]);
    let input = "shoes\n1\n{\"results\": 3}\n{\"results\":\n[\"red\"]}\n";
    let output = run_with_input(command, input);
    let stdout = transcript(&output.stdout, &server);
    assert!(
        stdout.ends_with(
            "\
choice> 1
payload> {\"results\": 3}
error: KeyError: path results gives a number, but `titles` is a list; give a payload where that path holds a list (a blank line goes back)
payload> {\"results\":
   ...> [\"red\"]}
-- titles = [\"red\"]
webhook search: GET SERVER/products?q=shoes -> 200, saved titles
bot: Found: red
-- the conversation ended (/restart starts over)
"
        ),
        "{stdout}"
    );
}

const NAP: &str = "\
bot: nap
variables:
  count: number
blocks:
  hello:
    message: Hello
    next: nap
  nap:
    sleep: 30s
    next: ask
  ask:
    question: Your name?
    save_to: name
    timeout: 5m
    on_timeout: gone
    next: bye
  bye:
    end: \"Bye {{name}} ({{count}})\"
  gone:
    end: Nobody there.
";

#[test]
fn commands_fire_timers_set_variables_and_go_to_blocks() {
    let dir = scratch("chat-pipe-commands");
    let flow = dir.join("nap.yaml");
    std::fs::write(&flow, NAP).unwrap();
    let mut command = flowbot();
    command.args(["chat", flow.to_str().unwrap()]);
    let input =
        "/fire\n/set count 3\n/fire\n/goto ask\nAda\n/frobnicate\n/goto asc\n/set count many\n/set cont 4\n/set bot other\n";
    let output = run_with_input(command, input);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout),
        "\
bot: Hello
-- sleeping 30s (/fire wakes it now)
bot: Your name?
-- `ask` times out in 5m without an answer (/fire times it out now)
-- count = 3
bot: Nobody there.
-- the conversation ended (/restart starts over)
-- going to `ask`, variables kept
bot: Your name?
-- `ask` times out in 5m without an answer (/fire times it out now)
user: Ada
bot: Bye Ada (3)
-- the conversation ended (/restart starts over)
error: unknown command /frobnicate (see /help; //frobnicate sends it as a message)
error: bot `nap` has no block `asc` (did you mean `ask`?)
error: `count` is declared as a number: give a number such as 42, not `many`
error: /set `cont`: bot `nap` never declares or assigns `cont`, so it cannot read it (did you mean `count`?)
error: /set `bot`: flowbot sets it for every conversation
"
    );
}

#[test]
fn recording_writes_cases_that_a_conversation_test_reads_and_appends_more() {
    let server = ShopServer::start();
    let dir = scratch("chat-record");
    let flow = shop_copy(&dir, &server.url("/products"), false);
    let record = dir.join("tests").join("shop.test.yaml");
    let mut command = flowbot();
    command.args(["chat", flow.to_str().unwrap(), "--webhooks", "ask"]);
    command.args(["--record", record.to_str().unwrap()]);
    let input = "\
Ada
1
{\"products\": [{\"title\": \"A\", \"category\": \"x\"}, {\"title\": \"B\", \"category\": \"y\"}]}
2
/restart
Bob
2
{\"error\": \"out of stock\"}
/restart
/set visits 2
";
    let output = run_with_input(command, input);
    let stdout = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        text(&output.stderr)
    );
    assert!(
        stdout.contains("-- not recorded: a /set in the middle of a conversation"),
        "{stdout}"
    );
    assert!(
        stdout.ends_with(&format!("-- recorded 2 cases in {}\n", record.display())),
        "{stdout}"
    );
    let written = std::fs::read_to_string(&record).unwrap();
    let file = flow_test::spec::parse(&written).unwrap();
    assert_eq!(file.flow, PathBuf::from("../shop.yaml"));
    assert_eq!(file.cases.len(), 2);
    let expected = "\
- name: recorded conversation 1
  webhooks:
    fetch_products:
      status: 200
      json:
        products:
        - title: A
          category: x
        - title: B
          category: y
  conversation:
  - bot: Welcome to the shop!
  - bot: What's your name?
  - user: Ada
  - bot: 'Ada, we have: A, B'
  - bot: Which one?
    options:
    - A
    - B
  - user: B
  - bot: You picked B.
  expect:
    status: ended
    variables:
      name: Ada
      titles:
      - A
      - B
      second category: y
      choice: B
- name: recorded conversation 2
  webhooks:
    fetch_products:
      status: 500
      json:
        error: out of stock
  conversation:
  - bot: Welcome to the shop!
  - bot: What's your name?
  - user: Bob
  - bot: Sorry Bob, the shop is closed.
  expect:
    status: ended
    variables:
      name: Bob
      shop failure:
        type: BadResponse
        message: 'Invalid response status: 500'
        status: 500
        body:
          error: out of stock
";
    assert!(written.ends_with(expected), "{written}");
    assert!(server.hits().is_empty());

    // A second session adds its case after the first two; a real request is recorded with
    // the response it got.
    let mut command = flowbot();
    command.args([
        "chat",
        flow.to_str().unwrap(),
        "--record",
        record.to_str().unwrap(),
    ]);
    let output = run_with_input(command, "Ada\n1\n");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let appended = std::fs::read_to_string(&record).unwrap();
    assert!(appended.starts_with(&written), "{appended}");
    let file = flow_test::spec::parse(&appended).unwrap();
    assert_eq!(file.cases.len(), 3);
    let third = &file.cases[2];
    assert_eq!(third.name, "recorded conversation 3");
    let outcome = &third.webhooks["fetch_products"].0[0];
    let flow_test::spec::Outcome::Response { status, body, .. } = outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(*status, 200);
    assert!(text(body).contains("iPhone X"));
    assert_eq!(server.hits().len(), 1);

    // What was recorded replays: `flowbot test` passes all three cases, without the network.
    let replay = flowbot()
        .args(["test", record.to_str().unwrap()])
        .output()
        .unwrap();
    let report = text(&replay.stdout);
    assert_eq!(replay.status.code(), Some(0), "{report}");
    assert!(report.ends_with("3 passed, 0 failed\n"), "{report}");
    assert_eq!(server.hits().len(), 1);
}

#[test]
fn secrets_from_a_file_are_hidden_in_vars_and_recordings() {
    let server = ShopServer::start();
    let dir = scratch("chat-secrets");
    let flow = shop_copy(&dir, &server.url("/echo"), true);
    // A message that shows what the server echoed: the runtime leaves it unmasked.
    let shop = std::fs::read_to_string(&flow).unwrap().replace(
        "\"{{name}}, we have: {{titles}}\"",
        "\"{{name}}, we have: {{titles}} (seen {{last webhook success.seen}})\"",
    );
    std::fs::write(&flow, shop).unwrap();
    let record = dir.join("shop.test.yaml");
    let secrets = dir.join("secrets.env");
    std::fs::write(&secrets, "# for the shop\nSHOP_TOKEN = s3cr3t-token\n").unwrap();
    let mut command = flowbot();
    command.args(["chat", flow.to_str().unwrap()]);
    command.args(["--record", record.to_str().unwrap()]);
    command.args(["--secrets", secrets.to_str().unwrap()]);
    let output = run_with_input(command, "Ada\n/vars\n");
    let stdout = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        text(&output.stderr)
    );
    // The server got the secret; the author sees it masked.
    assert_eq!(
        server.hits()[0].authorization.as_deref(),
        Some("Bearer s3cr3t-token")
    );
    assert!(stdout.contains(r#""seen":"Bearer ***""#), "{stdout}");
    assert!(
        stdout.contains("bot: Ada, we have: A, B (seen Bearer ***)\n"),
        "{stdout}"
    );
    assert!(stdout.contains("  secret.SHOP_TOKEN = ***\n"), "{stdout}");
    assert!(!stdout.contains("s3cr3t-token"), "{stdout}");
    let recorded = std::fs::read_to_string(&record).unwrap();
    assert!(recorded.contains("seen: Bearer ***"), "{recorded}");
    assert!(!recorded.contains("s3cr3t-token"), "{recorded}");
}

#[test]
fn recording_keeps_presets_fired_timers_and_the_block_goto_starts_at() {
    let dir = scratch("chat-record-goto");
    let flow = dir.join("nap.yaml");
    std::fs::write(&flow, NAP).unwrap();
    let record = dir.join("nap.test.yaml");
    let mut command = flowbot();
    command.args(["chat", flow.to_str().unwrap(), "--var", "count=2"]);
    command.args(["--record", record.to_str().unwrap()]);
    let output = run_with_input(command, "/fire\n/goto ask\nAda\n");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let written = std::fs::read_to_string(&record).unwrap();
    assert_eq!(
        written,
        "\
# Conversations recorded with `flowbot chat --record` (see docs/simulator.md).
flow: nap.yaml
cases:
- name: recorded conversation 1
  variables:
    count: 2
  conversation:
  - bot: Hello
  - fire: true
  - bot: Your name?
  expect:
    status: waiting
- name: recorded conversation 2
  variables:
    count: 2
  start_at: ask
  conversation:
  - bot: Your name?
  - user: Ada
  - bot: Bye Ada (2)
  expect:
    status: ended
    variables:
      name: Ada
"
    );
    let file = flow_test::spec::parse(&written).unwrap();
    assert_eq!(file.cases[1].start_at.as_deref(), Some("ask"));
}

/// Issue 13: `/vars` shows a stored object with its keys in the order the payload gave them
/// (`title` before `category`), as the JavaScript builder does, not sorted.
#[test]
fn vars_show_objects_in_the_payloads_key_order() {
    let mut command = flowbot();
    command.args(["chat", "flows/shop.yaml", "--webhooks", "ask"]);
    let payload =
        r#"{"products": [{"title": "A", "category": "x"}, {"title": "B", "category": "y"}]}"#;
    let output = run_with_input(command, &format!("Ada\n1\n{payload}\n/vars\n"));
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains(
            r#"  last webhook success = {"products":[{"title":"A","category":"x"},{"title":"B","category":"y"}]}"#
        ),
        "{stdout}"
    );
}

#[test]
fn terminal_shows_the_idempotency_key_a_step_sends_one_per_message() {
    let mut chat = terminal(&["tests/flows/idempotency.yaml"], false);
    let mut keys = Vec::new();
    for order in ["A7", "B8"] {
        chat.exp_string("Order number?").unwrap();
        chat.exp_string("you>").unwrap();
        chat.send_line(order).unwrap();
        chat.exp_string(&format!("POST https://crm.example.com/orders/{order}"))
            .unwrap();
        let (_, shown) = chat.exp_regex("Idempotency-Key: [0-9a-f]{64}").unwrap();
        keys.push(shown);
        chat.exp_string("choice>").unwrap();
        chat.send_line("1").unwrap();
        chat.exp_string("payload>").unwrap();
        chat.send_line(r#"{"ok": true}"#).unwrap();
        chat.exp_string(&format!("bot: Order {order} noted."))
            .unwrap();
    }
    assert_ne!(keys[0], keys[1], "each message's request has its own key");
    chat.send_line("/quit").unwrap();
    chat.exp_eof().unwrap();
}
