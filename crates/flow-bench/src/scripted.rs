//! The in-process ceiling: the same conversations with the webhook answered in process, on one
//! thread pinned to one core, so the figure is per core.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use flow_runtime::{MemoryStore, Scripted, ScriptedRunner, Sessions};

use crate::drive::{drive, no_cpu_clock, Job, Measured};
use crate::shop;
use crate::ALLOCATOR;

/// What the ceiling run measured.
#[derive(Debug)]
pub struct ScriptedRun {
    /// Whole conversations; latencies are per turn.
    pub conversations: Measured,
    /// Whether the thread was pinned to one core (false where the system refused).
    pub pinned: bool,
    /// Heap allocations per conversation, counted over a short run after the timed one.
    pub allocations_per_conversation: f64,
}

/// Whole shop conversations through [`Sessions`] over a [`MemoryStore`], the webhook answered
/// by a [`ScriptedRunner`] with the products the server sends.
struct Conversations {
    sessions: Arc<Sessions<ScriptedRunner, MemoryStore>>,
}

impl Job for Conversations {
    async fn run(&self, index: usize, latencies: &mut Vec<Duration>) -> anyhow::Result<()> {
        shop::converse(&self.sessions, index, latencies).await
    }
}

/// Runs `conversations` conversations, `concurrency` at a time, on a single-threaded runtime on a
/// thread of its own pinned to one core, after a warm-up.
pub fn run(
    conversations: usize,
    concurrency: usize,
    deadline: Instant,
) -> anyhow::Result<ScriptedRun> {
    let thread = std::thread::Builder::new().name("scripted".to_owned());
    let handle = thread.spawn(move || {
        let pinned = core_affinity::get_core_ids()
            .and_then(|cores| cores.last().copied())
            .is_some_and(core_affinity::set_for_current);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .context("starting the single-threaded runtime")?;
        let (measured, allocations_per_conversation) =
            runtime.block_on(measure(conversations, concurrency, deadline))?;
        Ok(ScriptedRun {
            conversations: measured,
            pinned,
            allocations_per_conversation,
        })
    })?;
    handle
        .join()
        .map_err(|_| anyhow::anyhow!("the scripted run panicked"))?
}

/// The timed run, then the allocations per conversation over a short run of its own.
async fn measure(
    conversations: usize,
    concurrency: usize,
    deadline: Instant,
) -> anyhow::Result<(Measured, f64)> {
    let flow = shop::flow("http://127.0.0.1:9/products")?;
    let runner = ScriptedRunner::new().with(
        "fetch_products",
        Scripted::Response(shop::products_response()),
    );
    let job = Arc::new(Conversations {
        sessions: shop::sessions(flow, runner, MemoryStore::new()),
    });
    let warm_up = conversations..conversations + conversations / 10 + 100;
    let warm = drive(&job, warm_up.clone(), concurrency, deadline, no_cpu_clock).await;
    if let Some(error) = warm.first_error {
        anyhow::bail!("the scripted warm-up failed: {error}");
    }
    // This thread runs every conversation, so its CPU time is what they cost on one core.
    let measured = drive(
        &job,
        0..conversations,
        concurrency,
        deadline,
        thread_cpu_time,
    )
    .await;

    // Counted apart, so that counting does not slow the timed run.
    let counted = 1_000;
    let first = warm_up.end;
    let counting = ALLOCATOR.count();
    let checked = drive(&job, first..first + counted, 1, deadline, no_cpu_clock).await;
    let allocations = counting.allocations();
    drop(counting);
    if let Some(error) = checked.first_error {
        anyhow::bail!("the counted scripted run failed: {error}");
    }
    Ok((measured, allocations as f64 / counted as f64))
}

fn thread_cpu_time() -> Duration {
    crate::report::cpu_time("/proc/thread-self/stat").unwrap_or_default()
}
