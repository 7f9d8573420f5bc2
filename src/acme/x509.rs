//! What `queueless check` and the renewal timer need to know about a
//! certificate: its issuer, its DNS names and its validity. A small DER
//! walker over the fields RFC 5280 fixes in place (no X.509 parser in the
//! tree: the ones on crates.io bring their own ASN.1 stack, several hundred
//! KB for four fields). The certificate's signature is not checked here;
//! rustls does that for clients.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The fields of a certificate that matter for renewal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// The issuer's common name (its organization when it has none).
    pub issuer: String,
    /// The DNS names in subjectAltName.
    pub names: Vec<String>,
    /// Valid from.
    pub not_before: SystemTime,
    /// Valid until.
    pub not_after: SystemTime,
}

impl CertInfo {
    /// When to renew: two thirds into its life.
    pub fn renew_at(&self) -> SystemTime {
        let life = self
            .not_after
            .duration_since(self.not_before)
            .unwrap_or(Duration::ZERO);
        self.not_before + life * 2 / 3
    }
}

/// One DER element: its tag and contents, and what follows it.
fn element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// The contents of the element at the front of `input` if it has `tag`.
fn expect(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (t, body, rest) = element(input)?;
    (t == tag).then_some((body, rest))
}

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const OID_CN: &[u8] = &[0x55, 0x04, 0x03];
const OID_O: &[u8] = &[0x55, 0x04, 0x0a];
const OID_SAN: &[u8] = &[0x55, 0x1d, 0x11];

/// Reads a certificate's DER.
pub fn parse(der: &[u8]) -> Option<CertInfo> {
    let (cert, _) = expect(der, SEQUENCE)?;
    let (mut tbs, _) = expect(cert, SEQUENCE)?;
    if tbs.first() == Some(&0xa0) {
        tbs = element(tbs)?.2; // version
    }
    let (_, _, tbs) = element(tbs)?; // serial
    let (_, tbs) = expect(tbs, SEQUENCE)?; // signature algorithm
    let (issuer, tbs) = expect(tbs, SEQUENCE)?;
    let (validity, tbs) = expect(tbs, SEQUENCE)?;
    let (_, tbs) = expect(tbs, SEQUENCE)?; // subject
    let (_, mut tbs) = expect(tbs, SEQUENCE)?; // public key
    let (t0, v0, after) = element(validity)?;
    let (t1, v1, _) = element(after)?;
    let mut names = Vec::new();
    while let Some((tag, body, rest)) = element(tbs) {
        if tag == 0xa3 {
            names = san_names(body)?;
        }
        tbs = rest;
    }
    Some(CertInfo {
        issuer: issuer_name(issuer)?,
        names,
        not_before: time(t0, v0)?,
        not_after: time(t1, v1)?,
    })
}

fn issuer_name(mut rdns: &[u8]) -> Option<String> {
    let (mut cn, mut o) = (None, None);
    while !rdns.is_empty() {
        let (set, rest) = expect(rdns, SET)?;
        rdns = rest;
        let (attr, _) = expect(set, SEQUENCE)?;
        let (oid, value) = expect(attr, 0x06)?;
        let (_, text, _) = element(value)?;
        let text = String::from_utf8_lossy(text).into_owned();
        match oid {
            OID_CN => cn = Some(text),
            OID_O => o = Some(text),
            _ => {}
        }
    }
    Some(cn.or(o).unwrap_or_else(|| "(unnamed)".to_owned()))
}

fn san_names(extensions: &[u8]) -> Option<Vec<String>> {
    let (mut list, _) = expect(extensions, SEQUENCE)?;
    while !list.is_empty() {
        let (ext, rest) = expect(list, SEQUENCE)?;
        list = rest;
        let (oid, mut body) = expect(ext, 0x06)?;
        if oid != OID_SAN {
            continue;
        }
        if body.first() == Some(&0x01) {
            body = element(body)?.2; // critical
        }
        let (octets, _) = expect(body, 0x04)?;
        let (mut general, _) = expect(octets, SEQUENCE)?;
        let mut names = Vec::new();
        while let Some((tag, value, rest)) = element(general) {
            if tag == 0x82 {
                names.push(String::from_utf8_lossy(value).to_ascii_lowercase());
            }
            general = rest;
        }
        return Some(names);
    }
    Some(Vec::new())
}

/// UTCTime (`YYMMDDHHMMSSZ`) or GeneralizedTime (`YYYYMMDDHHMMSSZ`).
fn time(tag: u8, v: &[u8]) -> Option<SystemTime> {
    let digits = |s: &[u8]| -> Option<i64> {
        s.iter().try_fold(0i64, |acc, &b| {
            b.is_ascii_digit().then(|| acc * 10 + i64::from(b - b'0'))
        })
    };
    let (year, rest) = match tag {
        0x17 if v.len() == 13 => {
            let y = digits(&v[..2])?;
            (if y < 50 { 2000 + y } else { 1900 + y }, &v[2..])
        }
        0x18 if v.len() == 15 => (digits(&v[..4])?, &v[4..]),
        _ => return None,
    };
    if rest.last() != Some(&b'Z') {
        return None;
    }
    let [mo, d, h, mi, s] = [0, 2, 4, 6, 8].map(|i| digits(&rest[i..i + 2]));
    let (mo, d, h, mi, s) = (mo?, d?, h?, mi?, s?);
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if mo <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (mo + if mo > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3600 + mi * 60 + s;
    Some(UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).ok()?))
}

/// Reads the first certificate of a PEM file.
pub fn read_pem(path: &std::path::Path) -> Option<CertInfo> {
    use rustls_pki_types::pem::PemObject;
    let der = rustls_pki_types::CertificateDer::pem_file_iter(path)
        .ok()?
        .next()?
        .ok()?;
    parse(&der)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_issuer_names_and_validity_of_an_issued_certificate() {
        let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(rcgen::DnType::CommonName, "Test Issuing CA");
        let ca_key = rcgen::KeyPair::generate().expect("key");
        let ca_cert = ca.self_signed(&ca_key).expect("ca");
        let issuer = rcgen::Issuer::new(ca, ca_key);
        let mut leaf = rcgen::CertificateParams::new(vec![
            "Portal.Example.com".to_owned(),
            "192.0.2.1".to_owned(),
            "b.example.com".to_owned(),
        ])
        .expect("params");
        leaf.not_before = rcgen::date_time_ymd(2026, 2, 28);
        leaf.not_after = rcgen::date_time_ymd(2051, 3, 1);
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = leaf.signed_by(&key, &issuer).expect("signed");
        let info = parse(cert.der()).expect("parses");
        assert_eq!(info.issuer, "Test Issuing CA");
        assert_eq!(info.names, ["portal.example.com", "b.example.com"]);
        let secs = |t: SystemTime| t.duration_since(UNIX_EPOCH).expect("after 1970").as_secs();
        // 2026-02-28 (UTCTime) and 2051-03-01 (GeneralizedTime from 2050 on).
        assert_eq!(secs(info.not_before), 1_772_236_800);
        assert_eq!(secs(info.not_after), 2_561_241_600);
        assert_eq!(
            secs(info.renew_at()),
            1_772_236_800 + (2_561_241_600 - 1_772_236_800) * 2 / 3
        );
        assert!(parse(ca_cert.der()).expect("ca parses").names.is_empty());
        assert_eq!(parse(&cert.der()[..40]), None, "cut short");
        assert_eq!(
            parse(b"\x30\x84\xff\xff\xff\xff"),
            None,
            "length past the end"
        );
    }
}
