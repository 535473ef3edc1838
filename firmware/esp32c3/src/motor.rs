//! A wheel command (-1000..=1000, docs/PROTOCOL.md `drive`) as an H-bridge input: PWM duty and
//! direction. Commands under `min` (config.rs `MIN_COMMAND`) leave the motor off instead of
//! humming.

use wsdeck_protocol::FULL;

/// What one motor's pins are set to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Output {
    /// Duty in thousandths of the PWM period.
    pub duty_permille: u16,
    /// IN1 and IN2 of the H-bridge: (high, low) one way, (low, high) the other, both low off.
    pub in1: bool,
    pub in2: bool,
}

/// The output for a command, with `reversed` for a motor mounted the other way round.
pub fn output(command: i16, reversed: bool, min: i16) -> Output {
    let c = command.clamp(-FULL, FULL);
    if c == 0 || c.unsigned_abs() < min.unsigned_abs() {
        return Output { duty_permille: 0, in1: false, in2: false };
    }
    let forward = (c > 0) != reversed;
    let duty_permille = (u32::from(c.unsigned_abs()) * 1000 / FULL as u32) as u16;
    Output { duty_permille, in1: forward, in2: !forward }
}

/// The duty value for a PWM channel whose full period counts `max_duty`.
pub fn duty(o: Output, max_duty: u16) -> u16 {
    (u32::from(o.duty_permille) * u32::from(max_duty) / 1000) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_forward_back_and_off() {
        assert_eq!(output(1000, false, 0), Output { duty_permille: 1000, in1: true, in2: false });
        assert_eq!(output(-500, false, 0), Output { duty_permille: 500, in1: false, in2: true });
        assert_eq!(output(-500, true, 0), Output { duty_permille: 500, in1: true, in2: false });
        assert_eq!(output(0, false, 0), Output { duty_permille: 0, in1: false, in2: false });
        assert_eq!(output(20, false, 30), output(0, false, 0), "under the minimum is off");
        assert_eq!(output(i16::MIN, false, 0).duty_permille, 1000, "out of range is clamped");
    }

    #[test]
    fn duty_scales_to_the_channel() {
        assert_eq!(duty(output(1000, false, 0), 1023), 1023);
        assert_eq!(duty(output(500, false, 0), 1024), 512);
        assert_eq!(duty(output(0, false, 0), u16::MAX), 0);
    }
}
