//! Whole-conversation tests of flowbot bots: the test file format and its matchers.

pub mod matcher;
pub mod spec;
