//! The report: one row per measurement (scenario, database, what, value, unit, target, met?, fraction of the
//! ceiling), printed as a table and written as JSON together with the machine it was taken on and the full summaries
//! of every load run.

use std::fmt::Write as _;

use serde::Serialize;

use crate::load::Summary;

/// A target from the issue.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Target {
    AtLeast(f64),
    Below(f64),
    AtMost(f64),
    Equal(f64),
}

impl Target {
    pub fn met(self, value: f64) -> bool {
        match self {
            Self::AtLeast(t) => value >= t,
            Self::Below(t) => value < t,
            Self::AtMost(t) => value <= t,
            Self::Equal(t) => (value - t).abs() < f64::EPSILON,
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::AtLeast(t) => write!(f, "≥ {}", number(*t)),
            Self::Below(t) => write!(f, "< {}", number(*t)),
            Self::AtMost(t) => write!(f, "≤ {}", number(*t)),
            Self::Equal(t) => write!(f, "= {}", number(*t)),
        }
    }
}

/// A number as the table shows it: no decimals from 100 up, two below 10, one in between.
pub fn number(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 100.0 || value.fract() == 0.0 {
        format!("{value:.0}")
    } else if magnitude >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub scenario: String,
    /// `sqlite`, `postgres`, or none (measurements that do not depend on it).
    pub database: Option<String>,
    pub measurement: String,
    pub value: f64,
    pub unit: String,
    pub target: Option<Target>,
    pub met: Option<bool>,
    /// Registration throughput as a fraction of the ceiling's inserts/s.
    pub of_ceiling: Option<f64>,
    pub note: Option<String>,
}

impl Row {
    pub fn new(
        scenario: &str,
        database: Option<&str>,
        measurement: impl Into<String>,
        value: f64,
        unit: &str,
    ) -> Self {
        Self {
            scenario: scenario.to_owned(),
            database: database.map(str::to_owned),
            measurement: measurement.into(),
            value,
            unit: unit.to_owned(),
            target: None,
            met: None,
            of_ceiling: None,
            note: None,
        }
    }

    pub fn target(mut self, target: Target) -> Self {
        self.met = Some(target.met(self.value));
        self.target = Some(target);
        self
    }

    pub fn of_ceiling(mut self, fraction: f64) -> Self {
        self.of_ceiling = Some(fraction);
        self
    }

    /// Adds a note (after any the row has).
    pub fn note(mut self, note: impl Into<String>) -> Self {
        let note = note.into();
        self.note = Some(match self.note.take() {
            Some(before) => format!("{before}; {note}"),
            None => note,
        });
        self
    }
}

/// A load run's full summary, kept in the JSON.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    pub scenario: String,
    pub database: Option<String>,
    pub name: String,
    pub clients: usize,
    pub summary: Summary,
}

/// The machine the figures were taken on.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cpu_model: String,
    pub cpus: usize,
    pub memory_gib: f64,
    pub kernel: String,
    pub os: String,
    pub postgres: Option<String>,
}

