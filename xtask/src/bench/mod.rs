//! `cargo xtask bench`: speed figures that tests must not assert. Each benchmark prints a table
//! and writes JSON under target/bench/, with ratios against a baseline measured in the same run.
//! `--only drive-latency,charts,controls,faults,fuzz,clients,size,slow-link,fleet` picks some
//! (default: all).

mod clients;
mod fleet;
mod size;
mod ws;

use crate::flash::{compress, read_dist};
use crate::util::{cmd, root, run};
use crate::{firmware, fuzz, run as run_task, tools};
use std::path::Path;

pub const BENCHES: [&str; 9] =
    ["drive-latency", "charts", "controls", "faults", "fuzz", "clients", "size", "slow-link", "fleet"];

/// Flags of `cargo xtask bench`.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub only: Vec<String>,
    /// Seconds each fuzz target runs.
    pub fuzz_secs: u64,
    /// Seconds each clients run measures.
    pub clients_secs: u64,
    /// Clients in the big clients run.
    pub clients: usize,
    /// Seconds the fleet bench soaks (memory at the start and the end).
    pub fleet_secs: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            only: BENCHES.iter().map(|b| b.to_string()).collect(),
            fuzz_secs: 60,
            clients_secs: 10,
            clients: 50,
            fleet_secs: 600,
        }
    }
}

pub fn main(opts: &Options) -> Result<(), String> {
    let mut failed = Vec::new();
    for bench in &opts.only {
        println!("\n=== bench {bench}");
        let result = match bench.as_str() {
            "drive-latency" => browser_bench("drive-latency"),
            "charts" => browser_bench("charts").and_then(|()| feature_weight("charts")),
            "controls" => browser_bench("controls").and_then(|()| feature_weight("controls")),
            "faults" => browser_bench("faults"),
            "slow-link" => browser_bench("slow-link"),
            "fuzz" => fuzz_bench(opts.fuzz_secs),
            "clients" => clients::main(opts),
            "size" => size::main(),
            "fleet" => fleet::main(opts.fleet_secs),
            other => Err(format!("unknown benchmark `{other}` (known: {})", BENCHES.join(", "))),
        };
        if let Err(e) = result {
            println!("xtask: bench {bench} failed: {e}");
            failed.push(bench.as_str());
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("failed: {}", failed.join(", ")))
    }
}

