//! The controls the device declares (docs/PROTOCOL.md, Controls) and their values. The device is
//! the source of truth: a `ctl` from an app is taken only as the declaration allows
//! ([`Control::accept`]: clamped, snapped, one of the options), and whatever it holds then is what
//! every client is told. A button is held by the client that pressed it, and let go when that
//! client's socket closes, so a horn, a pump or a winch never stays on.

use alloc::vec::Vec;
use wsdeck_protocol::{Control, ControlKind, CtlValue, DeviceMsg};

/// Who set a value last, and when; `by` is `None` for the device itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    pub by: Option<u32>,
    pub at_ms: u64,
}

/// What a `ctl` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The control at this index holds a new value.
    Changed(usize),
    /// Taken, and it already held that value.
    Same(usize),
    /// Not taken (a read-only or disabled control, a value wrong for its kind); it keeps its value.
    Refused(usize),
    /// No control has that id.
    Unknown,
}

#[derive(Debug, Default)]
pub struct Panel {
    controls: Vec<Control>,
    values: Vec<CtlValue>,
    changes: Vec<Option<Change>>,
    /// The client holding each button down.
    held: Vec<Option<u32>>,
}

impl Panel {
    /// The declared set, each at its initial value.
    pub fn new(controls: Vec<Control>) -> Panel {
        let values = controls.iter().map(Control::initial).collect();
        let n = controls.len();
        Panel { controls, values, changes: alloc::vec![None; n], held: alloc::vec![None; n] }
    }

    pub fn controls(&self) -> &[Control] {
        &self.controls
    }

    pub fn is_empty(&self) -> bool {
        self.controls.is_empty()
    }

    pub fn index(&self, id: &str) -> Option<usize> {
        self.controls.iter().position(|c| c.id == id)
    }

    /// The control at `index`, its value and its last change.
    pub fn get(&self, index: usize) -> Option<(&Control, &CtlValue, Option<Change>)> {
        Some((self.controls.get(index)?, self.values.get(index)?, *self.changes.get(index)?))
    }

    pub fn value(&self, id: &str) -> Option<&CtlValue> {
        self.values.get(self.index(id)?)
    }

    /// Every control's value (sent on connect).
    pub fn all(&self) -> DeviceMsg {
        DeviceMsg::Ctl(self.controls.iter().map(|c| c.id.clone()).zip(self.values.iter().cloned()).collect())
    }

    /// The values at `indexes` (sent after a change).
    pub fn some(&self, indexes: &[usize]) -> DeviceMsg {
        DeviceMsg::Ctl(
            indexes
                .iter()
                .filter_map(|&i| Some((self.controls.get(i)?.id.clone(), self.values.get(i)?.clone())))
                .collect(),
        )
    }

    /// A change asked for by client `by` (`None`: the device itself, which may also set the
    /// read-only kinds and disabled controls).
    pub fn set(&mut self, by: Option<u32>, id: &str, v: &CtlValue, now_ms: u64) -> Outcome {
        let Some(i) = self.index(id) else { return Outcome::Unknown };
        let control = &self.controls[i];
        if by.is_some() && (control.read_only() || control.disabled) {
            return Outcome::Refused(i);
        }
        let Some(v) = control.accept(v) else { return Outcome::Refused(i) };
        if control.kind == ControlKind::Button {
            self.held[i] = (v == CtlValue::Bool(true)).then_some(by).flatten();
        }
        if self.values[i] == v {
            return Outcome::Same(i);
        }
        self.values[i] = v;
        self.changes[i] = Some(Change { by, at_ms: now_ms });
        Outcome::Changed(i)
    }

