//! Orders and their stage machine:
//! placed → accepted → preparing → ready → completed, and
//! placed/accepted → cancelled (by the shop with a reason; by the guest
//! only while placed; by the system when no shop accepted in time).

use std::fmt;

use serde::{Deserialize, Serialize};

use super::options::LineOption;
use super::stock::Taken;
use super::{Cents, GuestId, ItemId, OrderId, SessionId, ShopId, Timestamp, Token};

/// The stage of an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Sent by the guest, not yet seen by the shop.
    Placed,
    /// The shop took it.
    Accepted,
    /// Being made.
    Preparing,
    /// Waiting at the counter.
    Ready,
    /// Picked up.
    Completed,
    /// Will not be made (or was made and is dropped); see the reason.
    Cancelled,
    /// Was ready, and nobody came for it.
    NotCollected,
}

impl OrderStatus {
    /// Every status, in stage order.
    pub const ALL: [OrderStatus; 7] = [
        OrderStatus::Placed,
        OrderStatus::Accepted,
        OrderStatus::Preparing,
        OrderStatus::Ready,
        OrderStatus::Completed,
        OrderStatus::Cancelled,
        OrderStatus::NotCollected,
    ];

    /// The wire name (`"placed"`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Placed => "placed",
            OrderStatus::Accepted => "accepted",
            OrderStatus::Preparing => "preparing",
            OrderStatus::Ready => "ready",
            OrderStatus::Completed => "completed",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::NotCollected => "not_collected",
        }
    }

    /// Position on the way from placed to picked up (the ends share the last).
    fn rank(self) -> u8 {
        match self {
            OrderStatus::Placed => 0,
            OrderStatus::Accepted => 1,
            OrderStatus::Preparing => 2,
            OrderStatus::Ready => 3,
            OrderStatus::Completed | OrderStatus::Cancelled | OrderStatus::NotCollected => 4,
        }
    }

    /// Whether a step from `from` to `self` goes back (an undo or a recall):
    /// the guest's page shows it as a correction.
    pub fn is_back_from(self, from: OrderStatus) -> bool {
        self.rank() < from.rank()
    }

    /// Still waiting for the shop (counts against the open-order limit and
    /// the queue).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            OrderStatus::Placed
                | OrderStatus::Accepted
                | OrderStatus::Preparing
                | OrderStatus::Ready
        )
    }

    /// Ahead of a guest in the queue: not yet ready.
    pub fn in_queue(self) -> bool {
        matches!(
            self,
            OrderStatus::Placed | OrderStatus::Accepted | OrderStatus::Preparing
        )
    }

    /// What the guest is told when the order reaches this stage.
    pub fn guest_message(self) -> &'static str {
        match self {
            OrderStatus::Placed => "Your order was sent to the shop.",
            OrderStatus::Accepted => "The shop accepted your order.",
            OrderStatus::Preparing => "Your order is being prepared.",
            OrderStatus::Ready => "Your order is ready for pickup!",
            OrderStatus::Completed => "Picked up. Enjoy!",
            OrderStatus::Cancelled => "Your order was cancelled.",
            OrderStatus::NotCollected => {
                "Nobody collected your order; ask at the counter if you still want it."
            }
        }
    }

    /// What the guest is told when a step is taken back to this stage.
    pub fn correction_message(self) -> &'static str {
        match self {
            OrderStatus::Placed => "Correction: the shop has not accepted your order yet.",
            OrderStatus::Accepted => "Correction: your order is accepted, not yet being prepared.",
            OrderStatus::Preparing => "Correction: your order is still being prepared.",
            OrderStatus::Ready => "Correction: your order is ready for pickup.",
            _ => "Correction: the shop changed your order's stage.",
        }
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who asks for a stage change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Actor {
    /// The shop the order belongs to.
    Shop,
    /// The guest who placed it.
    Guest,
    /// queueless itself (auto-cancel).
    System,
}

