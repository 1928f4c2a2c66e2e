//! flow-http.
