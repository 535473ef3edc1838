//! `cargo xtask bench`: speed figures that tests must not assert. Each benchmark prints a table
//! and writes JSON under target/bench/, with ratios against a baseline measured in the same run.

use crate::flash::{compress, read_dist};
use crate::util::{cmd, root, run};
use crate::{run as run_task, tools};
use std::path::{Path, PathBuf};

pub fn main() -> Result<(), String> {
    tools::ensure_test_tools()?;
    run_task::build_app(true)?;
    let sim = run_task::build_sim()?;
    let out = root().join("target/bench");
    node_bench(&sim, "drive-latency.mjs", &out.join("drive-latency.json"))?;
    node_bench(&sim, "charts.mjs", &out.join("charts.json"))?;
    node_bench(&sim, "faults.mjs", &out.join("faults.json"))?;
    chart_weight(&out)
}

fn node_bench(sim: &Path, script: &str, json: &Path) -> Result<(), String> {
    run(cmd("node")
        .arg(root().join("e2e/bench").join(script))
        .arg(json)
        .env("WSDECK_SIM", sim)
        .env("WSDECK_DIST", root().join("dist"))
        .env("WSDECK_CHROMIUM", tools::CHROMIUM))
}

/// What the charts add to the bundle: the release build against one without the `charts`
/// feature (the Charts page then shows the tiles alone), wasm + JS, gzip -9.
fn chart_weight(out: &Path) -> Result<(), String> {
    let without = out.join("dist-without-charts");
    run(cmd("trunk").args(["build", "--release", "--no-default-features", "--dist"]).arg(&without))?;
    let with = code_bytes(&root().join("dist"))?;
    let bare = code_bytes(&without)?;
    let kib = |b: usize| b as f64 / 1024.0;
    println!("\nWhat the charts weigh (gzip -9, wasm + JS)");
    println!("{:<18} {:>10} {:>10}", "build", "wasm KiB", "JS KiB");
    println!("{:<18} {:>10.1} {:>10.1}", "with charts", kib(with.0), kib(with.1));
    println!("{:<18} {:>10.1} {:>10.1}", "without charts", kib(bare.0), kib(bare.1));
    let added = (with.0 + with.1) as i64 - (bare.0 + bare.1) as i64;
    println!("charts add {added} bytes ({:.1} KiB) to the first load", added as f64 / 1024.0);
    let json = format!(
        "{{\"with\":{{\"wasm_gzip\":{},\"js_gzip\":{}}},\"without\":{{\"wasm_gzip\":{},\"js_gzip\":{}}},\"added_bytes\":{added}}}\n",
        with.0, with.1, bare.0, bare.1
    );
    let path: PathBuf = out.join("charts-size.json");
    std::fs::write(&path, json).map_err(|e| format!("{}: {e}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}

/// gzip -9 bytes of the wasm and of the JavaScript in a built dist.
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
