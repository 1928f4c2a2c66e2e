//! The report: one JSON line for scripts, a table for people, and the memory readings.

use std::fmt::Write;
use std::time::Duration;

use serde::Serialize;

#[cfg(test)]
mod tests;

/// Everything one run of the bench measured. The first keys are the ones the issue asks for.
#[derive(Debug, Serialize)]
pub struct Report {
    /// Whole conversations per second over HTTP.
    pub conversations_per_s: f64,
    /// Plain GET requests per second to the same server, same client, same concurrency.
    pub baseline_requests_per_s: f64,
    /// `conversations_per_s / baseline_requests_per_s`: 1.0 means a conversation costs no more
    /// than its one request.
    pub ratio: f64,
    /// Median time of one turn, in microseconds.
    pub turn_p50_us: u64,
    /// 99th percentile time of one turn, in microseconds.
    pub turn_p99_us: u64,
    /// Peak resident memory of the bench process during the HTTP run, in MiB.
    pub peak_rss_mb: f64,
    /// Turns per second over HTTP (three per conversation).
    pub turns_per_s: f64,
    /// Median time of one plain request, in microseconds.
    pub request_p50_us: u64,
    /// 99th percentile time of one plain request, in microseconds.
    pub request_p99_us: u64,
    /// CPU time per conversation, the bench's and the server's, in microseconds.
    pub conversation_cpu_us: f64,
    /// CPU time per plain request, the bench's and the server's, in microseconds.
    pub request_cpu_us: f64,
    /// `request_cpu_us / conversation_cpu_us`: the ratio by CPU time, which a busy machine
    /// disturbs less than the ratio by wall time.
    pub cpu_ratio: f64,
    /// Peak resident memory of the webhook server process, in MiB (none with `--target`).
    pub server_peak_rss_mb: Option<f64>,
    /// Whole conversations per second of CPU time with the webhook answered in process, on one
    /// core (its thread's CPU time, so that a neighbour's load on the core does not count).
    pub scripted_conversations_per_s_per_core: f64,
    /// The same by wall time: lower than the above when the core was shared.
    pub scripted_conversations_per_s_wall: f64,
    /// Median time of one turn with the webhook answered in process, in microseconds.
    pub scripted_turn_p50_us: u64,
    /// Heap allocations per conversation with the webhook answered in process.
    pub scripted_allocations_per_conversation: f64,
    /// Whether the scripted run's thread was pinned to one core.
    pub scripted_pinned: bool,
    /// Heap bytes the in-memory store holds per conversation waiting at a question.
    pub idle_conversation_bytes: f64,
    /// Resident memory per idle conversation, the cross-check.
    pub idle_conversation_rss_bytes: f64,
    /// Conversations measured over HTTP (and plain requests, the same number).
    pub conversations: usize,
    /// Conversations or requests in progress at once.
    pub concurrency: usize,
    /// Worker threads of the bench's runtime (the server process has as many).
    pub workers: usize,
    /// Conversations measured with scripted webhooks.
    pub scripted_conversations: usize,
    /// Idle conversations held for the memory figure.
    pub idle_conversations: usize,
    /// The webhook target: `local` (the server process) or the URL given.
    pub target: String,
    /// Microseconds the local server waited before each answer.
    pub server_delay_us: u64,
    /// Conversations or requests that failed.
    pub errors: usize,
    /// False when a run reached its time limit before doing all its work.
    pub complete: bool,
    /// Cores the system reports.
    pub cores: usize,
    /// The processor, as `/proc/cpuinfo` names it.
    pub cpu: String,
    /// Seconds the whole bench took.
    pub elapsed_s: f64,
}

