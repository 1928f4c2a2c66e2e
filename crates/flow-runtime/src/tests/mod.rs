//! Whole-conversation tests of the runtime, with webhooks answered over real HTTP on 127.0.0.1.

mod behaviours;
mod load;
mod logs;
mod sequential;
pub(crate) mod server;
pub(crate) mod support;
