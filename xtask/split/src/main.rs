//! `xtask-split <raw.wasm> <out dir> <main module> <loader>`: splits a wasm linked with
//! `--emit-relocs` at its `#[wasm_split]` functions (src/shell/chunks.rs). Writes `<out
//! dir>/main.wasm` (for wasm-bindgen, which must keep the linker's exports), one `.wasm` per chunk
//! and the loader `<out dir>/<loader>` (imported by the main module's JS as `./<loader>`; it
//! imports `initSync` from `./<main module>`), and prints the chunks each split needs as JSON.
//! Run by `cargo xtask` (xtask/src/split.rs), not by hand.

use std::path::Path;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, out, main_module, loader] = args.as_slice() else {
        eprintln!("usage: xtask-split <raw.wasm> <out dir> <main module .js> <loader .js>");
        std::process::exit(2);
    };
    if let Err(e) = split(Path::new(input), Path::new(out), main_module, loader) {
        eprintln!("xtask-split: {e:?}");
        std::process::exit(1);
    }
}

fn split(input: &Path, out: &Path, main_module: &str, loader: &str) -> Result<(), String> {
    let wasm = std::fs::read(input).map_err(|e| format!("{}: {e}", input.display()))?;
    let main_out = out.join("main.wasm");
    let main_module = format!("./{main_module}");
    let link_name = format!("./{loader}");
    let mut opts = wasm_split_cli_support::Options::new(&wasm);
    opts.output_dir = out;
    opts.main_out_path = &main_out;
    opts.main_module = &main_module;
    opts.link_name = &link_name;
    let split = wasm_split_cli_support::transform(opts).map_err(|e| format!("{e:?}"))?;
    let prefetch: std::collections::BTreeMap<_, _> = split.prefetch_map.into_iter().collect();
    let json = serde_json::to_string(&prefetch).map_err(|e| e.to_string())?;
    println!("{json}");
    Ok(())
}
