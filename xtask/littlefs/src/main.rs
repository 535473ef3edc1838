//! `xtask-littlefs BLOCK_SIZE FS_SIZE IMAGE [/path/in/image=FILE]...`: writes a LittleFS image of
//! those files. Run by `cargo xtask dist`, which owns the flags; see docs/FIRMWARE.md.

use std::process::ExitCode;

fn run(args: &[String]) -> Result<String, String> {
    let [block_size, fs_size, image, files @ ..] = args else {
        return Err("usage: xtask-littlefs BLOCK_SIZE FS_SIZE IMAGE [/path/in/image=FILE]...".into());
    };
    let number = |s: &str| s.parse::<usize>().map_err(|_| format!("`{s}` is not a number of bytes"));
    let (block_size, fs_size) = (number(block_size)?, number(fs_size)?);
    let mut contents = Vec::new();
    for pair in files {
        let (path, file) = pair.split_once('=').ok_or_else(|| format!("`{pair}` is not PATH=FILE"))?;
        contents.push((path.to_string(), std::fs::read(file).map_err(|e| format!("{file}: {e}"))?));
    }
    let bytes = xtask_littlefs::pack(&contents, block_size, fs_size)?;
    std::fs::write(image, &bytes).map_err(|e| format!("{image}: {e}"))?;
    Ok(format!("{image}: {} files, {fs_size} bytes, {block_size}-byte blocks, read back ok", contents.len()))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("xtask-littlefs: {e}");
            ExitCode::FAILURE
        }
    }
}
