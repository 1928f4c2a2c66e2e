//! Bytes per idle conversation: many conversations started and left waiting at the question,
//! counted by the allocator, with the resident memory as a cross-check.

use std::mem::size_of;

use anyhow::Context;
use flow_runtime::{Conversation, ConversationId, MemoryStore, ScriptedRunner};

use crate::shop;
use crate::ALLOCATOR;

/// What the idle-memory run measured.
#[derive(Debug)]
pub struct IdleMemory {
    /// Conversations held.
    pub conversations: usize,
    /// Heap bytes the store holds per conversation, all included (the map's table too).
    pub bytes_per_conversation: f64,
    /// Of those, one map entry: the id and the conversation inline (the map's table holds a
    /// slot of this size per conversation, and some free slots).
    pub entry_bytes: usize,
    /// Resident memory per conversation, the cross-check.
    pub rss_bytes_per_conversation: f64,
}

/// Starts `conversations` shop conversations through [`flow_runtime::Sessions`] and measures
/// what the store holds once they all wait at `ask_name`.
pub fn run(conversations: usize) -> anyhow::Result<IdleMemory> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .context("starting the single-threaded runtime")?;
    runtime.block_on(measure(conversations.max(1)))
}

async fn measure(conversations: usize) -> anyhow::Result<IdleMemory> {
    let flow = shop::flow("http://127.0.0.1:9/products")?;
    let sessions = shop::sessions(flow, ScriptedRunner::new(), MemoryStore::new());
    // The first turn sets up what lives for the whole process (tracing's call sites, the
    // store's map): it must not count as the conversations'.
    let warm_up = conversations + 1;
    shop::start(&sessions, warm_up).await?;
    sessions.delete(&shop::conversation_id(warm_up)).await?;

    crate::alloc::release_free_memory();
    let rss_before = crate::report::rss_bytes().unwrap_or(0);
    let counting = ALLOCATOR.count();
    for index in 0..conversations {
        shop::start(&sessions, index).await?;
    }
    let live = counting.live_bytes();
    // The map's old tables, freed as it grew, would still be resident until mimalloc purges
    // them a moment later: the figure is what stays.
    crate::alloc::release_free_memory();
    let rss_after = crate::report::rss_bytes().unwrap_or(0);
    drop(counting);
    anyhow::ensure!(
        sessions.store().len() == conversations,
        "conversations are missing"
    );

    let count = conversations as f64;
    Ok(IdleMemory {
        conversations,
        bytes_per_conversation: live as f64 / count,
        entry_bytes: size_of::<(ConversationId, Conversation)>(),
        rss_bytes_per_conversation: rss_after.saturating_sub(rss_before) as f64 / count,
    })
}
