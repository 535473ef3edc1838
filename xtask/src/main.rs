//! `cargo xtask <task>`: builds, runs and tests wsdeck, installing what each task needs first.
//! One module per task; the tasks and their flags are declared in flags.rs and nowhere else.

mod bench;
mod dist;
mod esp32c3;
mod firmware;
mod flags;
mod flash;
mod fleet;
mod fuzz;
mod icons;
mod limits;
mod pwa;
mod run;
mod split;
mod test;
#[cfg(test)]
mod tidy;
mod toolchain;
mod tools;
mod util;

use flags::Command;
pub use flags::Flags;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (task, flags) = match flags::parse(&args) {
        Ok(Command::Run(task, flags)) => (task, flags),
        Ok(Command::Help(task)) => {
            print!("{}", flags::help(task));
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!(
                "xtask: {e}
(cargo xtask --help lists every task and flag)"
            );
            return ExitCode::from(2);
        }
    };
    let result = match task {
        "run" => run::main(&flags),
        "test" => test::main(),
        "dist" => dist::main(&flags.flash),
        "bench" => bench::main(&flags.bench),
        "icons" => icons::main(flags.check),
        "limits" => limits::main(flags.check),
        "firmware" => esp32c3::main(),
        "fleet" => fleet::main(&flags),
        other => Err(format!("`{other}` is in flags::TASKS but has no code to run")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    /// Every task of the table runs something: `main` matches on the same names.
    #[test]
    fn every_task_of_the_table_has_code() {
        let source = include_str!("main.rs");
        for task in crate::flags::TASKS {
            assert!(
                source.contains(&format!("        \"{}\" => ", task.name)),
                "`{}` is not run by main",
                task.name
            );
        }
    }
}
