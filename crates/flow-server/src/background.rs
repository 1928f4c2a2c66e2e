//! The server's own work, beside the requests: firing due timers, delivering outputs to the
//! outbound URL, and pruning old outputs and message records.
//!
//! Each loop sleeps until its next due time (or until a commit says something new is due), and
//! reads what is due from the store, so that what was due while the server was down is done at
//! start. Each stops when the shutdown signal is sent.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use flow_http::{Client, Method, RequestBody, WebhookRequest};
use tokio::sync::watch;

use crate::engine::{now_millis, Engine};
use crate::metrics;
use crate::store::{ConversationKey, Store};

/// The longest a loop sleeps before it looks at the store again.
const LOOK_AGAIN: Duration = Duration::from_secs(30);

/// Timers or deliveries taken per look.
const BATCH: usize = 64;

/// The time-out of one outbound POST.
const OUTBOUND_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest wait between two attempts of one delivery.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// How often the pending timers are counted for `/metrics`.
const COUNT_EVERY: Duration = Duration::from_secs(5);

/// How often old outputs and message records are pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Conversations with a timer or delivery in progress, so that a look does not start the same
/// one twice.
type InProgress = Arc<Mutex<HashSet<ConversationKey>>>;

/// Fires due timers until `stop` changes.
pub async fn fire_timers<S: Store>(engine: Arc<Engine<S>>, mut stop: watch::Receiver<bool>) {
    let in_progress = InProgress::default();
    let mut counted: Option<std::time::Instant> = None;
    loop {
        let now = now_millis();
        let mut started = 0;
        match engine.store().due_timers(now, BATCH).await {
            Ok(due) => {
                for timer in due {
                    if !claim(&in_progress, &timer.key) {
                        continue;
                    }
                    started += 1;
                    let (engine, in_progress) = (Arc::clone(&engine), Arc::clone(&in_progress));
                    tokio::spawn(async move {
                        engine.fire(timer.key.clone(), timer.timer).await;
                        release(&in_progress, &timer.key);
                        engine.timers_changed.notify_one();
                    });
                }
            }
            Err(error) => tracing::warn!(%error, "reading due timers failed"),
        }
        // Counting is a scan of the pending timers: at most every few seconds, not at every
        // turn that sets a timer.
        if counted.is_none_or(|counted| counted.elapsed() >= COUNT_EVERY) {
            if let Ok(pending) = engine.store().pending_timers().await {
                metrics::timers_pending(pending);
            }
            counted = Some(std::time::Instant::now());
        }
        let next = engine.store().next_timer().await.ok().flatten();
        if !pause(next, started > 0, &engine.timers_changed, &mut stop).await {
            return;
        }
    }
}

/// POSTs queued outputs to `url`, oldest first per conversation, until `stop` changes.
pub async fn deliver_outputs<S: Store>(
    engine: Arc<Engine<S>>,
    client: Client,
    url: String,
    mut stop: watch::Receiver<bool>,
) {
    let in_progress = InProgress::default();
    // Deliveries done since the last look: a look that read the store before one was marked
    // delivered must not send it again.
    let finished: Arc<Mutex<HashSet<i64>>> = Arc::default();
    loop {
        let mut started = 0;
        match engine.store().due_deliveries(now_millis(), BATCH).await {
            Ok(due) => {
                for delivery in due {
                    if lock(&finished).contains(&delivery.delivery_id)
                        || !claim(&in_progress, &delivery.key)
                    {
                        continue;
                    }
                    started += 1;
                    let (engine, in_progress) = (Arc::clone(&engine), Arc::clone(&in_progress));
                    let (client, url) = (client.clone(), url.clone());
                    let finished = Arc::clone(&finished);
                    tokio::spawn(async move {
                        let delivered = post(&client, &url, &delivery.body).await;
                        let store = engine.store();
                        let result = match delivered {
                            Ok(()) => {
                                let marked = store.delivered(delivery.delivery_id).await;
                                let mut finished = lock(&finished);
                                if finished.len() > 10_000 {
                                    finished.clear();
                                }
                                finished.insert(delivery.delivery_id);
                                marked
                            }
                            Err(reason) => {
                                metrics::outbound_failed();
                                let backoff = backoff(delivery.attempts);
                                tracing::warn!(
                                    session_id = %delivery.key.id,
                                    attempts = delivery.attempts + 1,
                                    retry_in_ms = backoff.as_millis() as u64,
                                    %reason,
                                    "outbound delivery failed"
                                );
                                let retry_at = now_millis() + backoff.as_millis() as i64;
                                store.delivery_failed(delivery.delivery_id, retry_at).await
                            }
                        };
                        if let Err(error) = result {
                            tracing::warn!(%error, "recording an outbound delivery failed");
                        }
                        release(&in_progress, &delivery.key);
                        engine.deliveries_changed.notify_one();
                    });
                }
            }
            Err(error) => tracing::warn!(%error, "reading due deliveries failed"),
        }
        let next = engine.store().next_delivery().await.ok().flatten();
        if !pause(next, started > 0, &engine.deliveries_changed, &mut stop).await {
            return;
        }
    }
}

