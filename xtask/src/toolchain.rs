//! Which Rust builds the release wasm: nightly, rebuilding the standard library for size with
//! panics that abort at once (~10 % less wasm), or stable when nightly cannot be had. Only the
//! release wasm: native builds, tests, clippy and `run --dev` stay on stable (docs/TOOLCHAIN.md).

use crate::tools::WASM_TARGET;
use crate::util::{cmd, output, run};
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// The Rust that builds a release wasm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Toolchain {
    /// A rustup nightly, by its full name (`nightly-x86_64-unknown-linux-gnu`), with rust-src,
    /// the wasm target and the standard library's own dependencies in cargo's cache.
    Nightly(String),
    Stable,
}

/// The nightly build's settings, in the environment that Trunk passes on to cargo (Trunk has no
/// other way to take them). Each is measured in docs/SIZE.md. Not set: `-Zlocation-detail=none`
/// and `-Zfmt-debug=none` (no smaller once panics abort at once, and they would empty `{:?}`),
/// nor wasm-opt's `-tnh` (a panic would be undefined behaviour instead of a trap).
pub const NIGHTLY_ENV: [(&str, &str); 4] = [
    // std compiled with the app: LTO and opt-level "z" reach into it, and what is unused goes.
    ("CARGO_UNSTABLE_BUILD_STD", "std,panic_abort"),
    // std's smaller code paths where it has two.
    ("CARGO_UNSTABLE_BUILD_STD_FEATURES", "optimize_for_size"),
    // A panic is a trap at once: no panic hook, no message formatting (`profile.release.panic`
    // in the environment, which only this unstable flag allows).
    ("CARGO_UNSTABLE_PANIC_IMMEDIATE_ABORT", "true"),
    ("CARGO_PROFILE_RELEASE_PANIC", "immediate-abort"),
];

impl Toolchain {
    pub fn name(&self) -> &'static str {
        match self {
            Toolchain::Nightly(_) => "nightly",
            Toolchain::Stable => "stable",
        }
    }

    /// Sets up `trunk` (a `trunk build --release`) to build with this toolchain.
    pub fn apply(&self, trunk: &mut Command) {
        if let Toolchain::Nightly(name) = self {
            trunk.env("RUSTUP_TOOLCHAIN", name);
            trunk.envs(NIGHTLY_ENV);
        }
    }
}

/// The toolchain of the wasm that ships, chosen once per run and said in one line: nightly when
/// rustup has one that takes the flags (its components are installed here), stable otherwise.
pub fn release() -> &'static Toolchain {
    static CHOSEN: OnceLock<Toolchain> = OnceLock::new();
    CHOSEN.get_or_init(|| match nightly() {
        Ok((toolchain, version)) => {
            println!(
                "xtask: the release wasm is built by {} (build-std, immediate-abort panics)",
                version.trim()
            );
            toolchain
        }
        Err(why) => {
            println!(
                "xtask: the release wasm is built on stable, ~10 % larger than on nightly \
                 (docs/TOOLCHAIN.md): {why}"
            );
            Toolchain::Stable
        }
    })
}