    /// Client `client` is gone: every button it held is let go. Returns the controls that changed.
    pub fn let_go(&mut self, client: u32, now_ms: u64) -> Vec<usize> {
        let held: Vec<usize> = (0..self.held.len()).filter(|&i| self.held[i] == Some(client)).collect();
        for &i in &held {
            self.held[i] = None;
            self.values[i] = CtlValue::Bool(false);
            self.changes[i] = Some(Change { by: None, at_ms: now_ms });
        }
        held
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wsdeck_protocol::Range;

    fn panel() -> Panel {
        let pan = Range { min: -90.0, max: 90.0, step: Some(1.0), unit: Some("°".into()) };
        let battery = ControlKind::Gauge { min: 6.4, max: 8.4, unit: None, warn: None, alarm: None };
        let mut locked = Control::new("locked", ControlKind::Toggle);
        locked.disabled = true;
        Panel::new(alloc::vec![
            Control::new("lights", ControlKind::Toggle),
            Control::new("horn", ControlKind::Button),
            Control::new("pan", ControlKind::Slider(pan)),
            Control::new("battery", battery),
            locked,
        ])
    }

    #[test]
    fn a_change_is_taken_as_the_declaration_allows_and_remembered_with_who_made_it() {
        let mut p = panel();
        assert_eq!(p.value("pan"), Some(&CtlValue::Num(-90.0)), "a slider starts at its min");
        assert_eq!(p.set(Some(1), "pan", &CtlValue::Num(30.4), 10), Outcome::Changed(2));
        assert_eq!(p.value("pan"), Some(&CtlValue::Num(30.0)), "snapped to its step");
        assert_eq!(p.set(Some(2), "pan", &CtlValue::Num(500.0), 20), Outcome::Changed(2));
        assert_eq!(p.value("pan"), Some(&CtlValue::Num(90.0)), "clamped to its max");
        assert_eq!(p.get(2).unwrap().2, Some(Change { by: Some(2), at_ms: 20 }));
        assert_eq!(p.set(Some(2), "pan", &CtlValue::Num(90.2), 30), Outcome::Same(2));
        assert_eq!(p.set(Some(1), "pan", &CtlValue::Bool(true), 40), Outcome::Refused(2));
        assert_eq!(p.set(Some(1), "nothing", &CtlValue::Bool(true), 40), Outcome::Unknown);
    }

    #[test]
    fn read_only_and_disabled_controls_are_the_devices_to_set() {
        let mut p = panel();
        assert_eq!(p.set(Some(1), "battery", &CtlValue::Num(7.0), 0), Outcome::Refused(3));
        assert_eq!(p.set(Some(1), "locked", &CtlValue::Bool(true), 0), Outcome::Refused(4));
        assert_eq!(p.set(None, "battery", &CtlValue::Num(7.0), 0), Outcome::Changed(3));
        assert_eq!(p.get(3).unwrap().2, Some(Change { by: None, at_ms: 0 }));
    }

    #[test]
    fn a_held_button_is_let_go_when_its_client_leaves() {
        let mut p = panel();
        assert_eq!(p.set(Some(7), "horn", &CtlValue::Bool(true), 0), Outcome::Changed(1));
        assert!(p.let_go(8, 5).is_empty(), "another client held nothing");
        assert_eq!(p.let_go(7, 10), [1]);
        assert_eq!(p.value("horn"), Some(&CtlValue::Bool(false)));
        assert!(p.let_go(7, 20).is_empty(), "let go once");
        p.set(Some(7), "horn", &CtlValue::Bool(true), 30);
        p.set(Some(7), "horn", &CtlValue::Bool(false), 40);
        assert!(p.let_go(7, 50).is_empty(), "released by hand: nothing held");
    }

    #[test]
    fn values_go_out_as_one_ctl_frame() {
        let mut p = panel();
        p.set(Some(1), "lights", &CtlValue::Bool(true), 0);
        assert_eq!(
            p.all().encode(),
            r#"{"t":"ctl","v":{"lights":true,"horn":false,"pan":-90,"battery":6.4,"locked":false}}"#
        );
        assert_eq!(p.some(&[0, 2]).encode(), r#"{"t":"ctl","v":{"lights":true,"pan":-90}}"#);
    }
}
