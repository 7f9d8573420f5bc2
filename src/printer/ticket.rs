//! A kitchen ticket: what is printed for one order, built from the order
//! as stored, and its ESC/POS rendering.
//!
//! Layout (42 columns on 80 mm paper): the shop, the order number large
//! with the pickup code, the venue-local date and time, the table, each
//! line (`2x Pork dumplings`, its options indented below), the guest's
//! note, the pickup name, paid or unpaid with the total, then a cut.

use super::escpos::{Escpos, Size};
use crate::domain::Cents;
use crate::domain::order::Order;
use crate::domain::service::{Payment, PaymentStatus};
use crate::store::printing::TicketKind;

/// Characters per line of 80 mm paper in font A.
pub const WIDTH: usize = 42;

/// One line of a ticket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TicketLine {
    /// How many.
    pub quantity: u32,
    /// The item's name.
    pub item: String,
    /// Chosen options ("Large", "50% sugar"), printed under the item.
    pub options: Vec<String>,
}

/// Everything a ticket shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ticket {
    /// The shop's name.
    pub shop: String,
    /// The shop's number for the order.
    pub number: u32,
    /// The code the counter asks for.
    pub pickup_code: String,
    /// When it was placed, venue-local: `2026-12-01 12:34`.
    pub placed: String,
    /// The table it was ordered at.
    pub table: Option<String>,
    /// What to make.
    pub lines: Vec<TicketLine>,
    /// The guest's note.
    pub note: String,
    /// The name to call.
    pub pickup_name: String,
    /// Amount due.
    pub total: Cents,
    /// Whether it is paid (`None`: no payment record).
    pub paid: Option<bool>,
    /// Above the number: `** REPRINT **` (so nobody makes it twice) or
    /// `** CANCELLED **` with the reason (stop making it).
    pub banner: Option<String>,
}

impl Ticket {
    /// The ticket of `order` as stored now.
    pub fn of(
        order: &Order,
        shop: &str,
        table: Option<String>,
        payment: Option<&Payment>,
        utc_offset_minutes: i32,
        kind: TicketKind,
    ) -> Ticket {
        let banner = match kind {
            TicketKind::New => None,
            TicketKind::Reprint => Some("** REPRINT **".to_owned()),
            TicketKind::Cancelled => Some(match &order.cancel_reason {
                Some(r) => format!("** CANCELLED ** {r}"),
                None => "** CANCELLED **".to_owned(),
            }),
        };
        Ticket {
            shop: shop.to_owned(),
            number: order.number,
            pickup_code: order.pickup_code.clone(),
            placed: local_time(order.created_at.0, utc_offset_minutes),
            table,
            lines: order
                .lines
                .iter()
                .map(|l| TicketLine {
                    quantity: l.quantity,
                    item: l.name.clone(),
                    // Options come with the menus work; the line has none yet.
                    options: Vec::new(),
                })
                .collect(),
            note: order.note.clone(),
            pickup_name: order.pickup_name.clone(),
            total: order.total,
            paid: payment.map(|p| p.status == PaymentStatus::Successful),
            banner,
        }
    }

    /// The ESC/POS bytes, from `ESC @` to the cut.
    pub fn render(&self) -> Vec<u8> {
        let mut e = Escpos::new(WIDTH);
        e.center(true).bold(true).line(&self.shop, 0).bold(false);
        if let Some(b) = &self.banner {
            e.bold(true).line(b, 0).bold(false);
        }
        e.size(Size::Large)
            .line(&format!("#{}", self.number), 0)
            .size(Size::Normal)
            .line(&format!("Pickup code {}", self.pickup_code), 0)
            .center(false)
            .line(&self.placed, 0);
        if let Some(t) = &self.table {
            e.bold(true).line(&format!("Table: {t}"), 0).bold(false);
        }
        e.rule();
        for l in &self.lines {
            let head = format!("{}x ", l.quantity);
            let indent = head.len();
            e.bold(true)
                .line(&format!("{head}{}", l.item), indent)
                .bold(false);
            for o in &l.options {
                e.line(&format!("{:indent$}+ {o}", ""), indent + 2);
            }
        }
        e.rule();
        if !self.note.trim().is_empty() {
            e.bold(true).line("Note:", 0).bold(false);
            for part in self.note.lines() {
                e.line(part, 0);
            }
        }
        if !self.pickup_name.trim().is_empty() {
            e.line(&format!("Name: {}", self.pickup_name), 0);
        }
        let paid = match self.paid {
            Some(true) => "PAID",
            Some(false) | None => "NOT PAID",
        };
        e.bold(true)
            .line(&format!("Total {}  {paid}", self.total), 0)
            .bold(false);
        e.line("", 0).line("", 0);
        e.cut()
    }
}

/// `YYYY-MM-DD HH:MM` of a Unix time in ms, shifted to venue-local time.
fn local_time(ms: u64, utc_offset_minutes: i32) -> String {
    let minutes = i64::try_from(ms / 60_000).unwrap_or(i64::MAX) + i64::from(utc_offset_minutes);
    let (days, minute) = (minutes.div_euclid(1440), minutes.rem_euclid(1440));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}",
        minute / 60,
        minute % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket() -> Ticket {
        Ticket {
            shop: "Dumpling House".into(),
            number: 42,
            pickup_code: "K7P4".into(),
            placed: local_time(1_764_592_440_000, 60),
            table: Some("Table 2".into()),
            lines: vec![
                TicketLine {
                    quantity: 2,
                    item: "Pork dumplings (6)".into(),
                    options: vec!["Extra chilli".into()],
                },
                TicketLine {
                    quantity: 1,
                    item: "Gemüse-Teigtaschen".into(),
                    options: vec![],
                },
            ],
            note: "No coriander".into(),
            pickup_name: "Zoë".into(),
            total: Cents(2150),
            paid: Some(false),
            banner: None,
        }
    }

    #[test]
    fn local_time_counts_days_and_the_offset() {
        assert_eq!(local_time(0, 0), "1970-01-01 00:00");
        // 2025-12-01 12:34 UTC, shown at UTC+1.
        assert_eq!(local_time(1_764_592_440_000, 60), "2025-12-01 13:34");
        assert_eq!(local_time(951_782_400_000, 0), "2000-02-29 00:00");
        assert_eq!(local_time(0, -30), "1969-12-31 23:30");
    }

    #[test]
    fn a_ticket_has_every_part_in_order_and_ends_with_a_cut() {
        let bytes = ticket().render();
        assert!(bytes.starts_with(b"\x1b@"));
        assert!(bytes.ends_with(b"\x1dVB\x00"));
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let order = [
            "Dumpling House",
            "#42",
            "Pickup code K7P4",
            "2025-12-01 13:34",
            "Table: Table 2",
            "2x Pork dumplings (6)",
            "+ Extra chilli",
            "1x Gem",
            "No coriander",
            "Name: Zo",
            "Total 21.50  NOT PAID",
        ];
        let mut at = 0;
        for part in order {
            let found = text[at..]
                .find(part)
                .unwrap_or_else(|| panic!("{part} in {text:?}"));
            at += found + part.len();
        }
        // Non-ASCII in PC858: ü = 0x81, ë = 0x89.
        assert!(bytes.windows(4).any(|w| w == b"Gem\x81"));
        assert!(bytes.windows(3).any(|w| w == b"Zo\x89"));
        assert!(!text.contains("REPRINT"));
        let mut again = ticket();
        again.banner = Some("** REPRINT **".into());
        assert!(String::from_utf8_lossy(&again.render()).contains("** REPRINT **"));
    }
}
