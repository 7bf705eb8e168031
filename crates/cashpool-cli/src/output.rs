//! Rendering: aligned tables for people, JSON and CSV for programs.

use std::io::{IsTerminal, Write};

use crate::args::Format;

/// The format to print in: the one asked for, else a table on a terminal and JSON otherwise.
pub fn resolve(format: Option<Format>) -> Format {
    format.unwrap_or_else(|| if std::io::stdout().is_terminal() { Format::Table } else { Format::Json })
}

/// A table of text cells; numeric columns are right-aligned.
pub struct Table {
    headers: Vec<String>,
    right: Vec<bool>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// Columns whose name is in `right_aligned` are right-aligned.
    pub fn new(headers: &[&str], right_aligned: &[&str]) -> Table {
        Table {
            headers: headers.iter().map(|header| header.to_string()).collect(),
            right: headers.iter().map(|h| right_aligned.contains(h)).collect(),
            rows: Vec::new(),
        }
    }

    pub fn push(&mut self, row: Vec<String>) {
        debug_assert_eq!(row.len(), self.headers.len());
        self.rows.push(row);
    }

    pub fn render(&self) -> String {
        let widths: Vec<usize> = (0..self.headers.len())
            .map(|col| {
                self.rows
                    .iter()
                    .map(|row| row[col].chars().count())
                    .chain(std::iter::once(self.headers[col].len()))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        let line = |cells: &[String], out: &mut String| {
            let mut text = String::new();
            for (col, cell) in cells.iter().enumerate() {
                if col > 0 {
                    text.push_str("  ");
                }
                let pad = widths[col] - cell.chars().count();
                if self.right[col] {
                    text.push_str(&" ".repeat(pad));
                    text.push_str(cell);
                } else {
                    text.push_str(cell);
                    text.push_str(&" ".repeat(pad));
                }
            }
            out.push_str(text.trim_end());
            out.push('\n');
        };
        let mut header = String::new();
        line(&self.headers, &mut header);
        out.push_str(&paint(header.trim_end(), Paint::Bold));
        out.push('\n');
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        line(&rule, &mut out);
        for row in &self.rows {
            line(row, &mut out);
        }
        out
    }
}

/// Whether standard output gets colour: only on a terminal, and never when
/// `NO_COLOR` is set to anything but the empty string (no-color.org).
pub fn colour_enabled() -> bool {
    static ENABLED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ENABLED.get_or_init(|| {
        std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
    })
}

/// The few styles the tables and summaries use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paint {
    Bold,
    /// Good news: ok, matched, 100 %.
    Good,
    /// Needs a look: exceptions, breaks, refusals.
    Warn,
    /// Wrong: a failed audit.
    Bad,
}

/// `text` in `style` when colour is enabled, else `text` unchanged.
pub fn paint(text: &str, style: Paint) -> String {
    if !colour_enabled() || text.is_empty() {
        return text.to_string();
    }
    let code = match style {
        Paint::Bold => "1",
        Paint::Good => "32",
        Paint::Warn => "33",
        Paint::Bad => "1;31",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

/// A progress bar on standard error for `len` steps of `what`; hidden when
/// standard error is not a terminal, so pipes and logs stay clean.
pub fn progress(len: u64, what: &str) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    let style = indicatif::ProgressStyle::with_template("{prefix:>12} [{bar:32}] {pos}/{len} {msg}")
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> ");
    bar.set_style(style);
    bar.set_prefix(what.to_string());
    bar
}

/// A spinner on standard error while `what` runs (work whose length is not
/// known up front); hidden when standard error is not a terminal.
pub fn spinner(what: &str) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_message(what.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(100));
    bar
}

/// Prints a JSON value on standard output, alone.
pub fn print_json(value: &serde_json::Value) {
    let mut stdout = std::io::stdout().lock();
    let _ = serde_json::to_writer_pretty(&mut stdout, value);
    let _ = writeln!(stdout);
}

/// Prints rows as CSV (RFC 4180 quoting) with a header.
pub fn print_csv(headers: &[&str], rows: &[Vec<String>]) {
    let mut out = csv_line(headers);
    for row in rows {
        out.push_str(&csv_line(row));
    }
    print!("{out}");
}

/// One CSV line (RFC 4180 quoting), with its line break.
pub fn csv_line(cells: &[impl AsRef<str>]) -> String {
    let quote = |cell: &str| {
        if cell.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", cell.replace('"', "\"\""))
        } else {
            cell.to_string()
        }
    };
    let mut line = cells.iter().map(|cell| quote(cell.as_ref())).collect::<Vec<_>>().join(",");
    line.push('\n');
    line
}
