//! The reference firmware's protocol core (every `.cpp` beside `wsdeck_car.ino`, the API in
//! `wsdeck_core.h`), built with the host's g++ and tested under ASan and UBSan against
//! `protocol/vectors.json`. The sketch around it needs the ESP32 toolchain, which is not installed
//! here (see firmware/README.md). The core's libFuzzer target (`firmware/core/fuzz/`) runs here
//! too: a short fixed-seed stand-in in the test step, the real thing in `bench --only fuzz`.

use crate::fuzz::FuzzRun;
use crate::util::{cmd, output, root, run, run_counted, Counts};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Instant;

/// The core lives in the sketch folder: the Arduino IDE compiles every `.cpp` there (and only
/// files there), so the step does the same.
const CORE_DIR: &str = "firmware/arduino/wsdeck_car";
const TEST: &str = "firmware/core/test/core_test.cpp";
/// Cases the Rust device core and the C++ core must both pass (device/src/guard.rs and
/// device/src/pairing.rs check the Rust side).
const SHARED_CASES: &str = "firmware/core/test/shared_cases.json";
const FUZZ_TARGET: &str = "firmware/core/fuzz/core_fuzz.cpp";
const FUZZ_STANDIN: &str = "firmware/core/fuzz/standin.cpp";
/// Mutated inputs the test step's stand-in runs: about 2 s under the sanitizers, and enough to
/// find the assembler overrun of issue #13 from the vectors alone (it takes ~50 000 there).
const STANDIN_INPUTS: u32 = 100_000;
/// The byte that starts a fuzz input's script (core_fuzz.cpp): never part of UTF-8.
const SCRIPT_MARK: u8 = 0xFF;
const VECTORS: &str = "protocol/vectors.json";
const WARNINGS: [&str; 4] = ["-Wall", "-Wextra", "-Werror", "-pedantic"];

/// Checks the core compiles as the ESP32 Arduino core 2.x builds sketches (C++11, and here also
/// without exceptions or RTTI), then builds the host tests and the fuzz target's stand-in and runs
/// them, counting their TAP.
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
    run(cmd("g++").args(sanitized_args()).arg(TEST).args(&core).arg("-o").arg(&bin))?;
    run_counted(
        sanitized(cmd(&bin.to_string_lossy()).arg(root().join(VECTORS)).arg(root().join(SHARED_CASES))),
        counts,
    )?;

    let seeds = out.join("fuzz-seeds");
    write_fuzz_seeds(&seeds)?;
    let standin = out.join("core_fuzz_standin");
    run(cmd("g++")
        .args(sanitized_args())
        .args([FUZZ_TARGET, FUZZ_STANDIN])
        .args(&core)
        .arg("-o")
        .arg(&standin))?;
    run_counted(
        sanitized(cmd(&standin.to_string_lossy()).arg(&seeds).arg(STANDIN_INPUTS.to_string())),
        counts,
    )
}

/// Any undefined behaviour fails the run, with a stack trace; leaks too.
fn sanitized(c: &mut std::process::Command) -> &mut std::process::Command {
    c.env("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1").env("ASAN_OPTIONS", "detect_leaks=1")
}

/// The seeds of the core's fuzz target: every vector's frame as it is; every app frame again in
/// pieces through the frame assembler; a paired session (auth, then drive frames) in pieces; and
/// the piece that overran the assembler (issue #13 item 6).
fn fuzz_seeds() -> Result<Vec<(String, Vec<u8>)>, String> {
    let path = root().join(VECTORS);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let vectors = json["vectors"].as_array().ok_or("vectors.json has no `vectors` array")?;
    // One script step (core_fuzz.cpp): a piece of `n` bytes, its frame length given when `len` is.
    let piece = |n: u8, len: Option<u16>| {
        let [lo, hi] = len.unwrap_or(0).to_le_bytes();
        vec![0, n, lo, hi, 0, u8::from(len.is_some())]
    };
    let mut seeds = Vec::new();
    for (i, v) in vectors.iter().enumerate() {
        let frame = v["frame"].as_str().ok_or(format!("vector {i} has no frame"))?.as_bytes();
        seeds.push((format!("{i:02}"), frame.to_vec()));
        if v["from"] == "app" {
            let mut split = frame.to_vec();
            split.push(SCRIPT_MARK);
            split.extend(piece(5, None));
            split.extend(piece(255, None));
            seeds.push((format!("{i:02}-split"), split));
        }
    }
    // Client 1 (the piece length mod 4) pairs, then drives: frames back to back in one input.
    let frames = [
        r#"{"t":"auth","token":"blue-tiger-42"}"#,
        r#"{"t":"drive","seq":1,"x":0,"y":0,"l":500,"r":500}"#,
        r#"{"t":"drive","seq":2,"x":0,"y":0,"l":900,"r":-900}"#,
    ];
    let mut session: Vec<u8> = frames.concat().into_bytes();
    session.push(SCRIPT_MARK);
    for f in frames {
        let len = f.len() as u16;
        session.extend(piece(len as u8, Some(len)));
        session.extend([1, 4, 0, 0, 0, 0]); // 32 ms later, a tick
    }
    seeds.push(("session-paired-drive".into(), session));
    // 40 bytes of a 60-byte frame (the assembler holds 64), then a piece claiming a 10-byte frame
    // at index 40.
    let mut overrun = vec![b'x'; 80];
    overrun.push(SCRIPT_MARK);
    overrun.extend(piece(40, Some(60)));
    overrun.extend(piece(40, Some(10)));
    seeds.push(("assembler-shorter-frame-len".into(), overrun));
    Ok(seeds)
}

