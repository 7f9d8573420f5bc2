//! Retention with a clock the test moves: after the configured days a
//! finished order's details are gone (order, events, payment, its
//! notifications, its guest's index), its totals remain and reports over
//! the range read the same; Wi-Fi sessions are gone; open orders stay.

use queueless::domain::{ShopId, Timestamp};
use queueless::store::report::{self as range, RangeReport};
use queueless::store::retention::{self, RetentionSettings};
use queueless::store::{Clock, wifi};
use serde_json::json;

use crate::options::{drink, line};
use crate::support::{JUICE, JUICE_SHOP, ORANGE, TEA_SHOP, TestServer};

const DAY_MS: u64 = 86_400_000;

async fn report(server: &TestServer, shop: u64, from: Timestamp, to: Timestamp) -> RangeReport {
    server
        .store()
        .read(move |r| range::range_report(r, ShopId(shop), from, to, 0))
        .await
        .expect("report")
}

fn summary(r: &RangeReport) -> (u64, u64, u64, Vec<(u64, u64, u64)>) {
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

/// A folded day's report reads as it did with the orders' details: items,
/// options (counts and what they added), payments per method, orders not
/// collected, and the preparation time (average exact, p90 to within 5 s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folded_day_keeps_its_options_payments_and_preparation_times() {
    // Noon (UTC, the venue's zone here): the orders stay within one day.
    let clock = Clock::manual(Timestamp(
        Timestamp::now().local_day_start(0).0 + DAY_MS / 2,
    ));
    let server = TestServer::start_with_clock(|c| c.auto_cancel_seconds = 0, clock.clone()).await;
    let settings = RetentionSettings {
        order_days: 2,
        ..RetentionSettings::default()
    };
    let shop = server.shop_id(TEA_SHOP);
    let mut d = drink(&server, 0).await;
    let mut guest = server.guest();
    let mut orders = Vec::new();
    for (i, quantity) in [1u32, 2, 3].into_iter().enumerate() {
        let placed = guest
            .post(
                "/api/orders",
                json!({
                    "items": [line(d.item, quantity, &[d.large])],
                    "idempotency_key": format!("retention-options-{i:04}"),
                }),
            )
            .await
            .expect(201);
        let o = placed["orders"][0].clone();
        d.keeper.set_status(&o, "accepted").await.expect(200);
        d.keeper.set_status(&o, "preparing").await.expect(200);
        // 125 s to prepare: the middle of its 10 s bucket, so p90 is exact.
        clock.advance(125_000);
        d.keeper.set_status(&o, "ready").await.expect(200);
        orders.push(o);
    }
    d.keeper
        .post(
            &format!("/api/shop/orders/{}/payment", orders[0]["id"]),
            json!({"status": "successful", "method": "card"}),
        )
        .await
        .expect(200);
    d.keeper
        .set_status(&orders[0], "completed")
        .await
        .expect(200);
    d.keeper
        .set_status(&orders[1], "completed")
        .await
        .expect(200);
    d.keeper
        .set_status(&orders[2], "not_collected")
        .await
        .expect(200);

    let from = clock.now().local_day_start(0);
    let to = Timestamp(from.0 + DAY_MS);
    let before = report(&server, shop, from, to).await;
    assert_eq!(before.orders, 3, "{before:?}");
    assert_eq!(before.not_collected, 1, "{before:?}");
    let large = before.options.first().expect("the option's line");
    assert_eq!(large.quantity, 6, "{before:?}");
    assert!(large.revenue_delta > 0, "{before:?}");
    assert_eq!(before.prep_p90_seconds, Some(125), "{before:?}");
    assert!(!before.methods.is_empty(), "{before:?}");

    clock.advance(3 * DAY_MS);
    let swept = retention::run(server.store(), settings)
        .await
        .expect("sweep");
    assert_eq!(swept.orders, 3, "every finished order folded: {swept:?}");
    let token = orders[0]["token"].as_str().expect("token");
    guest.get(&format!("/api/orders/{token}")).await.expect(404);
    let after = report(&server, shop, from, to).await;
    assert_eq!(after, before, "the folded day reads the same");
    server.stop().await;
}
