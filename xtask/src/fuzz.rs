//! The fuzz targets in fuzz/ (libFuzzer through cargo-fuzz, nightly): their seed corpus, made
//! from protocol/vectors.json and committed under fuzz/corpus/, and the long runs of
//! `cargo xtask bench --only fuzz`. The short deterministic stand-in runs in `cargo test`
//! (protocol/tests/mutated.rs and the app's session tests). The firmware core's C++ target
//! (firmware/core/fuzz/) is built with clang rather than cargo-fuzz: `crate::firmware::fuzz` runs
//! it after these, and its stand-in runs in the firmware step of `cargo xtask test`.

use crate::util::{cmd, root};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Instant;

pub const TARGETS: [&str; 4] = ["device_decode", "app_decode", "roundtrip", "session"];

/// The session target reads a stream of frames split on this byte (never part of UTF-8).
const FRAME_SEPARATOR: u8 = 0xFF;

/// One seed: (target, file name, contents).
pub type Seed = (&'static str, String, Vec<u8>);

/// Every seed.
pub fn seeds() -> Result<Vec<Seed>, String> {
    let path = root().join("protocol/vectors.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let vectors = json["vectors"].as_array().ok_or("vectors.json has no `vectors` array")?;
    let mut out = Vec::new();
    let mut device_frames = Vec::new();
    for (i, v) in vectors.iter().enumerate() {
        let (Some(name), Some(frame), Some(from)) =
            (v["name"].as_str(), v["frame"].as_str(), v["from"].as_str())
        else {
            return Err(format!("vector {i} needs name, frame and from"));
        };
        let file = format!("{i:02}-{}", slug(name));
        let bytes = frame.as_bytes().to_vec();
        let mut add = |target| out.push((target, file.clone(), bytes.clone()));
        add("roundtrip");
        if from == "device" {
            add("device_decode");
            add("session");
            device_frames.push(bytes.clone());
        } else {
            add("app_decode");
        }
    }
    out.push(("session", "all-device-frames".into(), device_frames.join(&FRAME_SEPARATOR)));
    Ok(out)
}

fn slug(name: &str) -> String {
    let s: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    let s: String = s.split('-').filter(|w| !w.is_empty()).collect::<Vec<_>>().join("-");
    s.chars().take(40).collect()
}

fn corpus_dir(target: &str) -> PathBuf {
    root().join("fuzz/corpus").join(target)
}

/// Rewrites fuzz/corpus/ from vectors.json.
pub fn write_seeds() -> Result<(), String> {
    for target in TARGETS {
        let dir = corpus_dir(target);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    for (target, file, bytes) in seeds()? {
        let path = corpus_dir(target).join(file);
        std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

/// One target's long run.
#[derive(Debug, Clone)]
pub struct FuzzRun {
    pub target: &'static str,
    pub secs: f64,
    /// Inputs libFuzzer executed (`stat::number_of_executed_units`).
    pub inputs: u64,
    /// Inputs in the grown corpus (fuzz/work/<target>) at the end.
    pub corpus: usize,
    /// `None` when nothing failed; else where libFuzzer saved the failing input.
    pub crash: Option<String>,
}

impl FuzzRun {
    /// What a finished libFuzzer run said: its executed inputs (`-print_final_stats=1`), the
    /// failing input it saved if it failed, and the corpus it grew in `work`.
    pub fn read(
        target: &'static str,
        started: std::time::Instant,
        out: &std::process::Output,
        work: &std::path::Path,
    ) -> FuzzRun {
        let log = String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
        let inputs = log
            .lines()
            .find_map(|l| l.strip_prefix("stat::number_of_executed_units:"))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0);
        let crash = (!out.status.success()).then(|| {
            log.lines()
                .find_map(|l| l.split("Test unit written to ").nth(1))
                .map_or_else(|| format!("failed ({}); log:\n{log}", out.status), str::to_string)
        });
        let corpus = std::fs::read_dir(work).map(|d| d.count()).unwrap_or(0);
        FuzzRun { target, secs: started.elapsed().as_secs_f64(), inputs, corpus, crash }
    }
}

/// Runs every target for `secs` seconds, seeded with the committed corpus; the corpus libFuzzer
/// grows goes to fuzz/work/ (ignored by git), so repeated runs go deeper.
pub fn run_all(secs: u64) -> Result<Vec<FuzzRun>, String> {
    write_seeds()?;
    let fuzz = root().join("fuzz");
    crate::util::run(cmd("cargo").args(["+nightly", "fuzz", "build", "-O"]).current_dir(&fuzz))?;
    let mut runs = Vec::new();
    for target in TARGETS {
        let work = fuzz.join("work").join(target);
        std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
        println!("xtask: fuzzing {target} for {secs} s");
        let started = Instant::now();
        let out = cmd("cargo")
            .args(["+nightly", "fuzz", "run", "-O", target])
            .arg(&work)
            .arg(corpus_dir(target))
            .args(["--", &format!("-max_total_time={secs}"), "-print_final_stats=1", "-max_len=4096"])
            .current_dir(&fuzz)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| format!("cannot start cargo fuzz: {e}"))?;
        runs.push(FuzzRun::read(target, started, &out, &work));
    }
    Ok(runs)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `cargo xtask bench --only fuzz` rewrites fuzz/corpus/ from vectors.json; the committed
    /// copy must be what it would write.
    #[test]
    fn committed_seed_corpus_is_current() {
        let seeds = seeds().unwrap();
        assert!(seeds.len() > 40);
        for target in TARGETS {
            let mut want: Vec<_> =
                seeds.iter().filter(|s| s.0 == target).map(|s| (s.1.clone(), s.2.clone())).collect();
            want.sort();
            let mut have: Vec<_> = std::fs::read_dir(corpus_dir(target))
                .unwrap_or_else(|e| panic!("fuzz/corpus/{target}: {e}"))
                .map(|e| e.unwrap().path())
                .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
                .collect();
            have.sort();
            assert!(
                have == want,
                "fuzz/corpus/{target} is stale: run `cargo test -p xtask -- --ignored write_seed_corpus` \
                 (or `cargo xtask bench --only fuzz`)"
            );
        }
    }

    /// Rewrites the seed corpus from protocol/vectors.json without cargo-fuzz or nightly.
    #[test]
    #[ignore]
    fn write_seed_corpus() {
        write_seeds().unwrap();
    }
}
