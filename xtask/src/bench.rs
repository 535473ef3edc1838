//! `cargo xtask bench`: speed figures that tests must not assert. Each benchmark prints a table
//! and writes JSON under target/bench/, with ratios against a baseline measured in the same run.

use crate::util::{cmd, root, run};
use crate::{run as run_task, tools};

pub fn main() -> Result<(), String> {
    tools::ensure_test_tools()?;
    run_task::build_app(true)?;
    let sim = run_task::build_sim()?;
    for bench in ["drive-latency", "faults"] {
        let out = root().join(format!("target/bench/{bench}.json"));
        run(cmd("node")
            .arg(root().join(format!("e2e/bench/{bench}.mjs")))
            .arg(&out)
            .env("WSDECK_SIM", &sim)
            .env("WSDECK_DIST", root().join("dist"))
            .env("WSDECK_CHROMIUM", tools::CHROMIUM))?;
    }
    Ok(())
}
