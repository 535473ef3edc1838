//! Whether the app may send motion. Arming is a deliberate act; anything that could leave a car
//! moving without a finger on the glass (link loss, device failsafe, reconnect, page hidden, STOP)
//! disarms, and after arming no motion is sent until every control has been back at neutral.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disarm {
    /// The person pressed STOP or disarm.
    User,
    LinkLost,
    /// The device stopped by itself (watchdog, driver lease lost).
    Failsafe,
    Reconnected,
    /// The page was hidden or left (phone call, screen lock, tab switch).
    Hidden,
    /// Another client holds the driver lease.
    NotDriver,
    /// The device wants its pairing token before it obeys a drive frame.
    NotPaired,
}

impl Disarm {
    pub fn text(self) -> &'static str {
        match self {
            Disarm::User => "stopped",
            Disarm::LinkLost => "link lost",
            Disarm::Failsafe => "device failsafe",
            Disarm::Reconnected => "reconnected",
            Disarm::Hidden => "page left",
            Disarm::NotDriver => "someone else is driving",
            Disarm::NotPaired => "not paired yet, the device needs its pairing token",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arming {
    Disarmed(Option<Disarm>),
    /// Armed, but a control was off-centre when arming or after a safety stop: return it first.
    AwaitNeutral,
    Armed,
}

impl Default for Arming {
    fn default() -> Self {
        Arming::Disarmed(None)
    }
}

impl Arming {
    pub fn arm(&mut self, controls_neutral: bool) {
        *self = if controls_neutral { Arming::Armed } else { Arming::AwaitNeutral };
    }

    pub fn disarm(&mut self, why: Disarm) {
        *self = Arming::Disarmed(Some(why));
    }

    /// A safety stop that keeps the arming: release, pointer cancelled, window blurred. Motion
    /// resumes only after the controls are back at neutral.
    pub fn latch(&mut self) {
        if *self == Arming::Armed {
            *self = Arming::AwaitNeutral;
        }
    }

    /// Called whenever the controls change.
    pub fn controls(&mut self, neutral: bool) {
        if *self == Arming::AwaitNeutral && neutral {
            *self = Arming::Armed;
        }
    }

    pub fn may_move(&self) -> bool {
        *self == Arming::Armed
    }

    pub fn is_armed(&self) -> bool {
        !matches!(self, Arming::Disarmed(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_disarmed_and_arms_at_neutral() {
        let mut a = Arming::default();
        assert!(!a.may_move());
        a.arm(true);
        assert!(a.may_move());
    }

    #[test]
    fn arming_with_a_stick_held_waits_for_neutral() {
        let mut a = Arming::default();
        a.arm(false);
        assert_eq!(a, Arming::AwaitNeutral);
        assert!(a.is_armed() && !a.may_move());
        a.controls(false);
        assert!(!a.may_move());
        a.controls(true);
        assert!(a.may_move());
    }

    #[test]
    fn every_loss_disarms_until_rearmed_at_neutral() {
        for why in [
            Disarm::LinkLost,
            Disarm::Failsafe,
            Disarm::Reconnected,
            Disarm::Hidden,
            Disarm::User,
            Disarm::NotPaired,
        ] {
            let mut a = Arming::default();
            a.arm(true);
            a.disarm(why);
            assert_eq!(a, Arming::Disarmed(Some(why)));
            a.controls(true);
            assert!(!a.may_move(), "{why:?} must not re-arm by itself");
        }
    }

    #[test]
    fn a_latch_waits_for_neutral_but_stays_armed() {
        let mut a = Arming::default();
        a.arm(true);
        a.latch();
        assert!(a.is_armed() && !a.may_move());
        a.controls(true);
        assert!(a.may_move());
        let mut off = Arming::default();
        off.latch();
        assert_eq!(off, Arming::Disarmed(None));
    }
}
