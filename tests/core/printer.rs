//! Ticket printers and payment QR, end to end: a real TCP listener on
//! 127.0.0.1 stands in for a network printer (a FIFO for a USB one); the
//! ticket arrives within a second of the accept, waits while the printer
//! is off (also across a SIGKILL of the real binary) and prints once it is
//! back; reprints are for the shop's own orders; a guest's order carries
//! its payment QR, and a cancelled order's pending payment is voided.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::support::{
    DUMPLINGS, Daemon, PASSWORD, PATIENCE, PORK, TEA, TestServer, VEGGIE, eventually,
};

/// A ticket as the printer received it, and when its last byte came.
pub struct Received {
    pub bytes: Vec<u8>,
    at: Instant,
}

/// A stand-in printer on `listener`: every connection's bytes (up to the
/// sender's close) as one ticket; connections that send nothing (the
/// daemon's checks) are not tickets.
pub fn printer(listener: TcpListener) -> mpsc::UnboundedReceiver<Received> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut bytes = Vec::new();
                if socket.read_to_end(&mut bytes).await.is_ok() && !bytes.is_empty() {
                    let _ = tx.send(Received {
                        bytes,
                        at: Instant::now(),
                    });
                }
            });
        }
    });
    rx
}

pub async fn next_ticket(rx: &mut mpsc::UnboundedReceiver<Received>) -> Received {
    tokio::time::timeout(PATIENCE, rx.recv())
        .await
        .expect("a ticket within the patience")
        .expect("the printer runs")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Checks a ticket's frame: initialise first, the lines, a cut last.
fn assert_ticket(bytes: &[u8], number: &Value, line: &str) {
    assert!(bytes.starts_with(b"\x1b@"), "starts with ESC @: {bytes:?}");
    assert!(bytes.ends_with(b"\x1dVB\x00"), "ends with GS V: {bytes:?}");
    let t = text(bytes);
    assert!(t.contains(&format!("#{number}\n")), "order number in {t:?}");
    assert!(t.contains(line), "{line} in {t:?}");
}

pub async fn set_printer(keeper: &mut crate::client::Client, printer: &str, on: &str) -> Value {
    keeper
        .send(
            "PATCH",
            "/api/shop",
            Some(json!({"printer": printer, "print_on": on})),
        )
        .await
        .expect(200)
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ticket_prints_within_a_second_of_the_accept() {
    let server = TestServer::start().await;
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address").to_string();
    let mut tickets = printer(listener);
    let mut keeper = server.login(DUMPLINGS).await;
    let shop = set_printer(&mut keeper, &address, "accepted").await;
    assert_eq!(shop["printer"], address.as_str());
    assert_eq!(shop["print_on"], "accepted");
    assert_eq!(shop["printer_state"]["waiting"], 0);
    assert_eq!(shop["name"], "Dumpling House", "the shop's own fields stay");

    let mut guest = server.guest();
    let (pork, veggie) = (server.item_id(PORK), server.item_id(VEGGIE));
    keeper
        .post(
            &format!("/api/shop/items/{pork}/stock"),
            json!({"set": 1000}),
        )
        .await
        .expect(200);
    // Placed only: with print_on "accepted" this one never prints.
    let unaccepted = guest.place(&[(veggie, 1)], "not-accepted").await;
    let body = json!({"items": [{"item_id": pork, "quantity": 2}], "idempotency_key": "printer-test-first-order",
        "note": "No coriander, extra chilli oil", "pickup_name": "Zoë"});
    let placed = guest.post("/api/orders", body).await.expect(201);
    let order = placed["orders"][0].clone();
    let sent = Instant::now();
    keeper.set_status(&order, "accepted").await.expect(200);
    let ticket = next_ticket(&mut tickets).await;
    let took = ticket.at - sent;
    assert!(took < Duration::from_secs(1), "ticket after {took:?}");
    assert_ticket(&ticket.bytes, &order["number"], "2x Pork dumplings (6)");
    let t = text(&ticket.bytes);
    assert!(t.contains("No coriander, extra chilli oil"), "{t:?}");
    assert!(
        t.contains(&format!(
            "Pickup code {}",
            order["pickup_code"].as_str().expect("code")
        )),
        "{t:?}"
    );
    assert!(
        ticket.bytes.windows(3).any(|w| w == b"Zo\x89"),
        "ë in PC858: {t:?}"
    );
    assert!(!t.contains(&format!("#{}\n", unaccepted["number"])));

    // The figure for the report: accept → last byte at the printer.
    let mut latencies = Vec::new();
    for i in 0..50 {
        let o = guest.place(&[(pork, 1)], &format!("rush-{i}")).await;
        let sent = Instant::now();
        keeper.set_status(&o, "accepted").await.expect(200);
        let ticket = next_ticket(&mut tickets).await;
        assert_ticket(&ticket.bytes, &o["number"], "1x Pork dumplings (6)");
        latencies.push(ticket.at - sent);
    }
    latencies.sort();
    let (p50, p99) = (percentile(&latencies, 50), percentile(&latencies, 99));
    eprintln!(
        "accept → ticket bytes at the printer over 50 orders: p50 {p50:?}, p99 {p99:?}, max {:?}",
        latencies[49]
    );
    assert!(p99 < Duration::from_secs(1), "p99 {p99:?}");
    // A ticket leaves the queue once the printer closed the connection.
    eventually("the queue empties", move || {
        let mut k = keeper.clone();
        async move {
            k.get("/api/shop").await.expect(200)["printer_state"]
                == json!({"online": true, "waiting": 0})
        }
    })
    .await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tickets_wait_for_an_offline_printer_across_a_sigkill() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    // A port nobody listens on: the printer is off.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("address")
        .port();
    let address = format!("127.0.0.1:{port}");
    let mut daemon = Daemon::spawn(&data).await;
    let mut keeper = daemon.client();
    keeper.login(DUMPLINGS, PASSWORD).await;
    set_printer(&mut keeper, &address, "accepted").await;
    let mut guest = daemon.client();
    let menu_item = pork_id(&mut guest).await;
    let mut numbers = Vec::new();
    for i in 0..3 {
        let o = guest
            .place(&[(menu_item, 1)], &format!("offline-{i}"))
            .await;
        keeper.set_status(&o, "accepted").await.expect(200);
        numbers.push(o["number"].clone());
    }
    let mut k = keeper.clone();
    eventually(
        "the dashboard shows the printer offline, 3 waiting",
        move || {
            let mut k = k.clone();
            async move {
                k.get("/api/shop").await.expect(200)["printer_state"]
                    == json!({"online": false, "waiting": 3})
            }
        },
    )
    .await;
    daemon.sigkill();

    let daemon = Daemon::spawn(&data).await;
    let mut keeper = daemon.client();
    keeper.login(DUMPLINGS, PASSWORD).await;
    let shop = keeper.get("/api/shop").await.expect(200);
    assert_eq!(
        shop["printer_state"]["waiting"], 3,
        "the queue survived: {shop}"
    );
    // The printer comes back on the same address.
    let listener = TcpListener::bind(&address).await.expect("rebind the port");
    let mut tickets = printer(listener);
    for n in &numbers {
        let t = next_ticket(&mut tickets).await;
        assert_ticket(&t.bytes, n, "1x Pork dumplings (6)");
    }
    k = keeper.clone();
    eventually("nothing waits once printed", move || {
        let mut k = k.clone();
        async move {
            k.get("/api/shop").await.expect(200)["printer_state"]
                == json!({"online": true, "waiting": 0})
        }
    })
    .await;
    assert!(
        tokio::time::timeout(Duration::from_millis(300), tickets.recv())
            .await
            .is_err(),
        "each ticket printed once"
    );
}

async fn pork_id(guest: &mut crate::client::Client) -> u64 {
    for s in guest
        .get("/api/shops")
        .await
        .expect(200)
        .as_array()
        .expect("shops")
    {
        let menu = guest
            .get(&format!("/api/shops/{}/menu", s["id"]))
            .await
            .expect(200);
        if let Some(i) = menu["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|i| i["name"] == PORK)
        {
            return i["id"].as_u64().expect("id");
        }
    }
    panic!("no {PORK}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fifo_stands_in_for_a_usb_printer() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let fifo = dir.path().join("lp0");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success(), "mkfifo");
    let reader_path = fifo.clone();
    // The "device": reads whatever one writer sends.
    let reader = std::thread::spawn(move || {
        use std::io::Read;
        let mut bytes = Vec::new();
        std::fs::File::open(&reader_path)
            .expect("open the fifo")
            .read_to_end(&mut bytes)
            .expect("read");
        bytes
    });
    let mut keeper = server.login(DUMPLINGS).await;
    // Device paths are printer devices only, never any file.
    let refused = keeper
        .send("PATCH", "/api/shop", Some(json!({"printer": "/dev/sda"})))
        .await;
    assert_eq!(refused.error(422), "invalid_input");
    set_printer(&mut keeper, fifo.to_str().expect("utf-8"), "placed").await;
    let mut guest = server.guest();
    let order = guest.place(&[(server.item_id(PORK), 3)], "fifo").await;
    let bytes = tokio::task::spawn_blocking(move || reader.join().expect("reader"))
        .await
        .expect("join");
    assert_ticket(&bytes, &order["number"], "3x Pork dumplings (6)");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reprint_is_for_the_shops_own_orders() {
    let server = TestServer::start().await;
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address").to_string();
    let mut tickets = printer(listener);
    let mut keeper = server.login(DUMPLINGS).await;
    set_printer(&mut keeper, &address, "placed").await;
    let mut guest = server.guest();
    let order = guest.place(&[(server.item_id(PORK), 1)], "reprint").await;
    let first = next_ticket(&mut tickets).await;
    assert!(!text(&first.bytes).contains("REPRINT"));
    let path = format!("/api/shop/orders/{}/print", order["id"]);
    let queued = keeper.post(&path, json!({})).await.expect(202);
    assert!(
        queued["printer_state"]["waiting"].as_u64().is_some(),
        "{queued}"
    );
    let again = next_ticket(&mut tickets).await;
    assert_ticket(&again.bytes, &order["number"], "1x Pork dumplings (6)");
    assert!(text(&again.bytes).contains("** REPRINT **"));

    // Cancelled after its ticket printed: a slip tells the kitchen to stop.
    let token = order["token"].as_str().expect("token");
    guest
        .post(&format!("/api/orders/{token}/cancel"), json!({}))
        .await
        .expect(200);
    let slip = next_ticket(&mut tickets).await;
    assert_ticket(
        &slip.bytes,
        &order["number"],
        "** CANCELLED ** cancelled by the guest",
    );

    // Another shop's keeper: not found, and nothing is queued.
    let mut tea = server.login(TEA).await;
    let before = server.dump().await;
    assert_eq!(tea.post(&path, json!({})).await.error(404), "not_found");
    assert_eq!(
        keeper
            .post("/api/shop/orders/999999/print", json!({}))
            .await
            .error(404),
        "not_found"
    );
    server
        .dump()
        .await
        .assert_same(&before, "a refused reprint");
    // A shop without a printer is told to set one.
    let tea_order = guest
        .place(&[(server.item_id(crate::support::CLASSIC), 1)], "tea")
        .await;
    let no_printer = tea
        .post(
            &format!("/api/shop/orders/{}/print", tea_order["id"]),
            json!({}),
        )
        .await;
    assert_eq!(no_printer.error(422), "invalid_input");
    assert!(no_printer.message().contains("printer"));
    server.stop().await;
}

/// The Pix example of the Banco Central do Brasil (static, no amount).
const PIX: &str = "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guest_sees_a_payment_qr_and_cancelling_voids_the_payment() {
    let server = TestServer::start().await;
    let mut keeper = server.login(DUMPLINGS).await;
    // A mistyped payload is refused and writes nothing.
    let before = server.dump().await;
    let typo = json!({"payment_qr": {"format": "emvco", "payload": PIX.replace("1D3D", "1D3E")}});
    let refused = keeper.send("PATCH", "/api/shop", Some(typo)).await;
    assert_eq!(refused.error(409), "payment_qr_rejected");
    assert!(refused.message().contains("CRC"), "{}", refused.message());
    server
        .dump()
        .await
        .assert_same(&before, "a refused payment QR");

    let set = json!({"payment_qr": {"format": "emvco", "payload": PIX}});
    let shop = keeper
        .send("PATCH", "/api/shop", Some(set))
        .await
        .expect(200);
    assert_eq!(shop["payment_qr"]["format"], "emvco");
    let mut guest = server.guest();
    let order = guest.place(&[(server.item_id(PORK), 2)], "pay").await;
    let view = guest.view(&order).await;
    let total = view["total_cents"].as_u64().expect("total");
    let amount = format!("{}.{:02}", total / 100, total % 100);
    let qr = &view["payment_qr"];
    assert_eq!(qr["format"], "emvco");
    let payload = qr["payload"].as_str().expect("payload");
    assert!(
        payload.contains(&format!("54{:02}{amount}", amount.len())),
        "{payload}"
    );
    assert!(payload.starts_with("00020101021226"), "dynamic: {payload}");

    let page = |token: String| {
        let url = format!("{}/o/{token}", server.base);
        async move {
            reqwest::get(url)
                .await
                .expect("the order page")
                .text()
                .await
                .expect("html")
        }
    };
    let token = order["token"].as_str().expect("token").to_owned();
    let html = page(token.clone()).await;
    assert!(
        html.contains("Pay by QR") && html.contains("not paid yet"),
        "{html}"
    );
    assert_eq!(
        html.matches("<svg").count(),
        2,
        "status link and payment QR"
    );

    // Paid at the counter: no QR any more.
    keeper
        .post(
            &format!("/api/shop/orders/{}/payment", order["id"]),
            json!({"status": "successful", "method": "cash"}),
        )
        .await
        .expect(200);
    let view = guest.view(&order).await;
    assert!(view.get("payment_qr").is_none(), "{view}");
    assert_eq!(view["payment"]["status"], "successful");
    let html = page(token).await;
    assert!(
        html.contains(", paid") && !html.contains("Pay by QR"),
        "{html}"
    );

    // Cancelled before paying: nothing is owed.
    let other = guest.place(&[(server.item_id(PORK), 1)], "cancel").await;
    let token = other["token"].as_str().expect("token");
    guest
        .post(&format!("/api/orders/{token}/cancel"), json!({}))
        .await
        .expect(200);
    let view = guest.view(&other).await;
    assert_eq!(view["payment"]["status"], "voided", "{view}");
    assert!(view.get("payment_qr").is_none());
    // A shop's cancel voids it too; a paid order's payment stays paid.
    let third = guest
        .place(&[(server.item_id(PORK), 1)], "shop-cancel")
        .await;
    keeper.set_status(&third, "cancelled").await.expect(200);
    assert_eq!(guest.view(&third).await["payment"]["status"], "voided");

    // Removing the QR: orders show none.
    let off = keeper
        .send("PATCH", "/api/shop", Some(json!({"payment_qr": null})))
        .await
        .expect(200);
    assert!(off["payment_qr"].is_null());
    let fourth = guest.place(&[(server.item_id(PORK), 1)], "no-qr").await;
    assert!(guest.view(&fourth).await.get("payment_qr").is_none());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_ticket_of_a_cancelled_order_is_dropped() {
    let server = TestServer::start().await;
    // The printer is off: nothing listens on this port yet.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("address")
        .port();
    let address = format!("127.0.0.1:{port}");
    let mut keeper = server.login(DUMPLINGS).await;
    set_printer(&mut keeper, &address, "accepted").await;
    let mut guest = server.guest();
    let pork = server.item_id(PORK);
    let kept = guest.place(&[(pork, 1)], "kept").await;
    let dropped = guest.place(&[(pork, 2)], "dropped").await;
    keeper.set_status(&kept, "accepted").await.expect(200);
    keeper.set_status(&dropped, "accepted").await.expect(200);
    let waiting = |k: &crate::client::Client| {
        let mut k = k.clone();
        async move { k.get("/api/shop").await.expect(200)["printer_state"]["waiting"].clone() }
    };
    assert_eq!(waiting(&keeper).await, 2);
    keeper.set_status(&dropped, "cancelled").await.expect(200);
    assert_eq!(
        waiting(&keeper).await,
        1,
        "the cancelled order's ticket is gone"
    );
    let mut tickets = printer(TcpListener::bind(&address).await.expect("rebind"));
    let t = next_ticket(&mut tickets).await;
    assert_ticket(&t.bytes, &kept["number"], "1x Pork dumplings (6)");
    assert!(
        tokio::time::timeout(Duration::from_millis(500), tickets.recv())
            .await
            .is_err(),
        "no ticket and no slip for the order cancelled before printing"
    );
    server.stop().await;
}
