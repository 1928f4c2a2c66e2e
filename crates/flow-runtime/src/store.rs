//! Where conversations live between turns: the [`ConversationStore`] trait and an in-memory one.
//!
//! Saving is optimistic: a conversation carries the revision it was loaded at, and a save that
//! finds another revision stored fails with [`StoreError::Conflict`] instead of losing the other
//! writer's update.

use std::future::Future;
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::conversation::{Conversation, ConversationId, IdMap};

#[cfg(test)]
mod tests;

/// A conversation store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Someone saved the conversation since it was loaded; load it again and redo the turn.
    #[error(
        "conversation `{id}` was changed by someone else (loaded at revision {expected}, stored \
         at {found})"
    )]
    Conflict {
        /// The conversation.
        id: ConversationId,
        /// The revision it was loaded at (0: new).
        expected: u64,
        /// The revision stored now (0: none).
        found: u64,
    },
    /// The storage itself failed.
    #[error("the conversation store failed")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Loads, saves and deletes conversations. Shared by all conversations, so `&self` and
/// `Send + Sync`.
pub trait ConversationStore: Send + Sync {
    /// The conversation with `id`, if stored.
    fn load(
        &self,
        id: &ConversationId,
    ) -> impl Future<Output = Result<Option<Conversation>, StoreError>> + Send;

    /// Stores `conversation` if the stored revision is still the one it was loaded at (none for
    /// revision 0), and then sets its revision to the new one.
    fn save(
        &self,
        conversation: &mut Conversation,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes the conversation with `id`; false when there was none.
    fn delete(&self, id: &ConversationId) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// The conversations by id, under the keyed hash each id carries: ids may come from clients.
type Conversations = IdMap<Conversation>;

/// Conversations in memory, for the simulator, tests, and a server that needs no persistence.
#[derive(Debug, Default)]
pub struct MemoryStore {
    conversations: Mutex<Conversations>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// How many conversations it holds.
    pub fn len(&self) -> usize {
        self.map().len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.map().is_empty()
    }

    fn map(&self) -> MutexGuard<'_, Conversations> {
        // Every write replaces a whole conversation, so a panic elsewhere cannot leave one half
        // written: the map is still sound.
        self.conversations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl ConversationStore for MemoryStore {
    async fn load(&self, id: &ConversationId) -> Result<Option<Conversation>, StoreError> {
        Ok(self.map().get(id).cloned())
    }

    async fn save(&self, conversation: &mut Conversation) -> Result<(), StoreError> {
        let mut map = self.map();
        let stored = map.get_mut(conversation.id());
        let found = stored.as_ref().map_or(0, |stored| stored.revision());
        if found != conversation.revision() {
            return Err(StoreError::Conflict {
                id: conversation.id().clone(),
                expected: conversation.revision(),
                found,
            });
        }
        conversation.set_revision(found + 1);
        // A conversation's copy shares its variables and values: this copies no variable.
        match stored {
            Some(stored) => *stored = conversation.clone(),
            None => {
                map.insert(conversation.id().clone(), conversation.clone());
            }
        }
        Ok(())
    }

    async fn delete(&self, id: &ConversationId) -> Result<bool, StoreError> {
        Ok(self.map().remove(id).is_some())
    }
}