/// Why a stage change is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// Not a step of the stage machine.
    #[error("an order that is {from} cannot become {to}")]
    Invalid {
        /// Current stage.
        from: OrderStatus,
        /// Requested stage.
        to: OrderStatus,
    },
    /// A guest may only cancel, and only before the shop accepted.
    #[error("the shop has already accepted this order; ask at the counter to cancel it")]
    GuestTooLate,
    /// A shop must say why it cancels.
    #[error("say why the order is cancelled (the guest sees the reason)")]
    ReasonRequired,
    /// Only the shop's own last step, within [`UNDO_WINDOW_MS`], can be taken back.
    #[error("{0}")]
    NoUndo(&'static str),
}

/// How long a shop's last stage change can be taken back.
pub const UNDO_WINDOW_MS: u64 = 30_000;

/// How long after it was finished an order can be recalled to ready.
pub const RECALL_WINDOW_MS: u64 = 2 * 60 * 60 * 1000;

/// Checks taking back `last`, the order's latest stored stage change, at
/// `now`; returns the stage the order goes back to. A cancellation is
/// final (its stock and payment are settled), and an undo is not undone.
pub fn check_undo(last: &OrderEvent, now: Timestamp) -> Result<OrderStatus, TransitionError> {
    let Some(from) = last.from else {
        return Err(TransitionError::NoUndo(
            "nothing to undo: the order was just placed",
        ));
    };
    if last.actor != Actor::Shop {
        return Err(TransitionError::NoUndo(
            "the last change was not the shop's",
        ));
    }
    if last.to == OrderStatus::Cancelled {
        return Err(TransitionError::NoUndo("a cancellation cannot be undone"));
    }
    if last.to.is_back_from(from) {
        return Err(TransitionError::NoUndo(
            "the last change was already a correction",
        ));
    }
    if now.since(last.at) > UNDO_WINDOW_MS {
        return Err(TransitionError::NoUndo("too late to undo (30 seconds)"));
    }
    Ok(from)
}

/// Checks one stage change. `reason` is the cancellation reason, if any.
pub fn check_transition(
    from: OrderStatus,
    to: OrderStatus,
    actor: Actor,
    reason: Option<&str>,
) -> Result<(), TransitionError> {
    use OrderStatus as S;
    let invalid = TransitionError::Invalid { from, to };
    match actor {
        Actor::Shop => match (from, to) {
            (S::Placed, S::Accepted)
            | (S::Accepted, S::Preparing)
            | (S::Preparing, S::Ready)
            | (S::Ready, S::Completed) => Ok(()),
            (S::Ready, S::NotCollected) | (S::Completed | S::NotCollected, S::Ready) => Ok(()),
            (S::Placed | S::Accepted | S::Preparing | S::Ready, S::Cancelled) => {
                if reason.is_some_and(|r| !r.trim().is_empty()) {
                    Ok(())
                } else {
                    Err(TransitionError::ReasonRequired)
                }
            }
            _ => Err(invalid),
        },
        Actor::Guest => match (from, to) {
            (S::Placed, S::Cancelled) => Ok(()),
            (S::Accepted, S::Cancelled) => Err(TransitionError::GuestTooLate),
            _ => Err(invalid),
        },
        Actor::System => match (from, to) {
            (S::Placed, S::Cancelled) | (S::Ready, S::NotCollected) => Ok(()),
            _ => Err(invalid),
        },
    }
}

/// One line of an order: a snapshot of the item as it was sold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    /// The item.
    pub item: ItemId,
    /// Its name when ordered.
    pub name: String,
    /// Its unit price when ordered.
    pub unit_price: Cents,
    /// How many.
    pub quantity: u32,
    /// What it took from stock.
    pub taken: Taken,
    /// The options chosen, as they were when ordered (empty for a plain item).
    pub options: Vec<LineOption>,
}

impl OrderLine {
    /// The line's total: its unit price (options included) times the quantity.
    pub fn total(&self) -> Cents {
        self.unit_price.times(self.quantity).unwrap_or_default()
    }

