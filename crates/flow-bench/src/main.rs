//! `flow-bench`: what a whole shop conversation costs, next to what its one HTTP request costs.
//!
//! It starts a webhook server in a separate process (this binary again, `serve`), runs whole
//! conversations of `flows/shop.yaml` against it next to the same number of plain GET requests,
//! then the same conversations with the webhook answered in process on one core, then holds
//! many idle conversations to count their bytes. It prints a table on standard error and one
//! JSON line on standard output. `docs/performance.md` says how to read them.
//!
//! `flow-bench serve` measures the production server instead: see `load`.

mod alloc;
mod drive;
mod load;
mod memory;
mod network;
mod report;
mod scripted;
mod server;
mod shop;

use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Parser, Subcommand};
use flow_http::{Client, ClientConfig};

use crate::alloc::CountingAlloc;
use crate::drive::{percentile_us, rate};
use crate::network::NetworkPlan;
use crate::report::{mib, Report};
use crate::server::ServerProcess;

/// Counts live heap bytes for the idle-memory figure, and only then (see `alloc`).
#[global_allocator]
static ALLOCATOR: CountingAlloc = CountingAlloc::new();

/// Measures whole shop conversations next to plain HTTP requests to the same server.
#[derive(Debug, Parser)]
#[command(name = "flow-bench", version, about)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// Conversations over HTTP, and as many plain requests for the baseline.
    #[arg(long, default_value_t = 20_000)]
    conversations: usize,
    /// Conversations (or plain requests) in progress at once.
    #[arg(long, default_value_t = 50)]
    concurrency: usize,
    /// Send the webhooks to this URL, which must answer GET with the shop's products JSON,
    /// instead of starting a local server process.
    #[arg(long, value_name = "URL")]
    target: Option<String>,
    /// Worker threads of the bench's runtime, and of the server process.
    #[arg(long, default_value_t = 2)]
    workers: usize,
    /// Microseconds the local server waits before each answer, standing for a webhook that
    /// takes time (a real network, real work); 0 measures flowbot's cost most plainly.
    #[arg(long, value_name = "MICROSECONDS", default_value_t = 0)]
    server_delay_us: u64,
    /// Rounds the HTTP run is cut into, alternating conversations and plain requests.
    #[arg(long, default_value_t = 4)]
    rounds: usize,
    /// Conversations with the webhook answered in process, on one core.
    #[arg(long, default_value_t = 200_000)]
    scripted_conversations: usize,
    /// Conversations left waiting at a question for the memory figure.
    #[arg(long, default_value_t = 100_000)]
    idle_conversations: usize,
    /// Seconds after which a timed run starts no new conversation or request.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    time_limit: u64,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Measures `flowbot serve`: durable turns over HTTP on SQLite, next to `GET /healthz`.
    Serve(ServeArgs),
    /// The webhook server process (started by the bench itself).
    #[command(hide = true)]
    WebhookServer {
        /// Worker threads.
        #[arg(long, default_value_t = 2)]
        workers: usize,
        /// Microseconds to wait before each answer.
        #[arg(long, default_value_t = 0)]
        delay_us: u64,
        /// Seconds after which it stops by itself.
        #[arg(long, default_value_t = 600)]
        max_seconds: u64,
    },
}

/// `flow-bench serve`: the production server under load.
#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Whole shop conversations (three turns each) per measurement, and three times as many
    /// plain requests for the baseline.
    #[arg(long, default_value_t = 5_000)]
    conversations: usize,
    /// Conversations (or plain requests) in progress at once.
    #[arg(long, default_value_t = 50)]
    concurrency: usize,
    /// Measure again with this many more conversations stored, each waiting at the first
    /// question (0: the empty store only).
    #[arg(long, default_value_t = 0)]
    stored: usize,
    /// Conversations left at the first question to weigh them on disk.
    #[arg(long, default_value_t = 10_000)]
    waiting: usize,
    /// Rounds each measurement is cut into, alternating conversations and plain requests.
    #[arg(long, default_value_t = 4)]
    rounds: usize,
    /// Worker threads of the bench's client and of the webhook server.
    #[arg(long, default_value_t = 2)]
    workers: usize,
    /// The `flowbot` binary [default: built by cargo next to this bench, in the same profile].
    #[arg(long, value_name = "PATH")]
    flowbot: Option<std::path::PathBuf>,
    /// Seconds after which a measurement starts no new conversation or request.
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    time_limit: u64,
}

