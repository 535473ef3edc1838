//! `cargo xtask limits [--check]`: writes `firmware/arduino/wsdeck_car/wsdeck_limits.h`, the
//! numbers the C++ firmware core shares with the Rust sources (frame size, token length, idle
//! lease, pairing waits, ...), read from those sources so that the two cannot drift. `--check`
//! (and the firmware step of `cargo xtask test`) fails when the committed header is stale.

use crate::util::root;
use std::path::{Path, PathBuf};

pub const HEADER: &str = "firmware/arduino/wsdeck_car/wsdeck_limits.h";

/// One number: its C++ name and type, and the Rust constant it comes from.
struct Shared {
    cpp: &'static str,
    cpp_type: &'static str,
    /// Where the constant is defined; when the file has moved, its crate's `src/` is searched.
    file: &'static str,
    rust: &'static str,
    doc: &'static str,
}

const SHARED: [Shared; 15] = [
    Shared {
        cpp: "kProtocolVersion",
        cpp_type: "uint32_t",
        file: "protocol/src/lib.rs",
        rust: "VERSION",
        doc: "Protocol version sent in hello (\"v\").",
    },
    Shared {
        cpp: "kMaxFrameLen",
        cpp_type: "size_t",
        file: "protocol/src/lib.rs",
        rust: "MAX_FRAME_LEN",
        doc: "The longest frame any wsdeck peer parses (PROTOCOL.md); Config::max_frame_len may be lower.",
    },
    Shared {
        cpp: "kFull",
        cpp_type: "int16_t",
        file: "protocol/src/app.rs",
        rust: "FULL",
        doc: "Largest magnitude of a drive axis or wheel command.",
    },
    Shared {
        cpp: "kMaxTokenChars",
        cpp_type: "size_t",
        file: "protocol/src/app.rs",
        rust: "MAX_TOKEN_CHARS",
        doc: "A pairing token is at most this many characters (UTF-8 code points).",
    },
    Shared {
        cpp: "kMaxDepth",
        cpp_type: "size_t",
        file: "protocol/src/value.rs",
        rust: "MAX_DEPTH",
        doc: "Nesting the JSON reader accepts; deeper is a \"json\" error, as in the protocol crate.",
    },
    Shared {
        cpp: "kIdleLeaseMs",
        cpp_type: "uint32_t",
        file: "device/src/motion.rs",
        rust: "IDLE_LEASE_MS",
        doc: "A driver who sent nothing for this long may be replaced by another client's claim.",
    },
    Shared {
        cpp: "kAuthFirstBackoffMs",
        cpp_type: "uint32_t",
        file: "device/src/pairing.rs",
        rust: "FIRST_WAIT_MS",
        doc: "The wait after the first wrong pairing token; it doubles with each further one.",
    },
    Shared {
        cpp: "kAuthMaxBackoffMs",
        cpp_type: "uint32_t",
        file: "device/src/pairing.rs",
        rust: "MAX_WAIT_MS",
        doc: "The longest wait after wrong pairing tokens.",
    },
    Shared {
        cpp: "kAbuseSeconds",
        cpp_type: "uint32_t",
        file: "device/src/limits.rs",
        rust: "ABUSE_SECONDS",
        doc: "A client over its message rate cap in this many consecutive seconds is closed with 1008.",
    },
    Shared {
        cpp: "kMaxControls",
        cpp_type: "size_t",
        file: "protocol/src/control.rs",
        rust: "MAX_CONTROLS",
        doc: "Controls an app takes from one declaration; the rest are skipped.",
    },
    Shared {
        cpp: "kMaxControlIdLen",
        cpp_type: "size_t",
        file: "protocol/src/control.rs",
        rust: "MAX_CONTROL_ID_LEN",
        doc: "A control id is at most this many bytes; a longer one is skipped (hello) or bad (ctl).",
    },
    Shared {
        cpp: "kMaxLabelChars",
        cpp_type: "size_t",
        file: "protocol/src/control.rs",
        rust: "MAX_LABEL_CHARS",
        doc: "A control's label, unit, group, confirm, option or colour is cut to this many characters.",
    },
    Shared {
        cpp: "kMaxOptions",
        cpp_type: "size_t",
        file: "protocol/src/control.rs",
        rust: "MAX_OPTIONS",
        doc: "A select's options beyond this many are dropped.",
    },
    Shared {
        cpp: "kMaxTextLen",
        cpp_type: "uint32_t",
        file: "protocol/src/control.rs",
        rust: "MAX_TEXT_LEN",
        doc: "A text control's max_len is capped to this many characters.",
    },
    Shared {
        cpp: "kDefaultTextLen",
        cpp_type: "uint32_t",
        file: "protocol/src/control.rs",
        rust: "DEFAULT_TEXT_LEN",
        doc: "A text control's max_len when the declaration gives none.",
    },
];

pub fn main(check: bool) -> Result<(), String> {
    if check {
        return check_current();
    }
    let path = root().join(HEADER);
    std::fs::write(&path, header()?).map_err(|e| format!("{}: {e}", path.display()))?;
    println!("wrote {HEADER}");
    Ok(())
}

