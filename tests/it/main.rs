//! The one integration test binary: whole-program tests of the `flowbot` command and the crates together.

// `flowbot validate`, `graph` and `schema`, run as a user runs them.
mod cli;
// The conversation suite under tests/conversations/, and `flowbot test` run on it.
mod conversations;
// The docs show what the commands print today.
mod docs;
// The loader never panics, whatever the file holds.
mod loader_never_panics;
