//! `cargo xtask firmware`: the Rust firmware for the ESP32-C3 (firmware/esp32c3). Tests its
//! library on the host, builds it in release for the chip around the app's flash bundle, writes
//! a flashable image with espflash, and says what it takes of flash and RAM.

use crate::util::{cmd, output, root, run, run_counted, Counts};
use crate::{dist, flash, tools};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

pub const DIR: &str = "firmware/esp32c3";
const ELF: &str = "target/riscv32imc-unknown-none-elf/release/wsdeck-esp32c3";
/// Where the image goes, beside the flash bundle.
const IMAGE: &str = "target/firmware/wsdeck-esp32c3.bin";
/// The app partition of espflash's default table for a 4 MB chip (the C3 modules' size), which
/// `espflash flash` writes: `factory, app, 0x10000, 0x3f0000`. The image must fit it.
const APP_PARTITION: u64 = 0x3f_0000;
/// ESP-IDF's default single-app table (`factory, 1M`), for a board flashed with other tables.
const SMALL_APP_PARTITION: u64 = 0x10_0000;
/// The ESP32-C3's SRAM, shared by instruction and data RAM.
const SRAM: u64 = 400 * 1024;

pub fn main() -> Result<(), String> {
    tools::ensure_firmware_tools()?;
    if !bundle_is_current() {
        println!("xtask: the flash bundle is missing or older than the app's sources: cargo xtask dist");
        dist::main(&flash::Options::default())?;
    }
    let mut counts = Counts::default();
    image(&mut counts)
}

/// The `cargo xtask test` step, after the flash bundle step has written target/flash.
pub fn test(counts: &mut Counts) -> Result<(), String> {
    tools::ensure_firmware_tools()?;
    image(counts)
}

/// Format check and host tests of the library, release build, image, table.
fn image(counts: &mut Counts) -> Result<(), String> {
    let dir = root().join(DIR);
    run(&mut firmware_cargo(&["fmt", "--check"]))?;
    let host = host_triple()?;
    run_counted(&mut firmware_cargo(&["test", "--lib", "--target", &host]), counts)?;
    let started = Instant::now();
    run(&mut firmware_cargo(&["build", "--release"]))?;
    let build_secs = started.elapsed().as_secs_f64();
    let elf = dir.join(ELF);
    let image = root().join(IMAGE);
    if let Some(parent) = image.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    run(cmd("espflash").args(["save-image", "--chip", "esp32c3"]).arg(&elf).arg(&image))?;
    let report = Report {
        image: file_len(&image)?,
        ram: static_ram(&std::fs::read(&elf).map_err(|e| format!("{}: {e}", elf.display()))?)?,
        web_app: web_app_bytes()?,
        build_secs,
    };
    print!("\n{}", report.table());
    report.check()
}

/// cargo in firmware/esp32c3, with its own target dir and its .cargo/config.toml (the chip's
/// target and linker script) in charge: a RUSTFLAGS from outside would replace the latter.
fn firmware_cargo(args: &[&str]) -> Command {
    let mut c = cmd("cargo");
    c.args(args)
        .current_dir(root().join(DIR))
        .env("CARGO_TARGET_DIR", root().join(DIR).join("target"))
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    c
}

fn host_triple() -> Result<String, String> {
    let info = output(cmd("rustc").arg("-vV")).ok_or("`rustc -vV` failed")?;
    info.lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(str::to_string)
        .ok_or_else(|| "`rustc -vV` names no host".into())
}

fn file_len(path: &Path) -> Result<u64, String> {
    std::fs::metadata(path).map(|m| m.len()).map_err(|e| format!("{}: {e}", path.display()))
}

/// The gzip bodies the firmware serves, from the bundle's size report.
fn web_app_bytes() -> Result<u64, String> {
    let path = flash::Options::default().out.join(flash::SIZE_REPORT);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    json["total"]["gzip"].as_u64().ok_or_else(|| format!("{}: no total.gzip", path.display()))
}

/// target/flash was written after every file the app is built from changed.
fn bundle_is_current() -> bool {
    let module = flash::Options::default().out.join(flash::RUST_MODULE);
    let Ok(written) = std::fs::metadata(&module).and_then(|m| m.modified()) else { return false };
    let sources =
        ["src", "style", "public", "protocol/src", "index.html", "Trunk.toml", "Cargo.toml", "Cargo.lock"];
    sources.iter().all(|s| newest(&root().join(s)).is_none_or(|t| t <= written))
}

