//! The split: after `trunk build --release`, the app's wasm is rebuilt with its pages as chunks
//! loaded on demand (the `split` feature, src/shell/chunks.rs), and Trunk's JS and wasm in dist/
//! are replaced by the split build's. Trunk cannot do it (no release of Trunk splits, and its
//! hooks run before cargo or after wasm-bindgen and wasm-opt, trunk-rs/trunk#1022): the splitter
//! needs the linker's relocations, on the wasm before wasm-bindgen. What cargo-leptos does for
//! `--split`, in this order:
//!
//! 1. `cargo rustc` of the app's binary with `split` on the same toolchain, profile and flags as
//!    Trunk's build, linked with `--emit-relocs` (only the binary: every dependency is the one
//!    Trunk's build compiled);
//! 2. `xtask-split` (xtask/split, wasm_split_cli_support): the main module, a wasm per chunk and
//!    the loader JS that fetches them;
//! 3. wasm-bindgen on the main module as Trunk runs it, plus `--keep-lld-exports` (the chunks
//!    import the main module's functions, memory and table through them);
//! 4. the exports of `wasm-streams` dropped from the main module ([`UNUSED_EXPORTS`]), then
//!    wasm-opt with index.html's flags on the main module and on each chunk;
//! 5. the loader joined into the main JS (a file of its own would be one more request of the
//!    first load, and the two import each other); dist/: the main JS and wasm under Trunk's
//!    names, each chunk as `chunk-<name>-<hash of its content>.wasm` (hashed names are cached as
//!    immutable, wsdeck_serving::cache_control_for; report::first_load never counts a `chunk-`),
//!    and index.html's integrity hashes for the two files replaced.
//!
//! xtask/npm/minify.mjs runs after this as on an unsplit build, then the service worker is
//! written from dist/ (so it precaches the chunks).

use crate::toolchain::Toolchain;
use crate::tools::WASM_TARGET;
use crate::util::{cmd, output, root, run};
use std::path::{Path, PathBuf};
use wsdeck_serving::fnv1a64;

/// Every chunk's file name starts with this: fetched when a page needs it, never in the first
/// load (report::first_load).
pub const CHUNK_PREFIX: &str = "chunk-";
/// The module the main wasm imports the chunks' loaders from, and the splitter's loader file.
const LOADER: &str = "s.js";

/// Exports of the main module that nothing calls, dropped before wasm-opt so that it removes
/// their code: `wasm-streams`' JS stream adapters (`IntoUnderlyingSource`, `...ByteSource`,
/// `...Sink`), which leptos' `csr` feature pulls in through server_fn's `browser` feature. The
/// app has no server functions; the JS classes stay in the glue, unused (their methods would
/// throw if called). ~2 KiB gzip of the first load (docs/SIZE.md).
const UNUSED_EXPORTS: &[&str] = &["intounderlying", "__wbg_intounderlying"];

/// Trunk's JS and wasm of one build in `dist`: `wsdeck-<hash>.js` and `wsdeck-<hash>_bg.wasm`.
struct TrunkOutput {
    js: PathBuf,
    wasm: PathBuf,
}

fn trunk_output(dist: &Path) -> Result<TrunkOutput, String> {
    let names: Vec<String> = std::fs::read_dir(dist)
        .map_err(|e| format!("{}: {e}", dist.display()))?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    let js: Vec<&String> = names.iter().filter(|n| n.starts_with("wsdeck-") && n.ends_with(".js")).collect();
    let [js] = js.as_slice() else {
        return Err(format!("expected one wsdeck-<hash>.js in {}, found {}", dist.display(), js.len()));
    };
    let hash = js.trim_start_matches("wsdeck-").trim_end_matches(".js").to_string();
    let wasm = format!("wsdeck-{hash}_bg.wasm");
    if !names.contains(&wasm) {
        return Err(format!("no {wasm} beside {js} in {}", dist.display()));
    }
    Ok(TrunkOutput { js: dist.join(js), wasm: dist.join(wasm) })
}

