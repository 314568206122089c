//! The seat rules of one event: who gets a seat, who waits and in which place, who moves up, and when one may
//! register at all. [`Seats`] holds a form's settings and counters; the store reads it under the form's lock, asks
//! it, writes back what it says ([`Seats::confirmed`], [`Seats::next_waitlist_seq`]) and commits. Nothing here does
//! I/O.
//!
//! Waiting-list order is the arrival order: each newcomer on the list takes the form's next ticket
//! (`waitlist_seq`). Places are computed from the tickets of those still waiting, so they stay distinct and
//! gap-free whoever leaves.

use chrono::{DateTime, Utc};

use super::forms::{Approval, FormSettings};
use super::refusal::Refusal;
use super::registration::{Placement, Status, free_seats, place_approved, place_new};

/// One event's registration form as far as seats go: the settings and the counters kept under the form's lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seats {
    capacity: Option<i32>,
    waitlist: bool,
    approval: Approval,
    opens_at: Option<DateTime<Utc>>,
    /// `None`: the event's start.
    closes_at: Option<DateTime<Utc>>,
    confirmed: i32,
    next_waitlist_seq: i64,
    event_cancelled: bool,
}

/// Where a registration goes: its status and, on the waiting list, its ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub status: Status,
    pub waitlist_seq: Option<i64>,
}

/// What ending (cancelling or rejecting) a registration does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// It had already ended this way: nothing changes.
    Unchanged,
    /// It ends now; `freed_seat` when it held a confirmed seat (the confirmed count went down).
    Ends { freed_seat: bool },
}

/// What approving an application does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Approving {
    /// Already confirmed or waiting: nothing changes.
    AlreadyIn,
    /// Placed now (a seat or the waiting list); the counters have been taken.
    Placed(Place),
}

impl Seats {
    /// A form's settings with its counters as stored: `confirmed` registrations, the `next_waitlist_seq` ticket,
    /// and whether scheduling has cancelled the event.
    pub fn new(
        settings: &FormSettings,
        confirmed: i32,
        next_waitlist_seq: i64,
        event_cancelled: bool,
    ) -> Self {
        Self {
            capacity: settings.capacity,
            waitlist: settings.waitlist,
            approval: settings.approval,
            opens_at: settings.opens_at,
            closes_at: settings.closes_at,
            confirmed,
            next_waitlist_seq,
            event_cancelled,
        }
    }

