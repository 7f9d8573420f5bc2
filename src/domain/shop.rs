//! Shops: approval, pause, opening hours, the open-order limit, and the
//! rule that decides whether a shop takes a new order right now.

use serde::{Deserialize, Serialize};

use super::{ShopId, Timestamp, UserId};

/// Where a shop stands with the venue operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Approval {
    /// Registered, waiting for the operator.
    Pending,
    /// Listed to guests and able to take orders.
    Approved,
    /// Refused by the operator; never listed.
    Rejected,
}

/// One opening window on one weekday, in venue-local minutes of the day.
/// `close <= open` means the window runs past midnight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// 0 = Monday … 6 = Sunday.
    pub weekday: u8,
    /// Minute of the day the shop opens (0..1440).
    pub open: u16,
    /// Minute of the day the shop closes (0..=1440).
    pub close: u16,
}

/// Weekly opening hours. No windows at all means "always open".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpeningHours {
    /// The windows; several per day are allowed.
    pub windows: Vec<Window>,
}

impl OpeningHours {
    /// Checks every window is well formed.
    pub fn validate(&self) -> Result<(), &'static str> {
        for w in &self.windows {
            if w.weekday > 6 {
                return Err("weekday must be 0 (Monday) to 6 (Sunday)");
            }
            if w.open >= 1440 || w.close > 1440 {
                return Err("times must be minutes of the day (0 to 1440)");
            }
        }
        if self.windows.len() > 28 {
            return Err("at most 28 opening windows");
        }
        Ok(())
    }

    /// Whether the shop is open at local `(weekday, minute)`.
    pub fn is_open(&self, weekday: u8, minute: u16) -> bool {
        if self.windows.is_empty() {
            return true;
        }
        let yesterday = (weekday + 6) % 7;
        self.windows.iter().any(|w| {
            if w.close > w.open {
                w.weekday == weekday && (w.open..w.close).contains(&minute)
            } else {
                // Runs past midnight: the evening part today, the early part tomorrow.
                (w.weekday == weekday && minute >= w.open)
                    || (w.weekday == yesterday && minute < w.close)
            }
        })
    }
}

/// How many recent preparation times a shop remembers for its wait estimate.
pub const PREP_SAMPLES: usize = 20;
/// The wait estimate per order before a shop has any history, unless the
/// shop set its own ([`Pickup::default_prep_seconds`]).
pub const DEFAULT_PREP_SECONDS: u32 = 300;
/// Longest usual preparation time a shop may set.
pub const MAX_DEFAULT_PREP_SECONDS: u32 = 4 * 3600;

/// How a shop's orders are called and estimated; stored beside the shop
/// record (its own table, so that older files need no migration).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pickup {
    /// The prefix the shop chose for its called numbers (checked by
    /// [`super::callsign::check_prefix`]); `None` derives one from its name.
    pub prefix: Option<String>,
    /// The usual preparation time while the shop has little history.
    pub default_prep_seconds: Option<u32>,
}

impl Pickup {
    /// The usual preparation time to start from.
    pub fn default_prep(&self) -> u32 {
        self.default_prep_seconds.unwrap_or(DEFAULT_PREP_SECONDS)
    }
}

/// A shop of the venue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shop {
    /// Its id.
    pub id: ShopId,
    /// Display name.
    pub name: String,
    /// The shopkeeper who registered it.
    pub owner: UserId,
    /// Where in the venue ("Stall 12, north hall").
    pub location: String,
    /// Phone or other contact.
    pub contact: String,
    /// The operator's decision.
    pub approval: Approval,
    /// Paused by the shopkeeper: listed, but refusing new orders.
    pub paused: bool,
    /// Weekly opening hours.
    pub hours: OpeningHours,
    /// Refuse new orders while this many are open (placed … ready).
    pub open_order_limit: Option<u32>,
    /// The number the next order gets.
    pub next_number: u32,
    /// The most recent preparation times (accepted → ready), in seconds.
    pub prep_seconds: Vec<u32>,
    /// When it registered.
    pub created_at: Timestamp,
}