    /// The chosen options for people: "Large (+0.80), 50 %".
    pub fn options_text(&self, money: impl Fn(Cents) -> String) -> String {
        self.options
            .iter()
            .map(|o| match o.price_delta {
                0 => o.name.clone(),
                d if d > 0 => format!("{} (+{})", o.name, money(Cents(d.unsigned_abs()))),
                d => format!("{} (−{})", o.name, money(Cents(d.unsigned_abs()))),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// One order: the part of a checkout that belongs to one shop.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// Its id.
    pub id: OrderId,
    /// The shop that makes it.
    pub shop: ShopId,
    /// The guest device that placed it.
    pub guest: GuestId,
    /// The shop's sequential number for it.
    pub number: u32,
    /// Short code said at the counter.
    pub pickup_code: String,
    /// The unguessable status link.
    pub token: Token,
    /// Current stage.
    pub status: OrderStatus,
    /// What was ordered.
    pub lines: Vec<OrderLine>,
    /// Sum of the lines.
    pub total: Cents,
    /// The guest's note to the shop.
    pub note: String,
    /// Name to call at pickup.
    pub pickup_name: String,
    /// The table session it was ordered into, if any.
    pub session: Option<SessionId>,
    /// Placed at.
    pub created_at: Timestamp,
    /// Last stage change.
    pub updated_at: Timestamp,
    /// When the shop accepted it.
    pub accepted_at: Option<Timestamp>,
    /// Why it was cancelled.
    pub cancel_reason: Option<String>,
}

/// Characters of pickup codes: no 0/O, 1/I/L, 2/Z, 5/S, 8/B look-alikes.
const PICKUP_ALPHABET: &[u8] = b"ACDEFGHJKMNPQRTUVWXY34679";

/// A short pickup code ("K7P4") made from random bytes.
pub fn pickup_code(random: [u8; 4]) -> String {
    random
        .iter()
        .map(|b| char::from(PICKUP_ALPHABET[usize::from(*b) % PICKUP_ALPHABET.len()]))
        .collect()
}

/// One stored stage change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderEvent {
    /// The stage before (`None` for placement).
    pub from: Option<OrderStatus>,
    /// The stage after.
    pub to: OrderStatus,
    /// Who made the change.
    pub actor: Actor,
    /// When.
    pub at: Timestamp,
    /// Cancellation reason, if any.
    pub reason: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrderStatus as S;

    #[test]
    fn the_shop_walks_the_stages_in_order() {
        let path = [S::Placed, S::Accepted, S::Preparing, S::Ready, S::Completed];
        for pair in path.windows(2) {
            assert_eq!(
                check_transition(pair[0], pair[1], Actor::Shop, None),
                Ok(())
            );
        }
    }

    #[test]
    fn every_other_shop_transition_is_refused() {
        let allowed = [
            (S::Placed, S::Accepted),
            (S::Accepted, S::Preparing),
            (S::Preparing, S::Ready),
            (S::Ready, S::Completed),
            (S::Placed, S::Cancelled),
            (S::Accepted, S::Cancelled),
            (S::Preparing, S::Cancelled),
            (S::Ready, S::Cancelled),
            (S::Ready, S::NotCollected),
            (S::Completed, S::Ready),
            (S::NotCollected, S::Ready),
        ];
        for from in S::ALL {
            for to in S::ALL {
                let result = check_transition(from, to, Actor::Shop, Some("sold out"));
                assert_eq!(
                    result.is_ok(),
                    allowed.contains(&(from, to)),
                    "{from} → {to}"
                );
            }
        }
    }

    #[test]
    fn shop_cancel_needs_a_reason() {
        assert_eq!(
            check_transition(S::Placed, S::Cancelled, Actor::Shop, None),
            Err(TransitionError::ReasonRequired)
        );
        assert_eq!(
            check_transition(S::Placed, S::Cancelled, Actor::Shop, Some("  ")),
            Err(TransitionError::ReasonRequired)
        );
    }

    #[test]
    fn guests_cancel_only_while_placed() {
        assert_eq!(
            check_transition(S::Placed, S::Cancelled, Actor::Guest, None),
            Ok(())
        );
        assert_eq!(
            check_transition(S::Accepted, S::Cancelled, Actor::Guest, None),
            Err(TransitionError::GuestTooLate)
        );
        for from in S::ALL {
            for to in S::ALL {
                if to != S::Cancelled {
                    assert!(check_transition(from, to, Actor::Guest, None).is_err());
                }
            }
        }
    }

    #[test]
    fn the_system_only_cancels_placed_orders() {
        assert_eq!(
            check_transition(S::Placed, S::Cancelled, Actor::System, None),
            Ok(())
        );
        assert!(check_transition(S::Accepted, S::Cancelled, Actor::System, None).is_err());
        assert_eq!(
            check_transition(S::Ready, S::NotCollected, Actor::System, None),
            Ok(())
        );
        for from in [S::Placed, S::Accepted, S::Preparing, S::Completed] {
            assert!(check_transition(from, S::NotCollected, Actor::System, None).is_err());
        }
    }

    #[test]
    fn a_prepared_order_is_cancelled_only_with_a_reason() {
        for from in [S::Preparing, S::Ready] {
            assert_eq!(
                check_transition(from, S::Cancelled, Actor::Shop, None),
                Err(TransitionError::ReasonRequired)
            );
            assert_eq!(
                check_transition(from, S::Cancelled, Actor::Shop, Some("burnt")),
                Ok(())
            );
            assert!(check_transition(from, S::Cancelled, Actor::Guest, None).is_err());
        }
    }

    #[test]
    fn recall_brings_finished_orders_back_to_ready() {
        for from in [S::Completed, S::NotCollected] {
            assert_eq!(check_transition(from, S::Ready, Actor::Shop, None), Ok(()));
            assert!(S::Ready.is_back_from(from));
        }
        assert!(check_transition(S::Cancelled, S::Ready, Actor::Shop, None).is_err());
        assert!(check_transition(S::Completed, S::Ready, Actor::Guest, None).is_err());
    }

    fn event(from: Option<S>, to: S, actor: Actor, at: u64) -> OrderEvent {
        OrderEvent {
            from,
            to,
            actor,
            at: Timestamp(at),
            reason: None,
        }
    }

    #[test]
    fn the_shops_last_step_is_undone_within_30_seconds() {
        let bump = event(Some(S::Preparing), S::Ready, Actor::Shop, 1_000);
        assert_eq!(check_undo(&bump, Timestamp(1_000)), Ok(S::Preparing));
        assert_eq!(check_undo(&bump, Timestamp(31_000)), Ok(S::Preparing));
        assert!(check_undo(&bump, Timestamp(31_001)).is_err());
        let done = event(Some(S::Ready), S::Completed, Actor::Shop, 0);
        assert_eq!(check_undo(&done, Timestamp(5)), Ok(S::Ready));
        let missed = event(Some(S::Ready), S::NotCollected, Actor::Shop, 0);
        assert_eq!(check_undo(&missed, Timestamp(5)), Ok(S::Ready));
    }

    #[test]
    fn some_steps_cannot_be_undone() {
        let placed = event(None, S::Placed, Actor::Guest, 0);
        let cancelled = event(Some(S::Ready), S::Cancelled, Actor::Shop, 0);
        let by_system = event(Some(S::Ready), S::NotCollected, Actor::System, 0);
        let undone = event(Some(S::Ready), S::Preparing, Actor::Shop, 0);
        for e in [placed, cancelled, by_system, undone] {
            assert!(
                matches!(
                    check_undo(&e, Timestamp(1)),
                    Err(TransitionError::NoUndo(_))
                ),
                "{e:?}"
            );
        }
    }

    #[test]
    fn pickup_codes_are_short_and_unambiguous() {
        let code = pickup_code([0, 24, 25, 255]);
        assert_eq!(code.len(), 4);
        assert!(code.chars().all(|c| !"01OIL25SZ8B".contains(c)));
    }
}
