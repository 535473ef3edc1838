//! What the firmware's tasks share: the device (its rules, behind one lock), each client's
//! outbox, and the motor task's wake-up. Every call into the device goes through [`act`], which
//! carries out the actions it returns, so no task can forget to.

use alloc::string::String;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};
use core::net::IpAddr;
use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use embassy_sync::blocking_mutex::Mutex;
use embassy_sync::channel::Channel;
use embassy_sync::signal::Signal;
use wsdeck_device::outbox::{place, Class, Place, Room, UNREAD_REASON};
use wsdeck_device::{Action, Device, Full, Settings, Slot, CLOSE_POLICY};
use wsdeck_esp32c3::device::MAX_CLIENTS;

/// A frame for one client's socket.
pub enum Out {
    Text(String),
    Close(u16, &'static str),
}

/// Frames queued per client. Telemetry leaves [`REPLY_ROOM`] of them for pongs and state, so a
/// client that reads slowly loses readings, not answers.
pub const OUTBOX_DEPTH: usize = 16;
const REPLY_ROOM: usize = 4;

/// Each client's frames, by slot; its web task sends them.
pub static OUTBOX: [Channel<CriticalSectionRawMutex, Out, OUTBOX_DEPTH>; MAX_CLIENTS] =
    [const { Channel::new() }; MAX_CLIENTS];

/// Wakes the motor task: the wheel commands may have changed.
pub static WHEELS: Signal<CriticalSectionRawMutex, ()> = Signal::new();

/// Wakes the switch task: a control (the headlights, the horn) changed.
pub static SWITCHES: Signal<CriticalSectionRawMutex, ()> = Signal::new();

/// Frames not queued because a client's outbox was full (the chip has no atomic add).
pub static DROPPED: Mutex<CriticalSectionRawMutex, Cell<u32>> = Mutex::new(Cell::new(0));

static DEVICE: Mutex<CriticalSectionRawMutex, RefCell<Option<Device>>> = Mutex::new(RefCell::new(None));

pub fn init(settings: Settings) {
    DEVICE.lock(|d| *d.borrow_mut() = Some(Device::new(settings)));
}

pub fn now_ms() -> u64 {
    embassy_time::Instant::now().as_millis()
}

/// Runs `f` on the device at the current time and queues the frames it returns.
pub fn act(f: impl FnOnce(&mut Device, u64) -> Vec<Action>) {
    let frames = with(|d| {
        let actions = f(d, now_ms());
        // Each client's view of the drive state is written now, under the same lock.
        actions
            .into_iter()
            .map(|a| match a {
                Action::State(slot) => Action::Send(slot, d.state_frame(slot)),
                other => other,
            })
            .collect()
    });
    deliver(frames, Class::Reply);
}

/// A text frame from the client in `slot`; the motor task applies what it changed at once.
pub fn frame(slot: Slot, text: &str) {
    act(|d, now| d.frame(slot, text, now));
    WHEELS.signal(());
}

/// The client in `slot` is gone (closed, failed or dropped): if it drove, the car stops.
pub fn close(slot: Slot) {
    act(|d, now| d.close(slot, now));
    WHEELS.signal(());
}

/// Reads something off the device.
pub fn with<R>(f: impl FnOnce(&mut Device) -> R) -> R {
    DEVICE.lock(|d| f(d.borrow_mut().as_mut().expect("shared::init runs first")))
}

/// A WebSocket from `addr` opened: its slot, with hello (and who drives) queued in its emptied
/// outbox.
pub fn open(addr: IpAddr) -> Result<Slot, Full> {
    let (slot, _) = with(|d| d.open(addr, now_ms()))?;
    // Whatever the slot's last client left unsent is not for this one.
    OUTBOX[slot].clear();
    act(|d, _| d.greeting(slot));
    Ok(slot)
}

/// A telemetry frame for every client that may watch, where there is room.
pub fn telemetry(frame: &str) {
    let actions = with(|d| d.telemetry(frame));
    deliver(actions, Class::Broadcast);
}

/// Queues each frame without waiting, by the device core's queue policy: telemetry leaves
/// [`REPLY_ROOM`] places for answers, and a client that lets answers fill its outbox is closed.
fn deliver(actions: Vec<Action>, class: Class) {
    let room = Room { broadcast: OUTBOX_DEPTH - REPLY_ROOM, replies: OUTBOX_DEPTH, drop_oldest: false };
    for action in actions {
        match action {
            Action::Send(slot, text) => {
                let outbox = &OUTBOX[slot];
                let waiting = outbox.len();
                match place(class, waiting, waiting, room) {
                    Place::Queue | Place::Mark | Place::QueueDroppingOldest => {
                        if outbox.try_send(Out::Text(text)).is_err() {
                            DROPPED.lock(|n| n.set(n.get().wrapping_add(1)));
                        }
                    }
                    Place::Drop => DROPPED.lock(|n| n.set(n.get().wrapping_add(1))),
                    Place::Close => close_now(slot, CLOSE_POLICY, UNREAD_REASON),
                }
            }
            Action::State(_) => {} // written as Send by `act`
            Action::Close(slot, code, reason) => close_now(slot, code, reason),
            Action::Halted(halt) => esp_println::println!("wsdeck: stopped: {}", halt.describe()),
            Action::Control(_) => SWITCHES.signal(()),
        }
    }
}

/// The close goes first: what is queued would only delay it.
fn close_now(slot: Slot, code: u16, reason: &'static str) {
    OUTBOX[slot].clear();
    let _ = OUTBOX[slot].try_send(Out::Close(code, reason));
}