/// Fails when the committed header is not what `cargo xtask limits` would write.
pub fn check_current() -> Result<(), String> {
    let want = header()?;
    let path = root().join(HEADER);
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    if have == want {
        Ok(())
    } else {
        Err(format!(
            "{HEADER} is stale (a shared constant changed in the Rust sources): run `cargo xtask limits`"
        ))
    }
}

/// The header's text.
pub fn header() -> Result<String, String> {
    let mut out = String::from(
        "// wsdeck_limits.h: generated by `cargo xtask limits`, do not edit.\n\
         //\n\
         // The numbers the firmware core shares with the Rust sources, read from the constants named\n\
         // beside each one (xtask/src/limits.rs lists them); `cargo xtask test` fails when this file\n\
         // and the Rust sources part ways.\n\
         #ifndef WSDECK_LIMITS_H\n\
         #define WSDECK_LIMITS_H\n\
         \n\
         #include <stddef.h>\n\
         #include <stdint.h>\n\
         \n\
         namespace wsdeck {\n",
    );
    for s in &SHARED {
        let (file, value) = find(s)?;
        out += &format!(
            "\n/// {}\n/// From `{}` in {}.\nstatic const {} {} = {};\n",
            s.doc, s.rust, file, s.cpp_type, s.cpp, value
        );
    }
    out += "\n}  // namespace wsdeck\n\n#endif  // WSDECK_LIMITS_H\n";
    Ok(out)
}

/// The constant's file (relative to the root) and value.
fn find(s: &Shared) -> Result<(String, u64), String> {
    let named = root().join(s.file);
    let candidates: Vec<PathBuf> = if named.is_file() {
        vec![named]
    } else {
        // Moved: look through the crate's sources for exactly one definition.
        let crate_src = s.file.split("/src/").next().unwrap_or(s.file);
        rust_files(&root().join(crate_src).join("src"))
    };
    let mut found = Vec::new();
    for path in &candidates {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        if let Some(expr) = definition(&text, s.rust) {
            let rel = path.strip_prefix(root()).unwrap_or(path).to_string_lossy().into_owned();
            let value = evaluate(&expr).ok_or_else(|| {
                format!("{rel}: `{} = {expr}` is not a product of integers (xtask/src/limits.rs)", s.rust)
            })?;
            found.push((rel, value));
        }
    }
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(format!(
            "no `const {}` in {} (xtask/src/limits.rs says where each shared constant is)",
            s.rust, s.file
        )),
        _ => Err(format!("`const {}` is defined more than once: {found:?}", s.rust)),
    }
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The expression of a top-level `[pub] const NAME: T = EXPR;` in `text`.
fn definition(text: &str, name: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let line = line.strip_prefix("pub ").or_else(|| line.strip_prefix("pub(crate) ")).unwrap_or(line);
        let rest = line.strip_prefix("const ")?.strip_prefix(name)?.strip_prefix(':')?;
        let (_, expr) = rest.split_once('=')?;
        Some(expr.trim().strip_suffix(';')?.trim().to_string())
    })
}

/// `64 * 1024`, `60_000`, `2000u64`.
fn evaluate(expr: &str) -> Option<u64> {
    expr.split('*').try_fold(1u64, |acc, factor| {
        let digits: String = factor.trim().chars().take_while(|c| c.is_ascii_digit() || *c == '_').collect();
        let suffix = &factor.trim()[digits.len()..];
        let known = ["", "u8", "u16", "u32", "u64", "usize", "i16", "i32", "i64"];
        if digits.is_empty() || !known.contains(&suffix) {
            return None;
        }
        acc.checked_mul(digits.replace('_', "").parse().ok()?)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_constants_as_rust_writes_them() {
        let src = "pub const MAX_FRAME_LEN: usize = 64 * 1024;\nconst MAX_DEPTH: u32 = 127;\n    const INNER: u8 = 1;";
        assert_eq!(definition(src, "MAX_FRAME_LEN").as_deref(), Some("64 * 1024"));
        assert_eq!(definition(src, "MAX_DEPTH").as_deref(), Some("127"));
        assert_eq!(definition(src, "MAX"), None, "a prefix of a name is not the name");
        assert_eq!(definition(src, "INNER"), None, "only top-level constants");
        assert_eq!(evaluate("64 * 1024"), Some(65536));
        assert_eq!(evaluate("60_000"), Some(60000));
        assert_eq!(evaluate("2000u64"), Some(2000));
        assert_eq!(evaluate("FOO * 2"), None);
        assert_eq!(evaluate("1.5"), None);
    }

    /// The committed header is what `cargo xtask limits` writes from today's Rust sources.
    #[test]
    fn the_committed_header_is_current() {
        check_current().unwrap();
        let text = header().unwrap();
        assert!(text.contains("static const size_t kMaxFrameLen = 65536;"), "{text}");
        assert!(text.contains("static const uint32_t kIdleLeaseMs = 2000;"), "{text}");
        assert!(text.contains("generated by `cargo xtask limits`, do not edit"));
    }
}
