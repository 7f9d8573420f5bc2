//! With a certificate phones trust, for a name (`portal.test`, resolved to
//! the router by its dnsmasq): probes lead to `https://portal.test/…`, the
//! DHCP offer carries option 114 with the RFC 8908 API there, and the API
//! and the portal validate against the CA this test makes. The guest's
//! clients are given that CA and never skip verification. (Without a
//! certificate: plain HTTP and no option 114, in `main.rs`.)

use std::path::{Path, PathBuf};

use super::net::{self, HTTPS_PORT, Net, UPSTREAM};

/// A CA, and a certificate for `portal.test` it signed; returns the CA's
/// file and the portal's certificate and key files.
fn make_ca(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let ca_key = rcgen::KeyPair::generate().expect("CA key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "queueless test CA");
    ca_params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
    ];
    let ca = ca_params.self_signed(&ca_key).expect("CA certificate");
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let key = rcgen::KeyPair::generate().expect("portal key");
    let params = rcgen::CertificateParams::new(vec!["portal.test".to_owned()]).expect("params");
    let cert = params.signed_by(&key, &issuer).expect("portal certificate");
    let paths = (
        dir.join("ca.pem"),
        dir.join("portal.pem"),
        dir.join("portal.key"),
    );
    std::fs::write(&paths.0, ca.pem()).expect("CA file");
    std::fs::write(&paths.1, cert.pem()).expect("certificate file");
    std::fs::write(&paths.2, key.serialize_pem()).expect("key file");
    paths
}

/// `curl` from the guest with the CA and verification on: status, the
/// `Location`, the headers and the body.
fn verified(net: &Net, ca: &Path, url: &str) -> (String, String, String, String) {
    verified_in(net, &net.client, ca, url, "")
}

/// Like [`verified`], from namespace `ns` with more curl arguments.
fn verified_in(
    net: &Net,
    ns: &str,
    ca: &Path,
    url: &str,
    extra: &str,
) -> (String, String, String, String) {
    let out = net.sh_in(ns, &format!(
        "curl -s --max-time 8 --cacert {} {extra} -D /tmp/h.$$ -w '\\n%{{http_code}} %{{redirect_url}}' '{url}'; rc=$?; cat /tmp/h.$$ >&2; rm -f /tmp/h.$$; exit $rc",
        ca.display()
    ));
    assert!(
        out.status.success(),
        "{url} verified (curl exit {:?}): {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, last) = text.rsplit_once('\n').unwrap_or(("", &text));
    let (code, location) = last.split_once(' ').unwrap_or((last, ""));
    (
        code.to_owned(),
        location.to_owned(),
        String::from_utf8_lossy(&out.stderr).to_lowercase(),
        body.to_owned(),
    )
}

#[test]
fn with_a_trusted_certificate_guests_get_https_and_option_114() {
    if !net::available() {
        return;
    }
    let api = format!("https://portal.test:{HTTPS_PORT}/api/captive-portal");
    let mut net = Net::announcing(Some(&api));
    let (ca, cert, key) = make_ca(net.dir.path());
    net.portal_host = "portal.test".into();
    let (cert, key) = (cert.display().to_string(), key.display().to_string());
    net.start_queueless(&["--tls-cert", &cert, "--tls-key", &key]);

    // A probe leads to the portal's name over HTTPS, which validates.
    let (code, location, _, _) = verified(&net, &ca, &format!("http://{UPSTREAM}/generate_204"));
    assert_eq!(code, "302", "the probe is caught: {}", net.log());
    assert_eq!(location, format!("https://portal.test:{HTTPS_PORT}/"));
    let (code, _, headers, body) = verified(&net, &ca, &location);
    assert_eq!(code, "200");
    assert!(body.contains("action=\"/join\""), "the portal page");
    assert!(
        headers.contains("strict-transport-security: max-age="),
        "HSTS on: {headers}"
    );

    // The API validates, and points to the portal by name.
    let (code, _, headers, body) = verified(&net, &ca, &api);
    assert_eq!(code, "200");
    assert!(headers.contains("application/captive+json"), "{headers}");
    let json: serde_json::Value = serde_json::from_str(&body).expect("captive+json");
    assert_eq!(json["captive"], true);
    assert_eq!(
        json["user-portal-url"],
        format!("https://portal.test:{HTTPS_PORT}/")
    );

    // The DHCP offer carries option 114 with the API's URL.
    let env = net.dhcp_lease("");
    let hex: String = api.bytes().map(|b| format!("{b:02x}")).collect();
    assert!(
        env.lines()
            .any(|l| l.starts_with("opt114=") && (l.contains(&hex) || l.contains(&api))),
        "option 114 offered: {env}"
    );
}

#[test]
fn the_captive_api_leads_each_guest_to_its_open_order() {
    if !net::available() {
        return;
    }
    let api = format!("https://portal.test:{HTTPS_PORT}/api/captive-portal");
    let portal = format!("https://portal.test:{HTTPS_PORT}");
    let mut net = Net::announcing(Some(&api));
    let (ca, cert, key) = make_ca(net.dir.path());
    net.portal_host = "portal.test".into();
    let (cert, key) = (cert.display().to_string(), key.display().to_string());
    net.start_queueless(&["--tls-cert", &cert, "--tls-key", &key]);

    // The guest's browser (its cookie jar) orders the first item it finds.
    let jar = net.dir.path().join("jar");
    let cookies = format!("-c {0} -b {0}", jar.display());
    let client = net.client.clone();
    let get = |url: &str| {
        let (code, _, _, body) = verified_in(&net, &client, &ca, url, &cookies);
        assert_eq!(code, "200", "{url}: {body}");
        serde_json::from_str::<serde_json::Value>(&body).expect("JSON")
    };
    let shops = get(&format!("{portal}/api/shops"));
    let item = shops
        .as_array()
        .expect("shops")
        .iter()
        .find_map(|shop| {
            let menu = get(&format!("{portal}/api/shops/{}/menu", shop["id"]));
            menu["items"]
                .as_array()?
                .iter()
                .find(|i| i["available"] == true)
                .map(|i| i["id"].clone())
        })
        .expect("the demo venue has an item to order");
    let order = serde_json::json!({
        "items": [{"item_id": item, "quantity": 1}],
        "idempotency_key": "venue-info-url-test-0001",
    });
    let (code, _, _, body) = verified_in(
        &net,
        &client,
        &ca,
        &format!("{portal}/api/orders"),
        &format!("{cookies} -H 'content-type: application/json' --data '{order}'"),
    );
    assert_eq!(code, "201", "ordered: {body}");
    let placed: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let token = placed["orders"][0]["token"]
        .as_str()
        .expect("token")
        .to_owned();

    // The phone's system fetches the API without the browser's cookies:
    // the guest is known by its address's MAC.
    let (code, _, _, body) = verified(&net, &ca, &api);
    assert_eq!(code, "200");
    let json: serde_json::Value = serde_json::from_str(&body).expect("captive+json");
    assert_eq!(
        json["venue-info-url"],
        format!("{portal}/o/{token}"),
        "{json}"
    );
    assert!(
        json.get("seconds-remaining").is_none(),
        "captive: no session yet"
    );

    // Another guest, who ordered nothing, gets the venue's front page.
    let other = net.other.clone();
    let (code, _, _, body) = verified_in(&net, &other, &ca, &api, "");
    assert_eq!(code, "200");
    let json: serde_json::Value = serde_json::from_str(&body).expect("captive+json");
    assert_eq!(json["venue-info-url"], format!("{portal}/"), "{json}");
}
