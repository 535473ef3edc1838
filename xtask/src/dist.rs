//! `cargo xtask dist`: the release build, then the flash bundle a firmware author needs
//! (crate::flash, docs/FIRMWARE.md), its size table, and a warning when the first load is over
//! budget (a failure when the budget was given with `--budget-kib`).

use crate::util::root;
use crate::{flash, run, tools};

pub fn main(opts: &flash::Options) -> Result<(), String> {
    tools::ensure_build_tools()?;
    run::build_app(true)?;
    let report = flash::bundle(&root().join("dist"), opts)?;
    print!("\n{}", report.table());
    match budget(&report) {
        Err(e) if !opts.enforce_budget => {
            println!("xtask: warning: {e}; the bundle in {} is complete", opts.out.display());
            Ok(())
        }
        r => r,
    }
}

/// Says by how much the first load is over the budget, if it is.
pub fn budget(report: &flash::report::Report) -> Result<(), String> {
    match report.over_budget() {
        Some(over) => Err(format!(
            "the first load is {over} bytes ({:.1} KiB) over the budget of {:.0} KiB gzip \
             (pass --budget-kib N to make this fail, or shrink the app: docs/SIZE.md)",
            over as f64 / 1024.0,
            report.budget as f64 / 1024.0
        )),
        None => Ok(()),
    }
}
