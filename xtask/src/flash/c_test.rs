//! Builds firmware/test/assets_test.c against a bundle's `wsdeck_assets.h` with gcc and zlib and
//! runs it on the dist the bundle was made from: what a C firmware sees, checked on this machine.

use crate::util::{cmd, root, run, run_counted, Counts};
use std::path::Path;

pub const SOURCE: &str = "firmware/test/assets_test.c";

pub fn run_c_test(dist: &Path, bundle: &Path, counts: &mut Counts) -> Result<(), String> {
    let exe = bundle.join("assets_test");
    run(cmd("gcc")
        .args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-O1"])
        .arg("-I")
        .arg(bundle)
        .arg(root().join(SOURCE))
        .arg("-o")
        .arg(&exe)
        .arg("-lz"))?;
    run_counted(cmd(&exe.to_string_lossy()).arg(dist).arg(bundle), counts)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{fake_assets, TempDir};
    use super::super::write_sources;
    use super::*;

    /// The C test passes on a fake dist's bundle, and fails when a body does not match.
    #[test]
    fn the_c_test_checks_every_route() {
        let dir = TempDir::new("c-test");
        let (dist, bundle) = (dir.0.join("dist"), dir.0.join("bundle"));
        let assets = fake_assets();
        for a in &assets {
            let file = dist.join(a.path.trim_start_matches('/'));
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(file, &a.raw).unwrap();
        }
        write_sources(&assets, &bundle).unwrap();
        let mut counts = Counts::default();
        run_c_test(&dist, &bundle, &mut counts).unwrap();
        // 1 count + 4 per asset + 7 lookups + 1 wasm MIME + the index's policy + 1 per asset (policy
        // exactly for HTML)
        assert_eq!(counts, Counts { passed: 1 + 5 * assets.len() as u64 + 9, failed: 0 });

        std::fs::write(dist.join("index.html"), b"changed after the bundle was made").unwrap();
        let mut counts = Counts::default();
        assert!(run_c_test(&dist, &bundle, &mut counts).is_err());
        assert_eq!(counts.failed, 1);
    }
}
