//! `cargo xtask run`: build the app, then start the simulator serving it.

use crate::util::{cmd, root, run};
use crate::{tools, Flags};

pub fn main(flags: &Flags) -> Result<(), String> {
    tools::ensure_build_tools()?;
    build_app(!flags.dev)?;
    let sim = build_sim()?;
    println!("xtask: starting the simulator (Ctrl-C stops it)\n");
    let mut c = cmd(&sim.to_string_lossy());
    c.arg("--dist").arg(root().join("dist")).args(&flags.sim_args);
    run(&mut c)
}

/// `trunk build` into dist/, then the service worker that keeps exactly what Trunk wrote.
pub fn build_app(release: bool) -> Result<(), String> {
    let mut c = cmd("trunk");
    c.arg("build");
    if release {
        c.arg("--release");
    }
    run(&mut c)?;
    let dist = root().join("dist");
    if release {
        shrink_glue(&dist)?;
    }
    crate::pwa::write_service_worker(&dist)
}

/// xtask/npm/minify.mjs on a release dist: short names for the wasm's imports (in the wasm and
/// the JS glue), terser on the JS (Trunk's own minifier cannot parse wasm-bindgen 0.2.130's
/// output, docs/TOOLCHAIN.md), and the integrity hashes in index.html updated.
pub fn shrink_glue(dist: &std::path::Path) -> Result<(), String> {
    run(cmd("node").arg(root().join("xtask/npm/minify.mjs")).arg(dist))
}

/// Builds wsdeck-sim (debug: it shares compiled dependencies with the tests) and returns its path.
pub fn build_sim() -> Result<std::path::PathBuf, String> {
    run(cmd("cargo").args(["build", "--quiet", "-p", "wsdeck-sim"]))?;
    Ok(root().join("target/debug/wsdeck-sim"))
}