/// Cargo's target directory (CARGO_TARGET_DIR when set), as Trunk's build used it.
fn target_dir() -> Result<PathBuf, String> {
    let meta = output(cmd("cargo").args(["metadata", "--format-version", "1", "--no-deps", "--offline"]))
        .ok_or("`cargo metadata` failed")?;
    let meta: serde_json::Value = serde_json::from_str(&meta).map_err(|e| format!("cargo metadata: {e}"))?;
    meta["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .ok_or_else(|| "cargo metadata has no target_directory".into())
}

/// index.html's wasm-opt flags (`data-wasm-opt` and `data-wasm-opt-params`), as Trunk passes them.
fn wasm_opt_flags(index: &str) -> Result<Vec<String>, String> {
    let attr = |name: &str| {
        index
            .split(&format!("{name}=\""))
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .map(str::to_string)
            .ok_or_else(|| format!("index.html has no {name}"))
    };
    let mut flags = vec![format!("-O{}", attr("data-wasm-opt")?)];
    flags.extend(attr("data-wasm-opt-params")?.split_whitespace().map(String::from));
    Ok(flags)
}

/// A Subresource Integrity hash, as Trunk writes it.
pub fn sri(bytes: &[u8]) -> String {
    use base64::Engine;
    use sha2::{Digest, Sha384};
    format!("sha384-{}", base64::engine::general_purpose::STANDARD.encode(Sha384::digest(bytes)))
}

/// `chunk-<name>-<16 hex of content>.wasm` for the splitter's `split_<name>.wasm` (one split)
/// or `chunk_<n>.wasm` (what several share).
fn chunk_name(stem: &str, content: &[u8]) -> String {
    let name = stem.strip_prefix("split_").or_else(|| stem.strip_prefix("chunk_")).unwrap_or(stem);
    format!("{CHUNK_PREFIX}{}-{:016x}.wasm", name.replace('_', "-"), fnv1a64(content))
}

/// The main JS with the loader inside it: wasm-bindgen's `import * as importN from "./s.js"`
/// lines go, the loader's own import of `initSync` from the main JS goes, its exports become
/// constants, and the wasm's imports object gets them as one object.
fn join_loader(main_js: &str, loader_js: &str) -> Result<String, String> {
    let quoted = format!("\"./{LOADER}\"");
    let mut names = Vec::new();
    let mut main = String::with_capacity(main_js.len() + loader_js.len());
    for line in main_js.lines() {
        let trimmed = line.trim();
        if let Some(name) = trimmed.strip_prefix("import * as ").and_then(|r| {
            r.strip_suffix(&format!(" from {quoted}")).or_else(|| r.strip_suffix(&format!(" from {quoted};")))
        }) {
            names.push(name.to_string());
            continue;
        }
        main.push_str(line);
        main.push('\n');
    }
    if names.is_empty() {
        return Err(format!("the main JS does not import {quoted}: nothing to join"));
    }
    for name in &names {
        let entry = format!("{quoted}: {name}");
        if main.matches(&entry).count() != 1 {
            return Err(format!("the main JS does not hand `{name}` to the wasm once"));
        }
        main = main.replace(&entry, &format!("{quoted}: __wasm_split_loaders"));
    }
    let mut exports = Vec::new();
    let mut loader = String::new();
    for line in loader_js.lines() {
        if line.trim_start().starts_with("import ") {
            if !line.contains("{ initSync }") {
                return Err(format!("the loader imports more than initSync: {line}"));
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("export const ") {
            exports.push(rest.split([' ', '=']).next().unwrap_or_default().to_string());
            loader.push_str("const ");
            loader.push_str(rest);
        } else if line.starts_with("export ") {
            return Err(format!("the loader exports something other than a constant: {line}"));
        } else {
            loader.push_str(line);
        }
        loader.push('\n');
    }
    Ok(format!("{main}\n{loader}const __wasm_split_loaders = {{ {} }};\n", exports.join(", ")))
}

/// `index` with `old`'s integrity replaced by `new`'s; an error if `old` is not named.
fn replace_integrity(index: &str, old: &[u8], new: &[u8], what: &str) -> Result<String, String> {
    let old = sri(old);
    if !index.contains(&old) {
        return Err(format!("index.html has no integrity {old} for {what}"));
    }
    Ok(index.replace(&old, &sri(new)))
}

/// Replaces Trunk's unsplit wasm in `dist` by the split build (see the module's doc).
pub fn split(toolchain: &Toolchain, dist: &Path) -> Result<(), String> {
    let trunk = trunk_output(dist)?;
    let index_path = dist.join("index.html");
    let mut index =
        std::fs::read_to_string(&index_path).map_err(|e| format!("{}: {e}", index_path.display()))?;
    let opt_flags =
        wasm_opt_flags(&std::fs::read_to_string(root().join("index.html")).map_err(|e| e.to_string())?)?;

    // 1. The app with its chunks, linked with the relocations the splitter reads.
    let mut c = cmd("cargo");
    c.args(["rustc", "--release", "--offline", "--locked", "--target", WASM_TARGET, "--bin", "wsdeck"])
        .args(["--features", "split", "--", "-Clink-args=--emit-relocs"]);
    toolchain.apply(&mut c);
    run(&mut c)?;
    let target = target_dir()?;
    let raw = target.join(WASM_TARGET).join("release/wsdeck.wasm");

    // 2. Split.
    let work = target.join("wsdeck-split");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let main_js = trunk.js.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let loader = LOADER.to_string();
    let mut c = cmd("cargo");
    c.args(["run", "--quiet", "--release", "--package", "xtask-split", "--"])
        .arg(&raw)
        .arg(&work)
        .args([&main_js, &loader]);
    let manifest = c.output().map_err(|e| format!("cannot run xtask-split: {e}"))?;
    if !manifest.status.success() {
        return Err(format!("xtask-split failed: {}", String::from_utf8_lossy(&manifest.stderr).trim()));
    }

    // 3. wasm-bindgen on the main module, as Trunk runs it, keeping the exports the chunks need.
    let bindgen = work.join("bindgen");
    run(cmd("wasm-bindgen")
        .args(["--target=web", "--no-typescript", "--keep-lld-exports", "--no-demangle", "--out-name=wsdeck"])
        .arg(format!("--out-dir={}", bindgen.display()))
        .arg(work.join("main.wasm")))?;

    // 4. wasm-opt on the main module and each chunk.
    let opt = |from: &Path, to: &Path| -> Result<(), String> {
        run(cmd("wasm-opt").arg(format!("--output={}", to.display())).args(&opt_flags).arg(from))
    };
    let new_wasm = work.join("main.opt.wasm");
    let bound = bindgen.join("wsdeck_bg.wasm");
    let (kept, dropped) =
        drop_exports(&read(&bound)?, |name| UNUSED_EXPORTS.iter().any(|prefix| name.starts_with(prefix)))?;
    // Beside wasm-bindgen's output: every `.wasm` in `work` is taken for a chunk.
    let pruned = bindgen.join("wsdeck_bg.pruned.wasm");
    std::fs::write(&pruned, kept).map_err(|e| format!("{}: {e}", pruned.display()))?;
    if dropped.is_empty() {
        println!("xtask: warning: none of the unused exports to drop was found (UNUSED_EXPORTS)");
    } else {
        println!(
            "xtask: dropped {} unused exports of the main module ({})",
            dropped.len(),
            dropped.join(" ")
        );
    }
    opt(&pruned, &new_wasm)?;
    let mut loader_js = std::fs::read_to_string(work.join(&loader))
        .map_err(|e| format!("the splitter wrote no {loader}: {e}"))?;
    let mut chunks = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&work)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|x| x == "wasm")
                && !p.ends_with("main.wasm")
                && !p.ends_with("main.opt.wasm")
        })
        .collect();
    entries.sort();
    for chunk in entries {
        // A chunk reaches the main module through its exports: none may be one that was dropped.
        let needs = import_names(&read(&chunk)?)?;
        if let Some(name) = needs.iter().find(|n| dropped.contains(n)) {
            return Err(format!("{} imports `{name}`, which was dropped (UNUSED_EXPORTS)", chunk.display()));
        }
        let stem = chunk.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let optimised = work.join(format!("{stem}.opt"));
        opt(&chunk, &optimised)?;
        let bytes = std::fs::read(&optimised).map_err(|e| e.to_string())?;
        let name = chunk_name(&stem, &bytes);
        let quoted = format!("\"./{stem}.wasm\"");
        if loader_js.matches(&quoted).count() != 1 {
            return Err(format!("the loader does not name {quoted} once"));
        }
        loader_js = loader_js.replace(&quoted, &format!("\"./{name}\""));
        std::fs::write(dist.join(&name), &bytes).map_err(|e| e.to_string())?;
        chunks.push((name, bytes.len()));
    }

    // 5. dist/ and index.html.
    let (old_js, old_wasm) = (read(&trunk.js)?, read(&trunk.wasm)?);
    let bindgen_js = std::fs::read_to_string(bindgen.join("wsdeck.js")).map_err(|e| e.to_string())?;
    let new_js = join_loader(&bindgen_js, &loader_js)?.into_bytes();
    let new_wasm = read(&new_wasm)?;
    index = replace_integrity(&index, &old_js, &new_js, "the JS")?;
    index = replace_integrity(&index, &old_wasm, &new_wasm, "the wasm")?;
    for (path, bytes) in [(&trunk.js, new_js.as_slice()), (&trunk.wasm, new_wasm.as_slice())] {
        std::fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    std::fs::write(&index_path, index).map_err(|e| format!("{}: {e}", index_path.display()))?;
    println!(
        "xtask: split the wasm: main {} bytes (Trunk's unsplit {}), {} chunks: {}",
        new_wasm.len(),
        old_wasm.len(),
        chunks.len(),
        chunks.iter().map(|(n, b)| format!("{n} {b}")).collect::<Vec<_>>().join(", ")
    );
    Ok(())
}

