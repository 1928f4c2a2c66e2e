//! The flow model of flowbot: a bot's YAML file loaded, checked and compiled into a checked flow.

pub mod path;
pub mod template;
