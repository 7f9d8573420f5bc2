//! Payment QR payloads that need no payment provider on the router: the
//! shop's static data plus the order's exact amount and reference.
//!
//! - UPI (NPCI "UPI Linking Specifications"): `upi://pay?pa=…&pn=…&am=…&cu=INR&tr=…&tn=…`.
//! - EMVCo merchant-presented mode (EMV QRCPS-MPM v1.1: PayNow, PromptPay,
//!   DuitNow, Pix, …): the shop's own static payload, re-encoded with the
//!   amount in tag 54, the point of initiation (tag 01) set to dynamic
//!   (`12`) and the CRC (tag 63, CRC-16/CCITT-FALSE) recomputed.
//! - EPC069-12 (SEPA credit transfer, "GiroCode"): version 002, UTF-8.
//!
//! Pure: checks the shop's data when it is set ([`PaymentQr::validate`])
//! and builds the text of one order's QR ([`PaymentQr::payload`]). Drawing
//! the QR is the page's business.

use serde::{Deserialize, Serialize};

use super::Cents;

/// The payment QR a shop set up, with its static data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PaymentQr {
    /// UPI (India).
    Upi {
        /// The payee's virtual payment address (`shop@bank`).
        vpa: String,
        /// The payee's name.
        name: String,
    },
    /// An EMVCo merchant-presented payload, as the shop's bank issued it.
    Emvco {
        /// The static payload (with or without its CRC).
        payload: String,
    },
    /// EPC / SEPA credit transfer (euro only).
    Epc {
        /// The beneficiary's name.
        name: String,
        /// The beneficiary's IBAN.
        iban: String,
        /// Its BIC (optional inside the EEA).
        bic: Option<String>,
    },
}

/// Why the shop's payment QR data is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PayQrError {
    /// A field is empty, too long or has characters the format forbids.
    #[error("{field}: {problem}")]
    Field {
        /// The field.
        field: &'static str,
        /// What is wrong, and what is allowed.
        problem: &'static str,
    },
    /// The EMVCo payload does not parse as tag-length-value data.
    #[error(
        "the EMVCo payload is not valid tag-length-value data at position {at}; paste the text your bank's static QR holds"
    )]
    Emvco {
        /// Byte position of the fault.
        at: usize,
    },
    /// The stored CRC of an EMVCo payload is wrong (a typo when pasting).
    #[error(
        "the EMVCo payload's CRC is {found}, but its content gives {expected}; check it was pasted in full"
    )]
    Crc {
        /// The CRC in the payload.
        found: String,
        /// The CRC of its content.
        expected: String,
    },
    /// The amount does not fit the format.
    #[error("the amount is too large for a payment QR")]
    Amount,
}

fn field(field: &'static str, problem: &'static str) -> PayQrError {
    PayQrError::Field { field, problem }
}

fn check_text(name: &'static str, value: &str, max: usize) -> Result<(), PayQrError> {
    if value.trim().is_empty() {
        return Err(field(name, "must not be empty"));
    }
    if value.chars().count() > max || value.chars().any(char::is_control) {
        return Err(field(name, "too long, or has line breaks"));
    }
    Ok(())
}

