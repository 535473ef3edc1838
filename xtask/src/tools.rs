//! Every tool wsdeck builds or tests with, its pinned version, and how to install it on a fresh
//! machine. docs/TOOLCHAIN.md explains each pin.

use crate::util::{cmd, output, root, run};
use std::path::{Path, PathBuf};

/// Trunk 0.22 needs a newer rustc than the machines have.
pub const TRUNK: &str = "0.21.14";
/// Must equal the `wasm-bindgen` crate version pinned in Cargo.toml.
pub const WASM_BINDGEN: &str = "0.2.130";
/// binaryen from npm (xtask/npm/package.json). Debian's binaryen 108 makes a blank page.
pub const WASM_OPT_VERSION: &str = "version 132";
pub const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// An ESP32-C3's target: proves the protocol crate stays `no_std`.
pub const BARE_METAL_TARGET: &str = "riscv32imc-unknown-none-elf";
/// libFuzzer driver for the fuzz/ targets (`cargo xtask bench` only; tests do not need it).
pub const CARGO_FUZZ: &str = "0.13.2";
/// Writes the ESP32-C3 firmware's flashable image (`cargo xtask firmware`); rust-version 1.95.
pub const ESPFLASH: &str = "4.7.0";
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

pub fn npm_bin_dir() -> PathBuf {
    root().join("xtask/npm/node_modules/.bin")
}

/// What `cargo xtask run` and `dist` need: the wasm target, Trunk, wasm-bindgen, wasm-opt.
pub fn ensure_build_tools() -> Result<(), String> {
    check_lockfile_pin()?;
    ensure_targets(&[WASM_TARGET])?;
    ensure_cargo_tool("trunk", "trunk", TRUNK, &["--locked"])?;
    // wasm-bindgen-cli does not build with --locked here; its own version pin is what matters.
    ensure_cargo_tool("wasm-bindgen", "wasm-bindgen-cli", WASM_BINDGEN, &[])?;
    ensure_npm(&root().join("xtask/npm"))?;
    let wasm_opt = npm_bin_dir().join("wasm-opt");
    let version = output(cmd(&wasm_opt.to_string_lossy()).arg("--version")).unwrap_or_default();
    if !version.contains(WASM_OPT_VERSION) {
        return Err(format!(
            "{} reports `{}`, expected {WASM_OPT_VERSION}",
            wasm_opt.display(),
            version.trim()
        ));
    }
    warn_about_other_wasm_opt(&wasm_opt);
    Ok(())
}

/// What `cargo xtask test` needs on top: the bare-metal target, g++ (the firmware core's host
/// tests), Chromium and ChromeDriver, libclang (the workspace builds xtask/littlefs), gcc and zlib
/// for the bundle's C test, the end-to-end tests' npm packages, and the Python that runs the
/// real-framework devices (e2e/devices).
pub fn ensure_test_tools() -> Result<(), String> {
    ensure_build_tools()?;
    ensure_targets(&[BARE_METAL_TARGET])?;
    ensure_gxx()?;
    ensure_chromium()?;
    ensure_libclang()?;
    ensure_c_toolchain()?;
    ensure_npm(&root().join("e2e"))?;
    ensure_python_venv(&root().join("e2e/.venv"), &root().join("e2e/devices/requirements.txt"))
}

/// What `cargo xtask bench --only fuzz` needs: the nightly toolchain (sanitizer flags),
/// cargo-fuzz, and Debian's clang 14 with its libFuzzer runtime for the firmware core's target.
pub fn ensure_fuzz_tools() -> Result<(), String> {
    let toolchains = output(cmd("rustup").args(["toolchain", "list"])).unwrap_or_default();
    if !toolchains.lines().any(|l| l.starts_with("nightly")) {
        run(cmd("rustup").args(["toolchain", "install", "nightly", "--profile", "minimal"]))?;
    }
    ensure_debian(&[
        ("clang-14", dpkg_installed("clang-14")),
        ("libclang-rt-14-dev", dpkg_installed("libclang-rt-14-dev")),
    ])?;
    ensure_cargo_tool("cargo-fuzz", "cargo-fuzz", CARGO_FUZZ, &["--locked"])
}

