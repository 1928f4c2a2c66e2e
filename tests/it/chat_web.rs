//! `flowbot chat --web`: the refusal of a non-loopback address, and the simulator's JSON
//! endpoints answering bad input with a clear error (never a 5xx), on the real binary.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::{flowbot, scratch, shop_copy, text};

/// A running `flowbot chat FILE --web` on a free loopback port.
struct Simulator {
    child: Child,
    base: String,
    client: reqwest::Client,
}

impl Simulator {
    fn start(file: &Path, env: &[(&str, &str)]) -> Simulator {
        let mut command = flowbot();
        command
            .arg("chat")
            .arg(file)
            .args(["--web", "--listen", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("flowbot starts");
        let mut stderr = BufReader::new(child.stderr.take().expect("stderr is piped"));
        let mut line = String::new();
        stderr
            .read_line(&mut line)
            .expect("flowbot writes its address");
        let base = line
            .trim()
            .strip_prefix("flowbot chat: listening on ")
            .unwrap_or_else(|| panic!("not the listening line: {line}"))
            .to_owned();
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        Simulator {
            child,
            base,
            client,
        }
    }

    /// POSTs `body` as JSON to `path`; the status and the JSON answer.
    async fn post(&self, path: &str, body: &str) -> (u16, Value) {
        self.request(path, body, &[("content-type", "application/json")])
            .await
    }

    async fn request(&self, path: &str, body: &str, headers: &[(&str, &str)]) -> (u16, Value) {
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .timeout(Duration::from_secs(30))
            .body(body.to_owned());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        answer(request.send().await.expect("the simulator answers")).await
    }

    async fn get(&self, path: &str, headers: &[(&str, &str)]) -> (u16, Value) {
        let mut request = self.client.get(format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        answer(request.send().await.expect("the simulator answers")).await
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn answer(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let bytes = response.bytes().await.expect("a whole answer");
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&bytes)));
    (status, value)
}

/// Asserts an error answer of the simulator: `status`, `code`, and a message containing `words`.
fn assert_error(reply: &(u16, Value), status: u16, code: &str, words: &str) {
    let (got, body) = reply;
    assert_eq!(*got, status, "{body}");
    assert_eq!(body["error"]["code"], json!(code), "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains(words), "`{message}` should say `{words}`");
}

#[test]
fn a_listen_address_other_than_loopback_is_refused() {
    for address in ["0.0.0.0:0", "[::]:0", "192.0.2.1:8090"] {
        let output = flowbot()
            .args(["chat", "flows/shop.yaml", "--web", "--listen", address])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2));
        let stderr = text(&output.stderr);
        assert!(
            stderr.contains("listens on a loopback address only") && stderr.contains(address),
            "{stderr}"
        );
    }
}

#[test]
fn listen_without_web_and_web_with_record_are_usage_errors() {
    for args in [
        &["chat", "flows/shop.yaml", "--listen", "127.0.0.1:0"][..],
        &["chat", "flows/shop.yaml", "--web", "--record", "t.yaml"][..],
    ] {
        let output = flowbot().args(args).stdin(Stdio::null()).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_for_another_host_origin_or_content_type_are_refused() {
    let dir = scratch("chat-web-guard");
    let file = shop_copy(&dir, "http://127.0.0.1:9/products", false);
    let simulator = Simulator::start(&file, &[]);
    let host = simulator.base.trim_start_matches("http://").to_owned();
    let (status, state) = simulator.get("/api/state", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(state["bot"], "shop");
    // The page and its files are served with a policy that allows nothing from elsewhere.
    for path in ["/", "/app.js", "/app.css"] {
        let response = simulator
            .client
            .get(format!("{}{path}", simulator.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let policy = response.headers()["content-security-policy"]
            .to_str()
            .unwrap();
        assert!(
            policy.starts_with("default-src 'none'; script-src 'self';"),
            "{policy}"
        );
        let page = response.text().await.unwrap();
        assert!(
            !page.contains("http://") && !page.contains("https://"),
            "{path} names another host"
        );
    }
    // DNS rebinding: a page of another name that resolves to 127.0.0.1.
    let reply = simulator
        .get("/api/state", &[("host", "attacker.example:80")])
        .await;
    assert_error(&reply, 421, "wrong_host", &simulator.base);
    let message = r#"{"text": "Ada"}"#;
    let reply = simulator
        .request(
            "/api/message",
            message,
            &[
                ("content-type", "application/json"),
                ("origin", "http://attacker.example"),
            ],
        )
        .await;
    assert_error(&reply, 403, "wrong_origin", "another origin");
    // A cross-site form or no-cors fetch can only send text/plain.
    let reply = simulator
        .request("/api/message", message, &[("content-type", "text/plain")])
        .await;
    assert_error(&reply, 415, "not_json", "application/json");
    let origin = format!("http://{host}");
    let reply = simulator
        .request(
            "/api/message",
            message,
            &[("content-type", "application/json"), ("origin", &origin)],
        )
        .await;
    assert_eq!(reply.0, 200, "{}", reply.1);
    let reply = simulator.get("/api/nothing", &[]).await;
    assert_error(&reply, 404, "not_found", "/api/nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_to_the_json_endpoints_gets_a_clear_error() {
    let dir = scratch("chat-web-errors");
    let file = shop_copy(&dir, "http://127.0.0.1:9/products", true);
    let simulator = Simulator::start(&file, &[("FLOWBOT_SECRET_SHOP_TOKEN", "tok-123456")]);
    let success = r#"{"choice": "success", "payload": "{\"products\": []}"}"#;
    assert_error(
        &simulator.post("/api/step/check", success).await,
        409,
        "no_step",
        "no webhook step is waiting",
    );
    assert_error(
        &simulator.post("/api/step/answer", success).await,
        409,
        "no_step",
        "no webhook step is waiting",
    );
    for body in ["", "not json", r#"{"txt": "Ada"}"#, r#"{"text": 5}"#] {
        let reply = simulator.post("/api/message", body).await;
        assert_error(&reply, 400, "bad_request", "not what this endpoint takes");
    }
    let (status, state) = simulator.post("/api/message", r#"{"text": "Ada"}"#).await;
    assert_eq!(status, 200);
    assert_eq!(state["step"]["block"], "fetch_products");
    // The request as the terminal shows it: the secret masked.
    let headers = state["step"]["headers"].to_string();
    assert!(
        !headers.contains("tok-123456") && headers.contains("Bearer"),
        "{headers}"
    );
    assert_error(
        &simulator.post("/api/message", r#"{"text": "again"}"#).await,
        409,
        "step_waiting",
        "`fetch_products` is waiting",
    );
    assert_error(
        &simulator.post("/api/test", "{}").await,
        409,
        "step_waiting",
        "`fetch_products` is waiting",
    );
    for body in [
        r#"{"choice": "maybe", "payload": "{}"}"#,
        r#"{"payload": "{}"}"#,
        r#"{"choice": "real"}"#,
    ] {
        let reply = simulator.post("/api/step/check", body).await;
        assert_error(&reply, 400, "bad_request", "");
    }
    // The editor's check: a payload that is not JSON, and one that does not fit, are reports.
    let (status, report) = simulator
        .post(
            "/api/step/check",
            r#"{"choice": "success", "payload": "{\"products\": "}"#,
        )
        .await;
    assert_eq!(
        (status, &report["verdict"]),
        (200, &json!("json")),
        "{report}"
    );
    assert!(report["error"].as_str().unwrap().starts_with("not JSON: "));
    let not_a_list = r#"{"choice": "success", "payload": "{\"products\": {\"title\": \"x\"}}"}"#;
    let (status, report) = simulator.post("/api/step/check", not_a_list).await;
    assert_eq!(
        (status, &report["verdict"]),
        (200, &json!("fails")),
        "{report}"
    );
    assert!(report["saves"][0]["error"]
        .as_str()
        .unwrap()
        .contains("expected an array at products"));
    // Sending them is refused, and the step still waits.
    assert_error(
        &simulator.post("/api/step/answer", not_a_list).await,
        422,
        "payload_fails",
        "expected an array at products",
    );
    assert_error(
        &simulator
            .post(
                "/api/step/answer",
                r#"{"choice": "success", "payload": "[1,"}"#,
            )
            .await,
        422,
        "payload_not_json",
        "not JSON: ",
    );
    let (_, state) = simulator.get("/api/state", &[]).await;
    assert_eq!(state["step"]["block"], "fetch_products");
    // A fake failure with a line of text goes on to the closed path.
    let (status, state) = simulator
        .post(
            "/api/step/answer",
            r#"{"choice": "failure", "payload": "down"}"#,
        )
        .await;
    assert_eq!(status, 200, "{state}");
    assert!(state["entries"]
        .to_string()
        .contains("Sorry Ada, the shop is closed."));
    // Save as test into a folder, and into a file that is not a test of this flow.
    let reply = simulator
        .post("/api/test", &json!({"path": dir}).to_string())
        .await;
    assert_error(&reply, 422, "not_saved", "");
    let other = dir.join("other.yaml");
    std::fs::write(&other, "not: [a test").unwrap();
    let reply = simulator
        .post("/api/test", &json!({"path": other}).to_string())
        .await;
    assert_error(&reply, 422, "not_saved", "other.yaml");
    let (status, saved) = simulator
        .post(
            "/api/test",
            &json!({"path": dir.join("t.yaml")}).to_string(),
        )
        .await;
    assert_eq!((status, &saved["written"]), (200, &json!(true)), "{saved}");
    let written = std::fs::read_to_string(dir.join("t.yaml")).unwrap();
    assert!(!written.contains("tok-123456"), "{written}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_variable_whose_path_holds_no_list_refuses_the_payload() {
    let dir = scratch("chat-web-list");
    let file = dir.join("catalog.yaml");
    std::fs::write(
        &file,
        "bot: catalog\nstart: search\nvariables:\n  titles: list\nblocks:\n  search:\n    webhook:\n      url: http://127.0.0.1:9/search\n      save:\n        - path: results\n          to: titles\n    next: done\n  done:\n    end: \"Found {{titles}}.\"\n",
    )
    .unwrap();
    let simulator = Simulator::start(&file, &[]);
    let (_, state) = simulator.get("/api/state", &[]).await;
    assert_eq!(state["step"]["block"], "search");
    let payload = r#"{"choice": "success", "payload": "{\"results\": \"none\"}", "anyway": true}"#;
    let (status, report) = simulator.post("/api/step/check", payload).await;
    assert_eq!(
        (status, &report["verdict"]),
        (200, &json!("list")),
        "{report}"
    );
    // S18: not even "use it anyway" lets it through.
    assert_error(
        &simulator.post("/api/step/answer", payload).await,
        422,
        "payload_not_list",
        "give a payload where that path holds a list",
    );
    let (status, state) = simulator
        .post(
            "/api/step/answer",
            r#"{"choice": "success", "payload": "{\"results\": [\"a\"]}"}"#,
        )
        .await;
    assert_eq!(status, 200);
    assert!(state["entries"].to_string().contains("Found a."), "{state}");
}
