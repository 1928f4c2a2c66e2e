//! What each kind of block does when the executor reaches it.
//!
//! Each function works on a [`Run`] and says where the turn goes: on to a block, or stop (the
//! bot waits, ends, or hands off). The simple kinds live here; the others have their own module.

use flow_core::flow::{BlockId, Choice, End, EventBlock, Flow, Handoff, Message, Sleep, Wait};
use flow_core::Project;
use serde_json::Value;

use crate::conditions;
use crate::conversation::{declared_type, Status, TimerKind};
use crate::executor::Run;
use crate::turn::{Event, Output, TraceEvent};
use crate::values;

pub(crate) mod jump;
pub(crate) mod question;
pub(crate) mod set;
pub(crate) mod webhook;

/// Where the turn goes after a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// On to this block.
    Goto(BlockId),
    /// The turn is over: the status says why.
    Stop,
}

pub(crate) fn message(run: &mut Run, id: &BlockId, message: &Message) -> Step {
    let text = message.text.render_text(&|name| run.lookup(name));
    run.turn.say(id, text, Vec::new());
    Step::Goto(message.next.clone())
}

pub(crate) fn wait(run: &mut Run, wait: &Wait) -> Step {
    if let Some(timeout) = wait.timeout {
        run.conversation.arm_timer(TimerKind::WaitTimeout, timeout);
    }
    run.conversation.set_status(Status::Waiting);
    Step::Stop
}

/// The user wrote while the bot waited at `wait`.
pub(crate) fn wait_answer(
    run: &mut Run,
    flow: &Flow,
    id: &BlockId,
    wait: &Wait,
    text: &str,
) -> Step {
    run.turn.trace(TraceEvent::Answer {
        block: id.clone(),
        valid: true,
    });
    if let Some(name) = &wait.save_to {
        let value = values::coerce_lenient(
            Value::String(text.trim().to_owned()),
            declared_type(flow, name),
        );
        run.set_variable(name, value);
    }
    Step::Goto(wait.next.clone())
}

pub(crate) fn choice(run: &mut Run, id: &BlockId, choice: &Choice) -> Step {
    let lookup = |name: &str| run.lookup(name);
    let taken = choice
        .branches
        .iter()
        .position(|branch| conditions::holds(&branch.condition, &lookup));
    let next = match taken {
        Some(index) => choice.branches[index].next.clone(),
        None => choice.otherwise.clone(),
    };
    run.turn.trace(TraceEvent::Branch {
        block: id.clone(),
        branch: taken,
        next: next.clone(),
    });
    Step::Goto(next)
}

pub(crate) fn sleep(run: &mut Run, sleep: &Sleep) -> Step {
    run.conversation.arm_timer(TimerKind::Sleep, sleep.duration);
    run.conversation.set_status(Status::Sleeping);
    Step::Stop
}

pub(crate) fn event(run: &mut Run, id: &BlockId, event: &EventBlock) -> Step {
    let lookup = |name: &str| run.lookup(name);
    let name = event.name.render_text(&lookup);
    let data = event
        .data
        .as_ref()
        .map_or(Value::Null, |data| values::render_value(data, &lookup));
    tracing::debug!(block_id = %id, event = %name, "event");
    run.turn.outputs.push(Output::Event(Event {
        block: id.clone(),
        name,
        data,
    }));
    Step::Goto(event.next.clone())
}

pub(crate) fn handoff(run: &mut Run, id: &BlockId, handoff: &Handoff) -> Step {
    if let Some(message) = &handoff.message {
        let text = message.render_text(&|name| run.lookup(name));
        run.turn.say(id, text, Vec::new());
    }
    run.turn.outputs.push(Output::Handoff(crate::turn::Handoff {
        block: id.clone(),
        team: handoff.team.clone(),
    }));
    run.conversation.set_status(Status::HandedOff);
    Step::Stop
}

/// Sends the end's message, then returns to the bot that jumped here, or ends the conversation
/// (resetting its variables for a restart).
pub(crate) fn end(run: &mut Run, project: &Project, flow: &Flow, id: &BlockId, end: &End) -> Step {
    if let Some(message) = &end.message {
        let text = message.render_text(&|name| run.lookup(name));
        run.turn.say(id, text, Vec::new());
    }
    if !run.conversation.stack().is_empty() {
        if end.restart {
            run.turn
                .trace(TraceEvent::RestartIgnored { block: id.clone() });
        }
        return jump::return_to_parent(run, project);
    }
    if end.restart {
        run.conversation.reset(flow);
        run.conversation.set_cursor(flow.start().clone());
        run.conversation.set_restart_pending(true);
    }
    run.conversation.set_status(Status::Ended);
    Step::Stop
}
