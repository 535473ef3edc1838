//! `cargo xtask dist`: the release build and what it weighs, file by file.

use crate::util::root;
use crate::{run, tools};
use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::Write;
use std::path::Path;

pub fn main() -> Result<(), String> {
    tools::ensure_build_tools()?;
    run::build_app(true)?;
    let dist = root().join("dist");
    let rows = sizes(&dist)?;
    print!("{}", table(&rows));
    Ok(())
}

/// `(file, raw bytes, gzip -9 bytes)` for every file below `dir`, sorted by name.
pub fn sizes(dir: &Path) -> Result<Vec<(String, usize, usize)>, String> {
    let mut rows = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).map_err(|e| format!("{}: {e}", d.display()))? {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let raw = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let name = path.strip_prefix(dir).unwrap_or(&path).to_string_lossy().into_owned();
            rows.push((name, raw.len(), gzip_len(&raw)));
        }
    }
    rows.sort();
    Ok(rows)
}

fn gzip_len(raw: &[u8]) -> usize {
    let mut gz = GzEncoder::new(Vec::new(), Compression::best());
    let _ = gz.write_all(raw);
    gz.finish().map(|v| v.len()).unwrap_or(0)
}

pub fn table(rows: &[(String, usize, usize)]) -> String {
    let kib = |b: usize| format!("{:.1} KiB", b as f64 / 1024.0);
    let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(4).max(5);
    let mut out = format!("{:<width$}  {:>11}  {:>11}\n", "file", "raw", "gzip");
    for (name, raw, gz) in rows {
        out.push_str(&format!("{name:<width$}  {:>11}  {:>11}\n", kib(*raw), kib(*gz)));
    }
    let (raw, gz) = rows.iter().fold((0, 0), |(r, g), row| (r + row.1, g + row.2));
    out.push_str(&format!("{:<width$}  {:>11}  {:>11}\n", "total", kib(raw), kib(gz)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_lists_files_and_totals() {
        let t = table(&[("index.html".into(), 2048, 1024), ("app.wasm".into(), 10240, 4096)]);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(
            lines[1].starts_with("index.html")
                && lines[1].contains("2.0 KiB")
                && lines[1].ends_with("1.0 KiB")
        );
        assert!(
            lines[3].starts_with("total") && lines[3].contains("12.0 KiB") && lines[3].ends_with("5.0 KiB")
        );
    }

    #[test]
    fn gzip_shrinks_repetitive_files() {
        assert!(gzip_len(&[b'a'; 10_000]) < 100);
    }
}
