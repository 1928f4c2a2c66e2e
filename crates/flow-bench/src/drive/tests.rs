//! Tests of the figures a run of jobs gives: percentiles and rates.

use std::time::Duration;

use super::{percentile_us, rate, Measured};

fn micros(values: &[u64]) -> Vec<Duration> {
    values.iter().copied().map(Duration::from_micros).collect()
}

#[test]
fn percentiles_are_by_nearest_rank() {
    let mut latencies = micros(&[5, 1, 4, 2, 3, 10, 9, 8, 7, 6]);
    assert_eq!(percentile_us(&mut latencies, 0.50), 5);
    assert_eq!(percentile_us(&mut latencies, 0.99), 10);
    assert_eq!(percentile_us(&mut latencies, 0.0), 1);
    assert_eq!(percentile_us(&mut [], 0.5), 0);
}

#[test]
fn rates_and_merges_add_up() {
    let mut total = Measured {
        done: 10,
        elapsed: Duration::from_secs(1),
        ..Measured::default()
    };
    total.merge(Measured {
        done: 30,
        errors: 1,
        first_error: Some("late".to_owned()),
        elapsed: Duration::from_secs(1),
        cpu: Duration::from_millis(40),
        ..Measured::default()
    });
    assert_eq!(total.per_second(), 20.0);
    assert_eq!(total.cpu_us_per_job(), 1_000.0);
    assert_eq!(total.first_error.as_deref(), Some("late"));
    assert_eq!(rate(5, Duration::ZERO), 0.0);
}
