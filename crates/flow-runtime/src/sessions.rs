//! Sequential turns per conversation over a store, concurrent turns across conversations.
//!
//! Each turn takes the conversation's own turn lock ([`TurnLocks`]), loads it, runs, and saves
//! it. A second message to the same conversation waits for the first turn to finish, so no
//! update is lost; other conversations never wait.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::conversation::{Conversation, ConversationId};
use crate::error::RunError;
use crate::executor::{Executor, StartOptions};
use crate::locks::{TurnGuard, TurnLocks};
use crate::runner::WebhookRunner;
use crate::store::{ConversationStore, StoreError};
use crate::turn::{Notice, Turn};

#[cfg(test)]
mod tests;

/// A turn through [`Sessions`] failed; the stored conversation is unchanged.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// No conversation has this id.
    #[error("no conversation `{0}`")]
    NotFound(ConversationId),
    /// A conversation with this id already exists.
    #[error("conversation `{0}` already exists")]
    AlreadyExists(ConversationId),
    /// The turn could not run.
    #[error(transparent)]
    Run(#[from] RunError),
    /// The store failed, or someone else saved the conversation meanwhile.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Runs turns of stored conversations, one at a time per conversation.
///
/// A turn runs to its end and is saved even if the caller stops waiting for it (a server drops
/// a request's future when its client goes away): the rest of the turn is handed to the tokio
/// runtime, so a webhook that was sent is never sent again by the next message.
#[derive(Debug)]
pub struct Sessions<R, S> {
    shared: Arc<Shared<R, S>>,
}

/// What a turn needs, shared with the turns that go on after their caller left.
#[derive(Debug)]
struct Shared<R, S> {
    executor: Arc<Executor<R>>,
    store: S,
    locks: TurnLocks,
}

impl<R: WebhookRunner + 'static, S: ConversationStore + 'static> Sessions<R, S> {
    /// Sessions running `executor` over `store`.
    pub fn new(executor: Arc<Executor<R>>, store: S) -> Sessions<R, S> {
        Sessions {
            shared: Arc::new(Shared {
                executor,
                store,
                locks: TurnLocks::new(),
            }),
        }
    }

    /// The executor.
    pub fn executor(&self) -> &Executor<R> {
        &self.shared.executor
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.shared.store
    }

    /// Starts and stores a new conversation of `bot`, returning its first turn.
    pub async fn start(
        &self,
        id: &ConversationId,
        bot: &str,
        options: StartOptions,
    ) -> Result<Turn, SessionError> {
        let shared = Arc::clone(&self.shared);
        let (id, bot) = (id.clone(), bot.to_owned());
        Completing::new(async move { shared.start(&id, &bot, options).await }).await
    }

    /// Delivers a user message to the stored conversation `id`, after any turn of it in progress.
    pub async fn deliver(&self, id: &ConversationId, text: &str) -> Result<Turn, SessionError> {
        let shared = Arc::clone(&self.shared);
        let (id, text) = (id.clone(), text.to_owned());
        Completing::new(async move { shared.deliver(&id, &text).await }).await
    }

    /// Fires the timer `timer_id` of conversation `id`, if it is still the pending one; a stale
    /// timer (the user answered meanwhile, or a newer timer replaced it) runs nothing.
    pub async fn fire_timer(
        &self,
        id: &ConversationId,
        timer_id: u64,
    ) -> Result<Turn, SessionError> {
        let shared = Arc::clone(&self.shared);
        let id = id.clone();
        Completing::new(async move { shared.fire_timer(&id, timer_id).await }).await
    }

    /// The stored conversation `id`, once any turn of it in progress is over.
    pub async fn conversation(
        &self,
        id: &ConversationId,
    ) -> Result<Option<Conversation>, SessionError> {
        let _turnstile = self.shared.turnstile(id).await;
        Ok(self.shared.store.load(id).await?)
    }

    /// Deletes conversation `id`, once any turn of it in progress is over; false when none.
    pub async fn delete(&self, id: &ConversationId) -> Result<bool, SessionError> {
        let _turnstile = self.shared.turnstile(id).await;
        Ok(self.shared.store.delete(id).await?)
    }

    #[cfg(test)]
    fn locks(&self) -> &TurnLocks {
        &self.shared.locks
    }
}

impl<R: WebhookRunner, S: ConversationStore> Shared<R, S> {
    async fn start(
        &self,
        id: &ConversationId,
        bot: &str,
        options: StartOptions,
    ) -> Result<Turn, SessionError> {
        let _turnstile = self.turnstile(id).await;
        if self.store.load(id).await?.is_some() {
            return Err(SessionError::AlreadyExists(id.clone()));
        }
        let (mut conversation, turn) = self.executor.start(id.clone(), bot, options).await?;
        self.store.save(&mut conversation).await?;
        Ok(turn)
    }

    async fn deliver(&self, id: &ConversationId, text: &str) -> Result<Turn, SessionError> {
        let _turnstile = self.turnstile(id).await;
        let mut conversation = self.load(id).await?;
        let turn = self.executor.deliver(&mut conversation, text).await?;
        self.store.save(&mut conversation).await?;
        Ok(turn)
    }

    async fn fire_timer(&self, id: &ConversationId, timer_id: u64) -> Result<Turn, SessionError> {
        let _turnstile = self.turnstile(id).await;
        let mut conversation = self.load(id).await?;
        if conversation.timer().map(|timer| timer.id) != Some(timer_id) {
            let mut turn = Turn::new(conversation.status());
            turn.timer = conversation.timer().cloned();
            turn.notices.push(Notice::NoTimer);
            return Ok(turn);
        }
        let turn = self.executor.fire_timer(&mut conversation).await?;
        self.store.save(&mut conversation).await?;
        Ok(turn)
    }

    async fn load(&self, id: &ConversationId) -> Result<Conversation, SessionError> {
        self.store
            .load(id)
            .await?
            .ok_or_else(|| SessionError::NotFound(id.clone()))
    }

    async fn turnstile<'s>(&'s self, id: &'s ConversationId) -> TurnGuard<'s> {
        self.locks.lock(id).await
    }
}

/// A turn that runs to its end even if its caller stops waiting: dropped unfinished, it hands
/// what is left of the turn to the current tokio runtime. Only a turn dropped outside any
/// runtime (the runtime itself is going away) stops where it was.
struct Completing<T: Send + 'static> {
    turn: Option<Pin<Box<dyn Future<Output = T> + Send>>>,
}

impl<T: Send + 'static> Completing<T> {
    fn new(turn: impl Future<Output = T> + Send + 'static) -> Completing<T> {
        Completing {
            turn: Some(Box::pin(turn)),
        }
    }
}

impl<T: Send + 'static> Future for Completing<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let turn = self
            .turn
            .as_mut()
            .expect("a finished turn is not polled again");
        let output = std::task::ready!(turn.as_mut().poll(cx));
        self.turn = None;
        Poll::Ready(output)
    }
}

impl<T: Send + 'static> Drop for Completing<T> {
    fn drop(&mut self) {
        let Some(turn) = self.turn.take() else {
            return;
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                tracing::debug!("the caller stopped waiting; the turn goes on in the background");
                runtime.spawn(async move {
                    // Nobody waits for the result any more; the turn's own span and the store
                    // keep what it did.
                    let _ = turn.await;
                });
            }
            Err(_) => tracing::warn!(
                "a turn was dropped outside a tokio runtime and stops where it was; a webhook \
                 it sent may be sent again by the next message"
            ),
        }
    }
}