fn newest(path: &Path) -> Option<std::time::SystemTime> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_dir() {
        return meta.modified().ok();
    }
    let entries = std::fs::read_dir(path).ok()?;
    entries.filter_map(|e| e.ok()).filter_map(|e| newest(&e.path())).max()
}

/// What the image takes.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Report {
    image: u64,
    ram: Ram,
    web_app: u64,
    build_secs: f64,
}

impl Report {
    fn table(&self) -> String {
        let kib = |n: u64| n as f64 / 1024.0;
        let share = |n: u64, of: u64| 100.0 * n as f64 / of as f64;
        let bytes = |n: u64| format!("{n:>7} bytes {:>6.1} KiB", kib(n));
        let part = |of: u64| format!("{:>7.1} % of {:.0} KiB", share(self.image, of), kib(of));
        let ram = self.ram.data + self.ram.bss;
        let rows = [
            ("image", bytes(self.image), IMAGE.to_string()),
            ("app partition (4 MB)", part(APP_PARTITION), "espflash's default table, what it flashes".into()),
            ("app partition (1 MB)", part(SMALL_APP_PARTITION), "ESP-IDF's default table".into()),
            (
                "static RAM",
                bytes(ram),
                format!(
                    ".data {} + .bss {} (the heap inside); with code in RAM {:.1} % of the SRAM",
                    self.ram.data,
                    self.ram.bss,
                    share(ram + self.ram.iram, SRAM)
                ),
            ),
            ("code in RAM", bytes(self.ram.iram), ".trap, .rwtext".into()),
            (
                "web app",
                bytes(self.web_app),
                format!("the bundle's gzip bodies, {:.1} % of the image", share(self.web_app, self.image)),
            ),
        ];
        let mut out = format!(
            "ESP32-C3 firmware ({DIR}, release, {}), built in {:.1} s\n",
            tools::BARE_METAL_TARGET,
            self.build_secs
        );
        for (label, value, note) in rows {
            out += &format!("{label:<22} {value:<26} {note}\n");
        }
        out
    }

    /// The image must fit the partition `espflash flash` gives it.
    fn check(&self) -> Result<(), String> {
        if self.image > APP_PARTITION {
            return Err(format!(
                "the image ({} bytes) does not fit the app partition ({APP_PARTITION} bytes)",
                self.image
            ));
        }
        Ok(())
    }
}

/// RAM the ELF's sections take before the program runs, in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Ram {
    /// Initialised data (`.data`, `.data.wifi`).
    data: u64,
    /// Zeroed data (`.bss`), which holds the static heap too.
    bss: u64,
    /// Code copied to RAM (`.trap`, `.rwtext*`): on the C3 it takes the same SRAM.
    iram: u64,
}

