//! The one integration test binary: whole-program tests of the `flowbot` command and the crates together.

// The web pages in Chromium: the browser tests under tests/browser/, run by node.
mod browser;
// `flowbot chat`: the simulator through a pseudo-terminal and through a pipe.
mod chat;
// `flowbot chat --web`: the loopback-only refusal and the simulator's JSON endpoints.
mod chat_web;
// `flowbot validate`, `graph` and `schema`, run as a user runs them.
mod cli;
// `flowbot extract`: save paths tried on JSON payloads, and the paths it suggests.
mod extract;
// The conversation suite under tests/conversations/, and `flowbot test` run on it.
mod conversations;
// The docs show what the commands print today.
mod docs;
// The loader never panics, whatever the file holds.
mod loader_never_panics;
// `flowbot serve`: the real server on a SQLite file, killed, restarted, signalled.
mod serve;
// Helpers for the CLI tests: the binary, stub HTTP servers on 127.0.0.1, scratch folders.
mod support;
// `flowbot webhook`: one webhook step sent for real to a stub server, and its report.
mod webhook_probe;
