//! `flow-bench serve`: the production server under load.
//!
//! It starts the real `flowbot serve` as a separate process, on a temporary SQLite file, with
//! the shop bot calling this bench's own webhook server process (allow-listed with
//! `--allow-webhook 127.0.0.1`). Then, with one client at one concurrency, it alternates rounds
//! of plain `GET /healthz` requests (the baseline: what an answer of that server costs) and of
//! whole shop conversations, three durable turns each, every message with its id.
//!
//! With `--stored N` it measures twice in the same run: on the empty store, then with N more
//! conversations stored, each a copy of a real one waiting at the shop's first question. It
//! also counts the bytes on disk of conversations waiting at the first question, and the
//! server's peak resident memory. `docs/performance.md` says how to read the figures.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use flow_http::{Client, ClientConfig, Method, RequestBody, WebhookRequest};
use serde::Serialize;

use crate::drive::{drive, no_cpu_clock, percentile_us, rate, Job, Measured};
use crate::report::mib;
use crate::server::ServerProcess;
use crate::shop;

mod store;

use store::BenchStore;

/// How a load run goes.
#[derive(Debug, Clone)]
pub struct LoadPlan {
    /// Whole conversations per measurement, and as many plain requests.
    pub conversations: usize,
    /// Conversations (or requests) in progress at once.
    pub concurrency: usize,
    /// Conversations to store before the second measurement; 0 measures the empty store alone.
    pub stored: usize,
    /// Conversations started and left at the first question for the disk figure.
    pub waiting: usize,
    /// Rounds each measurement is cut into, alternating conversations and plain requests.
    pub rounds: usize,
    /// Worker threads of the bench's client and of the webhook server.
    pub workers: usize,
    /// The `flowbot` binary.
    pub flowbot: PathBuf,
    /// `sqlite` (a temporary file) or a `postgres://` URL (a schema of the run's own in it).
    pub store: String,
    /// Server processes on the one store; a conversation's consecutive messages go to
    /// different ones.
    pub instances: usize,
    /// Seconds after which a measurement starts no new conversation or request.
    pub time_limit: Duration,
}

/// What one measurement gave.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Measurement {
    /// Durable turns per second.
    pub turns_per_s: f64,
    /// Median time of a turn, in microseconds.
    pub turn_p50_us: u64,
    /// 99th percentile of a turn's time, in microseconds.
    pub turn_p99_us: u64,
    /// Plain `GET /healthz` requests per second, same client, same concurrency.
    pub baseline_requests_per_s: f64,
    /// `turns_per_s / baseline_requests_per_s`.
    pub ratio: f64,
    /// The server's peak resident memory, in MiB, at the end of the measurement.
    pub server_peak_rss_mb: f64,
    /// The server process's CPU time per durable turn, in microseconds.
    pub server_cpu_us_per_turn: f64,
    /// The server process's CPU time per `GET /healthz`, in microseconds.
    pub server_cpu_us_per_request: f64,
    /// The CPU time of the machine's PostgreSQL processes per turn, in microseconds (0 with
    /// SQLite, or when PostgreSQL runs elsewhere).
    pub database_cpu_us_per_turn: f64,
    /// The server's threads at the end of the measurement.
    pub server_threads: u64,
    /// The server's own mean time of a turn (`flowbot_turn_duration_seconds`), from its lock
    /// to its commit, in microseconds; the rest of a turn's time is HTTP and waiting its turn.
    pub server_turn_mean_us: f64,
    /// The server's mean time of a commit (`flowbot_commit_duration_seconds`), in microseconds.
    pub server_commit_mean_us: f64,
    /// The server's mean time of a webhook step, in microseconds.
    pub server_webhook_mean_us: f64,
}

