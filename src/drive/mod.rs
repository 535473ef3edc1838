//! Driving: touch pads, keys and the safety rules that can never leave a device moving after the
//! finger, the page or the link is gone. The maths and rules are plain Rust (`shaping`, `arming`,
//! `sender`, `controller`); `page.rs` only wires browser events to them, with the gamepad, the
//! screen wake lock and full screen (`gamepad`, `wake_lock`, `fullscreen`); `strip` is what its
//! landscape status strip says. `prefs` is what this
//! phone remembers about driving; the words a device takes are kept per device (`device::prefs`).

pub mod arming;
pub mod controller;
mod fullscreen;
mod gamepad;
mod page;
pub mod prefs;
pub mod sender;
pub mod shaping;
mod strip;
mod wake_lock;

pub use page::DrivePage;
