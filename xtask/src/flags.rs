//! Every task of `cargo xtask` and its flags, declared once in [`TASKS`]: the parser reads the
//! table and `--help` is written from it, so help cannot list a flag that does not parse or miss
//! one that does (in the manner of rust-analyzer's xtask/src/flags.rs, without its macro).

use crate::{bench, flash};

/// What the flags of every task set.
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
    /// `fleet --devices`: how many simulated devices (default [`crate::fleet::DEVICES`]).
    pub fleet_devices: Option<usize>,
}

pub struct Task {
    pub name: &'static str,
    /// What the task does, lines of at most 80 characters.
    pub about: &'static str,
    pub flags: &'static [Flag],
    /// `run -- SIM FLAGS`: what the arguments after `--` are, for tasks that take them.
    pub rest: Option<Flag>,
}

pub struct Flag {
    /// `--out`.
    pub name: &'static str,
    /// The value's placeholder in help (`DIR`), `None` for a switch.
    pub value: Option<&'static str>,
    pub about: &'static str,
    /// Stores the flag's value (`""` for a switch).
    set: fn(&mut Flags, &str) -> Result<(), String>,
}

const fn switch(
    name: &'static str,
    about: &'static str,
    set: fn(&mut Flags, &str) -> Result<(), String>,
) -> Flag {
    Flag { name, value: None, about, set }
}

const fn valued(
    name: &'static str,
    value: &'static str,
    about: &'static str,
    set: fn(&mut Flags, &str) -> Result<(), String>,
) -> Flag {
    Flag { name, value: Some(value), about, set }
}

const CHECK: Flag = switch("--check", "only compare: fail if the committed files differ", |f, _| {
    f.check = true;
    Ok(())
});