/// The JSON line `flow-bench serve` prints: the empty store's measurement, its keys at the top
/// level, and the rest of the run.
#[derive(Debug, Serialize)]
pub struct LoadReport {
    /// The measurement on the empty store.
    #[serde(flatten)]
    pub empty: Measurement,
    /// Bytes the store grew by per conversation waiting at the first question.
    pub disk_bytes_per_conversation: f64,
    /// Conversations stored for the second measurement.
    pub stored: usize,
    /// The second measurement, with `stored` conversations; absent when `stored` is 0.
    pub with_stored: Option<Measurement>,
    /// `with_stored.turns_per_s / turns_per_s`.
    pub stored_ratio: Option<f64>,
    /// Conversations per measurement.
    pub conversations: usize,
    /// Conversations in progress at once.
    pub concurrency: usize,
    /// Turns or requests that failed.
    pub errors: usize,
    /// Cores the machine has.
    pub cores: usize,
    /// Wall time of the whole run, in seconds.
    pub elapsed_s: f64,
    /// `sqlite` or `postgres`.
    pub store: &'static str,
    /// Server processes on the store.
    pub instances: usize,
}

/// Runs the load, printing progress on standard error, and gives the report.
pub fn run(plan: &LoadPlan) -> anyhow::Result<LoadReport> {
    let started = Instant::now();
    let webhook = ServerProcess::start(plan.workers, Duration::ZERO, plan.time_limit * 8)?;
    let dir = tempfile::Builder::new()
        .prefix("flow-bench-serve-")
        .tempdir()
        .context("creating a temporary folder")?;
    let flows = dir.path().join("flows");
    std::fs::create_dir_all(&flows)?;
    std::fs::write(
        flows.join("shop.yaml"),
        shop::source_calling(&webhook.url())?,
    )?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(plan.workers.max(1))
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let store = runtime.block_on(BenchStore::create(&plan.store, dir.path()))?;
    let outcome = run_on(plan, &runtime, &store, &flows);
    if let Err(error) = runtime.block_on(store.remove()) {
        eprintln!("flow-bench serve: {error:#}");
    }
    drop(webhook);
    let mut report = outcome?;
    report.elapsed_s = started.elapsed().as_secs_f64();
    eprint!("{}", table(&report));
    Ok(report)
}

/// [`run`] on a store made for it.
fn run_on(
    plan: &LoadPlan,
    runtime: &tokio::runtime::Runtime,
    store: &BenchStore,
    flows: &Path,
) -> anyhow::Result<LoadReport> {
    ensure!(
        plan.instances <= 1 || store.is_shared(),
        "several instances need a store they can share: --store postgres://..."
    );
    let client = Client::new(ClientConfig::default())?;
    let servers = Servers::start(plan, flows, store)?;
    eprintln!(
        "flow-bench serve: {} shop conversations (3 turns each) and {} GET /healthz to {} \
         instance(s) on {}, {} at once",
        plan.conversations,
        plan.conversations * 3,
        servers.0.len(),
        store.kind(),
        plan.concurrency
    );
    let mut errors = 0;
    let (empty, failed) = runtime.block_on(measure(plan, &client, &servers, "m"))?;
    errors += failed;

    eprintln!(
        "flow-bench serve: {} conversations left at the first question, for the disk figure",
        plan.waiting
    );
    let before = runtime.block_on(store.size())?;
    runtime.block_on(start_waiting(plan, &client, &servers))?;
    let after = runtime.block_on(store.size())?;
    let disk_bytes_per_conversation = (after.saturating_sub(before)) as f64 / plan.waiting as f64;
    servers.stop()?;

    let mut with_stored = None;
    if plan.stored > 0 {
        eprintln!(
            "flow-bench serve: storing {} conversations waiting at the first question",
            plan.stored
        );
        let seeding = Instant::now();
        runtime.block_on(store.store_copies(plan.stored))?;
        eprintln!(
            "flow-bench serve: stored in {:.1} s; the store is {:.0} MiB",
            seeding.elapsed().as_secs_f64(),
            mib(runtime.block_on(store.size())?)
        );
        let servers = Servers::start(plan, flows, store)?;
        let (measured, failed) = runtime.block_on(measure(plan, &client, &servers, "s"))?;
        errors += failed;
        with_stored = Some(measured);
        servers.stop()?;
    }

    let report = LoadReport {
        empty,
        disk_bytes_per_conversation,
        stored: plan.stored,
        stored_ratio: with_stored.map(|m| ratio(m.turns_per_s, empty.turns_per_s)),
        with_stored,
        conversations: plan.conversations,
        concurrency: plan.concurrency,
        errors,
        cores: std::thread::available_parallelism().map_or(0, usize::from),
        elapsed_s: 0.0,
        store: store.kind(),
        instances: plan.instances,
    };
    Ok(report)
}

