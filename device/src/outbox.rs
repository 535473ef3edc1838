//! What one client's queue of outgoing frames keeps when the client reads slower than the device
//! writes: telemetry and other frames for everyone are dropped (the oldest first where the queue
//! allows it, so a client that resumes reading gets recent readings); answers (hello, pong, auth)
//! are never dropped, and a client that lets too many of them pile up unread is closed; the drive
//! state is latest-wins, so it is never stale and never piles up. One slow client therefore never
//! slows the car or the others. The queues themselves are the caller's (a tokio-notified deque in
//! the simulator, an embassy channel in firmware).

/// What kind of frame is to be queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// An answer to this client.
    Reply,
    /// This client's view of the drive state.
    State,
    /// A frame for every client (telemetry, log).
    Broadcast,
}

/// The room in one client's queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Room {
    /// Broadcast frames kept for a client that is behind.
    pub broadcast: usize,
    /// Answers waiting before the client is closed.
    pub replies: usize,
    /// The queue can drop its oldest broadcast frame (a deque can; a channel shared with
    /// answers cannot, and drops the new one).
    pub drop_oldest: bool,
}

/// Where a frame goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Queue,
    /// Mark the drive state as due; a mark not yet sent stands for the newer one.
    Mark,
    /// Drop the oldest waiting broadcast frame, then queue this one.
    QueueDroppingOldest,
    /// Drop this frame.
    Drop,
    /// The client lets answers pile up unread while it keeps asking: close it (1008).
    Close,
}

/// Why a client is closed for [`Place::Close`].
pub const UNREAD_REASON: &str = "too many unread replies";

/// Where a frame of `class` goes in a queue that holds `replies` answers and `broadcast` other
/// frames now.
pub fn place(class: Class, replies: usize, broadcast: usize, room: Room) -> Place {
    match class {
        Class::State => Place::Mark,
        Class::Reply if replies >= room.replies => Place::Close,
        Class::Reply => Place::Queue,
        Class::Broadcast if broadcast < room.broadcast => Place::Queue,
        Class::Broadcast if room.drop_oldest && broadcast > 0 => Place::QueueDroppingOldest,
        Class::Broadcast => Place::Drop,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEQUE: Room = Room { broadcast: 4, replies: 256, drop_oldest: true };
    const CHANNEL: Room = Room { broadcast: 12, replies: 16, drop_oldest: false };

    #[test]
    fn a_slow_client_loses_old_telemetry_never_an_answer() {
        assert_eq!(place(Class::Broadcast, 0, 3, DEQUE), Place::Queue);
        assert_eq!(place(Class::Broadcast, 0, 4, DEQUE), Place::QueueDroppingOldest);
        assert_eq!(place(Class::Broadcast, 10, 12, CHANNEL), Place::Drop, "a channel drops the new one");
        assert_eq!(place(Class::Reply, 255, 4, DEQUE), Place::Queue);
        assert_eq!(
            place(Class::Reply, 15, 0, CHANNEL),
            Place::Queue,
            "answers use the room telemetry leaves"
        );
    }

    #[test]
    fn a_client_that_asks_without_reading_is_closed_and_state_never_piles_up() {
        assert_eq!(place(Class::Reply, 256, 0, DEQUE), Place::Close);
        assert_eq!(place(Class::State, 1000, 1000, DEQUE), Place::Mark);
        assert_eq!(place(Class::Broadcast, 0, 0, Room { broadcast: 0, ..DEQUE }), Place::Drop);
    }
}