/// Sums the allocated sections of a 32-bit little-endian ELF by name. Only the section headers
/// are read (no ELF crate for a dozen lines).
fn static_ram(elf: &[u8]) -> Result<Ram, String> {
    let bad = |what: &str| format!("the firmware ELF is not what was expected: {what}");
    let u16_at = |at: usize| elf.get(at..at + 2).map(|b| u64::from(u16::from_le_bytes([b[0], b[1]])));
    let u32_at =
        |at: usize| elf.get(at..at + 4).map(|b| u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])));
    if elf.get(..6) != Some(b"\x7fELF\x01\x01") {
        return Err(bad("not a 32-bit little-endian ELF"));
    }
    let field = |at: usize| u16_at(at).map(|v| v as usize).ok_or_else(|| bad("short header"));
    let shoff = u32_at(0x20).ok_or_else(|| bad("short header"))? as usize;
    let (size, count, names) = (field(0x2e)?, field(0x30)?, field(0x32)?);
    let section = |i: usize| -> Result<(u64, u64, u64, u64), String> {
        let at = shoff + i * size;
        let get = |off: usize| u32_at(at + off).ok_or_else(|| bad("section header past the end"));
        // sh_name, sh_flags, sh_offset, sh_size
        Ok((get(0)?, get(8)?, get(16)?, get(20)?))
    };
    let (_, _, names_at, names_len) = section(names)?;
    let strings = elf
        .get(names_at as usize..(names_at + names_len) as usize)
        .ok_or_else(|| bad("section names past the end"))?;
    let name_of = |offset: u64| {
        let rest = strings.get(offset as usize..).unwrap_or_default();
        let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        String::from_utf8_lossy(&rest[..end]).into_owned()
    };
    const SHF_ALLOC: u64 = 2;
    let mut ram = Ram::default();
    for i in 0..count {
        let (name, flags, _, len) = section(i)?;
        if flags & SHF_ALLOC == 0 {
            continue;
        }
        let name = name_of(name);
        let is = |prefix: &str| name == prefix || name.starts_with(&format!("{prefix}."));
        if is(".data") {
            ram.data += len;
        } else if is(".bss") {
            ram.bss += len;
        } else if is(".trap") || is(".rwtext") {
            ram.iram += len;
        }
    }
    Ok(ram)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 32-bit little-endian ELF with the named sections (name, flags, size) and no contents.
    fn elf(sections: &[(&str, u32, u32)]) -> Vec<u8> {
        let mut names = vec![0u8];
        let mut offsets = Vec::new();
        for (name, _, _) in sections.iter().chain([&(".shstrtab", 0, 0)]) {
            offsets.push(names.len() as u32);
            names.extend_from_slice(name.as_bytes());
            names.push(0);
        }
        let names_at = 52u32;
        let shoff = names_at + names.len() as u32;
        let mut out = vec![0u8; 52];
        out[..6].copy_from_slice(b"\x7fELF\x01\x01");
        out[0x20..0x24].copy_from_slice(&shoff.to_le_bytes());
        out[0x2e..0x30].copy_from_slice(&40u16.to_le_bytes());
        out[0x30..0x32].copy_from_slice(&((sections.len() + 1) as u16).to_le_bytes());
        out[0x32..0x34].copy_from_slice(&(sections.len() as u16).to_le_bytes());
        out.extend_from_slice(&names);
        let header = |name: u32, flags: u32, offset: u32, size: u32| {
            let mut h = [0u8; 40];
            h[0..4].copy_from_slice(&name.to_le_bytes());
            h[8..12].copy_from_slice(&flags.to_le_bytes());
            h[16..20].copy_from_slice(&offset.to_le_bytes());
            h[20..24].copy_from_slice(&size.to_le_bytes());
            h
        };
        for (i, (_, flags, size)) in sections.iter().enumerate() {
            out.extend_from_slice(&header(offsets[i], *flags, 0, *size));
        }
        out.extend_from_slice(&header(offsets[sections.len()], 0, names_at, names.len() as u32));
        out
    }

    #[test]
    fn static_ram_sums_data_and_bss_of_the_allocated_sections() {
        let elf = elf(&[
            (".trap", 6, 0x790),
            (".rwtext", 6, 0xf90),
            (".rwtext.wifi", 6, 0x82f8),
            (".data", 3, 0x1ef8),
            (".data.wifi", 3, 0x1f0),
            (".bss", 3, 0x27678),
            (".database", 3, 7),
            (".rodata", 2, 0x4e6a0),
            (".debug_info", 0, 0x100000),
        ]);
        let ram = static_ram(&elf).unwrap();
        assert_eq!(ram, Ram { data: 0x1ef8 + 0x1f0, bss: 0x27678, iram: 0x790 + 0xf90 + 0x82f8 });
        assert!(static_ram(b"\x7fELF\x02\x01").is_err(), "64-bit is not the C3's");
        assert!(static_ram(&elf[..60]).is_err(), "cut short");
    }

    #[test]
    fn the_table_says_what_the_image_takes_and_an_image_too_big_fails() {
        let report = Report {
            image: 954_336,
            ram: Ram { data: 8424, bss: 161_400, iram: 38_000 },
            web_app: 250_926,
            build_secs: 9.6,
        };
        let table = report.table();
        let row = |label: &str| table.lines().find(|l| l.starts_with(label)).unwrap_or_default().to_string();
        assert!(row("image ").contains("954336 bytes"), "{table}");
        assert!(row("app partition (4 MB)").contains("23.1 % of 4032 KiB"), "{table}");
        assert!(row("app partition (1 MB)").contains("91.0 % of 1024 KiB"), "{table}");
        assert!(
            row("static RAM").contains("169824 bytes")
                && row("static RAM").contains(".data 8424 + .bss 161400")
        );
        assert!(row("web app").contains("26.3 % of the image"), "{table}");
        assert_eq!(report.check(), Ok(()));
        assert!(Report { image: APP_PARTITION + 1, ..report }.check().is_err());
    }
}
