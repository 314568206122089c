//! A process's memory, from `/proc/<pid>/status` (Linux): `VmRSS` (resident now) and `VmHWM` (the peak resident
//! size since it started).

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Memory {
    pub rss_kib: u64,
    pub peak_kib: u64,
}

impl Memory {
    pub fn rss_mib(&self) -> f64 {
        self.rss_kib as f64 / 1024.0
    }

    pub fn peak_mib(&self) -> f64 {
        self.peak_kib as f64 / 1024.0
    }
}

/// The memory of process `pid`.
pub fn of_process(pid: u32) -> std::io::Result<Memory> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    parse_status(&status).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("/proc/{pid}/status has no VmRSS/VmHWM"),
        )
    })
}

/// The memory of this process.
pub fn of_self() -> std::io::Result<Memory> {
    of_process(std::process::id())
}

/// Reads `VmRSS:  1234 kB` and `VmHWM:  5678 kB` out of a `/proc/<pid>/status` text.
pub fn parse_status(status: &str) -> Option<Memory> {
    let field = |name: &str| {
        status.lines().find_map(|line| {
            let rest = line.strip_prefix(name)?.strip_prefix(':')?;
            let mut parts = rest.split_whitespace();
            let value: u64 = parts.next()?.parse().ok()?;
            match parts.next() {
                Some("kB") | None => Some(value),
                Some(_) => None,
            }
        })
    };
    Some(Memory {
        rss_kib: field("VmRSS")?,
        peak_kib: field("VmHWM")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_fields_are_read() {
        let status = "Name:\tcloverleaf-reg\nVmPeak:\t  900000 kB\nVmHWM:\t   23456 kB\nVmRSS:\t   12345 kB\n";
        assert_eq!(
            parse_status(status),
            Some(Memory {
                rss_kib: 12345,
                peak_kib: 23456
            })
        );
        assert_eq!(parse_status("Name:\tkthreadd\n"), None);
    }
}
