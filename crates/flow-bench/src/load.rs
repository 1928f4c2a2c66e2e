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

/// The JSON line `flow-bench serve` prints.
#[derive(Debug, Serialize)]
pub struct LoadReport {
    /// Durable turns per second on the empty store.
    pub turns_per_s: f64,
    /// Median turn, in microseconds.
    pub turn_p50_us: u64,
    /// 99th percentile turn, in microseconds.
    pub turn_p99_us: u64,
    /// Plain `GET /healthz` requests per second.
    pub baseline_requests_per_s: f64,
    /// `turns_per_s / baseline_requests_per_s`.
    pub ratio: f64,
    /// Bytes the SQLite file grew by per conversation waiting at the first question.
    pub disk_bytes_per_conversation: f64,
    /// The server's peak resident memory, in MiB: with the stored conversations when there are.
    pub server_peak_rss_mb: f64,
    /// The server process's CPU time per durable turn, in microseconds.
    pub server_cpu_us_per_turn: f64,
    /// The server process's CPU time per `GET /healthz`, in microseconds.
    pub server_cpu_us_per_request: f64,
    /// The server's threads at the end of the empty-store measurement.
    pub server_threads: u64,
    /// The server's mean turn, lock to commit, in microseconds.
    pub server_turn_mean_us: f64,
    /// The server's mean commit, in microseconds.
    pub server_commit_mean_us: f64,
    /// The server's mean webhook step, in microseconds.
    pub server_webhook_mean_us: f64,
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
    let database = dir.path().join("flowbot.db");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(plan.workers.max(1))
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let client = Client::new(ClientConfig::default())?;

    let server = FlowbotServer::start(&plan.flowbot, &flows, &database)?;
    eprintln!(
        "flow-bench serve: {} shop conversations (3 turns each) and {} GET /healthz to {}, {} at once",
        plan.conversations,
        plan.conversations * 3,
        server.base,
        plan.concurrency
    );
    let mut errors = 0;
    let (empty, failed) = runtime.block_on(measure(plan, &client, &server, "m"))?;
    errors += failed;

    eprintln!(
        "flow-bench serve: {} conversations left at the first question, for the disk figure",
        plan.waiting
    );
    let before = settled_size(&database)?;
    runtime.block_on(start_waiting(plan, &client, &server))?;
    let after = settled_size(&database)?;
    let disk_bytes_per_conversation = (after.saturating_sub(before)) as f64 / plan.waiting as f64;

    let mut with_stored = None;
    if plan.stored > 0 {
        server.stop()?;
        eprintln!(
            "flow-bench serve: storing {} conversations waiting at the first question",
            plan.stored
        );
        let seeding = Instant::now();
        store_copies(&database, plan.stored)?;
        eprintln!(
            "flow-bench serve: stored in {:.1} s; the file is {:.0} MiB",
            seeding.elapsed().as_secs_f64(),
            mib(settled_size(&database)?)
        );
        let server = FlowbotServer::start(&plan.flowbot, &flows, &database)?;
        let (measured, failed) = runtime.block_on(measure(plan, &client, &server, "s"))?;
        errors += failed;
        with_stored = Some(measured);
        server.stop()?;
    } else {
        server.stop()?;
    }
    drop(webhook);

    let report = LoadReport {
        turns_per_s: empty.turns_per_s,
        turn_p50_us: empty.turn_p50_us,
        turn_p99_us: empty.turn_p99_us,
        baseline_requests_per_s: empty.baseline_requests_per_s,
        ratio: empty.ratio,
        disk_bytes_per_conversation,
        server_peak_rss_mb: with_stored.map_or(empty.server_peak_rss_mb, |m| m.server_peak_rss_mb),
        server_cpu_us_per_turn: empty.server_cpu_us_per_turn,
        server_cpu_us_per_request: empty.server_cpu_us_per_request,
        server_threads: empty.server_threads,
        server_turn_mean_us: empty.server_turn_mean_us,
        server_commit_mean_us: empty.server_commit_mean_us,
        server_webhook_mean_us: empty.server_webhook_mean_us,
        stored: plan.stored,
        stored_ratio: with_stored.map(|m| ratio(m.turns_per_s, empty.turns_per_s)),
        with_stored,
        conversations: plan.conversations,
        concurrency: plan.concurrency,
        errors,
        cores: std::thread::available_parallelism().map_or(0, usize::from),
        elapsed_s: started.elapsed().as_secs_f64(),
    };
    eprint!("{}", table(&report));
    Ok(report)
}

