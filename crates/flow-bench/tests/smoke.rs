//! The bench command works end to end: a tiny run, with its own server process, prints the JSON
//! line with every key the performance page reads.

use std::process::Command;

use serde_json::Value;

/// The keys a report must have, with a number in each.
const NUMBERS: [&str; 12] = [
    "conversations_per_s",
    "baseline_requests_per_s",
    "ratio",
    "turn_p50_us",
    "turn_p99_us",
    "peak_rss_mb",
    "turns_per_s",
    "conversation_cpu_us",
    "request_cpu_us",
    "scripted_conversations_per_s_per_core",
    "idle_conversation_bytes",
    "idle_conversation_rss_bytes",
];

#[test]
fn a_tiny_run_with_its_own_server_prints_the_json_line() {
    let output = Command::new(env!("CARGO_BIN_EXE_flow-bench"))
        .args(["--conversations", "50", "--concurrency", "5"])
        .args([
            "--scripted-conversations",
            "200",
            "--idle-conversations",
            "200",
        ])
        .args(["--time-limit", "60"])
        .output()
        .expect("the bench runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the bench failed\n{stdout}\n{stderr}"
    );

    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one JSON line on stdout:\n{stdout}");
    let report: Value = serde_json::from_str(lines[0]).expect("the line is JSON");
    for key in NUMBERS {
        assert!(
            report[key].is_number(),
            "`{key}` is not a number in {report}"
        );
    }
    // CPU times come in ticks of 10 ms, too coarse for a run this small to be above zero.
    for key in [
        "conversations_per_s",
        "baseline_requests_per_s",
        "ratio",
        "peak_rss_mb",
    ] {
        let value = report[key].as_f64().unwrap_or_default();
        assert!(value > 0.0, "`{key}` is not above zero in {report}");
    }
    assert_eq!(report["conversations"], 50);
    assert_eq!(report["errors"], 0);
    assert_eq!(report["complete"], true);
    assert_eq!(report["target"], "local");
    assert!(
        stderr.contains("ratio (conversations / plain GETs)"),
        "the table is on stderr:\n{stderr}"
    );
}

#[test]
fn a_target_that_does_not_answer_fails_with_a_message() {
    // A port that was free a moment ago: nothing listens there, so connecting is refused.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let target = format!("http://{}/products", listener.local_addr().unwrap());
    drop(listener);
    let output = Command::new(env!("CARGO_BIN_EXE_flow-bench"))
        .args(["--conversations", "5", "--concurrency", "1"])
        .args(["--target", &target])
        .output()
        .expect("the bench runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("error: the warm-up plain requests failed"),
        "{stderr}"
    );
}
