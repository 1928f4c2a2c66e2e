//! What the runtime logs: spans per turn and per webhook with the ids, user text only at debug
//! level, and secrets masked everywhere.

use std::cell::RefCell;
use std::io::Write;
use std::sync::{Arc, Mutex, Once};

use flow_http::Secrets;
use serde_json::json;
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::fmt::MakeWriter;

use super::support::{flow, Chat, LEAD_CAPTURE};
use crate::{Executor, Scripted, ScriptedRunner};

thread_local! {
    /// Where this thread's log lines go, and down to which level; `None`: nowhere.
    static SINK: RefCell<Option<(Captured, Level)>> = const { RefCell::new(None) };
}

/// Log lines written into memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Writes into the current thread's sink.
struct ThreadSink;

impl<'a> MakeWriter<'a> for ThreadSink {
    type Writer = Captured;

    fn make_writer(&'a self) -> Captured {
        SINK.with(|sink| sink.borrow().as_ref().map(|(captured, _)| captured.clone()))
            .unwrap_or_default()
    }
}

/// A subscriber that logs only on threads with a sink, down to the sink's level.
///
/// It is installed once for the whole test binary: subscribers set per thread race with the
/// callsite interest cache when other tests run alongside, and lose spans.
struct Gate<S>(S);

impl<S: Subscriber> Subscriber for Gate<S> {
    fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
        Interest::sometimes()
    }

    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        let level = SINK.with(|sink| sink.borrow().as_ref().map(|(_, level)| *level));
        level.is_some_and(|level| *metadata.level() <= level) && self.0.enabled(metadata)
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        self.0.new_span(span)
    }

    fn record(&self, span: &Id, values: &Record<'_>) {
        self.0.record(span, values);
    }

    fn record_follows_from(&self, span: &Id, follows: &Id) {
        self.0.record_follows_from(span, follows);
    }

    fn event(&self, event: &Event<'_>) {
        self.0.event(event);
    }

    fn enter(&self, span: &Id) {
        self.0.enter(span);
    }

    fn exit(&self, span: &Id) {
        self.0.exit(span);
    }

    fn clone_span(&self, id: &Id) -> Id {
        self.0.clone_span(id)
    }

    fn try_close(&self, id: Id) -> bool {
        self.0.try_close(id)
    }

    fn current_span(&self) -> tracing_core::span::Current {
        self.0.current_span()
    }
}

fn install() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(Level::TRACE)
            .with_ansi(false)
            .with_writer(ThreadSink)
            .finish();
        tracing::subscriber::set_global_default(Gate(subscriber)).expect("no other subscriber");
    });
}

/// Runs a lead conversation whose user and CRM both repeat the secret, logging at `level`.
async fn logs_at(level: Level) -> String {
    install();
    let captured = Captured::default();
    SINK.with(|sink| *sink.borrow_mut() = Some((captured.clone(), level)));
    let mut secrets = Secrets::new();
    secrets.insert("CRM_TOKEN", "s3cr3t");
    let echo = Scripted::json(500, json!({"error": "bad token s3cr3t"}));
    let runner = ScriptedRunner::new().with("send_lead", echo);
    let executor = Executor::single(flow(LEAD_CAPTURE), runner).with_secrets(Arc::new(secrets));
    let (mut chat, _) = Chat::start(&executor, "lead_capture").await;
    chat.say("Ada s3cr3t").await;
    chat.say("ada@example.com").await;
    chat.say("Pricing").await;
    SINK.with(|sink| *sink.borrow_mut() = None);
    assert_eq!(
        chat.var("crm failure")["body"],
        json!({"error": "bad token ***"})
    );
    captured.text()
}

#[tokio::test]
async fn user_text_is_logged_only_at_debug_level_and_secrets_never() {
    let info = logs_at(Level::INFO).await;
    assert!(
        info.contains("turn{flow_id=lead_capture session_id=test turn=4 entry=\"message\"}"),
        "{info}"
    );
    assert!(
        info.contains("webhook{flow_id=lead_capture session_id=test block_id=send_lead"),
        "{info}"
    );
    assert!(
        !info.contains("Ada"),
        "user text above debug level:\n{info}"
    );
    let debug = logs_at(Level::DEBUG).await;
    assert!(debug.contains("Ada ***"), "{debug}");
    assert!(!debug.contains("s3cr3t"), "a secret in the logs:\n{debug}");
}
