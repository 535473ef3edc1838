//! A gamepad with the standard mapping, read once per frame: its sticks drive like the pads and
//! its B button is STOP.

use crate::dom::{call, get, window};
use wasm_bindgen::JsCast;

/// A gamepad's sticks (right and up positive) and its B button (the right face button).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct GamepadState {
    pub left: (f64, f64),
    pub right: (f64, f64),
    pub b: bool,
}

/// The first connected gamepad with the standard mapping.
pub fn gamepad() -> Option<GamepadState> {
    let pads = call(&window()?.navigator(), "getGamepads", None)?;
    let pads: js_sys::Array = pads.dyn_into().ok()?;
    pads.iter().find_map(|p| {
        let connected = get(&p, "connected").and_then(|c| c.as_bool()).unwrap_or(false);
        let standard = get(&p, "mapping").and_then(|m| m.as_string()).is_some_and(|m| m == "standard");
        if !connected || !standard {
            return None;
        }
        let axes: js_sys::Array = get(&p, "axes")?.dyn_into().ok()?;
        let axis = |i: u32| axes.get(i).as_f64().filter(|v| v.is_finite()).unwrap_or(0.0);
        let b = get(&p, "buttons")
            .and_then(|b| b.dyn_into::<js_sys::Array>().ok())
            .and_then(|b| get(&b.get(1), "pressed"))
            .and_then(|p| p.as_bool())
            .unwrap_or(false);
        Some(GamepadState { left: (axis(0), -axis(1)), right: (axis(2), -axis(3)), b })
    })
}
