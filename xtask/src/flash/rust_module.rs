//! `wsdeck_assets.rs`: the bundle for Rust firmware (esp-hal, esp-idf-svc): `include_bytes!` of
//! the `.gz` files beside it and the same route table as the C header. `no_std`, no `alloc`.

use super::{Asset, GENERATED};
use std::fmt::Write;

const PREAMBLE: &str = r#"
/// One file of the app as the device serves it.
#[derive(Debug)]
pub struct Asset {
    /// `/index.html`, `/wsdeck-<hash>_bg.wasm`, ...
    pub path: &'static str,
    /// Content-Type, as the simulator sends it.
    pub mime: &'static str,
    /// gzip body: send with `Content-Encoding: gzip`.
    pub gzip: &'static [u8],
    /// Quoted strong ETag: answer a matching `If-None-Match` with 304.
    pub etag: &'static str,
    /// `no-cache` for index.html, `public, max-age=31536000, immutable` for hashed assets.
    pub cache_control: &'static str,
    /// HTML pages: send as `Content-Security-Policy`.
    pub csp: Option<&'static str>,
}

/// The asset for a request path: `/` (and any path ending in `/`) means its `index.html`; a
/// query string or fragment is ignored.
pub fn find(path: &str) -> Option<&'static Asset> {
    let path = path.split(['?', '#']).next().unwrap_or("");
    if path.ends_with('/') {
        ASSETS.iter().find(|a| a.path.strip_suffix("index.html") == Some(path))
    } else {
        ASSETS.iter().find(|a| a.path == path)
    }
}
"#;

pub fn generate(assets: &[Asset], hash: &str) -> String {
    let total: usize = assets.iter().map(|a| a.gzip().len()).sum();
    let mut out =
        format!("// {GENERATED}.\n// wsdeck bundle {hash}: {} files, {total} bytes gzip.\n", assets.len());
    out.push_str("// How to serve it: docs/FIRMWARE.md. Keep the .gz files beside this file.\n");
    out.push_str(PREAMBLE);
    let _ = writeln!(
        out,
        "\n/// Changes whenever any file of the app changes.\npub const BUNDLE_HASH: &str = {hash:?};"
    );
    out.push_str("\npub static ASSETS: &[Asset] = &[\n");
    for a in assets {
        let _ = writeln!(
            out,
            "    Asset {{\n        path: {:?},\n        mime: {:?},\n        gzip: include_bytes!({:?}),\n        etag: {:?},\n        cache_control: {:?},\n        csp: {:?},\n    }},",
            a.path,
            a.mime,
            a.gz_name(),
            a.etag,
            a.cache_control,
            a.csp
        );
    }
    out.push_str("];\n");
    out
}

#[cfg(test)]
mod tests {
    use super::super::testing::{fake_assets, TempDir};
    use super::super::{write_sources, RUST_MODULE};
    use std::process::Command;

    fn rustc(dir: &std::path::Path, args: &[&str]) {
        let out =
            Command::new("rustc").current_dir(dir).args(["--edition", "2021"]).args(args).output().unwrap();
        assert!(out.status.success(), "rustc {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// The module compiles as a library without warnings, and a program using it finds `/` and
    /// the wasm with the right lengths and headers.
    #[test]
    fn the_module_compiles_and_finds_routes() {
        let dir = TempDir::new("rust-module");
        let assets = fake_assets();
        write_sources(&assets, &dir.0).unwrap();
        rustc(&dir.0, &["--crate-type", "lib", "-D", "warnings", "-o", "libwsdeck_assets.rlib", RUST_MODULE]);
        let index = assets.iter().find(|a| a.path == "/index.html").unwrap();
        let wasm = assets.iter().find(|a| a.path.ends_with(".wasm")).unwrap();
        let main = format!(
            r#"mod wsdeck_assets;
fn main() {{
    let index = wsdeck_assets::find("/").expect("/ is index.html");
    assert_eq!(index.path, "/index.html");
    assert_eq!(index.gzip.len(), {});
    assert_eq!(index.cache_control, "no-cache");
    assert!(std::ptr::eq(index, wsdeck_assets::find("/index.html?ws=ws://10.0.0.7/ws").unwrap()));
    let wasm = wsdeck_assets::find("{}").unwrap();
    assert_eq!((wasm.mime, wasm.gzip.len(), wasm.etag), ("application/wasm", {}, {:?}));
    assert!(wsdeck_assets::find("/missing.js").is_none());
    assert_eq!(wsdeck_assets::ASSETS.len(), {});
}}
"#,
            index.gzip().len(),
            wasm.path,
            wasm.gzip().len(),
            wasm.etag,
            assets.len()
        );
        std::fs::write(dir.0.join("main.rs"), main).unwrap();
        rustc(&dir.0, &["-o", "lookup", "main.rs"]);
        let status = Command::new(dir.0.join("lookup")).status().unwrap();
        assert!(status.success());
    }
}