fn write_fuzz_seeds(dir: &Path) -> Result<(), String> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for (name, bytes) in fuzz_seeds()? {
        let path = dir.join(name);
        std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

/// `cargo xtask bench --only fuzz`: the core's libFuzzer target for `secs` seconds, built with
/// clang (Debian's clang and libclang-rt-14-dev carry libFuzzer), seeded as the stand-in is; the
/// corpus it grows stays in target/firmware-fuzz/work, so repeated runs go deeper.
pub fn fuzz(secs: u64) -> Result<FuzzRun, String> {
    let dir = root().join("target/firmware-fuzz");
    let (seeds, work, artifacts) = (dir.join("seeds"), dir.join("work"), dir.join("artifacts"));
    write_fuzz_seeds(&seeds)?;
    for d in [&work, &artifacts] {
        std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
    }
    let clang = ["clang++", "clang++-14"]
        .into_iter()
        .find(|c| output(cmd(c).arg("--version")).is_some())
        .ok_or("the firmware core's fuzz target needs clang with libFuzzer: apt-get install clang-14 libclang-rt-14-dev")?;
    let bin = dir.join("core_fuzz");
    let mut build = cmd(clang);
    build.args(["-std=c++14", "-fsanitize=fuzzer,address,undefined", "-fno-sanitize-recover=all"]);
    build.args(["-fno-exceptions", "-fno-rtti", "-g", "-O1", &format!("-I{CORE_DIR}"), FUZZ_TARGET]);
    run(build.args(core_sources()?).arg("-o").arg(&bin))?;
    println!("xtask: fuzzing firmware_core for {secs} s");
    let started = Instant::now();
    let out = cmd(&bin.to_string_lossy())
        .arg(format!("-max_total_time={secs}"))
        .args(["-print_final_stats=1", "-max_len=4096"])
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        .args([&work, &seeds])
        .env("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    Ok(FuzzRun::read("firmware_core", started, &out, &work))
}

fn c11_check_args() -> Vec<String> {
    let mut args = vec!["-std=c++11".to_string()];
    args.extend(WARNINGS.map(String::from));
    args.extend(["-fno-exceptions", "-fno-rtti", "-fsyntax-only"].map(String::from));
    args
}

/// The host tests' and the stand-in's build: C++14, warnings as errors, ASan and UBSan.
fn sanitized_args() -> Vec<String> {
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
fn sources() -> [PathBuf; 6] {
    [
        CORE_DIR.to_string() + "/wsdeck_core.h",
        TEST.into(),
        SHARED_CASES.into(),
        FUZZ_TARGET.into(),
        FUZZ_STANDIN.into(),
        VECTORS.into(),
    ]
    .map(|p| root().join(p))
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
        let build = sanitized_args().join(" ");
        assert!(build.contains("-fsanitize=address,undefined") && build.contains("-Werror"));
        let check = c11_check_args().join(" ");
        assert!(check.starts_with("-std=c++11") && check.contains("-fno-exceptions -fno-rtti"));
    }

    #[test]
    fn the_fuzz_seeds_cover_every_vector_and_the_assembler_overrun() {
        let seeds = fuzz_seeds().unwrap();
        let overrun = &seeds.iter().find(|s| s.0 == "assembler-shorter-frame-len").unwrap().1;
        // The 80-byte frame, the mark, two 6-byte steps.
        assert_eq!(overrun.len(), 80 + 1 + 12);
        assert_eq!(&overrun[81..], [0, 40, 60, 0, 0, 1, 0, 40, 10, 0, 0, 1]);
        assert!(seeds.iter().filter(|s| s.0.ends_with("-split")).count() >= 10);
        let frames = seeds.iter().filter(|s| !s.1.contains(&SCRIPT_MARK)).count();
        assert!(frames >= 40, "every vector's frame is a seed ({frames})");
    }

    /// The step itself: `cargo test -p xtask -- --ignored firmware` (about 30 s).
    #[test]
    #[ignore = "compiles C++ for about 30 s; `cargo xtask test` runs it as a step"]
    fn firmware_core_passes_its_host_tests() {
        let mut counts = Counts::default();
        test(&mut counts).unwrap();
        assert!(counts.passed >= 100 && counts.failed == 0, "{counts:?}");
    }
}