impl Report {
    /// The report as a table, for people.
    pub fn table(&self) -> String {
        let mut table = String::new();
        let mut row = |name: &str, value: String| {
            let _ = writeln!(table, "{name:<46} {value:>14}");
        };
        row(
            "conversations over HTTP (3 turns, 1 GET each)",
            self.conversations.to_string(),
        );
        row(
            "concurrency / runtime worker threads",
            format!("{} / {}", self.concurrency, self.workers),
        );
        row(
            "conversations per second",
            format!("{:.0}", self.conversations_per_s),
        );
        row("turns per second", format!("{:.0}", self.turns_per_s));
        row(
            "turn latency p50 / p99 (us)",
            format!("{} / {}", self.turn_p50_us, self.turn_p99_us),
        );
        row(
            "baseline: plain GETs per second",
            format!("{:.0}", self.baseline_requests_per_s),
        );
        row(
            "baseline: request latency p50 / p99 (us)",
            format!("{} / {}", self.request_p50_us, self.request_p99_us),
        );
        row(
            "ratio (conversations / plain GETs)",
            format!("{:.3}", self.ratio),
        );
        row(
            "CPU per conversation / per plain GET (us)",
            format!(
                "{:.0} / {:.0}",
                self.conversation_cpu_us, self.request_cpu_us
            ),
        );
        row("ratio by CPU time", format!("{:.3}", self.cpu_ratio));
        row(
            "peak RSS, bench process (MiB)",
            format!("{:.1}", self.peak_rss_mb),
        );
        if let Some(server) = self.server_peak_rss_mb {
            row("peak RSS, server process (MiB)", format!("{server:.1}"));
        }
        row(
            "scripted webhooks: conversations/s per core",
            format!("{:.0}", self.scripted_conversations_per_s_per_core),
        );
        row(
            "scripted webhooks: the same by wall time",
            format!("{:.0}", self.scripted_conversations_per_s_wall),
        );
        row(
            "scripted webhooks: turn p50 (us)",
            self.scripted_turn_p50_us.to_string(),
        );
        row(
            "scripted webhooks: allocations per conversation",
            format!("{:.0}", self.scripted_allocations_per_conversation),
        );
        row(
            "bytes per idle conversation (heap / RSS)",
            format!(
                "{:.0} / {:.0}",
                self.idle_conversation_bytes, self.idle_conversation_rss_bytes
            ),
        );
        row("errors", self.errors.to_string());
        row("machine", format!("{} cores, {}", self.cores, self.cpu));
        row("elapsed (s)", format!("{:.1}", self.elapsed_s));
        table
    }
}

/// The peak resident memory of this process so far, in bytes.
pub fn peak_rss_bytes() -> Option<u64> {
    peak_rss_bytes_of("/proc/self/status")
}

/// The peak resident memory of the process whose status file is `status`, in bytes.
pub fn peak_rss_bytes_of(status: &str) -> Option<u64> {
    status_kib(status, "VmHWM:").map(|kib| kib * 1024)
}

/// The resident memory of this process now, in bytes.
pub fn rss_bytes() -> Option<u64> {
    status_kib("/proc/self/status", "VmRSS:").map(|kib| kib * 1024)
}

/// A `kB` figure of a `/proc/<pid>/status` file.
fn status_kib(status: &str, key: &str) -> Option<u64> {
    kib_in(&std::fs::read_to_string(status).ok()?, key)
}

/// The `kB` figure on the line of `key` in a `/proc/<pid>/status` text.
fn kib_in(text: &str, key: &str) -> Option<u64> {
    let line = text.lines().find(|line| line.starts_with(key))?;
    line[key.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// CPU time (user and system) used so far by the process or thread whose `stat` file is
/// `stat`, such as `/proc/self/stat` or `/proc/thread-self/stat`.
///
/// The kernel counts it in ticks of 1/100 s (`USER_HZ` is 100 on Linux), so a figure is only
/// precise over runs of a second or more.
pub fn cpu_time(stat: &str) -> Option<Duration> {
    cpu_time_in(&std::fs::read_to_string(stat).ok()?)
}

/// The CPU time used so far by every process named `name` (its `comm`), added up: the
/// PostgreSQL server's processes, say. A process that ended meanwhile is no longer counted.
pub fn cpu_time_of_processes(name: &str) -> Duration {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Duration::ZERO;
    };
    entries
        .filter_map(Result::ok)
        .filter(|entry| {
            entry
                .file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter_map(|entry| std::fs::read_to_string(entry.path().join("stat")).ok())
        .filter(|text| {
            text.split_once('(')
                .and_then(|(_, rest)| rest.rsplit_once(')'))
                .is_some_and(|(comm, _)| comm == name)
        })
        .filter_map(|text| cpu_time_in(&text))
        .sum()
}

/// The CPU time a `/proc/<pid>/stat` text gives.
fn cpu_time_in(text: &str) -> Option<Duration> {
    // The command name in parentheses may hold spaces: count the fields after it.
    let fields: Vec<&str> = text.rsplit_once(')')?.1.split_whitespace().collect();
    let user: u64 = fields.get(11)?.parse().ok()?;
    let system: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_millis((user + system) * 10))
}

/// The processor's model name, or `unknown`.
pub fn cpu_model() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name"))
        .map(|rest| rest.trim_start_matches([' ', '\t', ':']).trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Bytes in MiB.
pub fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
