//! `jump`: run another bot of the project, and come back to this one when asked.
//!
//! The other bot runs with its own variables: its declared defaults plus the `with` values.
//! The built-ins `last user answer`, `last webhook success` and `last webhook failure` are the
//! conversation's, shared by every bot; `bot` names the bot running now.

use std::sync::Arc;

use flow_core::flow::{BlockId, BlockKind, Jump};
use flow_core::Project;
use serde_json::Value;

use crate::conversation::{declared_type, defaults, Status};
use crate::error::RuntimeError;
use crate::executor::{Limits, Run};
use crate::turn::{Notice, TraceEvent, VariableChange};
use crate::values;

use super::Step;

/// Enters the other bot: with `return: true` this bot waits on the stack, else the other bot
/// takes the conversation over.
pub(crate) fn enter(
    run: &mut Run,
    project: &Project,
    limits: Limits,
    id: &BlockId,
    jump: &Jump,
) -> Step {
    let Some(child) = project.flow(&jump.bot) else {
        return halt(
            run,
            RuntimeError::UnknownJumpBot {
                block: id.clone(),
                bot: jump.bot.clone(),
            },
        );
    };
    let start = jump.block.clone().unwrap_or_else(|| child.start().clone());
    if child.block(start.as_str()).is_none() {
        let error = RuntimeError::UnknownJumpBlock {
            block: id.clone(),
            bot: jump.bot.clone(),
            target: start,
        };
        return halt(run, error);
    }
    if jump.return_after && run.conversation.stack().len() >= limits.max_jump_depth {
        return halt(
            run,
            RuntimeError::JumpTooDeep {
                block: id.clone(),
                limit: limits.max_jump_depth,
            },
        );
    }
    let mut variables = defaults(child);
    for (name, template) in &jump.with {
        let value = values::render_value(template, &|name| run.lookup(name));
        let value = values::coerce_lenient(value, declared_type(child, name));
        if !value.is_null() {
            variables.insert(Arc::from(name.as_str()), Arc::new(value));
        }
    }
    run.turn.trace(TraceEvent::Jump {
        from: run.conversation.bot().to_owned(),
        to: child.id().to_owned(),
        returns: jump.return_after,
    });
    for (name, value) in &variables {
        let change = VariableChange {
            bot: Arc::from(child.id()),
            name: name.clone(),
            old: None,
            new: Some(run.redact_shared(value.clone())),
        };
        run.turn.trace(TraceEvent::Variable(change));
    }
    if jump.return_after {
        run.conversation.push_frame(id.clone());
    }
    run.conversation.enter_bot(child, variables, start.clone());
    Step::Goto(start)
}

/// Leaves the bot that ended and goes on in the bot that jumped to it: its `save` variables are
/// copied, then the jump's `next` runs. When that bot's flow changed and the jump block is gone,
/// it goes on at its start instead.
pub(crate) fn return_to_parent(run: &mut Run, project: &Project) -> Step {
    let child_bot = run.conversation.bot().to_owned();
    let Some((child_variables, frame)) = run.conversation.pop_frame() else {
        run.conversation.set_status(Status::Ended);
        return Step::Stop;
    };
    run.turn.trace(TraceEvent::Return {
        from: child_bot,
        to: frame.bot.clone(),
    });
    let Some(parent) = project.flow(&frame.bot) else {
        let error = RuntimeError::MissingBlock {
            bot: frame.bot.clone(),
            block: frame.jump_block.clone(),
        };
        return halt(run, error);
    };
    run.conversation.set_flow_hash(parent.content_hash());
    let jump = parent
        .block(frame.jump_block.as_str())
        .and_then(|block| match &block.kind {
            BlockKind::Jump(jump) => Some(jump),
            _ => None,
        });
    let Some(jump) = jump else {
        run.turn.notices.push(Notice::FlowChanged {
            bot: parent.id().to_owned(),
            missing_block: frame.jump_block,
        });
        return Step::Goto(parent.start().clone());
    };
    for (child_name, parent_name) in &jump.save {
        let value = match child_variables.get(child_name.as_str()) {
            Some(value) => Value::clone(value),
            // A built-in is shared, so the child's value is the conversation's.
            None => run.variable(child_name).unwrap_or(Value::Null),
        };
        let value = values::coerce_lenient(value, declared_type(parent, parent_name));
        run.set_variable(parent_name, value);
    }
    Step::Goto(jump.next.clone().unwrap_or_else(|| parent.start().clone()))
}

/// Stops the turn with `error`, the conversation waiting at the block.
fn halt(run: &mut Run, error: RuntimeError) -> Step {
    run.turn.error(error);
    run.conversation.set_status(Status::Waiting);
    Step::Stop
}
