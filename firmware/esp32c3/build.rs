//! Finds the flash bundle's Rust module (`cargo xtask dist` writes target/flash/wsdeck_assets.rs)
//! for main.rs to include, and says what to run when it is missing.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=WSDECK_ASSETS");
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() != Ok("riscv32") {
        // Host builds (the library's tests) do not serve the app.
        return;
    }
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let module = match std::env::var_os("WSDECK_ASSETS") {
        Some(path) => manifest.join(path),
        None => manifest.join("../../target/flash/wsdeck_assets.rs"),
    };
    let Ok(module) = module.canonicalize() else {
        panic!(
            "\n\nthe app's flash bundle is missing: {}\nbuild it with `cargo xtask dist` (or the whole image with \
             `cargo xtask firmware`), or point WSDECK_ASSETS at a wsdeck_assets.rs\n",
            module.display()
        );
    };
    println!("cargo:rerun-if-changed={}", module.display());
    println!("cargo:rustc-env=WSDECK_ASSETS={}", module.display());
}
