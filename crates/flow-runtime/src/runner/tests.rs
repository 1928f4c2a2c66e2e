//! Tests of the runners: scripted outcomes in order, recorded requests, and real HTTP.

use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use flow_core::flow::{BlockKind, Webhook};
use flow_http::{Method, WebhookRequest};
use serde_json::json;

use super::{RunOutcome, RunnerError, Scripted, ScriptedRunner, WebhookCall, WebhookRunner};
use crate::tests::server::{http_runner, serve};
use crate::tests::support::{flow, SHOP};

/// Runs `runner` once for block `block_id` with a GET of `url`.
async fn run(
    runner: &impl WebhookRunner,
    block_id: &str,
    url: &str,
) -> Result<RunOutcome, RunnerError> {
    let flow = flow(SHOP);
    let BlockKind::Webhook(webhook) = &flow.block("fetch_products").unwrap().kind else {
        panic!("a webhook");
    };
    let webhook: &Webhook = webhook;
    let request = WebhookRequest::new(block_id, Method::Get, url);
    let call = WebhookCall {
        block_id,
        request: &request,
        webhook,
        flow: &flow,
    };
    runner.run(call).await
}

#[tokio::test]
async fn scripted_outcomes_are_used_in_order_and_the_last_one_repeats() {
    let runner = ScriptedRunner::new().with_sequence(
        "a",
        vec![Scripted::json(200, json!({"n": 1})), Scripted::Timeout],
    );
    let status = |outcome: RunOutcome| match outcome {
        RunOutcome::Response(response) => response.status.to_string(),
        RunOutcome::Failure(error) => error.kind.to_string(),
    };
    assert_eq!(
        status(run(&runner, "a", "http://x/1").await.unwrap()),
        "200"
    );
    assert_eq!(
        status(run(&runner, "a", "http://x/2").await.unwrap()),
        "Timeout"
    );
    assert_eq!(
        status(run(&runner, "a", "http://x/3").await.unwrap()),
        "Timeout"
    );
    let urls: Vec<String> = runner
        .requests_for("a")
        .into_iter()
        .map(|request| request.url)
        .collect();
    assert_eq!(urls, ["http://x/1", "http://x/2", "http://x/3"]);
}

#[tokio::test]
async fn a_block_without_an_outcome_is_an_error_naming_it() {
    let runner = ScriptedRunner::new().with("a", Scripted::Real);
    let error = run(&runner, "b", "http://x").await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "no scripted outcome for webhook `b` (add one under `webhooks:` in the test)"
    );
    // The request is recorded all the same: the test sees what would have been sent.
    assert_eq!(runner.requests().len(), 1);
    let error = run(&runner, "a", "http://x").await.unwrap_err();
    assert_eq!(
        error,
        RunnerError::NoHttpClient {
            block: "a".to_owned()
        }
    );
}

#[tokio::test]
async fn the_http_runner_returns_the_response_as_it_came() {
    let base =
        serve(Router::new().route("/gone", get(|| async { (StatusCode::GONE, "bye") }))).await;
    let runner = ScriptedRunner::new()
        .with("real", Scripted::Real)
        .with_http(http_runner());
    let RunOutcome::Response(response) =
        run(&runner, "real", &format!("{base}/gone")).await.unwrap()
    else {
        panic!("a response");
    };
    assert_eq!(
        (response.status, response.body.as_slice()),
        (410, b"bye".as_slice())
    );
    let limited = http_runner().with_max_in_flight(1);
    assert!(matches!(
        run(&limited, "x", &format!("{base}/gone")).await,
        Ok(RunOutcome::Response(_))
    ));
}