/// One measurement: a warm-up, then alternating rounds of plain requests and conversations.
/// Conversation ids start with `prefix`, so that two measurements never share one.
async fn measure(
    plan: &LoadPlan,
    client: &Client,
    servers: &Servers,
    prefix: &'static str,
) -> anyhow::Result<(Measurement, usize)> {
    let bases = servers.bases();
    let conversations = Arc::new(Conversations {
        client: client.clone(),
        bases: bases.clone(),
        prefix,
    });
    let requests = Arc::new(PlainRequests {
        client: client.clone(),
        urls: bases.iter().map(|base| format!("{base}/healthz")).collect(),
    });
    let deadline = Instant::now() + plan.time_limit;
    let warm_up = plan.conversations..plan.conversations + plan.concurrency * 4;
    for warm in [
        drive(
            &requests,
            warm_up.clone(),
            plan.concurrency,
            deadline,
            no_cpu_clock,
        )
        .await,
        drive(
            &conversations,
            warm_up,
            plan.concurrency,
            deadline,
            no_cpu_clock,
        )
        .await,
    ] {
        if let Some(error) = warm.first_error {
            bail!("the warm-up failed: {error}");
        }
    }

    let stats: Vec<String> = servers
        .0
        .iter()
        .map(|server| format!("/proc/{}/stat", server.child.id()))
        .collect();
    let server_cpu = || {
        stats
            .iter()
            .filter_map(|stat| crate::report::cpu_time(stat))
            .sum::<Duration>()
    };
    let mut turns = Measured::default();
    let mut plain = Measured::default();
    let database_cpu_before = crate::report::cpu_time_of_processes("postgres");
    let rounds = plan.rounds.clamp(1, plan.conversations.max(1));
    for round in 0..rounds {
        let range = plan.conversations * round / rounds..plan.conversations * (round + 1) / rounds;
        // Three requests for each conversation: as many answers as the conversations' turns.
        let requests_range = range.start * 3..range.end * 3;
        let measure_requests = drive(
            &requests,
            requests_range,
            plan.concurrency,
            deadline,
            server_cpu,
        );
        let measure_turns = drive(
            &conversations,
            range,
            plan.concurrency,
            deadline,
            server_cpu,
        );
        if round % 2 == 0 {
            plain.merge(measure_requests.await);
            turns.merge(measure_turns.await);
        } else {
            turns.merge(measure_turns.await);
            plain.merge(measure_requests.await);
        }
    }
    if let Some(error) = turns.first_error.as_ref().or(plain.first_error.as_ref()) {
        eprintln!("flow-bench serve: the first failure: {error}");
    }
    // Plain requests do not touch the store: the database's CPU meanwhile is the turns'.
    let database_cpu =
        crate::report::cpu_time_of_processes("postgres").saturating_sub(database_cpu_before);
    let turns_per_s = rate(turns.latencies.len(), turns.elapsed);
    let baseline_requests_per_s = rate(plain.latencies.len(), plain.elapsed);
    let measurement = Measurement {
        turns_per_s,
        turn_p50_us: percentile_us(&mut turns.latencies, 0.50),
        turn_p99_us: percentile_us(&mut turns.latencies, 0.99),
        baseline_requests_per_s,
        ratio: ratio(turns_per_s, baseline_requests_per_s),
        server_peak_rss_mb: servers
            .0
            .iter()
            .filter_map(FlowbotServer::peak_rss_bytes)
            .max()
            .map_or(0.0, mib),
        server_cpu_us_per_turn: per_item_us(turns.cpu, turns.latencies.len()),
        server_cpu_us_per_request: per_item_us(plain.cpu, plain.latencies.len()),
        database_cpu_us_per_turn: per_item_us(database_cpu, turns.latencies.len()),
        server_threads: servers
            .0
            .iter()
            .filter_map(FlowbotServer::threads)
            .max()
            .unwrap_or(0),
        server_turn_mean_us: 0.0,
        server_commit_mean_us: 0.0,
        server_webhook_mean_us: 0.0,
    };
    let mut measurement = measurement;
    let mut text = String::new();
    for base in &bases {
        let metrics = WebhookRequest::new("metrics", Method::Get, format!("{base}/metrics"));
        match client.fetch(&metrics).await {
            Ok(response) if response.status == 200 => {
                text.push_str(&String::from_utf8_lossy(&response.body));
            }
            other => eprintln!("flow-bench serve: {base}/metrics could not be read: {other:?}"),
        }
    }
    measurement.server_turn_mean_us = mean_us(&text, "flowbot_turn_duration_seconds");
    measurement.server_commit_mean_us = mean_us(&text, "flowbot_commit_duration_seconds");
    measurement.server_webhook_mean_us = mean_us(&text, "flowbot_webhook_duration_seconds");
    if turns.cut_short || plain.cut_short {
        eprintln!(
            "warning: the time limit cut a measurement short; the figures cover what was done"
        );
    }
    Ok((measurement, turns.errors + plain.errors))
}

