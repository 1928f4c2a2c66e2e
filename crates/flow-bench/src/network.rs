//! The network run: whole shop conversations over HTTP, next to the same number of plain GET
//! requests to the same server, with the same client, at the same concurrency.
//!
//! The two are measured in alternating rounds (requests first, then conversations, then the
//! other way round), so that a neighbour's load on a shared machine falls on both alike.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::ensure;
use flow_http::{Client, Method, WebhookRequest};
use flow_runtime::{HttpRunner, MemoryStore, Sessions};

use crate::drive::{drive, no_cpu_clock, Job, Measured};
use crate::shop;

/// How the network run goes.
#[derive(Debug, Clone)]
pub struct NetworkPlan {
    /// The products URL.
    pub url: String,
    /// Conversations, and plain requests, each.
    pub conversations: usize,
    /// Conversations (or requests) in progress at once.
    pub concurrency: usize,
    /// Rounds the work is cut into, alternating which kind goes first.
    pub rounds: usize,
    /// No new conversation or request starts after this.
    pub deadline: Instant,
    /// The `/proc` stat files of the processes whose CPU time counts: the bench's own, and the
    /// server's when it runs here.
    pub cpu_stats: Vec<String>,
}

/// What the network run measured.
#[derive(Debug)]
pub struct NetworkRun {
    /// Whole conversations; latencies are per turn.
    pub conversations: Measured,
    /// Plain requests; latencies are per request.
    pub requests: Measured,
}

/// Whole shop conversations through [`Sessions`] over a [`MemoryStore`] with an [`HttpRunner`].
struct Conversations {
    sessions: Arc<Sessions<HttpRunner, MemoryStore>>,
}

impl Job for Conversations {
    async fn run(&self, index: usize, latencies: &mut Vec<Duration>) -> anyhow::Result<()> {
        shop::converse(&self.sessions, index, latencies).await
    }
}

/// The request the shop's webhook step sends, sent on its own: same URL, query and header.
struct PlainRequests {
    client: Client,
    url: String,
}

impl Job for PlainRequests {
    async fn run(&self, index: usize, latencies: &mut Vec<Duration>) -> anyhow::Result<()> {
        let url = format!("{}?user={}", self.url, shop::user_name(index));
        let request = WebhookRequest::new("plain_request", Method::Get, url)
            .with_header("Accept", "application/json");
        let started = Instant::now();
        let response = self.client.fetch(&request).await?;
        latencies.push(started.elapsed());
        ensure!(
            response.status == 200,
            "the server answered {}",
            response.status
        );
        Ok(())
    }
}

/// Runs the conversations and the plain requests, after a warm-up of both that opens the
/// connections.
pub async fn run(plan: &NetworkPlan, client: Client) -> anyhow::Result<NetworkRun> {
    let flow = shop::flow(&plan.url)?;
    let conversations = Arc::new(Conversations {
        sessions: shop::sessions(flow, HttpRunner::new(client.clone()), MemoryStore::new()),
    });
    let requests = Arc::new(PlainRequests {
        client,
        url: plan.url.clone(),
    });

    // The warm-up's conversations are numbered after the measured ones, so ids never clash.
    let warm_up = plan.conversations..plan.conversations + (plan.concurrency * 4);
    let warm = drive(
        &requests,
        warm_up.clone(),
        plan.concurrency,
        plan.deadline,
        no_cpu_clock,
    )
    .await;
    check_warm_up("plain requests", &warm)?;
    let warm = drive(
        &conversations,
        warm_up,
        plan.concurrency,
        plan.deadline,
        no_cpu_clock,
    )
    .await;
    check_warm_up("conversations", &warm)?;

    let mut run = NetworkRun {
        conversations: Measured::default(),
        requests: Measured::default(),
    };
    let rounds = plan.rounds.clamp(1, plan.conversations.max(1));
    for round in 0..rounds {
        let range = plan.conversations * round / rounds..plan.conversations * (round + 1) / rounds;
        let cpu = || cpu_time(&plan.cpu_stats);
        let measure_requests = drive(
            &requests,
            range.clone(),
            plan.concurrency,
            plan.deadline,
            cpu,
        );
        let measure_conversations = drive(
            &conversations,
            range.clone(),
            plan.concurrency,
            plan.deadline,
            cpu,
        );
        if round % 2 == 0 {
            run.requests.merge(measure_requests.await);
            run.conversations.merge(measure_conversations.await);
        } else {
            run.conversations.merge(measure_conversations.await);
            run.requests.merge(measure_requests.await);
        }
    }
    Ok(run)
}

/// The CPU time used so far by the processes of `stats`, added up.
fn cpu_time(stats: &[String]) -> Duration {
    stats
        .iter()
        .filter_map(|stat| crate::report::cpu_time(stat))
        .sum()
}

/// A warm-up that failed means the server is not answering as the shop expects: stop there.
fn check_warm_up(what: &str, warm: &Measured) -> anyhow::Result<()> {
    match &warm.first_error {
        Some(error) => anyhow::bail!("the warm-up {what} failed: {error}"),
        None => Ok(()),
    }
}