pub static TASKS: &[Task] = &[
    Task {
        name: "run",
        about: "Build the app (release), start the simulator serving it and print where to open it.",
        flags: &[switch("--dev", "a quick debug build of the app instead", |f, _| {
            f.dev = true;
            Ok(())
        })],
        rest: Some(Flag {
            name: "--",
            value: Some("SIM FLAGS"),
            about: "go to wsdeck-sim (try `-- --help`)",
            set: |f, arg| {
                f.sim_args.push(arg.to_string());
                Ok(())
            },
        }),
    },
    Task {
        name: "test",
        about: "Install what tests need, then run every check and test: fmt, clippy, native tests,\n\
                no_std build, fleet over mosquitto, firmware core (g++), wasm tests in Chromium,\n\
                release build, flash bundle (C test), ESP32-C3 firmware image, end-to-end tests.\n\
                Ends with `N passed, N failed`.",
        flags: &[],
        rest: None,
    },
    Task {
        name: "dist",
        about: "Release build, then the flash bundle for firmware (docs/FIRMWARE.md): .gz files,\n\
                wsdeck_assets.h, wsdeck_assets.rs, wsdeck.littlefs, size-report.json and a table.\n\
                A first load over the budget warns (the bundle is written either way); with\n\
                --budget-kib it fails instead (for CI). Sizes take K, M or 0x.",
        flags: &[
            valued("--out", "DIR", "where the bundle goes (default target/flash)", |f, v| {
                f.flash.out = std::env::current_dir().unwrap_or_default().join(v);
                Ok(())
            }),
            valued(
                "--budget-kib",
                "N",
                "fail over N KiB of gzip first load (default 150, and only warn)",
                |f, v| {
                    f.flash.budget_kib = v.parse().map_err(|_| format!("`{v}` is not a number of KiB"))?;
                    f.flash.enforce_budget = true;
                    Ok(())
                },
            ),
            valued("--block-size", "N", "the LittleFS block size (default 4096)", |f, v| {
                f.flash.block_size = parse_size(v)?;
                Ok(())
            }),
            valued(
                "--fs-size",
                "N",
                "the LittleFS image size (default 1M, a typical ESP32 data partition)",
                |f, v| {
                    f.flash.fs_size = parse_size(v)?;
                    Ok(())
                },
            ),
        ],
        rest: None,
    },
    Task {
        name: "icons",
        about: "Render public/icon.svg into the PNG app icons in public/ (npm packages in xtask/icons).",
        flags: &[CHECK],
        rest: None,
    },
    Task {
        name: "limits",
        about: "Write firmware/arduino/wsdeck_car/wsdeck_limits.h, the numbers the C++ firmware core\n\
                shares with the Rust sources (the firmware step of `test` checks it too).",
        flags: &[CHECK],
        rest: None,
    },
    Task {
        name: "firmware",
        about: "The Rust firmware for the ESP32-C3 (firmware/esp32c3, docs/FIRMWARE.md): its host\n\
                tests, the release build for riscv32imc-unknown-none-elf around the flash bundle\n\
                (`dist` first when the bundle is older than the app), a flashable image written by\n\
                espflash to target/firmware/, and a table: image size, app partition use, static\n\
                RAM, the web app's share.",
        flags: &[],
        rest: None,
    },
    Task {
        name: "fleet",
        about: "Debian's mosquitto on loopback (installed when missing) with a generated config, ACL\n\
                and passwords in target/fleet/, serving dist/ on its WebSocket listener, and a\n\
                simulated fleet on it; prints the addresses, Ctrl-C stops both (docs/FLEET.md).",
        flags: &[valued("--devices", "N", "simulated devices (default 5)", |f, v| {
            f.fleet_devices = Some(positive(v)?.min(1000) as usize);
            Ok(())
        })],
        rest: Some(Flag {
            name: "--",
            value: Some("SIM FLAGS"),
            about: "go to wsdeck-sim (e.g. -- --rate 10)",
            set: |f, arg| {
                f.sim_args.push(arg.to_string());
                Ok(())
            },
        }),
    },
    Task {
        name: "bench",
        about: "Benchmarks, each a table + target/bench/<name>.json:\n\
                drive-latency: drive input -> frame and release -> stop latency in headless\n  \
                Chromium, wsdeck against a minimal hand-written page;\n\
                charts: chart frame time and main-thread load against uPlot (same data), a 10 min\n  \
                1 kHz memory soak, and what the charts weigh;\n\
                controls: the Controls page's frame time and main-thread load with 100 controls\n  \
                (30 changing at 50 Hz) and 20 Hz telemetry, against none declared, and what\n  \
                the feature weighs;\n\
                faults: the fault-proxy scenario matrix and a 10 min soak (docs/RELIABILITY.md);\n\
                fuzz: each fuzz target (fuzz/, nightly + cargo-fuzz; the firmware core's,\n  \
                firmware/core/fuzz/, with clang); a crash fails the bench;\n\
                clients: many clients at 1 kHz telemetry against the simulator: received rate\n  \
                and lag per client, against one client alone;\n\
                size: what a first visit downloads, against the floor of Leptos and of Leptos +\n  \
                plotters-canvas built the same way (xtask/floor/);\n\
                slow-link: navigation -> first tile value through a 150 KB/s link, fresh\n  \
                profile, against a minimal hand-written page;\n\
                fleet: 100 simulated devices at 10 Hz through a local mosquitto to one deck: Fleet\n  \
                page frame time and main-thread load, app memory before and after a soak, and\n  \
                device publish -> page latency over the broker, against a device connected\n  \
                directly over WebSocket (needs mosquitto, installed when missing).",
        flags: &[
            valued("--only", "B,B", "run these benchmarks only (default: all)", |f, v| {
                f.bench.only = v.split(',').map(str::to_string).collect();
                match f.bench.only.iter().find(|b| !bench::BENCHES.contains(&b.as_str())) {
                    Some(bad) => Err(format!("`{bad}` is not a benchmark ({})", bench::BENCHES.join(", "))),
                    None => Ok(()),
                }
            }),
            valued("--fuzz-secs", "N", "seconds each fuzz target runs (default 60)", |f, v| {
                f.bench.fuzz_secs = positive(v)?;
                Ok(())
            }),
            valued("--clients", "N", "clients in the clients bench's big run (default 50)", |f, v| {
                f.bench.clients = positive(v)? as usize;
                Ok(())
            }),
            valued("--clients-secs", "N", "seconds each clients run measures (default 10)", |f, v| {
                f.bench.clients_secs = positive(v)?;
                Ok(())
            }),
            valued("--fleet-secs", "N", "seconds the fleet bench soaks (default 600)", |f, v| {
                f.bench.fleet_secs = positive(v)?;
                Ok(())
            }),
        ],
        rest: None,
    },
];

