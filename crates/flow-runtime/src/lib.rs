//! flow-runtime.
