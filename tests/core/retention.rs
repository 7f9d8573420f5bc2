//! Retention with a clock the test moves: after the configured days a
//! finished order's details are gone (order, events, payment, its
//! notifications, its guest's index), its totals remain and reports over
//! the range read the same; Wi-Fi sessions are gone; open orders stay.

use queueless::domain::{ShopId, Timestamp};
use queueless::store::retention::{self, RetentionSettings};
use queueless::store::{Clock, Report, wifi};

use crate::support::{JUICE, JUICE_SHOP, ORANGE, TestServer};

const DAY_MS: u64 = 86_400_000;

async fn report(server: &TestServer, shop: u64, from: Timestamp, to: Timestamp) -> Report {
    server
        .store()
        .read(move |r| retention::range_report(r, ShopId(shop), from, to, 0))
        .await
        .expect("report")
}

fn summary(r: &Report) -> (u64, u64, u64, Vec<(u64, u64, u64)>) {
    (
        r.orders,
        r.cancelled,
        r.revenue.0,
        r.lines
            .iter()
            .map(|l| (l.item.0, l.quantity, l.revenue.0))
            .collect(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_retention_details_go_and_totals_stay() {
    let clock = Clock::manual(Timestamp::now());
    let server = TestServer::start_with_clock(
        |c| {
            c.auto_cancel_seconds = 0;
            c.order_retention_days = 3;
            c.wifi_session_days = 1;
            c.notification_hours = 24;
        },
        clock.clone(),
    )
    .await;
    let settings = RetentionSettings {
        order_days: 3,
        notification_hours: 24,
        wifi_days: 1,
    };
    let shop = server.shop_id(JUICE_SHOP);
    let orange = server.item_id(ORANGE);
    let mut guest = server.guest();
    let mut staff = server.login(JUICE).await;
    let mut done = Vec::new();
    for i in 0..3u32 {
        let o = guest
            .place(&[(orange, i + 1)], &format!("retention-done-{i:05}"))
            .await;
        for stage in ["accepted", "preparing", "ready", "completed"] {
            staff.set_status(&o, stage).await.expect(200);
        }
        done.push(o);
    }
    let cancelled = guest
        .place(&[(orange, 5)], "retention-cancelled-0001")
        .await;
    staff.set_status(&cancelled, "cancelled").await.expect(200);
    let open = guest
        .place(&[(orange, 1)], "retention-still-open-0001")
        .await;
    server
        .store()
        .write(|tx| {
            let mac: queueless::domain::mac::Mac = "02:00:00:00:00:01".parse().expect("a MAC");
            wifi::seen(tx, mac, Some([192, 0, 2, 10].into()), Some("phone"))?;
            wifi::deauthorize(tx, mac, true)
        })
        .await
        .expect("a Wi-Fi session");

    let from = Timestamp(clock.now().0 - DAY_MS);
    let to = Timestamp(clock.now().0 + DAY_MS);
    let before = report(&server, shop, from, to).await;
    assert_eq!(before.orders, 5, "{before:?}");
    assert_eq!(before.cancelled, 1);

    // Two days on: nothing finished is old enough yet, but the Wi-Fi
    // session (1 day) and the notifications (24 h) are.
    clock.advance(2 * DAY_MS);
    let swept = retention::run(server.store(), settings)
        .await
        .expect("sweep");
    assert_eq!(swept.orders, 0, "{swept:?}");
    assert_eq!(swept.wifi_sessions, 1, "{swept:?}");
    assert!(swept.notifications > 0, "{swept:?}");
    let left = server.store().read(wifi::sessions).await.expect("sessions");
    assert!(left.is_empty(), "Wi-Fi sessions are gone: {left:?}");
    for o in &done {
        assert_eq!(guest.view(o).await["status"], "completed");
    }

    // Past the order retention: the details go, the totals stay.
    clock.advance(2 * DAY_MS);
    let swept = retention::run(server.store(), settings)
        .await
        .expect("sweep");
    assert_eq!(
        swept.orders, 4,
        "three completed and one cancelled: {swept:?}"
    );
    for o in done.iter().chain([&cancelled]) {
        let token = o["token"].as_str().expect("token");
        guest.get(&format!("/api/orders/{token}")).await.expect(404);
    }
    assert_eq!(
        guest.view(&open).await["status"],
        "placed",
        "open orders stay"
    );
    let mine = guest.get("/api/me/orders").await.expect(200);
    assert_eq!(
        mine.as_array().map(Vec::len),
        Some(1),
        "the guest's index keeps only the open order: {mine}"
    );
    let after = report(&server, shop, from, to).await;
    assert_eq!(summary(&after), summary(&before), "{after:?} vs {before:?}");
    // (The login of four days ago has expired with the clock.)
    let mut staff = server.login(JUICE).await;
    let staff_list = staff.shop_orders().await;
    assert_eq!(staff_list.len(), 1, "{staff_list:?}");

    let dump = server.dump().await;
    assert!(
        dump.rows("order_seq_to_event")
            .iter()
            .all(|(k, _)| k[..8] == open["id"].as_u64().expect("id").to_le_bytes()),
        "only the open order's events remain"
    );
    assert!(!dump.rows("shop_day_item_to_total").is_empty());
    // A second run has nothing left to do.
    let again = retention::run(server.store(), settings)
        .await
        .expect("sweep");
    assert!(!again.any(), "{again:?}");
    server.stop().await;
}