pub(crate) fn bench_dir() -> Result<std::path::PathBuf, String> {
    let dir = root().join("target/bench");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

/// `e2e/bench/<name>.mjs` in headless Chromium against the release build: drive-latency (input
/// -> frame, release -> stop), charts (against uPlot, and a 1 kHz soak), controls (100 of them,
/// against none declared), faults (the fault-proxy matrix and a soak, docs/RELIABILITY.md),
/// slow-link (navigation -> first value at 150 KB/s, against a minimal hand-written page).
fn browser_bench(name: &str) -> Result<(), String> {
    tools::ensure_test_tools()?;
    run_task::build_app(true)?;
    let sim = run_task::build_sim()?;
    let out = bench_dir()?.join(format!("{name}.json"));
    run(cmd("node")
        .arg(root().join(format!("e2e/bench/{name}.mjs")))
        .arg(&out)
        .env("WSDECK_SIM", &sim)
        .env("WSDECK_DIST", root().join("dist"))
        .env("WSDECK_CHROMIUM", tools::CHROMIUM))
}

/// Optional parts of the app and what each is, for [`feature_weight`].
const FEATURES: [(&str, &str); 3] =
    [("charts", "the charts (plotters)"), ("controls", "declared controls"), ("fleet", "fleet mode (MQTT)")];

/// What an optional part (a cargo feature of the app) adds to the bundle: the release build with
/// every default feature against one without `feature`, wasm + JS, gzip -9. Both are built
/// unsplit, on the toolchain of dist/: split, each chunk carries its own glue, and the sum of a
/// split build against an unsplit one would count that too. The full build is made once per run.
fn feature_weight(feature: &str) -> Result<(), String> {
    let out = bench_dir()?;
    let build = |dir: &Path, features: Option<String>| -> Result<(usize, usize), String> {
        if !dir.join("index.html").exists() {
            let mut c = cmd("trunk");
            c.args(["build", "--release", "--dist"]).arg(dir);
            if let Some(f) = features {
                c.args(["--no-default-features", "--features", &f]);
            }
            crate::toolchain::release().apply(&mut c);
            run(&mut c)?;
            run_task::shrink_glue(dir)?;
        }
        code_bytes(dir)
    };
    let full = out.join("dist-unsplit");
    let _ = std::fs::remove_dir_all(out.join(format!("dist-without-{feature}")));
    if !FULL_BUILT.swap(true, std::sync::atomic::Ordering::Relaxed) {
        let _ = std::fs::remove_dir_all(&full);
    }
    let with = build(&full, None)?;
    let others: Vec<&str> = FEATURES.iter().map(|f| f.0).filter(|f| *f != feature).collect();
    let bare = build(&out.join(format!("dist-without-{feature}")), Some(others.join(",")))?;
    let what = FEATURES.iter().find(|f| f.0 == feature).map_or(feature, |f| f.1);
    let kib = |b: usize| b as f64 / 1024.0;
    println!("\nWhat {what} weigh (gzip -9, wasm + JS, unsplit release builds)");
    println!("{:<22} {:>10} {:>10}", "build", "wasm KiB", "JS KiB");
    println!("{:<22} {:>10.1} {:>10.1}", format!("with {feature}"), kib(with.0), kib(with.1));
    println!("{:<22} {:>10.1} {:>10.1}", format!("without {feature}"), kib(bare.0), kib(bare.1));
    let added = (with.0 + with.1) as i64 - (bare.0 + bare.1) as i64;
    println!("{feature} add {added} bytes ({:.1} KiB)", added as f64 / 1024.0);
    let json = serde_json::json!({
        "feature": feature,
        "with": { "wasm_gzip": with.0, "js_gzip": with.1 },
        "without": { "wasm_gzip": bare.0, "js_gzip": bare.1 },
        "added_bytes": added,
    });
    let path = out.join(format!("{feature}-size.json"));
    std::fs::write(&path, serde_json::to_string_pretty(&json).unwrap_or_default())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}

/// The full unsplit build of this run is made (a stale one from an earlier run is not reused).
static FULL_BUILT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// gzip -9 bytes of the wasm and of the JavaScript (the service worker aside) in a built dist.
fn code_bytes(dist: &Path) -> Result<(usize, usize), String> {
    let mut sizes = (0, 0);
    for (name, raw) in read_dist(dist)? {
        let gz = compress::gzip9(&raw).len();
        if name.ends_with(".wasm") {
            sizes.0 += gz;
        } else if name.ends_with(".js") && !name.ends_with("sw.js") {
            sizes.1 += gz;
        }
    }
    Ok(sizes)
}

/// Each fuzz target for `secs` seconds, the Rust ones and the firmware core's: inputs executed,
/// and any crash (which fails the bench).
fn fuzz_bench(secs: u64) -> Result<(), String> {
    tools::ensure_fuzz_tools()?;
    let mut runs = fuzz::run_all(secs)?;
    runs.push(firmware::fuzz(secs)?);
    println!(
        "\nfuzzing, {secs} s per target (libFuzzer; firmware_core built by clang++, the rest by cargo fuzz)"
    );
    println!("{:<15} {:>8} {:>14} {:>10} {:>8}  result", "target", "seconds", "inputs", "inputs/s", "corpus");
    let mut rows = Vec::new();
    for r in &runs {
        let rate = r.inputs as f64 / r.secs.max(1e-9);
        let result = r.crash.as_deref().map_or("ok".to_string(), |c| format!("CRASH {c}"));
        println!(
            "{:<15} {:>8.1} {:>14} {:>10.0} {:>8}  {result}",
            r.target, r.secs, r.inputs, rate, r.corpus
        );
        rows.push(serde_json::json!({
            "target": r.target,
            "seconds": (r.secs * 10.0).round() / 10.0,
            "inputs": r.inputs,
            "inputs_per_s": rate.round(),
            "corpus": r.corpus,
            "crash": r.crash,
        }));
    }
    let json = serde_json::json!({ "seconds_per_target": secs, "targets": rows });
    let out = bench_dir()?.join("fuzz.json");
    std::fs::write(&out, serde_json::to_string_pretty(&json).unwrap_or_default())
        .map_err(|e| format!("{}: {e}", out.display()))?;
    println!("wrote {}", out.display());
    let crashed: Vec<_> = runs.iter().filter(|r| r.crash.is_some()).map(|r| r.target).collect();
    if crashed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "crashes in {} (inputs saved under fuzz/artifacts/, firmware_core's under target/firmware-fuzz/artifacts/)",
            crashed.join(", ")
        ))
    }
}
