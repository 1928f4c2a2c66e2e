//! `question`: ask, then judge each answer until one is valid or the attempts run out.

use std::borrow::Cow;

use flow_core::flow::{BlockId, Flow, Question};

use crate::answers;
use crate::conversation::{declared_type, Status, TimerKind};
use crate::executor::Run;
use crate::turn::TraceEvent;
use crate::values;

use super::Step;

/// Sends the question with its options and waits for the answer.
pub(crate) fn ask(run: &mut Run, id: &BlockId, question: &Question) -> Step {
    let lookup = |name: &str| run.lookup(name);
    let text = question.text.render_text(&lookup);
    let options = answers::offered_options(question, &lookup)
        .into_iter()
        .map(Cow::into_owned)
        .collect();
    run.turn.say(id, text, options);
    run.conversation.set_invalid_answers(0);
    wait_for_answer(run, question);
    Step::Stop
}

/// Judges `text` as the answer to `question`: stores it and goes on, or sends the retry text
/// and waits again, or goes to `on_invalid` once the attempts are used up.
pub(crate) fn answer(
    run: &mut Run,
    flow: &Flow,
    id: &BlockId,
    question: &Question,
    text: &str,
) -> Step {
    // The options borrow the stored list: only the conversation is borrowed, not the turn.
    let conversation = &*run.conversation;
    let options = answers::offered_options(question, &|name| conversation.lookup(name));
    let judged = answers::judge(question, &options, text);
    run.turn.trace(TraceEvent::Answer {
        block: id.clone(),
        valid: judged.is_some(),
    });
    if let Some(value) = judged {
        run.conversation.set_invalid_answers(0);
        if let Some(name) = &question.save_to {
            let value = values::coerce_lenient(value, declared_type(flow, name));
            run.set_variable(name, value);
        }
        return Step::Goto(question.next.clone());
    }
    let options: Vec<String> = options.into_iter().map(Cow::into_owned).collect();
    let invalid = run.conversation.invalid_answers().saturating_add(1);
    if let (Some(attempts), Some(on_invalid)) = (question.attempts, &question.on_invalid) {
        if invalid >= attempts {
            run.conversation.set_invalid_answers(0);
            return Step::Goto(on_invalid.clone());
        }
    }
    run.conversation.set_invalid_answers(invalid);
    let retry = match &question.retry {
        Some(retry) => retry.render_text(&|name| run.lookup(name)),
        None => answers::default_retry(question, &options),
    };
    run.turn.say(id, retry, options);
    wait_for_answer(run, question);
    Step::Stop
}

fn wait_for_answer(run: &mut Run, question: &Question) {
    if let Some(timeout) = question.timeout {
        run.conversation
            .arm_timer(TimerKind::QuestionTimeout, timeout);
    }
    run.conversation.set_status(Status::Waiting);
}