/// One measurement: a warm-up, then alternating rounds of plain requests and conversations.
/// Conversation ids start with `prefix`, so that two measurements never share one.
async fn measure(
    plan: &LoadPlan,
    client: &Client,
    server: &FlowbotServer,
    prefix: &'static str,
) -> anyhow::Result<(Measurement, usize)> {
    let conversations = Arc::new(Conversations {
        client: client.clone(),
        base: server.base.clone(),
        prefix,
    });
    let requests = Arc::new(PlainRequests {
        client: client.clone(),
        url: format!("{}/healthz", server.base),
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

    let stat = format!("/proc/{}/stat", server.child.id());
    let server_cpu = || crate::report::cpu_time(&stat).unwrap_or_default();
    let mut turns = Measured::default();
    let mut plain = Measured::default();
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
    let turns_per_s = rate(turns.latencies.len(), turns.elapsed);
    let baseline_requests_per_s = rate(plain.latencies.len(), plain.elapsed);
    let measurement = Measurement {
        turns_per_s,
        turn_p50_us: percentile_us(&mut turns.latencies, 0.50),
        turn_p99_us: percentile_us(&mut turns.latencies, 0.99),
        baseline_requests_per_s,
        ratio: ratio(turns_per_s, baseline_requests_per_s),
        server_peak_rss_mb: server.peak_rss_bytes().map_or(0.0, mib),
        server_cpu_us_per_turn: per_item_us(turns.cpu, turns.latencies.len()),
        server_cpu_us_per_request: per_item_us(plain.cpu, plain.latencies.len()),
        server_threads: server.threads().unwrap_or(0),
        server_turn_mean_us: 0.0,
        server_commit_mean_us: 0.0,
        server_webhook_mean_us: 0.0,
    };
    let mut measurement = measurement;
    let metrics = WebhookRequest::new("metrics", Method::Get, format!("{}/metrics", server.base));
    match client.fetch(&metrics).await {
        Ok(response) if response.status == 200 => {
            let text = String::from_utf8_lossy(&response.body);
            measurement.server_turn_mean_us = mean_us(&text, "flowbot_turn_duration_seconds");
            measurement.server_commit_mean_us = mean_us(&text, "flowbot_commit_duration_seconds");
            measurement.server_webhook_mean_us = mean_us(&text, "flowbot_webhook_duration_seconds");
        }
        other => eprintln!("flow-bench serve: /metrics could not be read: {other:?}"),
    }
    if turns.cut_short || plain.cut_short {
        eprintln!(
            "warning: the time limit cut a measurement short; the figures cover what was done"
        );
    }
    Ok((measurement, turns.errors + plain.errors))
}

/// Starts `plan.waiting` conversations and leaves them at the shop's first question.
async fn start_waiting(
    plan: &LoadPlan,
    client: &Client,
    server: &FlowbotServer,
) -> anyhow::Result<()> {
    let job = Arc::new(Waiting {
        client: client.clone(),
        base: server.base.clone(),
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
    base: String,
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
            let started = Instant::now();
            let answer = send(&self.client, &self.base, &conversation, number, text).await?;
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
    url: String,
}

impl Job for PlainRequests {
    async fn run(&self, _index: usize, latencies: &mut Vec<Duration>) -> anyhow::Result<()> {
        let request = WebhookRequest::new("healthz", Method::Get, self.url.clone());
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
    fn start(flowbot: &Path, flows: &Path, database: &Path) -> anyhow::Result<FlowbotServer> {
        let mut child = Command::new(flowbot)
            .arg("serve")
            .arg("--flows")
            .arg(flows)
            .arg("--store")
            .arg(format!("sqlite:{}", database.display()))
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

/// The database file's size once its write-ahead log is checkpointed into it.
fn settled_size(database: &Path) -> anyhow::Result<u64> {
    let connection = rusqlite::Connection::open(database)?;
    connection.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    drop(connection);
    Ok(std::fs::metadata(database)?.len())
}

/// Stores `count` copies of the first conversation waiting at the first question (`w0`), with
/// its outputs and its message record, each under a new id, while the server is stopped.
///
/// The copies are the bytes the server wrote for a real conversation, so the file has the size
/// and the indexes it would have after `count` real first turns, which would take minutes.
fn store_copies(database: &Path, count: usize) -> anyhow::Result<()> {
    let mut connection = rusqlite::Connection::open(database)?;
    let transaction = connection.transaction()?;
    let template: i64 = transaction
        .query_row(
            "SELECT conversation FROM conversations WHERE bot = 'shop' AND id = 'w0'",
            [],
            |row| row.get(0),
        )
        .context("the conversation to copy, w0, is not stored")?;
    let first: i64 = transaction.query_row(
        "SELECT coalesce(max(conversation), 0) + 1 FROM conversations",
        [],
        |row| row.get(0),
    )?;
    let count = i64::try_from(count)?;
    transaction.execute(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?3)
         INSERT INTO conversations
             (conversation, bot, id, state, revision, next_seq, created_at, updated_at,
              timer_id, timer_due)
         SELECT ?2 + n.i, c.bot, 'stored-' || n.i, replace(c.state, '\"w0\"', '\"stored-' || n.i || '\"'),
                c.revision, c.next_seq, c.created_at, c.updated_at, c.timer_id, c.timer_due
         FROM n, conversations AS c WHERE c.conversation = ?1",
        rusqlite::params![template, first, count],
    )?;
    transaction.execute(
        "INSERT INTO outputs (conversation, seq, body, at)
         SELECT c.conversation, o.seq, o.body, o.at
         FROM conversations AS c, outputs AS o
         WHERE c.conversation >= ?2 AND o.conversation = ?1",
        rusqlite::params![template, first],
    )?;
    transaction.execute(
        "INSERT INTO messages (conversation, message_id, first_seq, last_seq, status, notices, at)
         SELECT c.conversation, c.id || '-0', m.first_seq, m.last_seq, m.status, m.notices, m.at
         FROM conversations AS c, messages AS m
         WHERE c.conversation >= ?2 AND m.conversation = ?1",
        rusqlite::params![template, first],
    )?;
    transaction.commit()?;
    Ok(())
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
        "flowbot serve, SQLite",
        format!("c={}", report.concurrency),
        "durable turns per second",
        report.turns_per_s,
        "GET /healthz per second (baseline)",
        report.baseline_requests_per_s,
        "ratio",
        report.ratio,
        "turn p50 (µs)",
        report.turn_p50_us,
        "turn p99 (µs)",
        report.turn_p99_us,
        "disk bytes per conversation at 1st question",
        report.disk_bytes_per_conversation,
        "server peak RSS (MiB)",
        report.server_peak_rss_mb,
    );
    table.push_str(&format!(
        "{:<44} {:>12.1}\n{:<44} {:>12.1}\n{:<44} {:>12}\n",
        "server CPU per turn (µs)",
        report.server_cpu_us_per_turn,
        "server CPU per GET /healthz (µs)",
        report.server_cpu_us_per_request,
        "server threads",
        report.server_threads,
    ));
    table.push_str(&format!(
        "{:<44} {:>12.0}\n{:<44} {:>12.0}\n{:<44} {:>12.0}\n",
        "server's mean turn, lock to commit (µs)",
        report.server_turn_mean_us,
        "server's mean commit (µs)",
        report.server_commit_mean_us,
        "server's mean webhook step (µs)",
        report.server_webhook_mean_us,
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
