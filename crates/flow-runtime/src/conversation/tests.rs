//! Tests of the conversation model: defaults, built-ins, frames, serialization.

use std::sync::Arc;

use flow_core::flow::{BlockId, LAST_USER_ANSWER};
use serde_json::{json, Value};

use super::{Conversation, ConversationId, TimerKind};
use crate::tests::support::flow;

/// A value as the conversation stores it.
fn shared(value: Value) -> Option<Arc<Value>> {
    Some(Arc::new(value))
}

fn conversation() -> Conversation {
    let source = "bot: vars\nvariables:\n  count: {type: number, default: \"3\"}\n  name: text\n  tags: {type: list, default: [a]}\nblocks:\n  hi:\n    end: hi\n";
    Conversation::new(
        ConversationId::new("c-1"),
        &flow(source),
        BlockId::new("hi"),
    )
}

#[test]
fn a_new_conversation_has_the_declared_defaults_in_their_types() {
    let conversation = conversation();
    assert_eq!(conversation.variable("count"), Some(json!(3)));
    assert_eq!(conversation.variable("tags"), Some(json!(["a"])));
    assert_eq!(conversation.variable("name"), None);
    assert_eq!(conversation.variable("conversation id"), Some(json!("c-1")));
    assert_eq!(conversation.variable("bot"), Some(json!("vars")));
}

#[test]
fn built_ins_are_shared_across_bots_and_the_ids_are_read_only() {
    let mut conversation = conversation();
    conversation.preset("bot", json!("other"));
    conversation.preset("conversation id", json!("other"));
    assert_eq!(conversation.variable("bot"), Some(json!("vars")));
    assert_eq!(conversation.variable("conversation id"), Some(json!("c-1")));

    conversation.preset(LAST_USER_ANSWER, json!("hello"));
    conversation.preset("name", json!("Ada"));
    conversation.push_frame(BlockId::new("hi"));
    assert_eq!(
        conversation.variable(LAST_USER_ANSWER),
        Some(json!("hello"))
    );
    assert_eq!(
        conversation.variable("name"),
        None,
        "the parent's variables are on the stack"
    );
    let (child, frame) = conversation.pop_frame().unwrap();
    assert!(child.is_empty());
    assert_eq!(frame.bot, "vars");
    assert_eq!(conversation.variable("name"), Some(json!("Ada")));
}

#[test]
fn storing_null_unsets_a_variable() {
    let mut conversation = conversation();
    assert_eq!(conversation.store("count", None).1, shared(json!(3)));
    assert_eq!(conversation.variable("count"), None);
    assert!(!conversation.variables().contains_key("count"));
}

#[test]
fn a_conversation_round_trips_through_json() {
    let mut conversation = conversation();
    conversation.preset(LAST_USER_ANSWER, json!("hi"));
    conversation.arm_timer(TimerKind::Sleep, std::time::Duration::from_secs(2));
    conversation.push_frame(BlockId::new("hi"));
    let text = serde_json::to_string(&conversation).unwrap();
    let back: Conversation = serde_json::from_str(&text).unwrap();
    assert_eq!(back, conversation);
    assert_eq!(back.timer().unwrap().id, 1);
}

#[test]
fn a_copy_shares_its_values_until_a_variable_changes() {
    let mut conversation = conversation();
    conversation.store(
        "last webhook success",
        shared(json!({"products": [{"title": "iPhone 9"}]})),
    );
    let mut copy = conversation.clone();
    let body = |conversation: &Conversation| conversation.shared["last webhook success"].clone();
    assert!(Arc::ptr_eq(&body(&conversation), &body(&copy)));
    assert!(Arc::ptr_eq(&conversation.variables, &copy.variables));

    assert_eq!(copy.store("count", shared(json!(4))).1, shared(json!(3)));
    assert!(!Arc::ptr_eq(&conversation.variables, &copy.variables));
    assert_eq!(conversation.variable("count"), Some(json!(3)));
    assert_eq!(copy.variable("count"), Some(json!(4)));
    assert!(Arc::ptr_eq(&body(&conversation), &body(&copy)));
    let tags = |conversation: &Conversation| conversation.variables["tags"].clone();
    assert!(
        Arc::ptr_eq(&tags(&conversation), &tags(&copy)),
        "the copied map shares the values it did not change"
    );
}

#[test]
fn a_conversation_serializes_its_variables_as_plain_maps() {
    let mut conversation = conversation();
    conversation.preset(LAST_USER_ANSWER, json!("hi"));
    let value = serde_json::to_value(&conversation).unwrap();
    assert_eq!(value["bot"], json!("vars"));
    assert_eq!(value["variables"], json!({"count": 3, "tags": ["a"]}));
    assert_eq!(value["shared"], json!({"last user answer": "hi"}));
}

#[test]
fn an_id_carries_one_keyed_hash_for_its_text_and_keeps_it_through_serde() {
    use std::hash::BuildHasher;
    let state = std::hash::RandomState::new();
    let hash = |id: &ConversationId| state.hash_one(id);
    let one = ConversationId::new("user-1");
    let again: ConversationId = serde_json::from_value(json!("user-1")).unwrap();
    assert_eq!(one, again);
    assert_eq!(hash(&one), hash(&again));
    assert_eq!(serde_json::to_value(&again).unwrap(), json!("user-1"));
    assert_eq!(
        format!("{one:?} {one}"),
        r#"ConversationId("user-1") user-1"#
    );

    let other = ConversationId::new("user-2");
    assert_ne!(one, other);
    assert!(one < other);
    let mut map = super::IdMap::default();
    map.insert(one.clone(), 1);
    map.insert(other.clone(), 2);
    assert_eq!((map.get(&again), map.get(&other)), (Some(&1), Some(&2)));
}
