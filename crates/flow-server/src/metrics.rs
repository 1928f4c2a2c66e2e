//! What `/metrics` shows, in Prometheus text: turns by bot and status, webhook outcomes by
//! error type, turn, webhook and commit durations, turns in flight, timers pending and outbound
//! deliveries failed, and public requests refused by the rate limit.
//!
//! The figures are recorded with the `metrics` facade and rendered by its Prometheus exporter;
//! the recorder is installed once per process, the first time a server is built.

use std::sync::OnceLock;
use std::time::Duration;

use flow_runtime::{WebhookOutcome, WebhookTrace};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Seconds: from a fast in-memory turn to a slow webhook.
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0,
];

/// The process's recorder; `None` when another recorder was installed before ours.
pub fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), BUCKETS)
                .ok()?;
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            describe();
            Some(handle)
        })
        .as_ref()
}

fn describe() {
    metrics::describe_counter!("flowbot_turns_total", "Turns committed, by bot and status.");
    metrics::describe_counter!(
        "flowbot_webhooks_total",
        "Webhook steps run, by outcome (success or the error type)."
    );
    metrics::describe_histogram!(
        "flowbot_turn_duration_seconds",
        "Time from turn lock to commit."
    );
    metrics::describe_histogram!("flowbot_webhook_duration_seconds", "Time of webhook steps.");
    metrics::describe_histogram!(
        "flowbot_commit_duration_seconds",
        "Time of a turn's durable commit."
    );
    metrics::describe_gauge!("flowbot_turns_in_flight", "Turns running now.");
    metrics::describe_gauge!("flowbot_timers_pending", "Timers stored and not yet fired.");
    metrics::describe_counter!(
        "flowbot_public_rate_limited_total",
        "Requests to the public endpoints refused by the rate limit."
    );
    metrics::describe_counter!(
        "flowbot_outbound_failures_total",
        "Outbound deliveries that failed (each is tried again)."
    );
    metrics::describe_counter!(
        "flowbot_lease_waits_total",
        "Turns that found their conversation's lease held by another instance and waited."
    );
    metrics::describe_counter!(
        "flowbot_commit_conflicts_total",
        "Commits refused because another instance stored the conversation meanwhile (the turn \
         is run again)."
    );
}

/// Counts a turn that waited for another instance's lease.
pub fn lease_waited() {
    metrics::counter!("flowbot_lease_waits_total").increment(1);
}

/// Counts a commit that conflicted.
pub fn commit_conflicted() {
    metrics::counter!("flowbot_commit_conflicts_total").increment(1);
}

/// Counts a turn in flight while it lives.
pub struct TurnInFlight(());

impl TurnInFlight {
    /// One more turn in flight.
    pub fn start() -> TurnInFlight {
        metrics::gauge!("flowbot_turns_in_flight").increment(1.0);
        TurnInFlight(())
    }
}

impl Drop for TurnInFlight {
    fn drop(&mut self) {
        metrics::gauge!("flowbot_turns_in_flight").decrement(1.0);
    }
}

/// A turn of `bot` was committed in `elapsed`.
pub fn turn_done(bot: &str, elapsed: Duration) {
    metrics::histogram!("flowbot_turn_duration_seconds", "bot" => bot.to_owned())
        .record(elapsed.as_secs_f64());
}

/// A turn of `bot` ended with `status`.
pub fn turn_status(bot: &str, status: &'static str) {
    metrics::counter!("flowbot_turns_total", "bot" => bot.to_owned(), "status" => status)
        .increment(1);
}

/// A commit took `elapsed`.
pub fn commit_done(elapsed: Duration) {
    metrics::histogram!("flowbot_commit_duration_seconds").record(elapsed.as_secs_f64());
}

/// A webhook step ran.
pub fn webhook_outcome(webhook: &WebhookTrace) {
    let outcome = match &webhook.outcome {
        WebhookOutcome::Success { .. } => "success",
        WebhookOutcome::Failure { kind, .. } => kind.as_str(),
    };
    metrics::counter!("flowbot_webhooks_total", "outcome" => outcome).increment(1);
    metrics::histogram!("flowbot_webhook_duration_seconds").record(webhook.duration.as_secs_f64());
}

/// How many timers are pending now.
pub fn timers_pending(count: u64) {
    metrics::gauge!("flowbot_timers_pending").set(count as f64);
}

/// A request to the public endpoints was over its address's rate limit.
pub fn public_rate_limited() {
    metrics::counter!("flowbot_public_rate_limited_total").increment(1);
}

/// An outbound delivery failed.
pub fn outbound_failed() {
    metrics::counter!("flowbot_outbound_failures_total").increment(1);
}