    /// The same, from the columns of a stored form (which keeps its questions apart).
    #[allow(clippy::too_many_arguments)]
    pub fn from_parts(
        capacity: Option<i32>,
        waitlist: bool,
        approval: Approval,
        window: (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
        confirmed: i32,
        next_waitlist_seq: i64,
        event_cancelled: bool,
    ) -> Self {
        Self {
            capacity,
            waitlist,
            approval,
            opens_at: window.0,
            closes_at: window.1,
            confirmed,
            next_waitlist_seq,
            event_cancelled,
        }
    }

    /// Confirmed registrations, as they are to be stored.
    pub fn confirmed(&self) -> i32 {
        self.confirmed
    }

    /// The next waiting-list ticket, as it is to be stored.
    pub fn next_waitlist_seq(&self) -> i64 {
        self.next_waitlist_seq
    }

    /// Whether one may register now: not once the event is cancelled, not before the form opens, not once it has
    /// closed (by default at the event's start).
    pub fn admit(&self, event_starts_at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), Refusal> {
        if self.event_cancelled {
            return Err(Refusal::EventCancelled);
        }
        if let Some(opens_at) = self.opens_at
            && now < opens_at
        {
            return Err(Refusal::NotOpenYet { opens_at });
        }
        if now >= self.closes_at.unwrap_or(event_starts_at) {
            return Err(Refusal::Closed);
        }
        Ok(())
    }

    fn settings(&self) -> FormSettings {
        FormSettings {
            capacity: self.capacity,
            waitlist: self.waitlist,
            approval: self.approval,
            opens_at: self.opens_at,
            closes_at: self.closes_at,
            questions: Vec::new(),
        }
    }

    /// Takes the counters for a new registration and says where it goes: pending when organisers approve
    /// applicants, else a seat while one is free, else the next waiting-list ticket, else refused (full).
    pub fn place_new(&mut self) -> Result<Place, Refusal> {
        let place = match place_new(&self.settings(), self.confirmed) {
            Placement::Full => return Err(Refusal::Full),
            Placement::Confirmed => self.seat(),
            Placement::Waitlisted => self.ticket(),
            Placement::PendingApproval => Place {
                status: Status::PendingApproval,
                waitlist_seq: None,
            },
        };
        Ok(place)
    }

    /// Approving an application with status `from`: a seat if one is free, else the waiting list, else refused.
    pub fn approve(&mut self, from: Status) -> Result<Approving, Refusal> {
        match from {
            Status::EventCancelled => return Err(Refusal::EventCancelled),
            Status::Confirmed | Status::Waitlisted => return Ok(Approving::AlreadyIn),
            Status::PendingApproval => {}
            other => return Err(Refusal::NotPending(other)),
        }
        let place = match place_approved(&self.settings(), self.confirmed) {
            Placement::Confirmed | Placement::PendingApproval => self.seat(),
            Placement::Waitlisted => self.ticket(),
            Placement::Full => return Err(Refusal::FullOnApproval),
        };
        Ok(Approving::Placed(place))
    }

    fn seat(&mut self) -> Place {
        self.confirmed += 1;
        Place {
            status: Status::Confirmed,
            waitlist_seq: None,
        }
    }

    fn ticket(&mut self) -> Place {
        let seq = self.next_waitlist_seq;
        self.next_waitlist_seq += 1;
        Place {
            status: Status::Waitlisted,
            waitlist_seq: Some(seq),
        }
    }

    /// Ending a registration with status `from` as `to` (cancelled or rejected): a confirmed seat is freed; ending
    /// twice the same way changes nothing; what has ended otherwise, or with the event, stays as it is.
    pub fn end(&mut self, from: Status, to: Status) -> Result<Ending, Refusal> {
        if from == Status::EventCancelled {
            return Err(Refusal::EventCancelled);
        }
        if !from.is_active() {
            return if from == to {
                Ok(Ending::Unchanged)
            } else {
                Err(Refusal::NotActive(from))
            };
        }
        let freed_seat = from == Status::Confirmed;
        if freed_seat {
            self.confirmed -= 1;
        }
        Ok(Ending::Ends { freed_seat })
    }

    /// How many of the waiting list may move up now: `None` when nobody may (no free seat, or the event is
    /// cancelled), `Some(None)` when everyone may (no limit), else `Some(Some(n))`.
    pub fn promotable(&self) -> Option<Option<u64>> {
        let free = free_seats(self.capacity, self.confirmed);
        if free == Some(0) || self.event_cancelled {
            None
        } else {
            Some(free)
        }
    }

    /// Of those waiting, in arrival order, the ones who move up now — the first, as many as seats are free —
    /// each taking a seat.
    pub fn promote<T>(&mut self, mut waiting: Vec<T>) -> Vec<T> {
        match self.promotable() {
            None => waiting.clear(),
            Some(Some(free)) => waiting.truncate(usize::try_from(free).unwrap_or(usize::MAX)),
            Some(None) => {}
        }
        self.confirmed = self
            .confirmed
            .saturating_add(i32::try_from(waiting.len()).unwrap_or(i32::MAX));
        waiting
    }
}

/// Whether a registration with this status may still change (its details, or be checked in): not once the event
/// was cancelled.
pub fn may_change(status: Status) -> Result<(), Refusal> {
    if status == Status::EventCancelled {
        Err(Refusal::EventCancelled)
    } else {
        Ok(())
    }
}

/// Whether a registration with this status may check in: only a confirmed one.
pub fn may_check_in(status: Status) -> Result<(), Refusal> {
    may_change(status)?;
    if status == Status::Confirmed {
        Ok(())
    } else {
        Err(Refusal::NotConfirmed)
    }
}

/// A place on the waiting list from how many wait ahead: 1 for the first.
pub fn waitlist_position(ahead: u64) -> i64 {
    i64::try_from(ahead).unwrap_or(i64::MAX).saturating_add(1)
}

/// The places of everyone waiting, given in arrival order: 1, 2, 3…
pub fn waitlist_positions<T>(
    waiting: impl IntoIterator<Item = T>,
) -> impl Iterator<Item = (T, i64)> {
    waiting.into_iter().zip(1..)
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn seats(capacity: Option<i32>, waitlist: bool, confirmed: i32) -> Seats {
        Seats::from_parts(
            capacity,
            waitlist,
            Approval::Automatic,
            (None, None),
            confirmed,
            1,
            false,
        )
    }

    fn confirmed() -> Place {
        Place {
            status: Status::Confirmed,
            waitlist_seq: None,
        }
    }

    fn waiting(seq: i64) -> Place {
        Place {
            status: Status::Waitlisted,
            waitlist_seq: Some(seq),
        }
    }

    #[test]
    fn without_a_limit_everyone_gets_a_seat() {
        let mut s = seats(None, false, 10_000);
        assert_eq!(s.place_new(), Ok(confirmed()));
        assert_eq!(s.confirmed(), 10_001);
        assert_eq!(s.promotable(), Some(None), "everyone waiting may move up");
    }

    #[test]
    fn capacity_zero_has_no_seat() {
        assert_eq!(seats(Some(0), false, 0).place_new(), Err(Refusal::Full));
        let mut s = seats(Some(0), true, 0);
        assert_eq!(s.place_new(), Ok(waiting(1)));
        assert_eq!(s.confirmed(), 0);
        assert_eq!(s.promotable(), None);
    }

    #[test]
    fn seats_then_the_waiting_list_in_arrival_order() {
        let mut s = seats(Some(2), true, 1);
        assert_eq!(s.place_new(), Ok(confirmed()));
        assert_eq!(s.place_new(), Ok(waiting(1)));
        assert_eq!(s.place_new(), Ok(waiting(2)));
        assert_eq!((s.confirmed(), s.next_waitlist_seq()), (2, 3));
    }

    #[test]
    fn full_without_a_waiting_list_takes_nothing() {
        let mut s = seats(Some(2), false, 2);
        assert_eq!(s.place_new(), Err(Refusal::Full));
        assert_eq!((s.confirmed(), s.next_waitlist_seq()), (2, 1));
    }

    #[test]
    fn applicants_wait_for_approval_then_get_a_seat_or_a_ticket() {
        let mut s = seats(Some(1), true, 0);
        s.approval = Approval::Manual;
        let pending = Place {
            status: Status::PendingApproval,
            waitlist_seq: None,
        };
        assert_eq!(s.place_new(), Ok(pending));
        assert_eq!(s.confirmed(), 0, "an application takes no seat");
        assert_eq!(
            s.approve(Status::PendingApproval),
            Ok(Approving::Placed(confirmed()))
        );
        assert_eq!(
            s.approve(Status::PendingApproval),
            Ok(Approving::Placed(waiting(1)))
        );
        assert_eq!(s.approve(Status::Waitlisted), Ok(Approving::AlreadyIn));
        assert_eq!(
            s.approve(Status::Rejected),
            Err(Refusal::NotPending(Status::Rejected))
        );
        let mut no_list = seats(Some(1), false, 1);
        assert_eq!(
            no_list.approve(Status::PendingApproval),
            Err(Refusal::FullOnApproval)
        );
    }

    #[test]
    fn ending_frees_a_confirmed_seat_once() {
        let mut s = seats(Some(2), true, 2);
        assert_eq!(
            s.end(Status::Confirmed, Status::Cancelled),
            Ok(Ending::Ends { freed_seat: true })
        );
        assert_eq!(s.confirmed(), 1);
        assert_eq!(
            s.end(Status::Waitlisted, Status::Rejected),
            Ok(Ending::Ends { freed_seat: false })
        );
        assert_eq!(s.confirmed(), 1);
        assert_eq!(
            s.end(Status::Cancelled, Status::Cancelled),
            Ok(Ending::Unchanged)
        );
        assert_eq!(
            s.end(Status::Rejected, Status::Cancelled),
            Err(Refusal::NotActive(Status::Rejected))
        );
    }

    #[test]
    fn promotion_takes_the_first_waiting_while_seats_are_free() {
        let mut s = seats(Some(3), true, 1);
        assert_eq!(s.promotable(), Some(Some(2)));
        assert_eq!(
            s.promote(vec!["first", "second", "third"]),
            ["first", "second"]
        );
        assert_eq!(s.confirmed(), 3);
        assert_eq!(s.promotable(), None);
        assert!(s.promote(vec!["third"]).is_empty());
        // Lowering the capacity below the confirmed count removes nobody and promotes nobody.
        let mut lowered = seats(Some(1), true, 3);
        assert_eq!(lowered.promotable(), None);
        assert!(lowered.promote(vec!["x"]).is_empty());
        assert_eq!(lowered.confirmed(), 3);
    }

    #[test]
    fn positions_stay_gap_free_after_a_cancellation() {
        let tickets = [1, 2, 3, 4];
        let places: Vec<_> = waitlist_positions(tickets).collect();
        assert_eq!(places, [(1, 1), (2, 2), (3, 3), (4, 4)]);
        // Ticket 2 leaves: those behind move up one place, nobody shares one.
        let left: Vec<_> = waitlist_positions(tickets.into_iter().filter(|&t| t != 2)).collect();
        assert_eq!(left, [(1, 1), (3, 2), (4, 3)]);
        assert_eq!(waitlist_position(0), 1);
        assert_eq!(waitlist_position(2), 3);
    }

    #[test]
    fn the_window_opens_and_closes() {
        let now = Utc::now();
        let starts = now + Duration::days(7);
        let mut s = seats(None, false, 0);
        assert_eq!(s.admit(starts, now), Ok(()));
        s.opens_at = Some(now + Duration::hours(1));
        assert_eq!(
            s.admit(starts, now),
            Err(Refusal::NotOpenYet {
                opens_at: now + Duration::hours(1)
            })
        );
        s.opens_at = Some(now);
        assert_eq!(
            s.admit(starts, now),
            Ok(()),
            "open from the opening instant"
        );
        assert_eq!(
            s.admit(starts, starts),
            Err(Refusal::Closed),
            "closes at the start"
        );
        s.closes_at = Some(now);
        assert_eq!(s.admit(starts, now), Err(Refusal::Closed));
    }

    #[test]
    fn a_cancelled_event_takes_and_moves_nobody() {
        let mut s = seats(Some(5), true, 0);
        s.event_cancelled = true;
        assert_eq!(
            s.admit(Utc::now() + Duration::days(1), Utc::now()),
            Err(Refusal::EventCancelled)
        );
        assert_eq!(s.promotable(), None);
        assert_eq!(
            s.end(Status::EventCancelled, Status::Cancelled),
            Err(Refusal::EventCancelled)
        );
        assert_eq!(
            s.approve(Status::EventCancelled),
            Err(Refusal::EventCancelled)
        );
        assert_eq!(
            may_change(Status::EventCancelled),
            Err(Refusal::EventCancelled)
        );
        assert_eq!(
            may_check_in(Status::EventCancelled),
            Err(Refusal::EventCancelled)
        );
        assert_eq!(may_check_in(Status::Waitlisted), Err(Refusal::NotConfirmed));
        assert_eq!(may_check_in(Status::Confirmed), Ok(()));
    }
}