/// What `cargo xtask firmware` (and its step in `test`) needs: the chip's target and espflash,
/// which builds from crates.io against Debian's libudev (its serial port support).
pub fn ensure_firmware_tools() -> Result<(), String> {
    ensure_targets(&[BARE_METAL_TARGET])?;
    let have = output(cmd("espflash").arg("--version")).unwrap_or_default();
    if !have.split_whitespace().any(|w| w == ESPFLASH) {
        let pkg_config = output(cmd("pkg-config").arg("--version")).is_some();
        ensure_debian(&[("libudev-dev", dpkg_installed("libudev-dev")), ("pkg-config", pkg_config)])?;
    }
    // Without the default `update-check`, which asks crates.io for a newer espflash on every run
    // and builds an HTTP client for it (measured on 2 cores: 2 min 15 s to install instead of 3 min 20 s).
    ensure_cargo_tool(
        "espflash",
        "espflash",
        ESPFLASH,
        &["--locked", "--no-default-features", "--features", "cli"],
    )
}

/// The crate and the CLI must be the same wasm-bindgen, or the build fails late and obscurely.
fn check_lockfile_pin() -> Result<(), String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).map_err(|e| format!("Cargo.lock: {e}"))?;
    let locked = lock
        .split("[[package]]")
        .find(|p| p.contains("name = \"wasm-bindgen\"\n"))
        .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = \"")))
        .map(|v| v.trim_end_matches('"').to_string());
    match locked {
        Some(v) if v == WASM_BINDGEN => Ok(()),
        Some(v) => Err(format!("Cargo.lock has wasm-bindgen {v} but xtask pins the CLI at {WASM_BINDGEN}")),
        None => Err("Cargo.lock has no wasm-bindgen".into()),
    }
}