/// Starts `plan.waiting` conversations and leaves them at the shop's first question.
async fn start_waiting(plan: &LoadPlan, client: &Client, servers: &Servers) -> anyhow::Result<()> {
    let job = Arc::new(Waiting {
        client: client.clone(),
        base: servers.bases()[0].clone(),
    });
    let far = Instant::now() + plan.time_limit * 4;
    let done = drive(&job, 0..plan.waiting, plan.concurrency, far, no_cpu_clock).await;
    if let Some(error) = done.first_error {
        bail!("starting the waiting conversations failed: {error}");
    }
    Ok(())
}

/// Whole shop conversations over the server's API.
struct Conversations {
    client: Client,
    /// The servers: message `m` of conversation `i` goes to server `(i + m) % len`, so that
    /// with several instances consecutive messages of a conversation land on different ones.
    bases: Vec<String>,
    prefix: &'static str,
}

impl Job for Conversations {
    async fn run(&self, index: usize, latencies: &mut Vec<Duration>) -> anyhow::Result<()> {
        let conversation = format!("{}{index}", self.prefix);
        let name = shop::user_name(index);
        let turns = [
            ("hi", "What's your name?"),
            (name.as_str(), ", we have: "),
            ("2", "You picked iPhone X."),
        ];
        for (number, (text, expected)) in turns.into_iter().enumerate() {
            let base = &self.bases[(index + number) % self.bases.len()];
            let started = Instant::now();
            let answer = send(&self.client, base, &conversation, number, text).await?;
            latencies.push(started.elapsed());
            ensure!(
                answer.contains(expected),
                "turn {} of {conversation} answered {answer}",
                number + 1
            );
        }
        Ok(())
    }
}

/// The conversations left at the first question.
struct Waiting {
    client: Client,
    base: String,
}

impl Job for Waiting {
    async fn run(&self, index: usize, _latencies: &mut Vec<Duration>) -> anyhow::Result<()> {
        let conversation = format!("w{index}");
        let answer = send(&self.client, &self.base, &conversation, 0, "hi").await?;
        ensure!(
            answer.contains("What's your name?"),
            "{conversation} answered {answer}"
        );
        Ok(())
    }
}

/// Sends message number `number` of `conversation`, with an id, and gives the answer's body.
async fn send(
    client: &Client,
    base: &str,
    conversation: &str,
    number: usize,
    text: &str,
) -> anyhow::Result<String> {
    let url = format!("{base}/v1/bots/shop/conversations/{conversation}/messages");
    let body = serde_json::json!({"text": text, "id": format!("{conversation}-{number}")});
    let request =
        WebhookRequest::new("turn", Method::Post, url).with_body(RequestBody::json(&body));
    let response = client.fetch(&request).await?;
    let answer = String::from_utf8_lossy(&response.body).into_owned();
    ensure!(
        response.status == 200,
        "message {number} of {conversation}: status {}: {answer}",
        response.status
    );
    Ok(answer)
}

