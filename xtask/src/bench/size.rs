//! `cargo xtask bench --only size`: what a first visit downloads (gzip as served, requests), for
//! the app as it ships against the same app on stable and the floor of its stack built in the
//! same run the same way as the app (xtask/floor: Leptos alone, then Leptos + plotters-canvas),
//! and against #6's goal of 100 KiB.

use super::bench_dir;
use crate::flash::{self, report};
use crate::toolchain::{self, Toolchain};
use crate::util::{cmd, root, run};
use crate::{run as run_task, tools};
use std::path::Path;

const GOAL_KIB: f64 = 100.0;
/// As `cargo xtask dist` serves the files (the best of gzip -9 and zopfli).
const ZOPFLI_ITERATIONS: u64 = 15;

struct Load {
    name: &'static str,
    toolchain: &'static str,
    wasm: usize,
    js: usize,
    html: usize,
    total: usize,
    requests: usize,
    /// A split build's chunks (path, gzip), fetched when a page needs them.
    chunks: Vec<(String, usize)>,
}

pub fn main() -> Result<(), String> {
    tools::ensure_build_tools()?;
    same_wasm_opt_flags()?;
    let shipped = toolchain::release();
    run_task::build_app(true)?;
    let out = bench_dir()?;
    let mut loads = vec![first_load("app", shipped, &root().join("dist"))?];
    // The same app on stable, the baseline of what the nightly build gives.
    if *shipped != Toolchain::Stable {
        let dist = out.join("dist-stable");
        run_task::build_release(&Toolchain::Stable, &dist)?;
        loads.push(first_load("app on stable", &Toolchain::Stable, &dist)?);
    }
    for (name, features) in [("floor: leptos", None), ("floor: leptos + plotters", Some("charts"))] {
        let dist = out.join(if features.is_some() { "dist-floor-charts" } else { "dist-floor" });
        let mut c = cmd("trunk");
        c.current_dir(root().join("xtask/floor"))
            .args(["build", "--release", "--dist"])
            .arg(&dist)
            .env("CARGO_TARGET_DIR", out.join("floor-target"));
        if let Some(f) = features {
            c.args(["--features", f]);
        }
        shipped.apply(&mut c);
        run(&mut c)?;
        run_task::shrink_glue(&dist)?;
        loads.push(first_load(name, shipped, &dist)?);
    }

    let kib = |b: usize| b as f64 / 1024.0;
    let app_total = loads[0].total;
    println!("\nFirst load (gzip as served: best of gzip -9 and zopfli), goal <= {GOAL_KIB} KiB");
    println!(
        "{:<26} {:>9} {:>9} {:>8} {:>10} {:>11} {:>9} {:>9}",
        "build", "toolchain", "wasm KiB", "JS KiB", "HTML KiB", "total KiB", "requests", "app / it"
    );
    for l in &loads {
        println!(
            "{:<26} {:>9} {:>9.1} {:>8.1} {:>10.1} {:>11.1} {:>9} {:>9.2}",
            l.name,
            l.toolchain,
            kib(l.wasm),
            kib(l.js),
            kib(l.html),
            kib(l.total),
            l.requests,
            app_total as f64 / l.total as f64
        );
    }
    for l in loads.iter().filter(|l| !l.chunks.is_empty()) {
        let all: usize = l.chunks.iter().map(|c| c.1).sum();
        println!(
            "{} ({}): {} chunks on demand, {:.1} KiB in all",
            l.name,
            l.toolchain,
            l.chunks.len(),
            kib(all)
        );
        for (path, gz) in &l.chunks {
            println!("  {path:<44} {:>7.1} KiB", kib(*gz));
        }
    }
    let stable = loads.iter().find(|l| l.name == "app on stable");
    if let Some(stable) = stable {
        println!(
            "nightly: wasm {:.1} -> {:.1} KiB, first load {:.1} KiB ({:.1} %) less than on stable",
            kib(stable.wasm),
            kib(loads[0].wasm),
            kib(stable.total) - kib(app_total),
            100.0 * (1.0 - app_total as f64 / stable.total as f64)
        );
    }
    let floor = loads.last().map_or(0, |l| l.total);
    println!(
        "the goal leaves {:.1} KiB above the floor of Leptos + plotters; the app uses {:.1} KiB above it",
        GOAL_KIB - kib(floor),
        kib(app_total) - kib(floor)
    );
    let rows: Vec<_> = loads
        .iter()
        .map(|l| {
            serde_json::json!({
                "build": l.name, "toolchain": l.toolchain, "wasm_gzip": l.wasm, "js_gzip": l.js,
                "html_gzip": l.html, "total_gzip": l.total, "requests": l.requests,
                "app_ratio": app_total as f64 / l.total as f64,
                "chunks": l.chunks.iter().map(|(p, gz)| serde_json::json!({"path": p, "gzip": gz})).collect::<Vec<_>>(),
            })
        })
        .collect();
    let json = serde_json::json!({
        "goal_bytes": (GOAL_KIB * 1024.0) as usize,
        "toolchain": shipped.name(),
        "split": run_task::split_enabled(),
        "nightly_saving_bytes": stable.map(|s| s.total as i64 - app_total as i64),
        "first_load": rows,
    });
    let path = out.join("size.json");
    std::fs::write(&path, serde_json::to_string_pretty(&json).unwrap_or_default())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}

/// A first visit to `dist`: index.html and what it names, as `cargo xtask dist` counts it.
fn first_load(name: &'static str, toolchain: &Toolchain, dist: &Path) -> Result<Load, String> {
    let assets = flash::assets(flash::read_dist(dist)?, ZOPFLI_ITERATIONS);
    let paths = report::first_load(&assets);
    let chunks = report::on_demand(&assets)
        .into_iter()
        .filter_map(|p| assets.iter().find(|a| a.path == p).map(|a| (p, a.gzip().len())))
        .collect();
    let mut load = Load {
        name,
        toolchain: toolchain.name(),
        wasm: 0,
        js: 0,
        html: 0,
        total: 0,
        requests: paths.len(),
        chunks,
    };
    for a in assets.iter().filter(|a| paths.contains(&a.path)) {
        let gz = a.gzip().len();
        load.total += gz;
        if a.path.ends_with(".wasm") {
            load.wasm += gz;
        } else if a.path.ends_with(".js") {
            load.js += gz;
        } else {
            load.html += gz;
        }
    }
    Ok(load)
}

/// The floor is only a fair baseline if wasm-opt runs on it as on the app.
fn same_wasm_opt_flags() -> Result<(), String> {
    let flags = |path: &Path| -> Result<String, String> {
        let html = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        html.split("data-wasm-opt-params=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .map(str::to_string)
            .ok_or_else(|| format!("{}: no data-wasm-opt-params", path.display()))
    };
    let (app, floor) = (flags(&root().join("index.html"))?, flags(&root().join("xtask/floor/index.html"))?);
    if app != floor {
        return Err(format!("xtask/floor/index.html runs wasm-opt with `{floor}`, the app with `{app}`"));
    }
    Ok(())
}