/// Why a shop refuses a new order right now.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The operator has not approved the shop.
    #[error("{shop} is not open for orders yet")]
    NotApproved {
        /// The shop's name.
        shop: String,
    },
    /// The shopkeeper paused ordering.
    #[error("{shop} has paused ordering for now")]
    Paused {
        /// The shop's name.
        shop: String,
    },
    /// Outside opening hours.
    #[error("{shop} is closed right now")]
    Closed {
        /// The shop's name.
        shop: String,
    },
    /// Too many open orders.
    #[error("{shop} is busy ({open} open orders); please try again in a few minutes")]
    Busy {
        /// The shop's name.
        shop: String,
        /// How many orders are open.
        open: u32,
    },
}

impl Shop {
    /// Whether a new order may be placed now, given how many are open.
    pub fn accepts_orders(
        &self,
        now: Timestamp,
        utc_offset_minutes: i32,
        open_orders: u32,
    ) -> Result<(), Refusal> {
        let shop = self.name.clone();
        if self.approval != Approval::Approved {
            return Err(Refusal::NotApproved { shop });
        }
        if self.paused {
            return Err(Refusal::Paused { shop });
        }
        let (weekday, minute) = now.local_week_minute(utc_offset_minutes);
        if !self.hours.is_open(weekday, minute) {
            return Err(Refusal::Closed { shop });
        }
        if let Some(limit) = self.open_order_limit
            && open_orders >= limit
        {
            return Err(Refusal::Busy {
                shop,
                open: open_orders,
            });
        }
        Ok(())
    }

    /// The shop's preparation time: the median of its recent orders, with
    /// its usual time filling in while history is short.
    pub fn prep_time(&self, pickup: &Pickup) -> super::wait::PrepTime {
        super::wait::PrepTime::from_samples(&self.prep_seconds, pickup.default_prep())
    }

    /// Average preparation time of the recent orders, or the default.
    pub fn average_prep_seconds(&self) -> u32 {
        if self.prep_seconds.is_empty() {
            return DEFAULT_PREP_SECONDS;
        }
        let sum: u64 = self.prep_seconds.iter().map(|&s| u64::from(s)).sum();
        let n = u64::try_from(self.prep_seconds.len()).unwrap_or(1);
        u32::try_from(sum / n).unwrap_or(u32::MAX)
    }

    /// Remembers one more preparation time, forgetting the oldest.
    pub fn record_prep(&mut self, seconds: u32) {
        if self.prep_seconds.len() >= PREP_SAMPLES {
            self.prep_seconds.remove(0);
        }
        self.prep_seconds.push(seconds);
    }
}

/// The stage at which an order's ticket prints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrintOn {
    /// As soon as the guest places it.
    Placed,
    /// When the shop accepts it.
    #[default]
    Accepted,
}

/// Where a shop's ESC/POS receipt printer is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PrinterTarget {
    /// A network printer's raw port (`host:9100`).
    Network {
        /// Host name or address.
        host: String,
        /// TCP port.
        port: u16,
    },
    /// A local device such as `/dev/usb/lp0`.
    Device(String),
}

/// Device paths a printer may have: USB and parallel printers, serial
/// ports, each followed by 1 to 3 digits.
pub const DEVICE_PREFIXES: [&str; 5] = [
    "/dev/usb/lp",
    "/dev/lp",
    "/dev/ttyUSB",
    "/dev/ttyACM",
    "/dev/ttyS",
];

/// Directories a FIFO standing in for a printer may be under (a spooler
/// or a test); the sender opens nothing there but a FIFO.
pub const FIFO_ROOTS: [&str; 3] = ["/tmp", "/run", "/var"];

/// The raw-printing port network printers listen on (JetDirect / AppSocket).
pub const DEFAULT_PRINTER_PORT: u16 = 9100;

/// Longest host name.
const MAX_HOST: usize = 253;