fn main() {
    let args = Args::parse();
    let outcome = match &args.command {
        Some(Command::Serve(serve)) => serve_load(serve),
        Some(Command::WebhookServer {
            workers,
            delay_us,
            max_seconds,
        }) => server::serve(
            *workers,
            Duration::from_micros(*delay_us),
            Duration::from_secs(*max_seconds),
        ),
        None => bench(&args),
    };
    if let Err(error) = outcome {
        eprintln!("error: {error:#}");
        std::process::exit(2);
    }
}

fn bench(args: &Args) -> anyhow::Result<()> {
    let started = Instant::now();
    let time_limit = Duration::from_secs(args.time_limit);
    let server = match &args.target {
        Some(_) => None,
        // The server outlives a run cut short at its limit, never the bench by much.
        None => Some(ServerProcess::start(
            args.workers,
            Duration::from_micros(args.server_delay_us),
            time_limit * 3,
        )?),
    };
    let url = match (&args.target, &server) {
        (Some(url), _) => url.clone(),
        (None, Some(server)) => server.url(),
        (None, None) => unreachable!("a server is started when no target is given"),
    };
    eprintln!(
        "flow-bench: {} shop conversations and {} plain GETs to {url}, {} at once, {} worker threads",
        args.conversations, args.conversations, args.concurrency, args.workers
    );

    let plan = NetworkPlan {
        url,
        conversations: args.conversations,
        concurrency: args.concurrency,
        rounds: args.rounds,
        deadline: Instant::now() + time_limit,
        cpu_stats: std::iter::once("/proc/self/stat".to_owned())
            .chain(server.as_ref().map(ServerProcess::stat_path))
            .collect(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.workers.max(1))
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let client = Client::new(ClientConfig::default())?;
    let mut network = runtime.block_on(network::run(&plan, client))?;
    drop(runtime);
    let peak_rss = report::peak_rss_bytes().unwrap_or(0);
    let server_peak_rss = server.as_ref().and_then(ServerProcess::peak_rss_bytes);
    drop(server);

    eprintln!(
        "flow-bench: {} conversations with scripted webhooks on one core",
        args.scripted_conversations
    );
    let mut scripted = scripted::run(
        args.scripted_conversations,
        args.concurrency,
        Instant::now() + time_limit,
    )?;
    eprintln!(
        "flow-bench: {} idle conversations in memory",
        args.idle_conversations
    );
    let idle = memory::run(args.idle_conversations)?;

    let conversations = &mut network.conversations;
    let requests = &mut network.requests;
    let conversations_per_s = conversations.per_second();
    let baseline_requests_per_s = requests.per_second();
    let errors = conversations.errors + requests.errors + scripted.conversations.errors;
    let report = Report {
        conversations_per_s,
        baseline_requests_per_s,
        ratio: ratio(conversations_per_s, baseline_requests_per_s),
        turn_p50_us: percentile_us(&mut conversations.latencies, 0.50),
        turn_p99_us: percentile_us(&mut conversations.latencies, 0.99),
        peak_rss_mb: mib(peak_rss),
        turns_per_s: rate(conversations.latencies.len(), conversations.elapsed),
        request_p50_us: percentile_us(&mut requests.latencies, 0.50),
        request_p99_us: percentile_us(&mut requests.latencies, 0.99),
        conversation_cpu_us: conversations.cpu_us_per_job(),
        request_cpu_us: requests.cpu_us_per_job(),
        cpu_ratio: ratio(requests.cpu_us_per_job(), conversations.cpu_us_per_job()),
        server_peak_rss_mb: server_peak_rss.map(mib),
        scripted_conversations_per_s_per_core: rate(
            scripted.conversations.done,
            scripted.conversations.cpu,
        ),
        scripted_conversations_per_s_wall: scripted.conversations.per_second(),
        scripted_turn_p50_us: percentile_us(&mut scripted.conversations.latencies, 0.50),
        scripted_allocations_per_conversation: scripted.allocations_per_conversation,
        scripted_pinned: scripted.pinned,
        idle_conversation_bytes: idle.bytes_per_conversation,
        idle_conversation_rss_bytes: idle.rss_bytes_per_conversation,
        conversations: conversations.done,
        concurrency: args.concurrency,
        workers: args.workers,
        scripted_conversations: scripted.conversations.done,
        idle_conversations: idle.conversations,
        target: args.target.clone().unwrap_or_else(|| "local".to_owned()),
        server_delay_us: args.server_delay_us,
        errors,
        complete: !(conversations.cut_short
            || requests.cut_short
            || scripted.conversations.cut_short),
        cores: std::thread::available_parallelism().map_or(0, usize::from),
        cpu: report::cpu_model(),
        elapsed_s: started.elapsed().as_secs_f64(),
    };
    eprint!("{}", report.table());
    eprintln!(
        "of the bytes per idle conversation, {} are its slot in the store's map (id and \
         conversation inline)",
        idle.entry_bytes
    );
    println!("{}", serde_json::to_string(&report)?);
    let first_error = [
        &conversations.first_error,
        &requests.first_error,
        &scripted.conversations.first_error,
    ]
    .into_iter()
    .find_map(Option::as_ref);
    if let Some(error) = first_error {
        anyhow::bail!("{errors} conversations or requests failed; the first: {error}");
    }
    if !report.complete {
        eprintln!("warning: the time limit cut a run short; the figures cover what was done");
    }
    Ok(())
}

/// `flow-bench serve`: finds (or builds) `flowbot`, runs the load, prints the JSON line.
fn serve_load(args: &ServeArgs) -> anyhow::Result<()> {
    let flowbot = match &args.flowbot {
        Some(path) => path.clone(),
        None => built_flowbot()?,
    };
    let plan = load::LoadPlan {
        conversations: args.conversations.max(1),
        concurrency: args.concurrency.max(1),
        stored: args.stored,
        waiting: args.waiting.max(1),
        rounds: args.rounds,
        workers: args.workers,
        flowbot,
        time_limit: Duration::from_secs(args.time_limit),
    };
    let report = load::run(&plan)?;
    println!("{}", serde_json::to_string(&report)?);
    if report.errors > 0 {
        anyhow::bail!("{} turns or requests failed", report.errors);
    }
    Ok(())
}

/// The `flowbot` binary beside this one. Under `cargo run` it is built first, in the same
/// profile, so that the bench never measures a stale server.
fn built_flowbot() -> anyhow::Result<std::path::PathBuf> {
    let exe = std::env::current_exe().context("finding the bench's own binary")?;
    let dir = exe.parent().context("the bench's folder")?;
    let flowbot = dir.join("flowbot");
    if let Some(cargo) = std::env::var_os("CARGO") {
        let mut build = std::process::Command::new(cargo);
        build.args(["build", "--quiet", "--bin", "flowbot"]);
        if dir.file_name().is_some_and(|name| name == "release") {
            build.arg("--release");
        }
        let status = build
            .status()
            .context("running cargo build --bin flowbot")?;
        anyhow::ensure!(status.success(), "cargo build --bin flowbot failed");
    }
    anyhow::ensure!(
        flowbot.exists(),
        "{} is missing: build it with `cargo build --release --bin flowbot`, or pass --flowbot PATH",
        flowbot.display()
    );
    Ok(flowbot)
}

/// `part / whole`, or 0 when nothing was measured.
fn ratio(part: f64, whole: f64) -> f64 {
    if whole == 0.0 {
        return 0.0;
    }
    part / whole
}