impl Machine {
    pub fn detect() -> Self {
        let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
        let cpuinfo = read("/proc/cpuinfo");
        let cpu_model = cpuinfo
            .lines()
            .find_map(|l| {
                l.strip_prefix("model name")
                    .and_then(|r| r.split_once(':'))
                    .map(|(_, v)| v.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown".to_owned());
        let memory_kib: f64 = read("/proc/meminfo")
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|r| r.split_whitespace().next()?.parse().ok())
            .unwrap_or(0.0);
        let os = read("/etc/os-release")
            .lines()
            .find_map(|l| l.strip_prefix("PRETTY_NAME="))
            .map(|v| v.trim_matches('"').to_owned())
            .unwrap_or_else(|| std::env::consts::OS.to_owned());
        Self {
            cpu_model,
            cpus: std::thread::available_parallelism().map_or(1, usize::from),
            memory_gib: (memory_kib / 1024.0 / 1024.0 * 10.0).round() / 10.0,
            kernel: read("/proc/sys/kernel/osrelease").trim().to_owned(),
            os,
            postgres: None,
        }
    }

    pub fn describe(&self) -> String {
        format!(
            "{} × {}, {} GiB RAM, {} (Linux {}){}",
            self.cpus,
            self.cpu_model,
            self.memory_gib,
            self.os,
            self.kernel,
            self.postgres
                .as_ref()
                .map(|v| format!(", {v}"))
                .unwrap_or_default()
        )
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub machine: Machine,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub mode: String,
    pub rows: Vec<Row>,
    pub runs: Vec<Run>,
    pub notes: Vec<String>,
}

impl Report {
    pub fn new(machine: Machine, mode: &str) -> Self {
        Self {
            machine,
            started_at: chrono::Utc::now().to_rfc3339(),
            finished_at: None,
            mode: mode.to_owned(),
            rows: Vec::new(),
            runs: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub fn push(&mut self, row: Row) {
        self.rows.push(row);
    }

    pub fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }

    /// The targets that were checked: (met, missed).
    pub fn tally(&self) -> (usize, usize) {
        let met = self.rows.iter().filter(|r| r.met == Some(true)).count();
        let missed = self.rows.iter().filter(|r| r.met == Some(false)).count();
        (met, missed)
    }

    /// The table for people.
    pub fn table(&self) -> String {
        let header = [
            "scenario",
            "db",
            "measurement",
            "value",
            "unit",
            "target",
            "met",
            "of ceiling",
        ];
        let mut cells: Vec<[String; 8]> = vec![header.map(str::to_owned)];
        for row in &self.rows {
            cells.push([
                row.scenario.clone(),
                row.database.clone().unwrap_or_else(|| "-".to_owned()),
                row.measurement.clone(),
                number(row.value),
                row.unit.clone(),
                row.target.map(|t| t.to_string()).unwrap_or_default(),
                match row.met {
                    Some(true) => "yes".to_owned(),
                    Some(false) => "NO".to_owned(),
                    None => String::new(),
                },
                row.of_ceiling
                    .map(|f| format!("{:.0}%", f * 100.0))
                    .unwrap_or_default(),
            ]);
        }
        let mut widths = [0usize; 8];
        for line in &cells {
            for (w, cell) in widths.iter_mut().zip(line) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let numeric = [false, false, false, true, false, false, false, true];
        let mut out = String::new();
        for (n, line) in cells.iter().enumerate() {
            let mut text = String::new();
            for (i, cell) in line.iter().enumerate() {
                let pad = widths[i] - cell.chars().count();
                if i > 0 {
                    text.push_str("  ");
                }
                if numeric[i] && n > 0 {
                    text.push_str(&" ".repeat(pad));
                    text.push_str(cell);
                } else {
                    text.push_str(cell);
                    text.push_str(&" ".repeat(pad));
                }
            }
            let _ = writeln!(out, "{}", text.trim_end());
            if n == 0 {
                let total = widths.iter().sum::<usize>() + 2 * (widths.len() - 1);
                let _ = writeln!(out, "{}", "-".repeat(total));
            }
        }
        let notes: Vec<&Row> = self.rows.iter().filter(|r| r.note.is_some()).collect();
        if !notes.is_empty() {
            let _ = writeln!(out);
            for row in notes {
                let _ = writeln!(
                    out,
                    "  {} / {} / {}: {}",
                    row.scenario,
                    row.database.as_deref().unwrap_or("-"),
                    row.measurement,
                    row.note.as_deref().unwrap_or_default()
                );
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_decide_met_and_print_like_the_issue() {
        let row = Row::new("registration", Some("sqlite"), "throughput", 1850.0, "/s")
            .target(Target::AtLeast(2000.0));
        assert_eq!(row.met, Some(false));
        assert!(Target::Below(50.0).met(49.9));
        assert!(!Target::Below(50.0).met(50.0));
        assert!(Target::AtMost(20.0).met(20.0));
        assert_eq!(Target::AtLeast(2000.0).to_string(), "≥ 2000");
        assert_eq!(Target::Below(4.5).to_string(), "< 4.50");
    }

    #[test]
    fn the_table_lines_up_and_shows_the_fraction_of_the_ceiling() {
        let mut report = Report::new(Machine::detect(), "full");
        report.push(
            Row::new(
                "registration",
                Some("sqlite"),
                "registrations/s",
                1234.6,
                "/s",
            )
            .target(Target::AtLeast(2000.0))
            .of_ceiling(0.4567),
        );
        report.push(Row::new("feeds", None, "bytes", 12.0, "KiB").note("500 items"));
        let table = report.table();
        let lines: Vec<&str> = table.lines().collect();
        assert!(lines[0].starts_with("scenario"));
        assert!(lines[2].contains("1235") && lines[2].contains("NO") && lines[2].ends_with("46%"));
        assert!(table.contains("feeds / - / bytes: 500 items"));
        assert_eq!(report.tally(), (0, 1));
    }

    #[test]
    fn the_machine_is_described() {
        let machine = Machine::detect();
        assert!(machine.cpus >= 1);
        assert!(machine.describe().contains("RAM"));
    }
}
