//! `webhook`: build the request, let the runner answer it, classify, extract, store (S2 to S17).
//!
//! The step is awaited before the next block runs (S2), and always goes on (S4): to `on_failure`
//! when it failed and has one, else to `next`. On success every `save` is stored at once (S15),
//! the whole body goes to `last webhook success` and the step's failure variable is cleared; on
//! failure the error goes to the failure variable (S16).

use std::time::Instant;

use flow_core::flow::{BlockId, Flow, Webhook, IDEMPOTENCY_KEY_HEADER, LAST_WEBHOOK_SUCCESS};
use flow_http::{WebhookError, WebhookRequest};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tracing::{field, Instrument};

use crate::conversation::{declared_type, Conversation, Status};
use crate::error::RuntimeError;
use crate::executor::Run;
use crate::runner::{RunOutcome, WebhookCall, WebhookRunner};
use crate::turn::{TraceEvent, WebhookOutcome, WebhookTrace};
use flow_http::{build_request, extract};

use super::Step;

/// What came of the step: the status, the body and the values to store, or the failure.
type Outcome = Result<(u16, Value, Vec<(String, Value)>), WebhookError>;

/// Runs the webhook step `id` of `flow`.
pub(crate) async fn run<R: WebhookRunner>(
    run: &mut Run<'_>,
    runner: &R,
    flow: &Flow,
    id: &BlockId,
    webhook: &Webhook,
) -> Step {
    let span = tracing::info_span!(
        "webhook",
        flow_id = %flow.id(),
        session_id = %run.conversation.id(),
        block_id = %id,
        http.method = %webhook.method,
        status = field::Empty,
        outcome = field::Empty,
    );
    step(run, runner, flow, id, webhook).instrument(span).await
}

async fn step<R: WebhookRunner>(
    run: &mut Run<'_>,
    runner: &R,
    flow: &Flow,
    id: &BlockId,
    webhook: &Webhook,
) -> Step {
    let built = {
        let lookup = |name: &str| run.lookup(name);
        build_request(
            id.as_str(),
            webhook,
            &flow.settings().webhook,
            &lookup,
            run.secrets,
        )
    };
    let built = match (built, webhook.idempotency_key) {
        (Ok(mut request), true) => {
            let index = run.turn.trace.webhooks().count();
            let key = idempotency_key(run.conversation, flow.id(), id, index);
            request
                .headers
                .push((IDEMPOTENCY_KEY_HEADER.to_owned(), key));
            Ok(request)
        }
        (built, _) => built,
    };
    let started = Instant::now();
    let (outcome, request) = match built {
        // A request that cannot be built is the step's failure: nothing is sent (S9, S11).
        Err(error) => (Err(error), None),
        Ok(request) => {
            let call = WebhookCall {
                block_id: id.as_str(),
                request: &request,
                webhook,
                flow,
            };
            let outcome = match runner.run(call).await {
                Ok(outcome) => judge(outcome, &request, webhook, flow, run.secrets),
                Err(error) => {
                    // No outcome at all: stay at this block, so the next message tries again.
                    run.turn.error(RuntimeError::runner(id, &error));
                    run.conversation.set_status(Status::Waiting);
                    return Step::Stop;
                }
            };
            (outcome, Some(request))
        }
    };
    let duration = started.elapsed();
    let span = tracing::Span::current();
    let (outcome, next) = match outcome {
        Ok((status, body, saves)) => {
            span.record("status", status);
            span.record("outcome", "success");
            let mut saved = Vec::with_capacity(saves.len());
            // `extract` already fitted each value to its variable's declared type, which leaves
            // nothing for `values::coerce_lenient` to change: it is not looked up again.
            for (name, value) in saves {
                run.set_variable(&name, value);
                saved.push(name);
            }
            run.set_variable(LAST_WEBHOOK_SUCCESS, body);
            run.set_variable(webhook.failure_variable(), Value::Null);
            (
                WebhookOutcome::Success { status, saved },
                webhook.next.clone(),
            )
        }
        Err(error) => {
            let error = run.secrets.redact_error(error);
            if let Some(status) = error.status {
                span.record("status", status);
            }
            span.record("outcome", error.kind.as_str());
            tracing::info!(block_id = %id, error.kind = %error.kind, "webhook step failed");
            let variable = webhook.failure_variable().to_owned();
            let value = serde_json::to_value(&error).unwrap_or(Value::Null);
            run.set_variable(&variable, value);
            let outcome = WebhookOutcome::Failure {
                kind: error.kind,
                message: error.message,
                status: error.status,
                variable,
            };
            (
                outcome,
                webhook
                    .on_failure
                    .clone()
                    .unwrap_or_else(|| webhook.next.clone()),
            )
        }
    };
    // The request is done with: its URL goes into the trace as it is when there is no secret to
    // mask in it.
    let (method, url) = match request {
        Some(request) => {
            let url = match run.secrets.is_empty() {
                true => request.url,
                false => run.secrets.redact(&request.url),
            };
            (Some(request.method.as_str().to_owned()), Some(url))
        }
        None => (None, None),
    };
    let trace = WebhookTrace {
        block: id.clone(),
        method,
        url,
        outcome,
        duration,
    };
    run.turn.trace(TraceEvent::Webhook(Box::new(trace)));
    Step::Goto(next)
}

/// The `Idempotency-Key` of the `index`-th webhook call of this turn, at block `block` of bot
/// `bot`: SHA-256 in hex of the conversation (the bot it started with and its id), its revision
/// when the turn started (a store sets it when it saves the turn), the block and the index.
/// Every delivery of one message runs the turn from the same stored state, so it gives the same
/// key; the next message, or a loop back to the same step, gives another.
pub(crate) fn idempotency_key(
    conversation: &Conversation,
    bot: &str,
    block: &BlockId,
    index: usize,
) -> String {
    let started_with = conversation
        .stack()
        .first()
        .map_or(conversation.bot(), |frame| frame.bot.as_str());
    let id = conversation.id().as_str();
    let block = block.as_str();
    // Each text with its length first, so that no two different inputs read the same.
    let material = format!(
        "flowbot idempotency key 1\n{}:{started_with}\n{}:{id}\n{}\n{}:{bot}\n{}:{block}\n{index}",
        started_with.len(),
        id.len(),
        conversation.revision(),
        bot.len(),
        block.len(),
    );
    Sha256::digest(material.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Classifies a response and extracts the step's saves from it; a failure that came with a
/// response carries its status and body (S16).
///
/// A secret that the server echoes back is masked before anything is stored, so no later
/// message can show it to the user.
fn judge(
    outcome: RunOutcome,
    request: &WebhookRequest,
    webhook: &Webhook,
    flow: &Flow,
    secrets: &flow_http::Secrets,
) -> Outcome {
    let response = match outcome {
        RunOutcome::Failure(error) => return Err(error),
        RunOutcome::Response(response) => response,
    };
    let body = flow_http::classify(
        response.status,
        &response.headers,
        &response.body,
        &request.accept,
    )?;
    let body = match secrets.is_empty() {
        true => body,
        false => secrets.redact_json(&body),
    };
    let declared = |name: &str| declared_type(flow, name);
    match extract(&webhook.save, &body, &declared) {
        Ok(saves) => Ok((response.status, body, saves)),
        Err(mut error) => {
            if error.status.is_none() {
                error = error.with_status(response.status).with_body(&response.body);
            }
            Err(error)
        }
    }
}
