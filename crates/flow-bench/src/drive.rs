//! Runs numbered jobs with a fixed number of tasks at once, and times them.

use std::future::Future;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[cfg(test)]
mod tests;

/// One kind of work the bench measures: a whole conversation, or one plain request.
pub trait Job: Send + Sync + 'static {
    /// Does job number `index`, pushing the time of each step it times to `latencies`.
    fn run(
        &self,
        index: usize,
        latencies: &mut Vec<Duration>,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;
}

/// What a run of jobs did.
#[derive(Debug, Default)]
pub struct Measured {
    /// Jobs finished, failed ones included.
    pub done: usize,
    /// Jobs that failed.
    pub errors: usize,
    /// The first failure, to show.
    pub first_error: Option<String>,
    /// Wall time, added up over the runs merged into this one.
    pub elapsed: Duration,
    /// The steps' times, unsorted.
    pub latencies: Vec<Duration>,
    /// Whether a run stopped at its deadline before doing every job.
    pub cut_short: bool,
    /// CPU time used meanwhile, by whatever the caller counted (zero if it counted nothing).
    pub cpu: Duration,
}

impl Measured {
    /// Jobs per second of wall time.
    pub fn per_second(&self) -> f64 {
        rate(self.done, self.elapsed)
    }

    /// CPU time per job, in microseconds; 0 when nothing was counted.
    pub fn cpu_us_per_job(&self) -> f64 {
        if self.done == 0 {
            return 0.0;
        }
        self.cpu.as_secs_f64() * 1e6 / self.done as f64
    }

    /// Adds `other`, a later run, to this one.
    pub fn merge(&mut self, other: Measured) {
        self.done += other.done;
        self.errors += other.errors;
        self.first_error = self.first_error.take().or(other.first_error);
        self.elapsed += other.elapsed;
        self.latencies.extend(other.latencies);
        self.cut_short |= other.cut_short;
        self.cpu += other.cpu;
    }
}

/// `count` per second over `elapsed`.
pub fn rate(count: usize, elapsed: Duration) -> f64 {
    if elapsed.is_zero() {
        return 0.0;
    }
    count as f64 / elapsed.as_secs_f64()
}

/// Runs the jobs numbered `range` with `concurrency` tasks on the current runtime; no task
/// takes a new job after `deadline`.
///
/// `cpu` reads the CPU clock that counts (zero for none): the time and the CPU are taken once
/// every task has finished, before the tasks' latencies are put together, so that gathering a
/// conversation's three latencies costs it no more than a request its one.
pub async fn drive<J: Job>(
    job: &Arc<J>,
    range: Range<usize>,
    concurrency: usize,
    deadline: Instant,
    cpu: impl Fn() -> Duration,
) -> Measured {
    let next = Arc::new(AtomicUsize::new(range.start));
    let end = range.end;
    let per_task = range.len() / concurrency.max(1) + 1;
    let cpu_before = cpu();
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let job = job.clone();
        let next = next.clone();
        tasks.spawn(async move {
            let mut measured = Measured {
                latencies: Vec::with_capacity(per_task * 3),
                ..Measured::default()
            };
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= end {
                    break;
                }
                if Instant::now() >= deadline {
                    measured.cut_short = true;
                    break;
                }
                if let Err(error) = job.run(index, &mut measured.latencies).await {
                    measured.errors += 1;
                    measured
                        .first_error
                        .get_or_insert_with(|| format!("{error:#}"));
                }
                measured.done += 1;
            }
            measured
        });
    }
    let mut finished = Vec::with_capacity(concurrency.max(1));
    while let Some(task) = tasks.join_next().await {
        finished.push(task);
    }
    let elapsed = started.elapsed();
    let cpu_used = cpu().saturating_sub(cpu_before);
    let mut total = Measured {
        latencies: Vec::with_capacity(
            finished
                .iter()
                .filter_map(|task| task.as_ref().ok())
                .map(|measured| measured.latencies.len())
                .sum(),
        ),
        ..Measured::default()
    };
    for task in finished {
        match task {
            Ok(measured) => total.merge(measured),
            Err(error) => {
                total.errors += 1;
                total.first_error.get_or_insert_with(|| error.to_string());
            }
        }
    }
    total.elapsed = elapsed;
    total.cpu = cpu_used;
    total
}

/// No CPU clock: for runs whose CPU time does not count, such as warm-ups.
pub fn no_cpu_clock() -> Duration {
    Duration::ZERO
}

/// The `quantile` (0 to 1) of `latencies` in microseconds, by nearest rank; 0 when empty.
pub fn percentile_us(latencies: &mut [Duration], quantile: f64) -> u64 {
    if latencies.is_empty() {
        return 0;
    }
    latencies.sort_unstable();
    let rank = (quantile * latencies.len() as f64).ceil() as usize;
    let index = rank.clamp(1, latencies.len()) - 1;
    u64::try_from(latencies[index].as_micros()).unwrap_or(u64::MAX)
}
