//! `cargo xtask icons [--check]`: the PNG app icons in public/ rendered from public/icon.svg by
//! xtask/icons/render.mjs (resvg, then a small palette: they go into device flash).

use crate::tools;
use crate::util::{cmd, root, run};

pub fn main(check: bool) -> Result<(), String> {
    let dir = root().join("xtask/icons");
    tools::ensure_npm(&dir)?;
    let mut c = cmd("node");
    c.arg(dir.join("render.mjs"));
    if check {
        c.arg("--check");
    }
    run(&mut c)
}
