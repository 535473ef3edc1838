//! The two motors (LEDC PWM and H-bridge direction pins) and the task that owns them: it applies
//! the device's wheel commands as soon as they change and runs the watchdog's clock every
//! `WATCHDOG_TICK_MS`, whatever the sockets are doing, so the wheels stop when drive frames do.
//! And the headlights' and horn's pins, set when a control changes.

use crate::config;
use crate::shared;
use embassy_futures::select::select;
use embassy_time::Timer;
use embedded_hal::pwm::SetDutyCycle;
use esp_hal::gpio::{Level, Output};
use esp_hal::ledc::channel::Channel;
use esp_hal::ledc::LowSpeed;
use wsdeck_esp32c3::motor;

pub struct Motor {
    pub pwm: Channel<'static, LowSpeed>,
    pub in1: Output<'static>,
    pub in2: Output<'static>,
    pub reversed: bool,
}

impl Motor {
    fn set(&mut self, command: i16) {
        let o = motor::output(command, self.reversed, config::MIN_COMMAND);
        let duty = motor::duty(o, self.pwm.max_duty_cycle());
        let (in1, in2) = (Level::from(o.in1), Level::from(o.in2));
        if self.in1.output_level() != in1 || self.in2.output_level() != in2 {
            // Off first, so that the bridge never drives the old direction at the new speed.
            let _ = self.pwm.set_duty_cycle(0);
            self.in1.set_level(in1);
            self.in2.set_level(in2);
        }
        let _ = self.pwm.set_duty_cycle(duty);
    }
}

#[embassy_executor::task]
pub async fn run(mut left: Motor, mut right: Motor) -> ! {
    let mut applied = (0, 0);
    left.set(0);
    right.set(0);
    loop {
        select(shared::WHEELS.wait(), Timer::after_millis(config::WATCHDOG_TICK_MS)).await;
        shared::act(|d, now| d.tick(now));
        let wheels = shared::with(|d| (d.motion().left, d.motion().right));
        if wheels != applied {
            left.set(wheels.0);
            right.set(wheels.1);
            applied = wheels;
        }
    }
}

/// The headlights' and horn's pins, set whenever a control changes (`shared::SWITCHES`).
#[embassy_executor::task]
pub async fn switches(mut lights: Output<'static>, mut horn: Output<'static>) -> ! {
    loop {
        let (l, h) = shared::with(|d| wsdeck_esp32c3::device::switches(d.panel()));
        lights.set_level(Level::from(l));
        horn.set_level(Level::from(h));
        shared::SWITCHES.wait().await;
    }
}