/// `GET /healthz`: an answer of the same server that stores nothing.
struct PlainRequests {
    client: Client,
    /// `/healthz` of each server, taken in turn.
    urls: Vec<String>,
}

impl Job for PlainRequests {
    async fn run(&self, index: usize, latencies: &mut Vec<Duration>) -> anyhow::Result<()> {
        let url = &self.urls[index % self.urls.len()];
        let request = WebhookRequest::new("healthz", Method::Get, url.clone());
        let started = Instant::now();
        let response = self.client.fetch(&request).await?;
        latencies.push(started.elapsed());
        ensure!(
            response.status == 200,
            "/healthz answered {}",
            response.status
        );
        Ok(())
    }
}

/// `flowbot serve` as a separate process, stopped with SIGTERM.
struct FlowbotServer {
    child: Child,
    base: String,
}

impl FlowbotServer {
    fn start(flowbot: &Path, flows: &Path, store: &str) -> anyhow::Result<FlowbotServer> {
        let mut child = Command::new(flowbot)
            .arg("serve")
            .arg("--flows")
            .arg(flows)
            .arg("--store")
            .arg(store)
            .args(["--listen", "127.0.0.1:0", "--allow-webhook", "127.0.0.1"])
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {}", flowbot.display()))?;
        let stderr = child.stderr.take().context("the server's error output")?;
        let mut lines = BufReader::new(stderr).lines();
        let base = loop {
            let Some(line) = lines.next() else {
                let status = child.wait()?;
                bail!("flowbot serve stopped ({status}) before listening");
            };
            let line = line?;
            if let Some(address) = line.split("listening on ").nth(1) {
                break address.trim().trim_end_matches('/').to_owned();
            }
            eprintln!("flowbot serve: {line}");
        };
        // Whatever it logs later is shown, and never fills the pipe.
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                eprintln!("flowbot serve: {line}");
            }
        });
        Ok(FlowbotServer { child, base })
    }

    fn threads(&self) -> Option<u64> {
        // Read while it runs: the figure of the measurement's end.
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|line| line.starts_with("Threads:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    fn peak_rss_bytes(&self) -> Option<u64> {
        crate::report::peak_rss_bytes_of(&format!("/proc/{}/status", self.child.id()))
    }

    /// Stops it with SIGTERM, as an operator does, and waits for it.
    fn stop(mut self) -> anyhow::Result<()> {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .context("running kill")?;
        ensure!(status.success(), "kill -TERM failed");
        let status = self.child.wait()?;
        ensure!(status.success(), "flowbot serve exited with {status}");
        Ok(())
    }
}

