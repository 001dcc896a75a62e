//! Shared pieces of the flows that drive external tools (vivado, yosys, nextpnr, icepack): a
//! progress spinner with elapsed time, running a tool with its output saved to a log and its
//! error lines passed through.

use anyhow::{bail, Context, Result};
use std::path::Path;
use std::process::Command;

/// A spinner on stderr with the message and elapsed time (hidden when stderr is not a terminal).
pub fn spinner(msg: &str) -> indicatif::ProgressBar {
    let s = indicatif::ProgressBar::new_spinner();
    s.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    s.enable_steady_tick(std::time::Duration::from_millis(120));
    s.set_message(msg.to_string());
    s
}

/// A [`spinner`] that clears itself when dropped (on success and on every error path), for
/// the phases of a command: `set` names the phase running now.
pub struct Phases(indicatif::ProgressBar);

impl Phases {
    pub fn new(msg: &str) -> Phases {
        Phases(spinner(msg))
    }
    pub fn set(&self, msg: &str) {
        self.0.set_message(msg.to_string());
    }
}

impl Drop for Phases {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

/// Whether `tool` starts (`tool --version` or `tool -V` exits successfully).
pub fn available(tool: &str) -> bool {
    ["--version", "-V"].iter().any(|a| Command::new(tool).arg(a).output().is_ok_and(|o| o.status.success()))
}

/// Whether an executable named `tool` is in a folder of `PATH`.
pub fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
}

/// Runs `tool args` in `cwd` under a spinner, saving stdout and stderr to `log`. On failure the
/// error names the tool, the log and the tool's own error lines.
pub fn run_logged(tool: &str, args: &[String], cwd: &Path, log: &Path, what: &str) -> Result<f64> {
    let spinner = spinner(&format!("{tool}: {what}"));
    let start = std::time::Instant::now();
    let out = Command::new(tool).args(args).current_dir(cwd).output();
    spinner.finish_and_clear();
    let out = match out {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            bail!("{tool} is not installed: run scripts/setup.sh (Debian/Ubuntu packages)")
        }
        Err(e) => return Err(e).with_context(|| format!("cannot start {tool}")),
    };
    let seconds = start.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let text = format!("$ {tool} {}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}\n", args.join(" "));
    std::fs::write(log, &text).with_context(|| format!("cannot write {}", log.display()))?;
    if !out.status.success() {
        let errors: Vec<&str> = stdout
            .lines()
            .chain(stderr.lines())
            .filter(|l| l.contains("ERROR") || l.contains("Error") || l.starts_with("error"))
            .take(12)
            .collect();
        let shown = if errors.is_empty() {
            stderr.lines().rev().take(12).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n")
        } else {
            errors.join("\n")
        };
        bail!("{tool} failed ({}) while {what}; full output in {}:\n{shown}", out.status, log.display());
    }
    Ok(seconds)
}
