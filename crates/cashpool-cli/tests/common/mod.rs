//! Helpers shared by the binary's end-to-end tests: run `cashpool` in a
//! reproducible environment and read what it did.

// Each test file uses its own subset of these helpers.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

/// The clock every test run of the binary sees.
pub const NOW: &str = "2026-11-02T09:00:00Z";

pub fn text(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

/// What one run of the binary did.
pub struct Run {
    pub command: String,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts the exit code, showing both streams when it is wrong.
    #[track_caller]
    pub fn expect(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "`{}` exited {} (expected {code})\n--- stdout\n{}\n--- stderr\n{}",
            self.command, self.code, self.stdout, self.stderr
        );
        self
    }

    /// Standard output as JSON.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|err| {
            panic!(
                "`{}`: stdout is not JSON ({err})\n--- stdout\n{}\n--- stderr\n{}",
                self.command, self.stdout, self.stderr
            )
        })
    }

    /// Asserts that standard error contains every one of `needles`.
    #[track_caller]
    pub fn stderr_has(&self, needles: &[&str]) -> &Run {
        for needle in needles {
            assert!(self.stderr.contains(needle), "`{}`: stderr lacks {needle:?}:\n{}", self.command, self.stderr);
        }
        self
    }
}

/// Runs `cashpool --data DATA ARGS...` with the reproducible environment, as `operator`.
pub fn cashpool_as(operator: &str, data: &Path, args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_cashpool"))
        .arg("--data")
        .arg(data)
        .args(args)
        .env("CASHPOOL_NOW", NOW)
        .env("CASHPOOL_OPERATOR", operator)
        .env_remove("CASHPOOL_DATA")
        .env_remove("CASHPOOL_WAIT")
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::null())
        .output()
        .expect("the cashpool binary runs");
    Run {
        command: format!("cashpool --data {} {}", data.display(), args.join(" ")),
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// What a command may not change: the journal's length and head, and the replayed state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub entries: u64,
    pub head: String,
    pub state_digest: String,
}

// JSON fields, read strictly: a wrong shape is a test failure that shows the value.

/// A string field of a JSON object; panics on anything else.
#[track_caller]
pub fn string(value: &Value, key: &str) -> String {
    match &value[key] {
        Value::String(text) => text.clone(),
        other => panic!("field {key:?} of {value} is not a string but {other}"),
    }
}

/// The items of an array field; panics on anything else.
#[track_caller]
pub fn items(value: &Value, key: &str) -> Vec<Value> {
    value[key].as_array().cloned().unwrap_or_else(|| panic!("field {key:?} of {value} is not an array"))
}

/// The keys of a JSON object, sorted.
#[track_caller]
pub fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> =
        value.as_object().unwrap_or_else(|| panic!("not an object: {value}")).keys().cloned().collect();
    keys.sort();
    keys
}

pub fn sorted(names: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    names.sort();
    names
}

/// A boolean field of a JSON object; panics on anything else.
#[track_caller]
pub fn boolean(value: &Value, key: &str) -> bool {
    value[key].as_bool().unwrap_or_else(|| panic!("field {key:?} of {value} is not a boolean"))
}
