//! Running commands: from the workspace root, with the pinned tools first on PATH, and counting
//! the tests that test runners report.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// A command run from the workspace root with the project's tool directories first on PATH.
pub fn cmd(program: &str) -> Command {
    let mut c = Command::new(program);
    c.current_dir(root()).env("PATH", tool_path());
    c
}

/// PATH with binaryen's wasm-opt (from npm) and cargo's bin directory first.
pub fn tool_path() -> String {
    let mut dirs = vec![crate::tools::npm_bin_dir(), cargo_bin_dir()];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).map(|p| p.to_string_lossy().into_owned()).unwrap_or_default()
}

pub fn cargo_bin_dir() -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_default();
    home.join("bin")
}

fn describe(c: &Command) -> String {
    let args: Vec<String> = c.get_args().map(|a| a.to_string_lossy().into_owned()).collect();
    format!("{} {}", c.get_program().to_string_lossy(), args.join(" "))
}

/// Runs `c`, failing with the command line if it does not succeed.
pub fn run(c: &mut Command) -> Result<(), String> {
    println!("$ {}", describe(c));
    let status = c.status().map_err(|e| format!("cannot start `{}`: {e}", describe(c)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", describe(c)))
    }
}

/// Output of `c` if it ran and succeeded.
pub fn output(c: &mut Command) -> Option<String> {
    let out = c.stderr(Stdio::null()).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Passed and failed tests, summed over every runner.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub passed: u64,
    pub failed: u64,
}

impl Counts {
    /// Reads one line of a runner's output: cargo test / wasm-bindgen-test
    /// (`test result: ok. 3 passed; 0 failed; ...`) or node's TAP reporter (`# pass 3`, `# fail 0`).
    pub fn read_line(&mut self, line: &str) {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("test result: ") {
            for part in rest.split([';', '.']) {
                let mut words = part.split_whitespace();
                if let (Some(n), Some(what)) = (words.next(), words.next()) {
                    let Ok(n) = n.parse::<u64>() else { continue };
                    match what {
                        "passed" => self.passed += n,
                        "failed" => self.failed += n,
                        _ => {}
                    }
                }
            }
        } else if let Some(n) = line.strip_prefix("# pass ") {
            self.passed += n.trim().parse().unwrap_or(0);
        } else if let Some(n) = line.strip_prefix("# fail ") {
            self.failed += n.trim().parse().unwrap_or(0);
        }
    }
}

/// Runs a test runner, echoing its output and adding its counts to `counts`.
pub fn run_counted(c: &mut Command, counts: &mut Counts) -> Result<(), String> {
    println!("$ {}", describe(c));
    let mut child =
        c.stdout(Stdio::piped()).spawn().map_err(|e| format!("cannot start `{}`: {e}", describe(c)))?;
    if let Some(out) = child.stdout.take() {
        // Split on bytes: a line that is not UTF-8 must not end the counting early.
        for line in BufReader::new(out).split(b'\n').map_while(Result::ok) {
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end_matches('\r');
            counts.read_line(line);
            // println!, not a write to io::stdout(): inside `cargo test` it is captured, so a
            // unit test that runs a failing child on purpose does not print lines that the
            // outer run would count as failures.
            println!("{line}");
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", describe(c)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_cargo_and_node_results() {
        let mut c = Counts::default();
        c.read_line(
            "test result: ok. 40 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s",
        );
        c.read_line("test result: FAILED. 3 passed; 2 failed; 1 ignored; 0 measured; 0 filtered out");
        c.read_line("# pass 4");
        c.read_line("# fail 1");
        c.read_line("running 3 tests");
        c.read_line("test passed ... ok");
        assert_eq!(c, Counts { passed: 47, failed: 3 });
    }
}
