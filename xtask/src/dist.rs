//! `cargo xtask dist`: the release build, then the flash bundle a firmware author needs
//! (crate::flash, docs/FIRMWARE.md), its size table, and a failure when it is over budget.

use crate::util::root;
use crate::{flash, run, tools};

pub fn main(opts: &flash::Options) -> Result<(), String> {
    tools::ensure_build_tools()?;
    run::build_app(true)?;
    let report = flash::bundle(&root().join("dist"), opts)?;
    print!("\n{}", report.table());
    budget(&report)
}

/// Fails when the bundle's gzip total is over the budget, saying by how much.
pub fn budget(report: &flash::report::Report) -> Result<(), String> {
    match report.over_budget() {
        Some(over) => Err(format!(
            "the app is {over} bytes ({:.1} KiB) over the flash budget of {:.0} KiB gzip \
             (raise it with --budget-kib N, or shrink the app: docs/SIZE.md)",
            over as f64 / 1024.0,
            report.budget as f64 / 1024.0
        )),
        None => Ok(()),
    }
}