fn ensure_targets(targets: &[&str]) -> Result<(), String> {
    let installed = output(cmd("rustup").args(["target", "list", "--installed"])).unwrap_or_default();
    let missing: Vec<&str> =
        targets.iter().copied().filter(|t| !installed.lines().any(|l| l.trim() == *t)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    run(cmd("rustup").args(["target", "add"]).args(&missing))
}

/// Installs `krate` at `version` unless `bin --version` already reports it.
fn ensure_cargo_tool(bin: &str, krate: &str, version: &str, extra: &[&str]) -> Result<(), String> {
    let have = output(cmd(bin).arg("--version")).unwrap_or_default();
    if have.split_whitespace().any(|w| w == version) {
        return Ok(());
    }
    println!("xtask: installing {krate} {version} (a few minutes, once)");
    run(cmd("cargo").args(["install", krate, "--version", version]).args(extra))
}

/// `npm ci` when node_modules is missing or older than the lock file.
pub fn ensure_npm(dir: &Path) -> Result<(), String> {
    let marker = dir.join("node_modules/.package-lock.json");
    let lock = dir.join("package-lock.json");
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if let (Some(installed), Some(locked)) = (modified(&marker), modified(&lock)) {
        if installed >= locked {
            return Ok(());
        }
    }
    run(cmd("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(dir))
}

/// A virtualenv at `venv` with exactly the hashed pins of `requirements` (e2e/devices runs
/// Microdot on CPython). Done once: the venv keeps a copy of the requirements it was made from.
fn ensure_python_venv(venv: &Path, requirements: &Path) -> Result<(), String> {
    let wanted =
        std::fs::read_to_string(requirements).map_err(|e| format!("{}: {e}", requirements.display()))?;
    let installed = venv.join("wsdeck-requirements.txt");
    let python = venv.join("bin/python");
    if python.exists() && std::fs::read_to_string(&installed).is_ok_and(|have| have == wanted) {
        return Ok(());
    }
    // Debian splits venv's pip bootstrap into python3-venv; other Pythons (pyenv) have it built in.
    let has_venv = output(cmd("python3").args(["-c", "import venv, ensurepip"])).is_some();
    ensure_debian(&[("python3-venv", has_venv)])?;
    run(cmd("python3").args(["-m", "venv", "--clear"]).arg(venv))?;
    run(cmd(&python.to_string_lossy())
        .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--require-hashes"])
        .arg("-r")
        .arg(requirements))?;
    std::fs::write(&installed, wanted).map_err(|e| format!("{}: {e}", installed.display()))
}

/// Debian's g++ (any version with C++14 and the address/undefined sanitizers; 12 is tested).
fn ensure_gxx() -> Result<(), String> {
    ensure_debian(&[("g++", output(cmd("g++").arg("--version")).is_some())])
}

fn is_root() -> bool {
    output(cmd("id").arg("-u")).is_some_and(|uid| uid.trim() == "0")
}

fn ensure_chromium() -> Result<(), String> {
    let present = Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists();
    ensure_debian(&[("chromium", present), ("chromium-driver", present)])
}

/// littlefs' C core is bound with bindgen (xtask/littlefs), which needs libclang.
pub fn ensure_libclang() -> Result<(), String> {
    ensure_debian(&[(
        "libclang-dev",
        dpkg_installed("libclang-dev") || std::env::var_os("LIBCLANG_PATH").is_some(),
    )])
}

/// The firmware bundle's C test: gcc and zlib's header and library.
pub fn ensure_c_toolchain() -> Result<(), String> {
    let gcc = output(cmd("gcc").arg("--version")).is_some();
    ensure_debian(&[("gcc", gcc), ("zlib1g-dev", Path::new("/usr/include/zlib.h").exists())])
}

fn dpkg_installed(package: &str) -> bool {
    output(cmd("dpkg-query").args(["-W", "-f=${Status}", package]))
        .is_some_and(|s| s.contains("install ok installed"))
}

/// Installs the Debian packages whose flag says they are missing (one `apt-get update` per run).
pub(crate) fn ensure_debian(packages: &[(&str, bool)]) -> Result<(), String> {
    let missing: Vec<&str> = packages.iter().filter(|p| !p.1).map(|p| p.0).collect();
    if missing.is_empty() {
        return Ok(());
    }
    if !is_root() {
        return Err(format!(
            "this needs Debian's {}; install with\n  sudo apt-get update && sudo apt-get install -y {}",
            missing.join(", "),
            missing.join(" ")
        ));
    }
    static UPDATED: std::sync::Once = std::sync::Once::new();
    let mut updated = Ok(());
    UPDATED.call_once(|| updated = run(cmd("apt-get").arg("update")));
    updated?;
    run(cmd("apt-get").args(["install", "-y", "--no-install-recommends"]).args(&missing))
}

/// Trunk runs the first wasm-opt on PATH; ours is first, but a second one invites mistakes.
fn warn_about_other_wasm_opt(ours: &Path) {
    let Some(path) = std::env::var_os("PATH") else { return };
    for dir in std::env::split_paths(&path) {
        let other = dir.join("wasm-opt");
        if other.exists() && other != ours {
            println!(
                "xtask: warning: another wasm-opt at {} ({}); builds use {}",
                other.display(),
                output(std::process::Command::new(&other).arg("--version")).unwrap_or_default().trim(),
                ours.display()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Makes a venv from e2e/devices/requirements.txt in a scratch folder (needs PyPI):
    /// `cargo test -p xtask -- --ignored python_venv`.
    #[test]
    #[ignore]
    fn python_venv_has_the_pinned_microdot_and_is_made_once() {
        let venv = std::env::temp_dir().join(format!("wsdeck-venv-test-{}", std::process::id()));
        let requirements = root().join("e2e/devices/requirements.txt");
        ensure_python_venv(&venv, &requirements).unwrap();
        let python = venv.join("bin/python");
        let version = output(
            cmd(&python.to_string_lossy()).args(["-c", "import microdot; print(microdot.__version__)"]),
        );
        let pinned = std::fs::read_to_string(&requirements).unwrap();
        assert!(
            pinned.contains(&format!("microdot=={}", version.as_deref().unwrap_or("?").trim())),
            "{version:?}"
        );
        let made =
            std::fs::metadata(venv.join("wsdeck-requirements.txt")).and_then(|m| m.modified()).unwrap();
        ensure_python_venv(&venv, &requirements).unwrap();
        let again =
            std::fs::metadata(venv.join("wsdeck-requirements.txt")).and_then(|m| m.modified()).unwrap();
        assert_eq!(made, again, "the second call found the venv current and left it alone");
        std::fs::remove_dir_all(&venv).unwrap();
    }
}
