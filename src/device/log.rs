//! The event log: what the device said (`log` frames) and what happened to the link, newest last.
//! Repeats of the same line are folded into one with a count, so a flood cannot push out history.

use std::collections::VecDeque;
use wsdeck_protocol::LogLevel;

pub const CAPACITY: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A `log` frame from the device.
    Device,
    /// The app's own notes about the link and the frames.
    App,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Monotonic ms of the latest occurrence.
    pub at_ms: f64,
    pub level: LogLevel,
    pub origin: Origin,
    pub text: String,
    /// How many times this line came in a row (1 = once).
    pub count: u32,
}

#[derive(Debug, Default)]
pub struct EventLog {
    entries: VecDeque<Entry>,
    /// Bumped on every change, so a view can tell when to redraw.
    version: u64,
}

impl EventLog {
    pub fn push(&mut self, at_ms: f64, level: LogLevel, origin: Origin, text: impl Into<String>) {
        let text = text.into();
        self.version += 1;
        if let Some(last) = self.entries.back_mut() {
            if last.level == level && last.origin == origin && last.text == text {
                last.count = last.count.saturating_add(1);
                last.at_ms = at_ms;
                return;
            }
        }
        if self.entries.len() == CAPACITY {
            self.entries.pop_front();
        }
        self.entries.push_back(Entry { at_ms, level, origin, text, count: 1 });
    }

    pub fn app(&mut self, at_ms: f64, level: LogLevel, text: impl Into<String>) {
        self.push(at_ms, level, Origin::App, text);
    }

    pub fn entries(&self) -> impl DoubleEndedIterator<Item = &Entry> {
        self.entries.iter()
    }

    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn clear(&mut self) {
        self.entries.clear();
        self.version += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_fold_into_a_count() {
        let mut log = EventLog::default();
        log.app(1.0, LogLevel::Warn, "connection lost");
        log.app(2.0, LogLevel::Warn, "connection lost");
        log.push(3.0, LogLevel::Warn, Origin::Device, "connection lost");
        let e: Vec<_> = log.entries().collect();
        assert_eq!(e.len(), 2);
        assert_eq!((e[0].count, e[0].at_ms), (2, 2.0));
        assert_eq!(e[1].origin, Origin::Device);
        assert_eq!(log.version(), 3);
    }

    #[test]
    fn keeps_the_newest_entries() {
        let mut log = EventLog::default();
        for i in 0..(CAPACITY + 50) {
            log.app(i as f64, LogLevel::Info, format!("line {i}"));
        }
        assert_eq!(log.entries().count(), CAPACITY);
        assert_eq!(log.entries().next().unwrap().text, "line 50");
        assert_eq!(log.entries().last().unwrap().text, format!("line {}", CAPACITY + 49));
    }
}
