//! `cargo xtask <task>`: builds, runs and tests wsdeck, installing what each task needs first.
//! One module per task; flags are parsed here and nowhere else.

mod bench;
mod dist;
mod firmware;
mod run;
mod test;
mod tools;
mod util;

use std::process::ExitCode;

const USAGE: &str = "\
cargo xtask <task>

  run [--dev] [-- SIM FLAGS]   build the app (release; --dev for a quick debug build), start the
                               simulator serving it and print where to open it. Flags after --
                               go to wsdeck-sim (try `-- --help`).
  test                         install what tests need, then run every check and test:
                               fmt, clippy, native tests, no_std build, firmware core (g++),
                               wasm tests in Chromium, release build, end-to-end tests. Ends with `N passed, N failed`.
  dist                         release build and a table of every file's raw and gzip size.
  bench                        benchmarks in headless Chromium against the simulator: drive
                               input -> frame and release -> stop latency, wsdeck against a
                               minimal hand-written page. Table + target/bench/*.json.
";

/// Flags of all tasks.
#[derive(Debug, Default, PartialEq)]
pub struct Flags {
    /// `run --dev`: debug build of the app.
    pub dev: bool,
    /// Everything after `--`, passed to the simulator.
    pub sim_args: Vec<String>,
}

fn parse(args: &[String]) -> Result<(String, Flags), String> {
    let mut flags = Flags::default();
    let Some((task, rest)) = args.split_first() else {
        return Err("no task given".into());
    };
    let mut rest = rest.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--dev" if task == "run" => flags.dev = true,
            "--" if task == "run" => flags.sim_args.extend(rest.by_ref().cloned()),
            other => return Err(format!("`{other}` is not a flag of `{task}`")),
        }
    }
    Ok((task.clone(), flags))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (task, flags) = match parse(&args) {
        Ok(parsed) => parsed,
        Err(e) if args.is_empty() || matches!(args[0].as_str(), "-h" | "--help" | "help") => {
            let _ = e;
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("xtask: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = match task.as_str() {
        "run" => run::main(&flags),
        "test" => test::main(),
        "dist" => dist::main(),
        "bench" => bench::main(),
        "-h" | "--help" | "help" => {
            print!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown task `{other}`\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn run_passes_flags_after_double_dash_to_the_simulator() {
        let (task, flags) = parse(&args(&["run", "--dev", "--", "--rate", "100", "--dev"])).unwrap();
        assert_eq!(task, "run");
        assert!(flags.dev);
        assert_eq!(flags.sim_args, ["--rate", "100", "--dev"]);
    }

    #[test]
    fn unknown_flags_are_refused() {
        assert!(parse(&args(&["test", "--dev"])).is_err());
        assert!(parse(&args(&[])).is_err());
    }
}