impl Drop for FlowbotServer {
    fn drop(&mut self) {
        // Stopped already, or the bench is failing: either way, do not leave it running.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The server processes of a measurement, all on one store.
struct Servers(Vec<FlowbotServer>);

impl Servers {
    /// Starts `plan.instances` servers on `store`, one after the other (the first applies the
    /// migrations).
    fn start(plan: &LoadPlan, flows: &Path, store: &BenchStore) -> anyhow::Result<Servers> {
        let url = store.server_url();
        let servers = (0..plan.instances.max(1))
            .map(|_| FlowbotServer::start(&plan.flowbot, flows, &url))
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Servers(servers))
    }

    /// Their base URLs.
    fn bases(&self) -> Vec<String> {
        self.0.iter().map(|server| server.base.clone()).collect()
    }

    /// Stops them all with SIGTERM.
    fn stop(self) -> anyhow::Result<()> {
        for server in self.0 {
            server.stop()?;
        }
        Ok(())
    }
}

/// The mean of a duration metric of Prometheus text, from its `_sum` and `_count` (added up
/// over its labels), in microseconds; 0 when it is missing.
fn mean_us(text: &str, name: &str) -> f64 {
    let total = |suffix: &str| -> f64 {
        let prefix = format!("{name}{suffix}");
        text.lines()
            .filter(|line| {
                line.strip_prefix(prefix.as_str())
                    .is_some_and(|rest| rest.starts_with(' ') || rest.starts_with('{'))
            })
            .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    };
    let count = total("_count");
    if count == 0.0 {
        return 0.0;
    }
    total("_sum") / count * 1e6
}

/// `cpu` per item, in microseconds; 0 when there was none.
fn per_item_us(cpu: Duration, items: usize) -> f64 {
    if items == 0 {
        return 0.0;
    }
    cpu.as_secs_f64() * 1e6 / items as f64
}

/// `part / whole`, or 0 when nothing was measured.
fn ratio(part: f64, whole: f64) -> f64 {
    if whole == 0.0 {
        return 0.0;
    }
    part / whole
}

/// The report as a table for people.
fn table(report: &LoadReport) -> String {
    let mut table = format!(
        "\n{:<44} {:>12}\n{:<44} {:>12.0}\n{:<44} {:>12.0}\n{:<44} {:>12.3}\n{:<44} {:>12}\n{:<44} {:>12}\n{:<44} {:>12.0}\n{:<44} {:>12.1}\n",
        format!("flowbot serve, {} x {}", report.store, report.instances),
        format!("c={}", report.concurrency),
        "durable turns per second",
        report.empty.turns_per_s,
        "GET /healthz per second (baseline)",
        report.empty.baseline_requests_per_s,
        "ratio",
        report.empty.ratio,
        "turn p50 (µs)",
        report.empty.turn_p50_us,
        "turn p99 (µs)",
        report.empty.turn_p99_us,
        "disk bytes per conversation at 1st question",
        report.disk_bytes_per_conversation,
        "server peak RSS (MiB)",
        report.empty.server_peak_rss_mb,
    );
    table.push_str(&format!(
        "{:<44} {:>12.1}\n{:<44} {:>12.1}\n{:<44} {:>12.1}\n{:<44} {:>12}\n",
        "server CPU per turn (µs)",
        report.empty.server_cpu_us_per_turn,
        "server CPU per GET /healthz (µs)",
        report.empty.server_cpu_us_per_request,
        "PostgreSQL's CPU per turn (µs)",
        report.empty.database_cpu_us_per_turn,
        "server threads",
        report.empty.server_threads,
    ));
    table.push_str(&format!(
        "{:<44} {:>12.0}\n{:<44} {:>12.0}\n{:<44} {:>12.0}\n",
        "server's mean turn, lock to commit (µs)",
        report.empty.server_turn_mean_us,
        "server's mean commit (µs)",
        report.empty.server_commit_mean_us,
        "server's mean webhook step (µs)",
        report.empty.server_webhook_mean_us,
    ));
    if let (Some(stored), Some(stored_ratio)) = (&report.with_stored, report.stored_ratio) {
        table.push_str(&format!(
            "{:<44} {:>12.0}\n{:<44} {:>12}\n{:<44} {:>12.3}\n",
            format!("turns per second, {} stored", report.stored),
            stored.turns_per_s,
            "turn p99 with them (µs)",
            stored.turn_p99_us,
            "ratio to the empty store",
            stored_ratio,
        ));
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mean_adds_up_every_label_of_the_metric_and_nothing_else() {
        let text = "\
# TYPE flowbot_turn_duration_seconds summary
flowbot_turn_duration_seconds{bot=\"shop\",quantile=\"0.5\"} 0.004
flowbot_turn_duration_seconds_sum{bot=\"shop\"} 3
flowbot_turn_duration_seconds_count{bot=\"shop\"} 1000
flowbot_turn_duration_seconds_sum{bot=\"other\"} 1
flowbot_turn_duration_seconds_count{bot=\"other\"} 1000
flowbot_turn_duration_seconds_sums_of_something_else 99
flowbot_commit_duration_seconds_sum 0.5
flowbot_commit_duration_seconds_count 250
";
        assert_eq!(mean_us(text, "flowbot_turn_duration_seconds"), 2000.0);
        assert_eq!(mean_us(text, "flowbot_commit_duration_seconds"), 2000.0);
        assert_eq!(mean_us(text, "flowbot_webhook_duration_seconds"), 0.0);
    }

    #[test]
    fn a_cost_per_item_is_zero_without_items() {
        assert_eq!(per_item_us(Duration::from_millis(3), 1000), 3.0);
        assert_eq!(per_item_us(Duration::from_millis(3), 0), 0.0);
    }
}
