//! Where the CPU went during a measurement: each process's user + system time from `/proc/<pid>/stat`, and the
//! machine's busy time from `/proc/stat`, both in clock ticks; over a wall-clock interval they give "cores used"
//! (1.0 = one core busy the whole time). The rest of the machine's busy time is everyone else — PostgreSQL's
//! backends, and whatever else runs (a CI job).

use std::collections::BTreeMap;
use std::time::Instant;

use serde::Serialize;

/// Clock ticks per second of `/proc` times (`getconf CLK_TCK`; 100 on Linux unless configured otherwise).
pub fn ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|t| *t > 0.0)
        .unwrap_or(100.0)
}

/// User + system ticks of a process, from the text of `/proc/<pid>/stat`.
pub fn parse_process_ticks(stat: &str) -> Option<u64> {
    // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
    let after = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 overall (utime, stime) are the 12th and 13th after the name.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// (busy, total) ticks of all CPUs together, from the `cpu` line of `/proc/stat`.
pub fn parse_machine_ticks(stat: &str) -> Option<(u64, u64)> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let values: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .take(8) // user nice system idle iowait irq softirq steal (guest time is already in user)
        .map(|v| v.parse().ok())
        .collect::<Option<_>>()?;
    let total: u64 = values.iter().sum();
    let idle = values.get(3)? + values.get(4)?;
    Some((total - idle, total))
}

pub fn process_ticks(pid: u32) -> Option<u64> {
    parse_process_ticks(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

fn machine_ticks() -> Option<(u64, u64)> {
    parse_machine_ticks(&std::fs::read_to_string("/proc/stat").ok()?)
}

/// Ticks at one moment: of the named processes, and of the machine.
#[derive(Debug, Clone)]
pub struct Snapshot {
    at: Instant,
    processes: BTreeMap<String, u64>,
    machine_busy: u64,
}

impl Snapshot {
    /// `processes`: name → pid.
    pub fn take(processes: &BTreeMap<String, u32>) -> Self {
        Self {
            at: Instant::now(),
            processes: processes
                .iter()
                .filter_map(|(name, pid)| Some((name.clone(), process_ticks(*pid)?)))
                .collect(),
            machine_busy: machine_ticks().map_or(0, |(busy, _)| busy),
        }
    }
}

/// Cores used by each process between two snapshots, and by the rest of the machine.
#[derive(Debug, Clone, Serialize)]
pub struct Usage {
    pub seconds: f64,
    pub cores: BTreeMap<String, f64>,
    /// Busy time of everything else (PostgreSQL's backends, other jobs).
    pub rest_cores: f64,
    pub machine_cores: f64,
}

pub fn usage(before: &Snapshot, after: &Snapshot) -> Usage {
    let seconds = after.at.duration_since(before.at).as_secs_f64().max(1e-9);
    let per_second = ticks_per_second();
    let cores_of = |ticks: u64| ticks as f64 / per_second / seconds;
    let cores: BTreeMap<String, f64> = after
        .processes
        .iter()
        .filter_map(|(name, t)| {
            let start = before.processes.get(name)?;
            Some((name.clone(), cores_of(t.saturating_sub(*start))))
        })
        .collect();
    let machine_cores = cores_of(after.machine_busy.saturating_sub(before.machine_busy));
    let ours: f64 = cores.values().sum();
    Usage {
        seconds,
        rest_cores: (machine_cores - ours).max(0.0),
        machine_cores,
        cores,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_and_machine_ticks_are_read() {
        let stat = "1234 (cloverleaf-re gistration) S 1 1234 1234 0 -1 4194560 500 0 0 0 250 40 0 0 20 0 \
                    12 0 100 200000000 4000 18446744073709551615";
        assert_eq!(parse_process_ticks(stat), Some(290));
        let proc_stat = "cpu  100 10 50 800 40 0 5 0 0 0\ncpu0 50 5 25 400 20 0 2 0 0 0\n";
        assert_eq!(parse_machine_ticks(proc_stat), Some((165, 1005)));
    }

    #[test]
    fn this_process_has_ticks() {
        assert!(process_ticks(std::process::id()).is_some());
        assert!(machine_ticks().is_some_and(|(busy, total)| busy <= total));
    }
}
