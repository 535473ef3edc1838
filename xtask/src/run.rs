//! `cargo xtask run`: build the app, then start the simulator serving it.

use crate::toolchain::{self, Toolchain};
use crate::util::{cmd, root, run};
use crate::{tools, Flags};
use std::path::Path;

pub fn main(flags: &Flags) -> Result<(), String> {
    tools::ensure_build_tools()?;
    build_app(!flags.dev)?;
    let sim = build_sim()?;
    println!("xtask: starting the simulator (Ctrl-C stops it)\n");
    let mut c = cmd(&sim.to_string_lossy());
    c.arg("--dist").arg(root().join("dist")).args(&flags.sim_args);
    run(&mut c)
}

/// `trunk build` into dist/, then the service worker that keeps exactly what Trunk wrote. A
/// release build is the one that ships, on the toolchain [`toolchain::release`] picks.
pub fn build_app(release: bool) -> Result<(), String> {
    let dist = root().join("dist");
    if release {
        build_release(toolchain::release(), &dist)?;
    } else {
        run(cmd("trunk").arg("build"))?;
    }
    crate::pwa::write_service_worker(&dist)
}

/// `trunk build --release` of the app into `dist` on `toolchain`, then the pages split into
/// chunks loaded on demand ([`crate::split`], unless `WSDECK_SPLIT=0`) and [`shrink_glue`].
pub fn build_release(toolchain: &Toolchain, dist: &Path) -> Result<(), String> {
    let mut c = cmd("trunk");
    c.args(["build", "--release", "--dist"]).arg(dist);
    toolchain.apply(&mut c);
    run(&mut c)?;
    if split_enabled() {
        crate::split::split(toolchain, dist)?;
    } else {
        println!("xtask: WSDECK_SPLIT=0: the release wasm is not split, every page is in it");
    }
    shrink_glue(dist)
}

/// The release build splits its wasm unless the environment says `WSDECK_SPLIT=0` (to weigh
/// the split, or to rule it out when looking for a fault).
pub fn split_enabled() -> bool {
    std::env::var("WSDECK_SPLIT").map_or(true, |v| v != "0")
}

/// xtask/npm/minify.mjs on a release dist: short names for the wasm's imports (in the wasm and
/// the JS glue), terser on the JS (Trunk's own minifier cannot parse wasm-bindgen 0.2.130's
/// output, docs/TOOLCHAIN.md), and the integrity hashes in index.html updated.
pub fn shrink_glue(dist: &Path) -> Result<(), String> {
    run(cmd("node").arg(root().join("xtask/npm/minify.mjs")).arg(dist))
}

/// Builds wsdeck-sim (debug: it shares compiled dependencies with the tests) and returns its path.
pub fn build_sim() -> Result<std::path::PathBuf, String> {
    run(cmd("cargo").args(["build", "--quiet", "-p", "wsdeck-sim"]))?;
    Ok(root().join("target/debug/wsdeck-sim"))
}
