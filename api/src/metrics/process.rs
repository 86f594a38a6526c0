//! Process metrics read from `/proc/self` (and the cgroup's memory limit) at scrape time, written in
//! the text format with the standard Prometheus client names. They are not recorded through the
//! `metrics` facade because CPU seconds are fractional and its counters are integers. On systems
//! without `/proc` nothing is written.

use std::fmt::Write as _;

use super::names::{
    MEMORY_LIMIT, PROCESS_CPU_SECONDS, PROCESS_MAX_FDS, PROCESS_OPEN_FDS, PROCESS_RESIDENT_MEMORY,
    PROCESS_START_TIME, PROCESS_VIRTUAL_MEMORY,
};

/// Linux reports times in `/proc/<pid>/stat` in USER_HZ ticks, which is 100 on every architecture
/// Linux supports (it is part of the user-space ABI, independent of the kernel's HZ).
const TICKS_PER_SECOND: f64 = 100.0;

/// What `/proc/self` says about this process.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ProcessStats {
    pub cpu_seconds: Option<f64>,
    pub resident_bytes: Option<f64>,
    pub virtual_bytes: Option<f64>,
    pub open_fds: Option<f64>,
    pub max_fds: Option<f64>,
    pub start_time_seconds: Option<f64>,
    pub memory_limit_bytes: Option<f64>,
}

impl ProcessStats {
    pub(crate) fn read() -> Self {
        let stat = std::fs::read_to_string("/proc/self/stat").ok();
        let fields = stat.as_deref().and_then(stat_fields);
        let field = |i: usize| -> Option<f64> { fields.as_ref()?.get(i)?.parse::<f64>().ok() };
        // Fields after the command name, counted from `state` (field 3 in proc(5)) as index 0.
        let cpu_seconds = match (field(11), field(12)) {
            (Some(utime), Some(stime)) => Some((utime + stime) / TICKS_PER_SECOND),
            _ => None,
        };
        let start_time_seconds = match (field(19), boot_time()) {
            (Some(start_ticks), Some(boot)) => Some(boot + start_ticks / TICKS_PER_SECOND),
            _ => None,
        };
        ProcessStats {
            cpu_seconds,
            virtual_bytes: field(20),
            resident_bytes: resident_bytes(),
            open_fds: std::fs::read_dir("/proc/self/fd")
                .ok()
                .map(|dir| dir.count() as f64),
            max_fds: max_open_files(),
            start_time_seconds,
            memory_limit_bytes: memory_limit(),
        }
    }
}

/// The fields of `/proc/self/stat` after the parenthesised command name (which may hold spaces).
fn stat_fields(stat: &str) -> Option<Vec<String>> {
    let after = &stat[stat.rfind(')')? + 1..];
    Some(after.split_whitespace().map(str::to_owned).collect())
}

/// `VmRSS` of `/proc/self/status` (in kB there), which unlike `stat`'s page count needs no page size.
fn resident_bytes() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    kib_field(&text, "VmRSS:")
}

/// A `Name:   1234 kB` line's value, in bytes.
fn kib_field(text: &str, name: &str) -> Option<f64> {
    let kib: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix(name))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024.0)
}

fn boot_time() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    text.lines()
        .find_map(|line| line.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
}

fn max_open_files() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    // "Max open files            1024                 1048576              files"
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The cgroup v2 `memory.max` when it is a number, else the machine's `MemTotal`.
fn memory_limit() -> Option<f64> {
    let cgroup = std::fs::read_to_string("/sys/fs/cgroup/memory.max")
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok());
    cgroup.or_else(|| {
        let text = std::fs::read_to_string("/proc/meminfo").ok()?;
        kib_field(&text, "MemTotal:")
    })
}

/// Appends the process metrics to an exposition.
pub(crate) fn render(out: &mut String) {
    let stats = ProcessStats::read();
    let metrics = [
        (
            PROCESS_CPU_SECONDS,
            "counter",
            "Total user and system CPU time spent in seconds.",
            stats.cpu_seconds,
        ),
        (
            PROCESS_RESIDENT_MEMORY,
            "gauge",
            "Resident memory size in bytes.",
            stats.resident_bytes,
        ),
        (
            PROCESS_VIRTUAL_MEMORY,
            "gauge",
            "Virtual memory size in bytes.",
            stats.virtual_bytes,
        ),
        (
            PROCESS_OPEN_FDS,
            "gauge",
            "Number of open file descriptors.",
            stats.open_fds,
        ),
        (
            PROCESS_MAX_FDS,
            "gauge",
            "Maximum number of open file descriptors.",
            stats.max_fds,
        ),
        (
            PROCESS_START_TIME,
            "gauge",
            "Start time of the process since unix epoch in seconds.",
            stats.start_time_seconds,
        ),
        (
            MEMORY_LIMIT,
            "gauge",
            "Memory this process may use: its cgroup limit, else the machine's memory, in bytes.",
            stats.memory_limit_bytes,
        ),
    ];
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    for (name, kind, help, value) in metrics {
        if let Some(value) = value {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            let _ = writeln!(out, "{name} {value}");
            out.push('\n');
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_skip_a_command_name_with_spaces_and_parentheses() {
        let stat = "42 (cms (x) y) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 8 0 1234 \
                    100000 500 18446744073709551615";
        let fields = stat_fields(stat).unwrap();
        assert_eq!(fields[0], "S");
        assert_eq!(fields[11], "250");
        assert_eq!(fields[12], "50");
        assert_eq!(fields[21], "500");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_reports_memory_cpu_and_descriptors() {
        let stats = ProcessStats::read();
        assert!(stats.resident_bytes.unwrap() > 1_000_000.0, "{stats:?}");
        assert!(stats.cpu_seconds.unwrap() >= 0.0);
        assert!(stats.open_fds.unwrap() >= 3.0);
        assert!(stats.max_fds.unwrap() >= stats.open_fds.unwrap());
        assert!(stats.memory_limit_bytes.unwrap() > stats.resident_bytes.unwrap());
        assert!(stats.start_time_seconds.unwrap() > 1.5e9);
    }
}