/// The printer rule of [`PrinterTarget::parse`] as a regular expression
/// (ECMA 262 and Python alike), for the API's schema.
pub fn printer_pattern() -> String {
    let devices: Vec<String> = DEVICE_PREFIXES
        .iter()
        .map(|p| p.trim_start_matches("/dev/").to_owned())
        .collect();
    let roots: Vec<&str> = FIFO_ROOTS
        .iter()
        .map(|r| r.trim_start_matches('/'))
        .collect();
    let port =
        "([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])";
    format!(
        "^(/dev/({})[0-9]{{1,3}}|/({})(/({SEGMENT})){{1,8}}|[A-Za-z0-9.-]{{1,{MAX_HOST}}}(:{port})?)$",
        devices.join("|"),
        roots.join("|"),
    )
}

/// A path segment: 1 to 64 letters, digits, `.`, `_`, `-`, but not `.`
/// or `..`.
const SEGMENT: &str = "[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}|\\.[A-Za-z0-9_-][A-Za-z0-9._-]{0,62}|\\.\\.[A-Za-z0-9._-]{1,62}";

fn fifo_path_ok(text: &str) -> bool {
    let Some(rest) = FIFO_ROOTS.iter().find_map(|r| text.strip_prefix(r)) else {
        return false;
    };
    let Some(rest) = rest.strip_prefix('/') else {
        return false;
    };
    let segments: Vec<&str> = rest.split('/').collect();
    segments.len() <= 8
        && segments.iter().all(|s| {
            let ok = |c: char| c.is_ascii_alphanumeric() || "._-".contains(c);
            (1..=64).contains(&s.len()) && *s != "." && *s != ".." && s.chars().all(ok)
        })
}

impl PrinterTarget {
    /// Reads `host:port`, `host` (port 9100) or a device path: a printer
    /// device (`/dev/usb/lp0`, see [`DEVICE_PREFIXES`]) or a path under
    /// [`FIFO_ROOTS`]. Exactly what [`printer_pattern`] matches: no
    /// white space around it, IPv4 addresses and host names only (the
    /// network cards of receipt printers are IPv4).
    pub fn parse(text: &str) -> Result<PrinterTarget, &'static str> {
        const HELP: &str = "printer must be host:port (port 9100 if left out) or a device path such as /dev/usb/lp0";
        if text.starts_with('/') {
            // Printer devices only: never a path that could be one of the
            // daemon's own files.
            let device = DEVICE_PREFIXES.iter().any(|p| {
                text.strip_prefix(p).is_some_and(|n| {
                    (1..=3).contains(&n.len()) && n.chars().all(|c| c.is_ascii_digit())
                })
            });
            return if device || fifo_path_ok(text) {
                Ok(PrinterTarget::Device(text.to_owned()))
            } else {
                Err(HELP)
            };
        }
        let (host, port) = match text.split_once(':') {
            Some((h, p)) => {
                let digits = !p.is_empty() && p.len() <= 5 && p.chars().all(|c| c.is_ascii_digit());
                if !digits || p.starts_with('0') {
                    return Err(HELP);
                }
                (h, p.parse::<u16>().map_err(|_| HELP)?)
            }
            None => (text, DEFAULT_PRINTER_PORT),
        };
        let valid = !host.is_empty()
            && host.len() <= MAX_HOST
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-".contains(c));
        if valid {
            Ok(PrinterTarget::Network {
                host: host.to_owned(),
                port,
            })
        } else {
            Err(HELP)
        }
    }
}

impl std::fmt::Display for PrinterTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PrinterTarget::Network { host, port } => write!(f, "{host}:{port}"),
            PrinterTarget::Device(path) => f.write_str(path),
        }
    }
}

