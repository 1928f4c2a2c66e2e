//! The flow model of flowbot: a bot's YAML file loaded, checked and compiled into a [`Flow`].
//!
//! ```
//! let loaded = flow_core::load("bot: hello\nblocks:\n  hi:\n    end: Hello!\n");
//! assert!(loaded.diagnostics.is_empty());
//! let flow = loaded.flow.unwrap();
//! assert_eq!(flow.start().as_str(), "hi");
//! ```

mod compile;
pub mod diagnostic;
pub mod duration;
pub mod flow;
pub mod graph;
pub mod path;
pub mod project;
pub mod schema;
pub mod suggest;
pub mod template;
mod validate;
pub mod yaml;

pub use compile::{load, Loaded, BLOCK_KINDS};
pub use diagnostic::{Diagnostic, FlowErrors, Severity};
pub use flow::{Block, BlockId, BlockKind, Flow};
pub use project::{link, LoadedFile, Project};
