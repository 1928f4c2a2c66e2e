//! Tests of the readings from `/proc`.

use std::time::Duration;

use super::{cpu_time_in, kib_in};

#[test]
fn cpu_time_adds_user_and_system_ticks_after_the_command_name() {
    // Field 14 (user) is 250 ticks and field 15 (system) 30; the name holds a space and a ')'.
    let stat = "4242 (flow bench) (x)) S 1 2 3 0 -1 4194304 100 0 0 0 250 30 0 0 20 0 3 0";
    assert_eq!(cpu_time_in(stat), Some(Duration::from_millis(2_800)));
    assert_eq!(cpu_time_in("no fields"), None);
}

#[test]
fn status_figures_are_read_in_kib() {
    let status = "Name:\tflow-bench\nVmHWM:\t   14336 kB\nVmRSS:\t   12000 kB\n";
    assert_eq!(kib_in(status, "VmHWM:"), Some(14_336));
    assert_eq!(kib_in(status, "VmSwap:"), None);
}