/// A LEB128 unsigned number at `at`: its value and where the next byte is.
fn leb(wasm: &[u8], mut at: usize) -> Result<(u32, usize), String> {
    let (mut value, mut shift) = (0u32, 0);
    loop {
        let byte = *wasm.get(at).ok_or("the wasm ends inside a number")?;
        at += 1;
        if shift == 28 && byte & 0x70 != 0 {
            return Err("a number too large for 32 bits".into());
        }
        value |= u32::from(byte & 0x7f).checked_shl(shift).ok_or("a number too long")?;
        shift += 7;
        if byte < 0x80 {
            return Ok((value, at));
        }
    }
}

fn push_leb(out: &mut Vec<u8>, mut value: u32) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// The wasm without the exports whose names `unwanted` picks, and their names. Only the export
/// section changes; what becomes unreachable is left for wasm-opt to remove.
fn drop_exports(wasm: &[u8], unwanted: impl Fn(&str) -> bool) -> Result<(Vec<u8>, Vec<String>), String> {
    if wasm.get(..8) != Some(b"\0asm\x01\0\0\0") {
        return Err("not a wasm module".into());
    }
    let mut out = wasm[..8].to_vec();
    let mut dropped = Vec::new();
    let mut at = 8;
    while at < wasm.len() {
        let id = wasm[at];
        let (size, body) = leb(wasm, at + 1)?;
        let end = body
            .checked_add(size as usize)
            .filter(|&e| e <= wasm.len())
            .ok_or("a section runs past the end")?;
        if id != 7 {
            out.extend_from_slice(&wasm[at..end]);
            at = end;
            continue;
        }
        let (count, mut p) = leb(wasm, body)?;
        let mut kept = Vec::new();
        let mut kept_count = 0;
        for _ in 0..count {
            let start = p;
            let (len, name_at) = leb(wasm, p)?;
            let name_end = name_at + len as usize;
            let name =
                std::str::from_utf8(wasm.get(name_at..name_end).ok_or("an export name runs past the end")?)
                    .map_err(|_| "an export name is not UTF-8")?;
            // kind, then the index
            p = leb(wasm, name_end + 1)?.1;
            if unwanted(name) {
                dropped.push(name.to_string());
            } else {
                kept.extend_from_slice(&wasm[start..p]);
                kept_count += 1;
            }
        }
        if p != end {
            return Err("the export section has bytes after its exports".into());
        }
        let mut section = Vec::new();
        push_leb(&mut section, kept_count);
        section.extend_from_slice(&kept);
        out.push(7);
        push_leb(&mut out, section.len() as u32);
        out.extend_from_slice(&section);
        at = end;
    }
    Ok((out, dropped))
}

