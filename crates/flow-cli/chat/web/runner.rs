//! The web simulator's webhook runner: a step waits until the author answers it on the page
//! (S18), and only the "real request" answer sends anything.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use flow_http::Secrets;
use flow_runtime::{HttpRunner, RunOutcome, RunnerError, WebhookCall, WebhookRunner};

use super::super::chooser::{Shape, Used};
use super::super::SimRunner;
use super::view::{Answer, Pending, RealResponse, Shared, Step};

/// Answers webhook steps with what the author picks on the page.
pub(crate) struct WebRunner {
    http: HttpRunner,
    shared: Arc<Shared>,
    secrets: Arc<Secrets>,
    used: Mutex<Vec<Used>>,
}

impl WebRunner {
    /// A runner that puts each step into `shared` and sends real requests with `http`.
    pub(crate) fn new(http: HttpRunner, shared: Arc<Shared>, secrets: Arc<Secrets>) -> WebRunner {
        WebRunner {
            http,
            shared,
            secrets,
            used: Mutex::new(Vec::new()),
        }
    }
}

impl SimRunner for WebRunner {
    fn take_used(&self) -> Vec<Used> {
        std::mem::take(&mut *self.used.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl WebhookRunner for WebRunner {
    async fn run(&self, call: WebhookCall<'_>) -> Result<RunOutcome, RunnerError> {
        let block = call.block_id.to_owned();
        let shape = Shape::of(&call);
        let step = Step::of(&call, &shape, &self.secrets);
        let (sender, receiver) = tokio::sync::oneshot::channel();
        self.shared.update(|view| {
            view.pending = Some(Pending {
                step,
                shape,
                answer: sender,
            });
            view.real = None;
        });
        // A dropped sender is a restart while the step waited: the step does not run.
        let answer = receiver.await.map_err(|_| RunnerError::Cancelled {
            block: block.clone(),
        })?;
        let outcome = match answer {
            Answer::Respond(response) => RunOutcome::Response(response),
            Answer::Real => {
                let started = Instant::now();
                let outcome = self.http.run(call).await;
                let real = RealResponse::of(&block, &outcome, started.elapsed(), &self.secrets);
                self.shared.update(|view| view.real = Some(real));
                outcome?
            }
        };
        self.used
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Used {
                block,
                outcome: outcome.clone(),
            });
        Ok(outcome)
    }
}
