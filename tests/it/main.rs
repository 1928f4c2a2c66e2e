//! The one integration test binary: whole-program tests of the `flowbot` command and the crates together.

// `flowbot validate`, `graph` and `schema`, run as a user runs them.
mod cli;
// `flowbot extract`: save paths tried on JSON payloads, and the paths it suggests.
mod extract;
// The docs show what the commands print today.
mod docs;
// The loader never panics, whatever the file holds.
mod loader_never_panics;
