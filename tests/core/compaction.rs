//! Compaction after retention: not while an order is open or one was
//! placed in the last half hour; then the file shrinks and everything
//! left reads the same. And a guest's device id: its cookie lasts as long
//! as its orders' details (plus a day), renewed by each order.

use queueless::domain::menu::{StockChange, StockPolicy};
use queueless::domain::order::OrderStatus;
use queueless::domain::service::PaymentMethod;
use queueless::domain::{OrderId, Timestamp, Token};
use queueless::store::compaction::{self, QUIET_MS};
use queueless::store::retention::{self, RetentionSettings};
use queueless::store::{Checkout, CheckoutLine, Clock, Scope, catalog, checkout, orders};

use crate::support::{JUICE_SHOP, ORANGE, TestServer};

const DAY_MS: u64 = 86_400_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compaction_waits_for_a_quiet_venue_and_shrinks_the_file() {
    let clock = Clock::manual(Timestamp::now());
    let server = TestServer::start_with_clock(
        |c| {
            c.auto_cancel_seconds = 0;
            c.order_retention_days = 1;
        },
        clock.clone(),
    )
    .await;
    let store = server.store().clone();
    let shop = queueless::domain::ShopId(server.shop_id(JUICE_SHOP));
    let item = queueless::domain::ItemId(server.item_id(ORANGE));
    // 4,000 finished orders, written in batches of 200.
    for b in 0..20u64 {
        store
            .write(move |tx| {
                let i = catalog::own_item(&**tx, shop, item)?;
                if matches!(i.stock, StockPolicy::Counted(_)) {
                    catalog::change_item_stock(tx, shop, item, StockChange::Set(100_000))?;
                }
                for k in 0..200 {
                    let placed = checkout::place(
                        tx,
                        Checkout {
                            guest: Token::random().expect("random"),
                            lines: vec![CheckoutLine {
                                item,
                                quantity: 1,
                                options: vec![],
                            }],
                            idempotency_key: format!("compaction-test-{b:04}-{k:04}"),
                            note: "no ice, please, and a straw".into(),
                            notes: Default::default(),
                            pickup_name: "Sam".into(),
                            session: None,
                            payment: PaymentMethod::Cash,
                        },
                    )?;
                    let id = placed.orders[0].id;
                    for to in [
                        OrderStatus::Accepted,
                        OrderStatus::Preparing,
                        OrderStatus::Ready,
                        OrderStatus::Completed,
                    ] {
                        orders::set_status(tx, Scope::Shop(shop), id, to, None)?;
                    }
                }
                Ok(())
            })
            .await
            .expect("orders");
    }
    let mut guest = server.guest();
    let open = guest
        .place(&[(item.0, 1)], "compaction-test-still-open")
        .await;
    let from = Timestamp(clock.now().0 - DAY_MS);
    let to = Timestamp(clock.now().0 + DAY_MS);
    let report = |store: queueless::store::Store| async move {
        store
            .read(move |r| queueless::store::report::range_report(r, shop, from, to, 0))
            .await
            .expect("report")
    };
    let before = report(store.clone()).await;

    clock.advance(2 * DAY_MS);
    let swept = retention::run(
        &store,
        RetentionSettings {
            order_days: 1,
            ..Default::default()
        },
    )
    .await
    .expect("retention");
    // (The daemon's own retention task may have folded some first.)
    assert!(swept.orders > 0, "{swept:?}");
    assert_eq!(
        server.dump().await.rows("id_to_order").len(),
        1,
        "only the open order keeps its details"
    );
    let c = compaction::maybe_compact(&store).await.expect("compaction");
    assert!(c.before.worth_compacting(), "{c:?}");
    assert!(!c.quiet && !c.compacted, "an open order: not quiet: {c:?}");

    let mut staff = server.login(crate::support::JUICE).await;
    staff.set_status(&open, "cancelled").await.expect(200);
    let late = guest
        .place(&[(item.0, 1)], "compaction-test-placed-late")
        .await;
    staff.set_status(&late, "cancelled").await.expect(200);
    let c = compaction::maybe_compact(&store).await.expect("compaction");
    assert!(!c.compacted, "an order placed a moment ago: {c:?}");

    clock.advance(QUIET_MS);
    let c = compaction::maybe_compact(&store).await.expect("compaction");
    assert!(c.quiet && c.compacted, "{c:?}");
    assert!(
        c.after_bytes * 2 < c.before.file_bytes,
        "the file shrank to less than half: {c:?}"
    );
    let size = std::fs::metadata(store.path()).expect("file").len();
    assert_eq!(size, c.after_bytes);
    // Everything left reads as before: totals, the live orders, the menu.
    let after = report(store.clone()).await;
    // (The late order is past the report's range; the open one was cancelled.)
    assert_eq!(after.orders, before.orders, "{after:?}");
    assert_eq!(after.cancelled, before.cancelled + 1, "{after:?}");
    assert_eq!(
        after.lines.first().map(|l| l.quantity),
        Some(4000),
        "{after:?}"
    );
    assert_eq!(guest.view(&open).await["status"], "cancelled");
    let id = OrderId(late["id"].as_u64().expect("id"));
    let o = store
        .read(move |r| orders::order_in_scope(r, Scope::System, id))
        .await
        .expect("the late order");
    assert_eq!(o.status, OrderStatus::Cancelled);
    // And the store still takes writes.
    guest
        .place(&[(item.0, 1)], "compaction-test-after-it")
        .await;
    server.stop().await;
}

fn device_max_age(reply: &crate::client::Reply) -> Option<u64> {
    reply.headers.get_all("set-cookie").iter().find_map(|v| {
        let text = v.to_str().ok()?;
        text.starts_with("ql_device=").then(|| {
            text.split("Max-Age=")
                .nth(1)?
                .split(';')
                .next()?
                .parse()
                .ok()
        })?
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_id_lasts_as_long_as_its_orders() {
    let server = TestServer::start().await;
    let item = server.item_id(ORANGE);
    let mut guest = server.guest();
    let first = guest.raw("GET", "/api/shops", &[], None).await;
    assert_eq!(
        device_max_age(&first),
        Some(6 * 86_400),
        "5 days of order details and a day"
    );
    let again = guest.raw("GET", "/api/shops", &[], None).await;
    assert_eq!(device_max_age(&again), None, "not renewed by browsing");
    let placed = guest.order(&[(item, 1)], "device-cookie-test-0001").await;
    assert_eq!(placed.status, 201, "{}", placed.body);
    assert_eq!(
        device_max_age(&placed),
        Some(6 * 86_400),
        "renewed by an order"
    );
    server.stop().await;
}