/// The field names of a wasm module's imports.
fn import_names(wasm: &[u8]) -> Result<Vec<String>, String> {
    let name = |p: usize| -> Result<(String, usize), String> {
        let (len, at) = leb(wasm, p)?;
        let end = at + len as usize;
        let text = wasm.get(at..end).ok_or("an import name runs past the end")?;
        Ok((String::from_utf8_lossy(text).into_owned(), end))
    };
    let mut at = 8;
    while at < wasm.len() {
        let (size, body) = leb(wasm, at + 1)?;
        let end = body + size as usize;
        if wasm[at] == 2 {
            let (count, mut p) = leb(wasm, body)?;
            let mut names = Vec::new();
            for _ in 0..count {
                let (_, after_module) = name(p)?;
                let (field, desc) = name(after_module)?;
                names.push(field);
                let kind = *wasm.get(desc).ok_or("an import runs past the end")?;
                p = match kind {
                    0 => leb(wasm, desc + 1)?.1, // function: its type
                    1 | 2 => {
                        // table (element type, then limits) or memory (limits)
                        let limits = desc + 1 + usize::from(kind == 1);
                        let flags = *wasm.get(limits).ok_or("an import runs past the end")?;
                        let after_min = leb(wasm, limits + 1)?.1;
                        if flags & 1 == 1 {
                            leb(wasm, after_min)?.1
                        } else {
                            after_min
                        }
                    }
                    3 => desc + 3, // global: type, mutability
                    _ => return Err(format!("import kind {kind} is not understood")),
                };
            }
            return Ok(names);
        }
        at = end;
    }
    Ok(Vec::new())
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exports_are_dropped_by_name_and_the_rest_kept_as_they_were() {
        // A module with a type section, two exports (function 0 as "keep", as "intounderlying_x")
        // and a custom section after them.
        let mut wasm = b"\0asm\x01\0\0\0".to_vec();
        wasm.extend_from_slice(&[1, 4, 1, 0x60, 0, 0]);
        let mut exports = vec![2];
        for name in ["keep", "intounderlying_x"] {
            exports.push(name.len() as u8);
            exports.extend_from_slice(name.as_bytes());
            exports.extend_from_slice(&[0, 0]);
        }
        wasm.push(7);
        wasm.push(exports.len() as u8);
        wasm.extend_from_slice(&exports);
        wasm.extend_from_slice(&[0, 3, 2, b'h', b'i']);
        let (out, dropped) = drop_exports(&wasm, |n| n.starts_with("intounderlying")).unwrap();
        assert_eq!(dropped, ["intounderlying_x"]);
        let mut want = wasm[..14].to_vec();
        want.extend_from_slice(&[7, 8, 1, 4, b'k', b'e', b'e', b'p', 0, 0, 0, 3, 2, b'h', b'i']);
        assert_eq!(out, want);
        assert_eq!(drop_exports(&wasm, |_| false).unwrap().0, wasm, "nothing dropped, nothing changed");
        assert!(drop_exports(b"\0asm", |_| false).is_err());
        assert!(drop_exports(&wasm[..wasm.len() - 3], |_| false).is_err(), "a section cut short");
    }

    #[test]
    fn import_names_are_read_past_every_kind() {
        let mut wasm = b"\0asm\x01\0\0\0".to_vec();
        // "m"."f" function of type 0; "m"."t" table funcref min 1; "m"."mem" memory min 1 max 2;
        // "m"."g" global i32 immutable.
        let body: &[u8] = &[
            4, 1, b'm', 1, b'f', 0, 0, 1, b'm', 1, b't', 1, 0x70, 0, 1, 1, b'm', 3, b'm', b'e', b'm', 2, 1,
            1, 2, 1, b'm', 1, b'g', 3, 0x7f, 0,
        ];
        wasm.push(2);
        wasm.push(body.len() as u8);
        wasm.extend_from_slice(body);
        assert_eq!(import_names(&wasm).unwrap(), ["f", "t", "mem", "g"]);
        assert_eq!(import_names(b"\0asm\x01\0\0\0").unwrap(), Vec::<String>::new());
        assert!(leb(&[0xff, 0xff, 0xff, 0xff, 0x7f], 0).is_err(), "more than 32 bits");
        assert_eq!(leb(&[0xff, 0xff, 0xff, 0xff, 0x0f], 0).unwrap(), (u32::MAX, 5));
    }

    #[test]
    fn wasm_opt_flags_are_index_htmls() {
        let html = r#"<link data-trunk rel="rust" data-wasm-opt="z" data-wasm-opt-params="--flatten --rereloop -Oz" data-bin="x">"#;
        assert_eq!(wasm_opt_flags(html).unwrap(), ["-Oz", "--flatten", "--rereloop", "-Oz"]);
        assert!(wasm_opt_flags("<link>").is_err());
    }

    #[test]
    fn chunks_get_hashed_names_that_are_cached_as_immutable() {
        let name = chunk_name("split_drive", b"\0asm");
        assert!(name.starts_with("chunk-drive-") && name.ends_with(".wasm"), "{name}");
        assert!(chunk_name("chunk_3", b"").starts_with("chunk-3-"));
        assert_ne!(name, chunk_name("split_drive", b"\0asm2"));
        assert_eq!(
            wsdeck_serving::cache_control_for(&format!("/{name}")),
            "public, max-age=31536000, immutable"
        );
    }

    #[test]
    fn integrity_is_replaced_only_where_it_was() {
        let index = format!("<script integrity=\"{}\">", sri(b"old"));
        assert_eq!(
            replace_integrity(&index, b"old", b"new", "x").unwrap(),
            format!("<script integrity=\"{}\">", sri(b"new"))
        );
        assert!(replace_integrity(&index, b"other", b"new", "x").is_err());
    }

    #[test]
    fn the_loader_is_joined_into_the_main_js() {
        let main = "import * as import1 from \"./s.js\"\nimport * as import2 from \"./s.js\"\n\
                    function initSync() {}\nconst imports = { \"./s.js\": import1, \"./s.js\": import2 };\n\
                    export { initSync };\n";
        let loader = "import { initSync } from \"./wsdeck-1.js\";\n\nfunction makeLoad() {}\n\
                      export const __wasm_split_load_pages = makeLoad();\n";
        let joined = join_loader(main, loader).unwrap();
        assert!(!joined.contains("import "), "{joined}");
        assert!(joined.contains("const __wasm_split_load_pages = makeLoad();"), "{joined}");
        assert!(joined.contains("const __wasm_split_loaders = { __wasm_split_load_pages };"), "{joined}");
        assert_eq!(joined.matches("\"./s.js\": __wasm_split_loaders").count(), 2, "{joined}");
        assert!(joined.contains("export { initSync };"));
        assert!(join_loader("const a = 1;\n", loader).is_err());
        assert!(join_loader(main, "import { other } from \"./x.js\";\n").is_err());
    }
}