/// A shop's ticket printer settings (kept in their own table, keyed by
/// shop, so the shop record's encoding stays as it is).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrinterSettings {
    /// The printer, if any.
    pub printer: Option<PrinterTarget>,
    /// When a ticket prints.
    pub print_on: PrintOn,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shop() -> Shop {
        Shop {
            id: ShopId(1),
            name: "Tea".into(),
            owner: UserId(1),
            location: String::new(),
            contact: String::new(),
            approval: Approval::Approved,
            paused: false,
            hours: OpeningHours::default(),
            open_order_limit: None,
            next_number: 1,
            prep_seconds: vec![],
            created_at: Timestamp(0),
        }
    }

    #[test]
    fn empty_hours_are_always_open() {
        assert!(OpeningHours::default().is_open(2, 700));
    }

    #[test]
    fn windows_and_overnight_windows() {
        let hours = OpeningHours {
            windows: vec![
                Window {
                    weekday: 0,
                    open: 600,
                    close: 1200,
                },
                Window {
                    weekday: 4,
                    open: 1200,
                    close: 120,
                },
            ],
        };
        assert!(hours.is_open(0, 600));
        assert!(!hours.is_open(0, 1200));
        assert!(!hours.is_open(1, 700));
        assert!(hours.is_open(4, 1300));
        assert!(hours.is_open(5, 60)); // Saturday early morning, from Friday's window
        assert!(!hours.is_open(5, 130));
    }

    #[test]
    fn refusals_in_order_of_importance() {
        let now = Timestamp(0);
        let mut s = shop();
        assert_eq!(s.accepts_orders(now, 0, 0), Ok(()));
        s.open_order_limit = Some(2);
        assert!(matches!(
            s.accepts_orders(now, 0, 2),
            Err(Refusal::Busy { open: 2, .. })
        ));
        s.paused = true;
        assert!(matches!(
            s.accepts_orders(now, 0, 0),
            Err(Refusal::Paused { .. })
        ));
        s.approval = Approval::Pending;
        assert!(matches!(
            s.accepts_orders(now, 0, 0),
            Err(Refusal::NotApproved { .. })
        ));
    }

    #[test]
    fn closed_outside_hours() {
        let mut s = shop();
        // Epoch is Thursday 00:00; open Thursdays 10:00–12:00 only.
        s.hours.windows.push(Window {
            weekday: 3,
            open: 600,
            close: 720,
        });
        assert!(matches!(
            s.accepts_orders(Timestamp(0), 0, 0),
            Err(Refusal::Closed { .. })
        ));
        assert_eq!(s.accepts_orders(Timestamp(11 * 3_600_000), 0, 0), Ok(()));
    }

    #[test]
    fn prep_average_keeps_recent_samples() {
        let mut s = shop();
        assert_eq!(s.average_prep_seconds(), DEFAULT_PREP_SECONDS);
        for i in 0..30 {
            s.record_prep(i);
        }
        assert_eq!(s.prep_seconds.len(), PREP_SAMPLES);
        assert_eq!(s.average_prep_seconds(), (10..30).sum::<u32>() / 20);
    }

    #[test]
    fn printer_targets_parse_with_the_default_port() {
        let net = |h: &str, port| PrinterTarget::Network {
            host: h.into(),
            port,
        };
        assert_eq!(
            PrinterTarget::parse("192.0.2.7"),
            Ok(net("192.0.2.7", 9100))
        );
        assert_eq!(
            PrinterTarget::parse("kitchen.lan:9101"),
            Ok(net("kitchen.lan", 9101))
        );
        assert_eq!(
            PrinterTarget::parse("/tmp/ql-test/printer.fifo"),
            Ok(PrinterTarget::Device("/tmp/ql-test/printer.fifo".into()))
        );
        assert_eq!(
            PrinterTarget::parse("/dev/usb/lp0"),
            Ok(PrinterTarget::Device("/dev/usb/lp0".into()))
        );
        assert!(PrinterTarget::parse("/tmp/.tmpAb3/lp0").is_ok());
        for bad in [
            "",
            "host:0",
            "host:99999",
            "ho st",
            "/tmp/../etc/x",
            "a:b:c:",
            "/dev/sda",
            "/dev/mem",
            "/dev/lp0x",
            "/etc/passwd",
            "/tmp/..",
            "/tmp/./x",
            " host:9100",
            "host:09100",
            "[2001:db8::7]:9100",
            "2001:db8::7",
        ] {
            assert!(PrinterTarget::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(net("kitchen.lan", 9101).to_string(), "kitchen.lan:9101");
    }
}