impl PaymentQr {
    /// The format's name on the wire (`upi`, `emvco`, `epc`).
    pub fn format(&self) -> &'static str {
        match self {
            PaymentQr::Upi { .. } => "upi",
            PaymentQr::Emvco { .. } => "emvco",
            PaymentQr::Epc { .. } => "epc",
        }
    }

    /// Checks the shop's static data.
    pub fn validate(&self) -> Result<(), PayQrError> {
        match self {
            PaymentQr::Upi { vpa, name } => {
                check_text("name", name, 50)?;
                let ok = vpa.len() <= 255
                    && vpa.split_once('@').is_some_and(|(user, psp)| {
                        !user.is_empty()
                            && !psp.is_empty()
                            && vpa
                                .chars()
                                .all(|c| c.is_ascii_alphanumeric() || ".-_@".contains(c))
                    });
                if ok {
                    Ok(())
                } else {
                    Err(field("vpa", "a UPI address looks like shopname@bank"))
                }
            }
            PaymentQr::Emvco { payload } => {
                let tags = parse_tlv(payload.trim())?;
                if let Some(crc) = tags.iter().find(|(t, _)| t == "63") {
                    let body_end = payload.trim().len() - 4;
                    let expected = format!("{:04X}", crc16(&payload.trim().as_bytes()[..body_end]));
                    if !crc.1.eq_ignore_ascii_case(&expected) {
                        return Err(PayQrError::Crc {
                            found: crc.1.clone(),
                            expected,
                        });
                    }
                }
                if !tags.iter().any(|(t, _)| t == "53") {
                    return Err(field(
                        "payload",
                        "has no transaction currency (tag 53); use the merchant QR your bank issued",
                    ));
                }
                Ok(())
            }
            PaymentQr::Epc { name, iban, bic } => {
                check_text("name", name, 70)?;
                let iban_ok = (15..=34).contains(&iban.len())
                    && iban.chars().take(2).all(|c| c.is_ascii_uppercase())
                    && iban
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
                if !iban_ok {
                    return Err(field("iban", "capital letters and digits, no spaces"));
                }
                if let Some(b) = bic
                    && !(b.len() == 8 || b.len() == 11)
                {
                    return Err(field("bic", "8 or 11 characters"));
                }
                Ok(())
            }
        }
    }

    /// The QR's text for one order: `amount` in minor units of a currency
    /// with two decimals, `reference` the order's code (shown to the payee).
    pub fn payload(&self, amount: Cents, reference: &str) -> Result<String, PayQrError> {
        let amount_text = amount.to_string();
        match self {
            PaymentQr::Upi { vpa, name } => Ok(format!(
                "upi://pay?pa={}&pn={}&am={amount_text}&cu=INR&tr={}&tn={}",
                percent(vpa),
                percent(name),
                percent(reference),
                percent(&format!("Order {reference}")),
            )),
            PaymentQr::Emvco { payload } => {
                if amount_text.len() > 13 {
                    return Err(PayQrError::Amount);
                }
                emvco_with_amount(payload.trim(), &amount_text)
            }
            PaymentQr::Epc { name, iban, bic } => {
                // EPC069-12: at most 999,999,999.99 EUR.
                if amount.0 > 99_999_999_999 || amount.0 == 0 {
                    return Err(PayQrError::Amount);
                }
                Ok(format!(
                    "BCD\n002\n1\nSCT\n{}\n{name}\n{iban}\nEUR{amount_text}\n\n\n{}",
                    bic.as_deref().unwrap_or(""),
                    format_args!("Order {reference}"),
                ))
            }
        }
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn percent(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~@".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Splits EMVCo top-level data objects: two-digit id, two-digit length, value.
fn parse_tlv(s: &str) -> Result<Vec<(String, String)>, PayQrError> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < s.len() {
        let head = s.get(at..at + 4).ok_or(PayQrError::Emvco { at })?;
        if !head.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PayQrError::Emvco { at });
        }
        let len: usize = head[2..].parse().map_err(|_| PayQrError::Emvco { at })?;
        let value = s
            .get(at + 4..at + 4 + len)
            .ok_or(PayQrError::Emvco { at })?;
        out.push((head[..2].to_owned(), value.to_owned()));
        at += 4 + len;
    }
    if out.first().is_none_or(|(t, v)| t != "00" || v != "01") {
        return Err(field(
            "payload",
            "must start with 000201 (EMVCo payload format indicator)",
        ));
    }
    Ok(out)
}

/// Re-encodes a static EMVCo payload with `amount` in tag 54, point of
/// initiation 12 (dynamic) and a fresh CRC; tags stay in ascending order.
fn emvco_with_amount(payload: &str, amount: &str) -> Result<String, PayQrError> {
    let mut tags: Vec<(String, String)> = parse_tlv(payload)?
        .into_iter()
        .filter(|(t, _)| t != "54" && t != "63")
        .collect();
    match tags.iter_mut().find(|(t, _)| t == "01") {
        Some(poi) => poi.1 = "12".into(),
        None => tags.push(("01".into(), "12".into())),
    }
    tags.push(("54".into(), amount.to_owned()));
    // Stable: only tag 01 and 54 move, into their place by id.
    tags.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = String::with_capacity(payload.len() + 16);
    for (t, v) in &tags {
        out.push_str(&format!("{t}{:02}{v}", v.len()));
    }
    out.push_str("6304");
    let crc = crc16(out.as_bytes());
    out.push_str(&format!("{crc:04X}"));
    Ok(out)
}

/// CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF), as EMVCo's tag 63 asks.
pub fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0xFFFF;
    for &b in data {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Pix example of the Banco Central do Brasil's "Manual de Padrões
    /// para Iniciação do Pix" (static, no amount), CRC 1D3D.
    const PIX_EXAMPLE: &str = "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D";

    #[test]
    fn crc_matches_the_published_check_value_and_the_pix_example() {
        // The catalogue check value of CRC-16/CCITT-FALSE.
        assert_eq!(crc16(b"123456789"), 0x29B1);
        let (body, crc) = PIX_EXAMPLE.split_at(PIX_EXAMPLE.len() - 4);
        assert_eq!(format!("{:04X}", crc16(body.as_bytes())), crc);
        assert_eq!(crc, "1D3D");
    }

    #[test]
    fn emvco_gets_the_amount_in_tag_54_and_a_fresh_crc() {
        let qr = PaymentQr::Emvco {
            payload: PIX_EXAMPLE.into(),
        };
        assert_eq!(qr.validate(), Ok(()));
        let p = qr.payload(Cents(1250), "K7P4").expect("payload");
        let tags = parse_tlv(&p).expect("parses");
        let get = |id: &str| tags.iter().find(|(t, _)| t == id).map(|(_, v)| v.as_str());
        assert_eq!(get("54"), Some("12.50"));
        assert_eq!(get("01"), Some("12"));
        assert_eq!(get("53"), Some("986"));
        assert_eq!(get("59"), Some("Fulano de Tal"));
        // Ascending ids, 54 right after 53, CRC last and correct.
        let ids: Vec<&str> = tags.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(
            ids,
            [
                "00", "01", "26", "52", "53", "54", "58", "59", "60", "62", "63"
            ]
        );
        let (body, crc) = p.split_at(p.len() - 4);
        assert!(body.ends_with("6304"));
        assert_eq!(crc, format!("{:04X}", crc16(body.as_bytes())));
        // A payload that already had an amount gets the new one, once.
        let again = PaymentQr::Emvco { payload: p }
            .payload(Cents(7), "X")
            .expect("payload");
        assert_eq!(again.matches("54040.07").count(), 1, "{again}");
    }

    #[test]
    fn emvco_typos_are_refused_with_the_reason() {
        let cut = PaymentQr::Emvco {
            payload: PIX_EXAMPLE[..60].into(),
        };
        assert!(matches!(cut.validate(), Err(PayQrError::Emvco { .. })));
        let wrong_crc = PaymentQr::Emvco {
            payload: PIX_EXAMPLE.replace("1D3D", "1D3E"),
        };
        assert!(matches!(
            wrong_crc.validate(),
            Err(PayQrError::Crc { ref expected, .. }) if expected == "1D3D"
        ));
        let not_emv = PaymentQr::Emvco {
            payload: "hello".into(),
        };
        assert!(not_emv.validate().is_err());
    }

    #[test]
    fn upi_link_carries_payee_amount_and_reference() {
        let qr = PaymentQr::Upi {
            vpa: "bubblelab@okaxis".into(),
            name: "Bubble Lab & Co".into(),
        };
        assert_eq!(qr.validate(), Ok(()));
        assert_eq!(
            qr.payload(Cents(12050), "K7P4").expect("payload"),
            "upi://pay?pa=bubblelab@okaxis&pn=Bubble%20Lab%20%26%20Co&am=120.50&cu=INR&tr=K7P4&tn=Order%20K7P4"
        );
        let bad = PaymentQr::Upi {
            vpa: "no-at-sign".into(),
            name: "x".into(),
        };
        assert!(bad.validate().is_err());
    }

    #[test]
    fn epc_follows_the_guideline_layout() {
        // The beneficiary of the EPC069-12 guideline's example.
        let qr = PaymentQr::Epc {
            name: "Red Cross of Belgium".into(),
            iban: "BE72000000001616".into(),
            bic: Some("BPOTBEB1".into()),
        };
        assert_eq!(qr.validate(), Ok(()));
        let p = qr.payload(Cents(100), "K7P4").expect("payload");
        let lines: Vec<&str> = p.split('\n').collect();
        assert_eq!(
            lines,
            [
                "BCD",
                "002",
                "1",
                "SCT",
                "BPOTBEB1",
                "Red Cross of Belgium",
                "BE72000000001616",
                "EUR1.00",
                "",
                "",
                "Order K7P4"
            ]
        );
        assert!(p.len() <= 331, "EPC payloads are at most 331 bytes");
        assert_eq!(qr.payload(Cents(0), "x"), Err(PayQrError::Amount));
        let spaced = PaymentQr::Epc {
            name: "x".into(),
            iban: "BE72 0000 0000 1616".into(),
            bic: None,
        };
        assert!(spaced.validate().is_err());
    }
}