/// Removes outputs and message records older than `retention`, at start and then every hour,
/// until `stop` changes.
pub async fn prune<S: Store>(
    engine: Arc<Engine<S>>,
    retention: Duration,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let before = now_millis() - retention.as_millis().min(i64::MAX as u128) as i64;
        match engine.store().prune(before).await {
            Ok(pruned) if pruned.outputs + pruned.messages > 0 => tracing::info!(
                outputs = pruned.outputs,
                messages = pruned.messages,
                "pruned old outputs and message records"
            ),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "pruning failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(PRUNE_EVERY) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Sleeps until `next` is due (see [`until`]) or `changed` is woken; false when `stop` changed.
async fn pause(
    next: Option<i64>,
    started: bool,
    changed: &tokio::sync::Notify,
    stop: &mut watch::Receiver<bool>,
) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(until(next, started)) => true,
        _ = changed.notified() => true,
        _ = stop.changed() => false,
    }
}

/// How long to sleep: until `next` is due, at most [`LOOK_AGAIN`]. When something due is
/// still in progress (`next` is past and nothing new started), a short pause instead of a
/// spin; the end of that work wakes the loop anyway.
fn until(next: Option<i64>, started: bool) -> Duration {
    let Some(next) = next else {
        return LOOK_AGAIN;
    };
    let wait = next - now_millis();
    if wait <= 0 {
        return if started {
            Duration::ZERO
        } else {
            Duration::from_millis(200)
        };
    }
    Duration::from_millis(wait as u64).min(LOOK_AGAIN)
}

/// The pause after a delivery's `attempts`-th failure: half a second, doubling, at most five
/// minutes.
pub fn backoff(attempts: u32) -> Duration {
    let doubled = Duration::from_millis(500).saturating_mul(1u32 << attempts.min(20));
    doubled.min(MAX_BACKOFF)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn claim(in_progress: &InProgress, key: &ConversationKey) -> bool {
    in_progress
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(key.clone())
}

fn release(in_progress: &InProgress, key: &ConversationKey) {
    in_progress
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .remove(key);
}

/// POSTs `body` to `url`; any 2xx is a delivery.
async fn post(client: &Client, url: &str, body: &str) -> Result<(), String> {
    let mut request = WebhookRequest::new("outbound", Method::Post, url);
    request.body = Some(RequestBody::text("application/json", body));
    request.timeout = OUTBOUND_TIMEOUT;
    match client.fetch(&request).await {
        Ok(response) if (200..300).contains(&response.status) => Ok(()),
        Ok(response) => Err(format!("the receiver answered {}", response.status)),
        Err(error) => Err(error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_half_a_second_up_to_five_minutes() {
        assert_eq!(backoff(0), Duration::from_millis(500));
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(3), Duration::from_secs(4));
        assert_eq!(backoff(30), MAX_BACKOFF);
    }
}
