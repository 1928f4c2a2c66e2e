//! One turn at a time per conversation: an async lock per conversation id, made when a turn
//! asks for it and forgotten when nobody holds or waits for it.
//!
//! The only shared lock is held just long enough to find a conversation's own lock, never
//! across a webhook call, so turns of other conversations never wait. The conversation locks
//! are tokio's fair mutexes: turns of one conversation take it in the order they asked.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

use crate::conversation::{ConversationId, IdMap};

/// A conversation's turn lock.
type TurnLock = Arc<AsyncMutex<()>>;

/// How many forgotten locks are kept for reuse.
const SPARE_LOCKS: usize = 64;

/// Each conversation's turn lock by id, and the locks no conversation uses any more, kept for
/// the next ones instead of allocating one per turn. Keyed by the hash each id carries, as in
/// the store: ids may come from clients.
#[derive(Debug, Default)]
struct Locks {
    by_id: IdMap<TurnLock>,
    spare: Vec<TurnLock>,
}

/// The turn locks of many conversations: [`TurnLocks::lock`] waits until no other turn of that
/// conversation runs. `Sessions` and the server both order turns with it.
#[derive(Debug, Default)]
pub struct TurnLocks {
    locks: Mutex<Locks>,
}

impl TurnLocks {
    /// No conversation locked.
    pub fn new() -> TurnLocks {
        TurnLocks::default()
    }

    /// Waits for conversation `id`'s lock. The guard gives it back, and forgets it once nobody
    /// else waits for it, even if the caller is cancelled while waiting.
    pub async fn lock<'s>(&'s self, id: &'s ConversationId) -> TurnGuard<'s> {
        let lock = {
            let mut locks = self.map();
            let Locks { by_id, spare } = &mut *locks;
            by_id
                .entry(id.clone())
                .or_insert_with(|| spare.pop().unwrap_or_default())
                .clone()
        };
        let mut guard = TurnGuard {
            locks: &self.locks,
            id,
            lock: Some(lock.clone()),
            guard: None,
        };
        guard.guard = Some(lock.lock_owned().await);
        guard
    }

    /// Whether no turn holds or waits for any conversation's lock.
    pub fn is_idle(&self) -> bool {
        self.map().by_id.is_empty()
    }

    fn map(&self) -> MutexGuard<'_, Locks> {
        lock_map(&self.locks)
    }
}

/// A map of locks stays sound through a panic: entries are only added and removed whole.
fn lock_map(locks: &Mutex<Locks>) -> MutexGuard<'_, Locks> {
    locks.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Holds one conversation's turn lock until dropped.
#[derive(Debug)]
pub struct TurnGuard<'s> {
    locks: &'s Mutex<Locks>,
    id: &'s ConversationId,
    lock: Option<TurnLock>,
    guard: Option<OwnedMutexGuard<()>>,
}

impl Drop for TurnGuard<'_> {
    fn drop(&mut self) {
        self.guard.take();
        self.lock.take();
        let mut locks = lock_map(self.locks);
        // Clones are only made under the map's lock, so a count of one (the map's own) means
        // nobody holds or waits for this conversation's lock: it is free, and can serve another.
        // Removing it first and putting it back when someone still waits hashes the id once in
        // the usual case, where nobody does.
        if let Some((id, lock)) = locks.by_id.remove_entry(self.id) {
            if Arc::strong_count(&lock) > 1 {
                locks.by_id.insert(id, lock);
            } else if locks.spare.len() < SPARE_LOCKS {
                locks.spare.push(lock);
            }
        }
    }
}
