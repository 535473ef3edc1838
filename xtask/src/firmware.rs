//! The reference firmware's protocol core (every `.cpp` beside `wsdeck_car.ino`, the API in
//! `wsdeck_core.h`), built with the host's g++ and tested under ASan and UBSan against
//! `protocol/vectors.json`. The sketch around it needs the ESP32 toolchain, which is not installed
//! here (see firmware/README.md).

use crate::util::{cmd, root, run, run_counted, Counts};
use std::path::PathBuf;

/// The core lives in the sketch folder: the Arduino IDE compiles every `.cpp` there (and only
/// files there), so the step does the same.
const CORE_DIR: &str = "firmware/arduino/wsdeck_car";
const TEST: &str = "firmware/core/test/core_test.cpp";
const VECTORS: &str = "protocol/vectors.json";
const WARNINGS: [&str; 4] = ["-Wall", "-Wextra", "-Werror", "-pedantic"];

/// Checks the core compiles as the ESP32 Arduino core 2.x builds sketches (C++11, and here also
/// without exceptions or RTTI), then builds the host tests and runs them, counting their TAP.
pub fn test(counts: &mut Counts) -> Result<(), String> {
    if let Some(missing) = sources().into_iter().find(|p| !p.is_file()) {
        return Err(format!("{} is missing", missing.display()));
    }
    // The numbers shared with the Rust sources must be today's before anything is built.
    crate::limits::check_current()?;
    let core = core_sources()?;
    let out = root().join("target/firmware-test");
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    for file in &core {
        run(cmd("g++").args(c11_check_args()).arg(file))?;
    }
    let bin = out.join("core_test");
    run(cmd("g++").args(test_build_args()).args(&core).arg("-o").arg(&bin))?;
    run_counted(
        cmd(&bin.to_string_lossy())
            .arg(root().join(VECTORS))
            // Any undefined behaviour fails the run, with a stack trace.
            .env("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
            .env("ASAN_OPTIONS", "detect_leaks=1"),
        counts,
    )
}

fn c11_check_args() -> Vec<String> {
    let mut args = vec!["-std=c++11".to_string()];
    args.extend(WARNINGS.map(String::from));
    args.extend(["-fno-exceptions", "-fno-rtti", "-fsyntax-only"].map(String::from));
    args
}

fn test_build_args() -> Vec<String> {
    let mut args = vec!["-std=c++14".to_string()];
    args.extend(WARNINGS.map(String::from));
    args.extend(
        [
            "-fsanitize=address,undefined",
            "-fno-sanitize-recover=all",
            "-fno-omit-frame-pointer",
            "-fno-exceptions",
            "-fno-rtti",
            "-g",
            "-O1",
        ]
        .map(String::from),
    );
    args.push(format!("-I{CORE_DIR}"));
    args.push(TEST.to_string());
    args
}

/// The core's `.cpp` files, relative to the root, sorted: what an Arduino build compiles.
fn core_sources() -> Result<Vec<String>, String> {
    let dir = root().join(CORE_DIR);
    let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut files: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".cpp"))
        .map(|name| format!("{CORE_DIR}/{name}"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!("{CORE_DIR} has no .cpp files"));
    }
    Ok(files)
}

/// Every file the step reads besides the core's `.cpp` files.
fn sources() -> [PathBuf; 3] {
    [root().join(CORE_DIR).join("wsdeck_core.h"), root().join(TEST), root().join(VECTORS)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sources_are_where_the_step_looks() {
        for path in sources() {
            assert!(path.is_file(), "{} is missing", path.display());
        }
        // One file per part of the core (issue #17): the reader, the writer, the guard, the
        // device, the frame assembler.
        let core = core_sources().unwrap();
        for part in ["json", "writer", "guard", "device", "assembler"] {
            assert!(core.contains(&format!("{CORE_DIR}/wsdeck_{part}.cpp")), "{core:?}");
        }
    }

    #[test]
    fn the_tests_run_under_sanitizers_and_the_core_is_checked_as_cpp11() {
        let build = test_build_args().join(" ");
        assert!(build.contains("-fsanitize=address,undefined") && build.contains("-Werror"));
        let check = c11_check_args().join(" ");
        assert!(check.starts_with("-std=c++11") && check.contains("-fno-exceptions -fno-rtti"));
    }

    /// The step itself: `cargo test -p xtask -- --ignored firmware` (about 15 s).
    #[test]
    #[ignore = "compiles C++ for about 15 s; `cargo xtask test` runs it as a step"]
    fn firmware_core_passes_its_host_tests() {
        let mut counts = Counts::default();
        test(&mut counts).unwrap();
        assert!(counts.passed >= 100 && counts.failed == 0, "{counts:?}");
    }
}
