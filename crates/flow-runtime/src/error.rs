//! The errors of the runtime, in words a bot author understands.

use flow_core::flow::BlockId;
use serde::Serialize;

use crate::runner::RunnerError;

/// A turn that could not run at all; the conversation is left as it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    /// The conversation's bot is not in the executor's project.
    #[error("bot `{0}` is not in the project (was its file removed or renamed?)")]
    UnknownBot(String),
    /// A start block that the bot does not have.
    #[error("bot `{bot}` has no block `{block}` to start at")]
    UnknownBlock {
        /// The bot.
        bot: String,
        /// The block asked for.
        block: BlockId,
    },
    /// A preset value that cannot go into its variable: the name is one flowbot sets itself, or
    /// the value does not fit the declared type.
    #[error("cannot preset `{variable}` of bot `{bot}`: {reason}")]
    Preset {
        /// The bot.
        bot: String,
        /// The variable.
        variable: String,
        /// Why, in the bot author's words.
        reason: String,
    },
}

/// Something that went wrong during a turn. It is one of the turn's outputs; the conversation
/// stays usable, waiting for the next message.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum RuntimeError {
    /// Too many blocks ran without waiting for the user: the flow probably loops.
    #[error(
        "the bot ran {limit} blocks without waiting for the user and was stopped before block \
         `{block}`; check the flow for a loop with no question, wait or sleep in it"
    )]
    BlockLimit {
        /// The limit.
        limit: usize,
        /// The block that would have run next; the next message goes on from it.
        block: BlockId,
    },
    /// A `set` operation that does not fit the variable's value or type; the value is unchanged.
    #[error(
        "block `{block}` could not {operation} `{variable}`: {reason}; its value is unchanged"
    )]
    Set {
        /// The set block.
        block: BlockId,
        /// The operation (`add`, `divide`, `assign`...).
        operation: &'static str,
        /// The variable.
        variable: String,
        /// Why.
        reason: String,
    },
    /// A `jump` to a bot that is not in the project.
    #[error("block `{block}` jumps to bot `{bot}`, which is not in the project")]
    UnknownJumpBot {
        /// The jump block.
        block: BlockId,
        /// The bot it names.
        bot: String,
    },
    /// A `jump` to a block the other bot does not have.
    #[error("block `{block}` jumps to block `{target}` of bot `{bot}`, which has no such block")]
    UnknownJumpBlock {
        /// The jump block.
        block: BlockId,
        /// The bot.
        bot: String,
        /// The block it names.
        target: BlockId,
    },
    /// Jumps with `return: true` nested too deep: a bot probably jumps to itself.
    #[error(
        "block `{block}` would nest more than {limit} bots that return; does a bot jump back \
         into itself?"
    )]
    JumpTooDeep {
        /// The jump block.
        block: BlockId,
        /// The limit.
        limit: usize,
    },
    /// The webhook runner gave no outcome at all (a test without a scripted outcome, a simulator
    /// that was closed); the conversation stays at the webhook block.
    #[error("webhook `{block}` did not run: {reason}")]
    Runner {
        /// The webhook block.
        block: BlockId,
        /// Why, from the runner.
        reason: String,
    },
    /// The conversation points at a block that its bot does not have.
    #[error("bot `{bot}` has no block `{block}`")]
    MissingBlock {
        /// The bot.
        bot: String,
        /// The block.
        block: BlockId,
    },
}

impl RuntimeError {
    pub(crate) fn runner(block: &BlockId, error: &RunnerError) -> RuntimeError {
        RuntimeError::Runner {
            block: block.clone(),
            reason: error.to_string(),
        }
    }
}
