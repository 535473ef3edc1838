//! `cargo xtask <task>`: builds, runs and tests wsdeck, installing what each task needs first.
//! One module per task; flags are parsed here and nowhere else.

mod bench;
mod dist;
mod firmware;
mod flash;
mod fuzz;
mod icons;
mod limits;
mod pwa;
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
                               wasm tests in Chromium, release build, flash bundle (C test),
                               end-to-end tests. Ends with `N passed, N failed`.
  dist [--out DIR] [--budget-kib N] [--block-size N] [--fs-size N]
                               release build, then the flash bundle for firmware in DIR
                               (default target/flash): .gz files, wsdeck_assets.h,
                               wsdeck_assets.rs, wsdeck.littlefs (--block-size, default 4096;
                               --fs-size, default 1M = a typical ESP32 data partition; sizes take
                               K, M or 0x), size-report.json and a table. Fails when the gzip
                               total is over the budget (default 150 KiB). See docs/FIRMWARE.md.
  icons [--check]              render public/icon.svg into the PNG app icons in public/ (npm
                               packages in xtask/icons); --check only fails if they differ.
  limits [--check]             write firmware/arduino/wsdeck_car/wsdeck_limits.h, the numbers the
                               C++ firmware core shares with the Rust sources; --check only fails
                               if it is stale (the firmware step of `test` checks it too).
  bench [--only B,B] [--fuzz-secs N] [--clients N] [--clients-secs N]
                               benchmarks, each a table + target/bench/<name>.json:
                               drive-latency: drive input -> frame and release -> stop latency in
                                 headless Chromium, wsdeck against a minimal hand-written page;
                               charts: chart frame time and main-thread load against uPlot (same
                                 data), a 10 min 1 kHz memory soak, and what the charts weigh;
                               faults: the fault-proxy scenario matrix and a 10 min soak
                                 (docs/RELIABILITY.md);
                               fuzz: each fuzz target (fuzz/, nightly + cargo-fuzz; the
                                 firmware core's, firmware/core/fuzz/, with clang) for N s
                                 (default 60), inputs executed; a crash fails the bench;
                               clients: N clients (default 50) at 1 kHz telemetry against the
                                 simulator for N s (default 10): received rate and lag per client,
                                 against one client alone.
                               --only picks some (default: all).
";

/// Flags of all tasks.
#[derive(Debug, Default, PartialEq)]
pub struct Flags {
    /// `run --dev`: debug build of the app.
    pub dev: bool,
    /// `icons --check`, `limits --check`: compare, do not write.
    pub check: bool,
    /// Everything after `--`, passed to the simulator.
    pub sim_args: Vec<String>,
    /// `dist`: the flash bundle's settings.
    pub flash: flash::Options,
    /// `bench`: which benchmarks, and how long.
    pub bench: bench::Options,
}

/// `4096`, `0x100000`, `1536K`, `1M` (K and M are KiB and MiB, as partition tables mean them).
fn parse_size(s: &str) -> Result<usize, String> {
    let bad = || format!("`{s}` is not a size (try 4096, 0x100000, 1536K or 1M)");
    let (digits, unit) = match s.strip_suffix(['K', 'k']) {
        Some(d) => (d, 1024),
        None => match s.strip_suffix(['M', 'm']) {
            Some(d) => (d, 1024 * 1024),
            None => (s, 1),
        },
    };
    let n = match digits.strip_prefix("0x") {
        Some(hex) => usize::from_str_radix(hex, 16),
        None => digits.parse(),
    };
    n.ok().and_then(|n| n.checked_mul(unit)).filter(|&n| n > 0).ok_or_else(bad)
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
            "--check" if task == "icons" || task == "limits" => flags.check = true,
            "--" if task == "run" => flags.sim_args.extend(rest.by_ref().cloned()),
            "--out" | "--budget-kib" | "--block-size" | "--fs-size" if task == "dist" => {
                let value = rest.next().ok_or_else(|| format!("`{arg}` needs a value"))?;
                let opts = &mut flags.flash;
                match arg.as_str() {
                    "--out" => opts.out = std::env::current_dir().unwrap_or_default().join(value),
                    "--budget-kib" => {
                        opts.budget_kib =
                            value.parse().map_err(|_| format!("`{value}` is not a number of KiB"))?
                    }
                    "--block-size" => opts.block_size = parse_size(value)?,
                    _ => opts.fs_size = parse_size(value)?,
                }
            }
            "--only" | "--fuzz-secs" | "--clients" | "--clients-secs" if task == "bench" => {
                let value = rest.next().ok_or_else(|| format!("`{arg}` needs a value"))?;
                let number = || {
                    value.parse().ok().filter(|n| *n > 0).ok_or(format!("`{value}` is not a positive number"))
                };
                let opts = &mut flags.bench;
                match arg.as_str() {
                    "--only" => {
                        opts.only = value.split(',').map(str::to_string).collect();
                        if let Some(bad) = opts.only.iter().find(|b| !bench::BENCHES.contains(&b.as_str())) {
                            return Err(format!(
                                "`{bad}` is not a benchmark ({})",
                                bench::BENCHES.join(", ")
                            ));
                        }
                    }
                    "--fuzz-secs" => opts.fuzz_secs = number()?,
                    "--clients" => opts.clients = number()? as usize,
                    _ => opts.clients_secs = number()?,
                }
            }
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
        "dist" => dist::main(&flags.flash),
        "bench" => bench::main(&flags.bench),
        "icons" => icons::main(flags.check),
        "limits" => limits::main(flags.check),
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
    fn dist_takes_the_bundles_flags() {
        let (_, flags) =
            parse(&args(&["dist", "--out", "/tmp/fw", "--budget-kib", "200", "--fs-size", "0x160000"]))
                .unwrap();
        assert_eq!(flags.flash.out, std::path::Path::new("/tmp/fw"));
        assert_eq!(flags.flash.budget_kib, 200);
        assert_eq!(flags.flash.fs_size, 0x16_0000);
        assert_eq!(flags.flash.block_size, flash::BLOCK_SIZE);
        let (_, defaults) = parse(&args(&["dist"])).unwrap();
        assert_eq!(defaults.flash.budget_kib, flash::BUDGET_KIB);
        assert!(parse(&args(&["dist", "--out"])).is_err());
        assert!(parse(&args(&["run", "--out", "x"])).is_err());
    }

    #[test]
    fn sizes_take_hex_and_units() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("1M"), Ok(1 << 20));
        assert_eq!(parse_size("1536K"), Ok(1536 * 1024));
        assert_eq!(parse_size("0x160000"), Ok(0x16_0000));
        assert!(parse_size("1 MiB").is_err() && parse_size("0").is_err());
    }

    #[test]
    fn bench_runs_all_or_the_ones_named() {
        let (_, defaults) = parse(&args(&["bench"])).unwrap();
        assert_eq!(defaults.bench.only, bench::BENCHES);
        assert_eq!(defaults.bench.fuzz_secs, 60);
        let (_, flags) =
            parse(&args(&["bench", "--only", "fuzz,clients", "--fuzz-secs", "5", "--clients", "8"])).unwrap();
        assert_eq!(flags.bench.only, ["fuzz", "clients"]);
        assert_eq!((flags.bench.fuzz_secs, flags.bench.clients), (5, 8));
        assert!(parse(&args(&["bench", "--only", "speed"])).unwrap_err().contains("not a benchmark"));
        assert!(parse(&args(&["bench", "--fuzz-secs", "0"])).is_err());
    }

    #[test]
    fn unknown_flags_are_refused() {
        assert!(parse(&args(&["test", "--dev"])).is_err());
        assert!(parse(&args(&["icons", "--check"])).unwrap().1.check);
        assert!(parse(&args(&["run", "--check"])).is_err());
        assert!(parse(&args(&[])).is_err());
    }
}