/// What the command line asks for.
#[derive(Debug, PartialEq)]
pub enum Command {
    /// Help for every task, or for one.
    Help(Option<&'static str>),
    Run(&'static str, Flags),
}

pub fn parse(args: &[String]) -> Result<Command, String> {
    let Some((first, rest)) = args.split_first() else {
        return Ok(Command::Help(None));
    };
    if matches!(first.as_str(), "-h" | "--help" | "help") {
        return Ok(Command::Help(None));
    }
    let task = TASKS.iter().find(|t| t.name == first).ok_or_else(|| {
        format!(
            "unknown task `{first}` (tasks: {})",
            TASKS.iter().map(|t| t.name).collect::<Vec<_>>().join(", ")
        )
    })?;
    let mut flags = Flags::default();
    let mut rest = rest.iter();
    while let Some(arg) = rest.next() {
        if matches!(arg.as_str(), "-h" | "--help") {
            return Ok(Command::Help(Some(task.name)));
        }
        if let Some(after) = task.rest.as_ref().filter(|r| r.name == arg) {
            for arg in rest.by_ref() {
                (after.set)(&mut flags, arg)?;
            }
            break;
        }
        let flag = task.flags.iter().find(|f| f.name == arg).ok_or_else(|| {
            let names: Vec<_> = task.flags.iter().chain(&task.rest).map(|f| f.name).collect();
            match names.is_empty() {
                true => format!("`{arg}` is not a flag of `{}`, which takes none", task.name),
                false => format!("`{arg}` is not a flag of `{}` (it takes {})", task.name, names.join(", ")),
            }
        })?;
        let value = match flag.value {
            Some(_) => rest.next().ok_or_else(|| format!("`{arg}` needs a value"))?,
            None => "",
        };
        (flag.set)(&mut flags, value)?;
    }
    Ok(Command::Run(task.name, flags))
}

/// `--help`: every task (or the one named) with its flags, written from [`TASKS`].
pub fn help(only: Option<&str>) -> String {
    let mut out =
        String::from("cargo xtask <task> [flags]    (cargo xtask <task> --help: that task alone)\n");
    for task in TASKS.iter().filter(|t| only.is_none_or(|name| name == t.name)) {
        let synopsis: String = task
            .flags
            .iter()
            .map(|f| format!(" [{}]", usage(f)))
            .chain(task.rest.as_ref().map(|r| format!(" [{}]", usage(r))))
            .collect();
        out += &format!("\n  {}{synopsis}\n", task.name);
        for line in task.about.lines() {
            out += &format!("      {line}\n");
        }
        for flag in task.flags.iter().chain(&task.rest) {
            out += &format!("      {:<22} {}\n", usage(flag), flag.about);
        }
    }
    out
}

fn usage(flag: &Flag) -> String {
    match flag.value {
        Some(value) => format!("{} {value}", flag.name),
        None => flag.name.to_string(),
    }
}

fn positive(v: &str) -> Result<u64, String> {
    v.parse().ok().filter(|n| *n > 0).ok_or(format!("`{v}` is not a positive number"))
}

/// `4096`, `0x100000`, `1536K`, `1M` (K and M are KiB and MiB, as partition tables mean them).
pub fn parse_size(s: &str) -> Result<usize, String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    fn run(a: &[&str]) -> Result<(&'static str, Flags), String> {
        match parse(&args(a))? {
            Command::Run(task, flags) => Ok((task, flags)),
            Command::Help(_) => Err("help".into()),
        }
    }

    #[test]
    fn run_passes_flags_after_double_dash_to_the_simulator() {
        let (task, flags) = run(&["run", "--dev", "--", "--rate", "100", "--dev"]).unwrap();
        assert_eq!(task, "run");
        assert!(flags.dev);
        assert_eq!(flags.sim_args, ["--rate", "100", "--dev"]);
        assert_eq!(run(&["run", "--", "--help"]).unwrap().1.sim_args, ["--help"]);
    }

    #[test]
    fn dist_takes_the_bundles_flags() {
        let (_, flags) =
            run(&["dist", "--out", "/tmp/fw", "--budget-kib", "200", "--fs-size", "0x160000"]).unwrap();
        assert_eq!(flags.flash.out, std::path::Path::new("/tmp/fw"));
        assert_eq!(flags.flash.budget_kib, 200);
        assert_eq!(flags.flash.fs_size, 0x16_0000);
        assert_eq!(flags.flash.block_size, flash::BLOCK_SIZE);
        assert_eq!(run(&["dist", "--block-size", "8K"]).unwrap().1.flash.block_size, 8192);
        let (_, defaults) = run(&["dist"]).unwrap();
        assert_eq!(defaults.flash.budget_kib, flash::BUDGET_KIB);
        assert_eq!(run(&["dist", "--out"]).unwrap_err(), "`--out` needs a value");
        assert!(run(&["dist", "--budget-kib", "lots"]).unwrap_err().contains("not a number of KiB"));
        assert!(run(&["run", "--out", "x"]).is_err());
        assert!(run(&["dist", "--", "x"]).is_err());
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
        let (_, defaults) = run(&["bench"]).unwrap();
        assert_eq!(defaults.bench.only, bench::BENCHES);
        assert_eq!(defaults.bench.fuzz_secs, 60);
        let (_, flags) =
            run(&["bench", "--only", "fuzz,clients", "--fuzz-secs", "5", "--clients", "8"]).unwrap();
        assert_eq!(flags.bench.only, ["fuzz", "clients"]);
        assert_eq!((flags.bench.fuzz_secs, flags.bench.clients), (5, 8));
        assert_eq!(run(&["bench", "--clients-secs", "3"]).unwrap().1.bench.clients_secs, 3);
        assert_eq!(defaults.bench.fleet_secs, 600);
        let (_, flags) = run(&["bench", "--only", "fleet", "--fleet-secs", "60"]).unwrap();
        assert_eq!((flags.bench.only, flags.bench.fleet_secs), (vec!["fleet".to_string()], 60));
        assert!(run(&["bench", "--only", "speed"]).unwrap_err().contains("not a benchmark"));
        assert!(run(&["bench", "--fuzz-secs", "0"]).is_err());
    }

    #[test]
    fn fleet_takes_a_number_of_devices_and_simulator_flags() {
        let (task, flags) = run(&["fleet", "--devices", "20", "--", "--rate", "10"]).unwrap();
        assert_eq!((task, flags.fleet_devices), ("fleet", Some(20)));
        assert_eq!(flags.sim_args, ["--rate", "10"]);
        assert_eq!(run(&["fleet"]).unwrap().1.fleet_devices, None);
        assert!(run(&["fleet", "--devices", "0"]).is_err());
        assert!(help(Some("fleet")).contains(&format!("(default {})", crate::fleet::DEVICES)));
    }

    #[test]
    fn switches_of_icons_and_limits() {
        assert!(run(&["icons", "--check"]).unwrap().1.check);
        assert!(run(&["limits", "--check"]).unwrap().1.check);
        assert!(!run(&["limits"]).unwrap().1.check);
        assert_eq!(run(&["test"]).unwrap().0, "test");
    }

    #[test]
    fn unknown_flags_and_tasks_are_refused_saying_what_would_do() {
        assert_eq!(run(&["test", "--dev"]).unwrap_err(), "`--dev` is not a flag of `test`, which takes none");
        assert_eq!(
            run(&["run", "--check"]).unwrap_err(),
            "`--check` is not a flag of `run` (it takes --dev, --)"
        );
        let unknown = run(&["deploy"]).unwrap_err();
        assert!(unknown.starts_with("unknown task `deploy` (tasks: run, test, dist"), "{unknown}");
    }

    #[test]
    fn help_is_asked_for_before_or_after_a_task() {
        for a in [&[][..], &["-h"], &["--help"], &["help"]] {
            assert_eq!(parse(&args(a)), Ok(Command::Help(None)), "{a:?}");
        }
        assert_eq!(parse(&args(&["dist", "--help"])), Ok(Command::Help(Some("dist"))));
        let one = help(Some("dist"));
        assert!(one.contains("--fs-size N") && !one.contains("--clients"), "{one}");
    }

    #[test]
    fn help_lists_every_task_and_flag_of_the_table_and_every_benchmark() {
        let text = help(None);
        for task in TASKS {
            let synopsis = text.lines().find(|l| l.trim_start().split(' ').next() == Some(task.name));
            let synopsis = synopsis.unwrap_or_else(|| panic!("no line for `{}` in\n{text}", task.name));
            for flag in task.flags.iter().chain(&task.rest) {
                assert!(synopsis.contains(&format!("[{}]", usage(flag))), "{synopsis}");
                assert!(text.contains(&format!("{:<22} {}", usage(flag), flag.about)), "{}", flag.name);
            }
        }
        for name in bench::BENCHES {
            assert!(text.contains(&format!("{name}: ")), "benchmark {name} is not described");
        }
        assert!(text.lines().all(|l| l.len() <= 100), "a help line is too long:\n{text}");
    }

    #[test]
    fn help_names_the_defaults_in_use() {
        let (text, bundle, bench) = (help(None), flash::Options::default(), bench::Options::default());
        for (flag, default) in [
            ("--budget-kib N", bundle.budget_kib.to_string()),
            ("--block-size N", bundle.block_size.to_string()),
            ("--fs-size N", format!("{}M", bundle.fs_size >> 20)),
            ("--fuzz-secs N", bench.fuzz_secs.to_string()),
            ("--clients N", bench.clients.to_string()),
            ("--clients-secs N", bench.clients_secs.to_string()),
            ("--fleet-secs N", bench.fleet_secs.to_string()),
        ] {
            let line = text.lines().find(|l| l.trim_start().starts_with(&format!("{flag} "))).unwrap();
            assert!(line.contains(&format!("(default {default}")), "{line}");
        }
        assert!(text.contains(&format!("(default {})", flash::DEFAULT_OUT)));
    }
}