/// The installed nightly made ready for the build, and its `rustc --version`; or why not.
fn nightly() -> Result<(Toolchain, String), String> {
    let list = output(cmd("rustup").args(["toolchain", "list"])).ok_or("`rustup toolchain list` failed")?;
    let name =
        nightly_name(&list).ok_or("rustup has no nightly (`rustup toolchain install nightly` adds one)")?;
    let on_nightly = |program: &str| {
        let mut c = cmd(program);
        c.env("RUSTUP_TOOLCHAIN", &name);
        c
    };
    let components = output(cmd("rustup").args(["component", "list", "--installed", "--toolchain", &name]))
        .unwrap_or_default();
    let has = |component: &str| components.lines().any(|l| l.trim() == component);
    if !has("rust-src") {
        run(cmd("rustup").args(["component", "add", "rust-src", "--toolchain", &name]))
            .map_err(|e| format!("{name} has no rust-src: {e}"))?;
    }
    if !has(&format!("rust-std-{WASM_TARGET}")) {
        run(cmd("rustup").args(["target", "add", WASM_TARGET, "--toolchain", &name]))
            .map_err(|e| format!("{name} has no {WASM_TARGET}: {e}"))?;
    }
    // An older nightly lacks a flag (the immediate-abort syntax changed in 2025): stable then.
    let cargo_flags = output(on_nightly("cargo").args(["-Z", "help"])).unwrap_or_default();
    for (flag, listed) in [
        ("-Zpanic-immediate-abort", cargo_flags.contains("panic-immediate-abort")),
        ("-Zbuild-std-features", cargo_flags.contains("build-std-features")),
    ] {
        if !listed {
            return Err(format!("{name} does not know {flag}"));
        }
    }
    // Trunk.toml's `offline = true` makes Trunk pass `--offline` to cargo, so the crates std is
    // built from (dlmalloc, wasip1, ...) must be in cargo's cache first (~0.2 s when they are).
    let sysroot = output(on_nightly("rustc").args(["--print", "sysroot"])).ok_or("no nightly sysroot")?;
    let library = PathBuf::from(sysroot.trim()).join("lib/rustlib/src/rust/library/Cargo.toml");
    let fetched = on_nightly("cargo").args(["fetch", "--locked", "--manifest-path"]).arg(&library).output();
    match fetched {
        Ok(out) if out.status.success() => {}
        Ok(out) => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let last = stderr.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("").trim().to_string();
            return Err(format!("cannot fetch the standard library's crates: {last}"));
        }
        Err(e) => return Err(format!("cannot run cargo fetch: {e}")),
    }
    let version = output(on_nightly("rustc").arg("--version")).unwrap_or_else(|| name.clone());
    Ok((Toolchain::Nightly(name), version))
}

/// The first nightly of `rustup toolchain list` (`nightly-x86_64-unknown-linux-gnu (default)`,
/// or a dated `nightly-2026-05-19-...`).
fn nightly_name(list: &str) -> Option<String> {
    list.lines()
        .filter_map(|l| l.split_whitespace().next())
        .find(|n| n.starts_with("nightly"))
        .map(String::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nightly_is_found_by_its_full_name_whatever_else_is_installed() {
        let list = "stable-x86_64-unknown-linux-gnu (active, default)\n\
                    nightly-2026-05-19-x86_64-unknown-linux-gnu\n\
                    1.95.0-x86_64-unknown-linux-gnu\n";
        assert_eq!(nightly_name(list).as_deref(), Some("nightly-2026-05-19-x86_64-unknown-linux-gnu"));
        assert_eq!(nightly_name("stable-x86_64-unknown-linux-gnu (default)\n"), None);
        assert_eq!(nightly_name(""), None);
    }

    /// Only the nightly build gets the flags, and none replaces `.cargo/config.toml`'s flags for
    /// the wasm target (`--cfg erase_components`), as RUSTFLAGS in the environment would.
    #[test]
    fn stable_builds_get_no_nightly_flags_and_no_flag_replaces_the_config_rustflags() {
        let mut c = Command::new("trunk");
        Toolchain::Stable.apply(&mut c);
        assert_eq!(c.get_envs().count(), 0);
        Toolchain::Nightly("nightly".into()).apply(&mut c);
        let envs: Vec<_> = c.get_envs().map(|(k, _)| k.to_string_lossy().into_owned()).collect();
        assert!(envs.contains(&"RUSTUP_TOOLCHAIN".to_string()), "{envs:?}");
        assert!(!envs.iter().any(|k| k.ends_with("RUSTFLAGS")), "{envs:?}");
    }

    /// A nightly as a fresh image has it (no rust-src, no wasm target) is made ready and chosen.
    /// Installs with rustup and fetches from crates.io, so not in every run; on a copy of rustup's
    /// home (`cp -a` the nightly, `rustup component remove rust-src`, `rustup target remove
    /// wasm32-unknown-unknown`):
    /// `RUSTUP_HOME=<copy> cargo test -p xtask -- --ignored a_bare_nightly`.
    #[test]
    #[ignore = "installs rustup components"]
    fn a_bare_nightly_gets_its_components_and_is_chosen() {
        let (toolchain, version) = nightly().unwrap();
        let Toolchain::Nightly(name) = toolchain else { panic!("{toolchain:?}") };
        assert!(version.contains("nightly"), "{version}");
        let installed =
            output(cmd("rustup").args(["component", "list", "--installed", "--toolchain", &name])).unwrap();
        for component in ["rust-src", "rust-std-wasm32-unknown-unknown"] {
            assert!(installed.lines().any(|l| l.trim() == component), "{component} missing:\n{installed}");
        }
    }
}
