//! `cargo xtask test`: installs what the tests need, then runs every check, continuing past a
//! failure so that one run shows everything that is wrong. Ends with `N passed, N failed`.

use crate::util::{cmd, root, run, run_counted, Counts};
use crate::{esp32c3, firmware, flash, run as run_task, tools};
use std::process::Command;
use std::time::Instant;

pub fn main() -> Result<(), String> {
    let started = Instant::now();
    tools::ensure_test_tools()?;
    let mut counts = Counts::default();
    let mut report: Vec<(&str, Result<(), String>, f64)> = Vec::new();
    let mut step =
        |name: &'static str, counts: &mut Counts, f: &mut dyn FnMut(&mut Counts) -> Result<(), String>| {
            println!("\n=== {name}");
            let t = Instant::now();
            let r = f(counts);
            if let Err(e) = &r {
                println!("xtask: {name} failed: {e}");
            }
            report.push((name, r, t.elapsed().as_secs_f64()));
        };

    step("format", &mut counts, &mut |_| run(cmd("cargo").args(["fmt", "--all", "--check"])));
    step("clippy", &mut counts, &mut |_| {
        run(cmd("cargo").args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]))
    });
    step("app icons match icon.svg", &mut counts, &mut |_| crate::icons::main(true));
    step("native tests", &mut counts, &mut |c| run_counted(cmd("cargo").args(["test", "--workspace"]), c));
    // The app built without its optional parts (charts, controls, fleet), as `cargo xtask bench`
    // builds it to weigh them: the stand-ins compile and its own tests pass.
    step("app without charts, controls, fleet", &mut counts, &mut |c| {
        run_counted(cmd("cargo").args(["test", "-p", "wsdeck", "--lib", "--no-default-features"]), c)
    });
    // The protocol as the app's wasm builds it (numbers read by the compact reader).
    step("protocol compact-float", &mut counts, &mut |c| {
        run_counted(cmd("cargo").args(["test", "-p", "wsdeck-protocol", "--features", "compact-float"]), c)
    });
    // Rust firmware and the simulator may turn on the message types' serde impls.
    step("protocol serde", &mut counts, &mut |c| {
        run_counted(cmd("cargo").args(["test", "-p", "wsdeck-protocol", "--features", "serde"]), c)
    });
    step("protocol builds no_std", &mut counts, &mut |_| {
        let target = tools::BARE_METAL_TARGET;
        run(cmd("cargo").args(["build", "-p", "wsdeck-protocol", "--features", "serde", "--target", target]))
    });
    // The simulated fleet against a real mosquitto (sim/tests/fleet.rs), installed when missing.
    step("fleet over mosquitto", &mut counts, &mut |c| {
        crate::fleet::ensure_mosquitto()?;
        run_counted(cmd("cargo").args(["test", "-p", "wsdeck-sim", "--test", "fleet", "--", "--ignored"]), c)
    });
    step("firmware core (g++)", &mut counts, &mut |c| firmware::test(c));
    step("wasm tests in Chromium", &mut counts, &mut |c| run_counted(&mut wasm_tests(), c));
    let mut built = false;
    step("release build", &mut counts, &mut |_| {
        run_task::build_app(true)?;
        built = true;
        Ok(())
    });
    step("flash bundle (C test)", &mut counts, &mut |c| {
        if !built {
            return Err("skipped: the release build failed".into());
        }
        flash_bundle(c)
    });
    // After the bundle step: the image is built around the target/flash it wrote.
    step("firmware image (ESP32-C3)", &mut counts, &mut |c| {
        if !built {
            return Err("skipped: the release build failed".into());
        }
        esp32c3::test(c)
    });
    step("end-to-end tests", &mut counts, &mut |c| {
        if !built {
            return Err("skipped: the release build failed".into());
        }
        let sim = run_task::build_sim()?;
        run_counted(&mut e2e(&sim)?, c)
    });

    println!("\n=== summary");
    let failed_steps = report.iter().filter(|r| r.1.is_err()).count() as u64;
    for (name, result, secs) in &report {
        let verdict = if result.is_ok() { "ok" } else { "FAILED" };
        println!("{name:<26} {verdict:<7} {secs:>6.1} s");
    }
    println!("{:<26} {:<7} {:>6.1} s", "total", "", started.elapsed().as_secs_f64());
    // A failed step that is not a test (format, clippy, build) counts as a failure too, so that
    // the closing line is never green when the run is not.
    println!("\nxtask: {} passed, {} failed", counts.passed, counts.failed + failed_steps);
    if failed_steps > 0 {
        return Err(format!("{failed_steps} step(s) failed"));
    }
    if counts.failed > 0 {
        return Err(format!("{} test(s) failed", counts.failed));
    }
    Ok(())
}

/// The bundle of the dist just built, checked by the C test; a first load over the budget
/// (150 KiB, met since the pages load on demand) fails the step, as `--budget-kib` would.
pub fn flash_bundle(counts: &mut Counts) -> Result<(), String> {
    let opts = flash::Options::default();
    let dist = root().join("dist");
    let report = flash::bundle(&dist, &opts)?;
    print!("{}", report.table());
    flash::c_test::run_c_test(&dist, &opts.out, counts)?;
    crate::dist::budget(&report)
}

/// `tests/web.rs` compiled to wasm and run by wasm-bindgen-test-runner in headless Chromium.
fn wasm_tests() -> Command {
    let mut c = cmd("cargo");
    c.args(["test", "-p", "wsdeck", "--test", "web", "--target", tools::WASM_TARGET])
        .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", "wasm-bindgen-test-runner")
        .env("CHROMEDRIVER", tools::CHROMEDRIVER)
        .env("WASM_BINDGEN_TEST_TIMEOUT", "60");
    c
}

/// Playwright tests in e2e/tests, one file at a time (each starts its own simulators).
fn e2e(sim: &std::path::Path) -> Result<Command, String> {
    let dir = root().join("e2e/tests");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".test.mjs"))
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut c = cmd("node");
    c.args(["--test", "--test-concurrency=1", "--test-reporter=tap"])
        .args(files)
        .env("WSDECK_SIM", sim)
        .env("WSDECK_DIST", root().join("dist"))
        .env("WSDECK_CHROMIUM", tools::CHROMIUM);
    Ok(c)
}

#[cfg(test)]
mod tests {
    /// The `cargo xtask test` step alone, on the dist/ already built:
    /// `cargo test -p xtask -- --ignored --nocapture flash_bundle_of_the_built_dist`.
    #[test]
    #[ignore = "needs a release build in dist/"]
    fn flash_bundle_of_the_built_dist() {
        let mut counts = crate::util::Counts::default();
        super::flash_bundle(&mut counts).unwrap();
        assert!(counts.passed > 0 && counts.failed == 0, "{counts:?}");
    }
}
