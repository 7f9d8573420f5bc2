//! A month of a three-shop venue, on the store with a clock the bench
//! moves: 2,000 orders a day (each placed, accepted, prepared, ready,
//! collected, with the guest's notifications), a Wi-Fi session per guest,
//! the default retention run every night and compaction when worth it.
//! Prints the database's size day by day, the bytes a finished order
//! keeps on disk, and the bytes written per order (`/proc/self/io`) when
//! each step commits on its own, as it does at a venue's pace.
//!
//!     cargo bench --bench month [-- --days N --per-day N]

use std::time::Instant;

use queueless::domain::mac::Mac;
use queueless::domain::menu::{StockChange, StockPolicy};
use queueless::domain::order::OrderStatus;
use queueless::domain::service::PaymentMethod;
use queueless::domain::{ItemId, OptionId, ShopId, Timestamp, Token};
use queueless::store::checkout::{self, Checkout, CheckoutLine};
use queueless::store::orders::{self, Scope};
use queueless::store::retention::{self, DAY_TOTALS};
use queueless::store::{Clock, Store, StoreError, Tx, catalog, compaction, options, wifi};
use redb::{ReadableTableMetadata, TableHandle};

const DAY_MS: u64 = 86_400_000;
const STAGES: [OrderStatus; 4] = [
    OrderStatus::Accepted,
    OrderStatus::Preparing,
    OrderStatus::Ready,
    OrderStatus::Completed,
];

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(default)
}

fn write_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/io")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("write_bytes:")?.trim().parse().ok())
        .unwrap_or(0)
}

/// An orderable item with the options guests choose for it: one of each
/// required group (the demo's Bubble Lab drinks: size, sugar, ice) and,
/// on alternate orders, one of an optional group.
type Orderable = (ShopId, ItemId, Vec<Vec<OptionId>>);

/// Every shop's orderable items; counted items, options and ingredients
/// restocked.
fn restock(tx: &mut Tx<'_>) -> Result<Vec<Orderable>, StoreError> {
    let mut out = Vec::new();
    for shop in catalog::shops(&**tx, false)? {
        let menu = catalog::menu(&**tx, shop.id)?;
        for i in &menu.items {
            if matches!(i.item.stock, StockPolicy::Counted(_)) {
                catalog::change_item_stock(tx, shop.id, i.item.id, StockChange::Set(1_000_000))?;
            }
            let groups = options::item_groups(&**tx, i.item.id)?;
            let mut choices = Vec::new();
            for g in &groups {
                let usable: Vec<OptionId> = g
                    .options
                    .iter()
                    .filter(|o| o.enabled)
                    .map(|o| o.id)
                    .collect();
                choices.push(usable);
                for o in &g.options {
                    if matches!(o.stock, StockPolicy::Counted(_)) {
                        options::change_option_stock(tx, shop.id, o.id, StockChange::Set(100_000))?;
                    }
                }
            }
            out.push((shop.id, i.item.id, choices));
        }
        for g in &menu.ingredients {
            catalog::change_ingredient_stock(tx, shop.id, g.id, StockChange::Set(1_000_000_000))?;
        }
    }
    Ok(out)
}

/// One option of each group (rotating with `n`).
fn chosen(groups: &[Vec<OptionId>], n: u64) -> Vec<OptionId> {
    groups
        .iter()
        .filter(|g| !g.is_empty())
        .map(|g| g[(n % g.len() as u64) as usize])
        .collect()
}

/// One guest's order (placed now) with one or two lines of a shop.
fn place(tx: &mut Tx<'_>, items: &[Orderable], n: u64) -> Result<(ShopId, u64), StoreError> {
    let (shop, first, groups) = &items[(n % items.len() as u64) as usize];
    let shop = *shop;
    let mut lines = vec![CheckoutLine {
        item: *first,
        quantity: 1 + (n % 3) as u32,
        options: chosen(groups, n),
    }];
    if let Some((_, second, groups)) = items
        .iter()
        .find(|(s, i, _)| *s == shop && i != first && n.is_multiple_of(2))
    {
        lines.push(CheckoutLine {
            item: *second,
            quantity: 1,
            options: chosen(groups, n / 2),
        });
    }
    let placed = checkout::place(
        tx,
        Checkout {
            guest: Token::random().map_err(|e| StoreError::Internal(e.to_string()))?,
            lines,
            idempotency_key: format!("month-{n:012}-{:08x}", n.wrapping_mul(2654435761)),
            note: String::new(),
            notes: Default::default(),
            pickup_name: if n.is_multiple_of(4) {
                "Sam".into()
            } else {
                String::new()
            },
            session: None,
            payment: PaymentMethod::Cash,
        },
    )?;
    Ok((shop, placed.orders[0].id.0))
}

fn guest_wifi(tx: &mut Tx<'_>, n: u64) -> Result<(), StoreError> {
    let b = n.to_be_bytes();
    let mac = Mac([2, b[3], b[4], b[5], b[6], b[7]]);
    let ip = std::net::IpAddr::from([192, 0, 2, 10]);
    wifi::seen(tx, mac, Some(ip), Some("phone"))?;
    wifi::deauthorize(tx, mac, true)?;
    Ok(())
}

fn stage(tx: &mut Tx<'_>, ids: &[(ShopId, u64)], to: OrderStatus) -> Result<(), StoreError> {
    for &(shop, id) in ids {
        orders::set_status(
            tx,
            Scope::Shop(shop),
            queueless::domain::OrderId(id),
            to,
            None,
        )?;
    }
    Ok(())
}

/// Bytes in use in the file (pages allocated) and in the totals table.
async fn used(store: &Store) -> (u64, u64) {
    store
        .write(|tx| {
            let s = tx.stats()?;
            let totals = tx.open_table(DAY_TOTALS)?.stats()?.stored_bytes();
            Ok((
                s.allocated_pages() * u64::try_from(s.page_size()).unwrap_or(4096),
                totals,
            ))
        })
        .await
        .expect("stats")
}

/// Each table's share of the file: stored bytes, and pages with
/// redb's metadata and free space within them. Printed with `--tables`.
async fn tables(store: &Store) {
    let rows = store
        .read(|r| {
            let mut rows = Vec::new();
            for h in r.list_tables()? {
                let name = h.name().to_owned();
                let s = r.open_untyped_table(h)?.stats()?;
                let pages = (s.leaf_pages() + s.branch_pages()) * 4096;
                rows.push((
                    name,
                    s.stored_bytes(),
                    s.metadata_bytes(),
                    pages,
                    s.fragmented_bytes(),
                ));
            }
            rows.sort_by_key(|r| std::cmp::Reverse(r.3));
            Ok(rows)
        })
        .await
        .expect("table stats");
    println!("\n| table | stored | metadata | pages | fragmented |\n|---|---|---|---|---|");
    for (name, stored, meta, pages, frag) in rows.iter().take(12) {
        println!(
            "| {name} | {} | {} | {} | {} |",
            mib(*stored),
            mib(*meta),
            mib(*pages),
            mib(*frag)
        );
    }
}

fn mib(b: u64) -> String {
    format!("{:.2} MiB", b as f64 / 1_048_576.0)
}

#[tokio::main]
async fn main() {
    let days = arg("--days", 30);
    let per_day = arg("--per-day", 2000);
    let batch = 20;
    // On the disk, not a tmpfs: /proc/self/io counts block-device writes.
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("temp dir");
    let day0 = Timestamp((Timestamp::now().0 / DAY_MS - 40) * DAY_MS);
    let clock = Clock::manual(day0);
    let mut config = queueless::config::defaults();
    config.data_dir = dir.path().join("data");
    config.http = "127.0.0.1:0".parse().expect("addr");
    config.demo = true;
    config.auto_cancel_seconds = 0;
    let running = queueless::app::start_with_clock(config, clock.clone())
        .await
        .expect("the app starts");
    let store = running.store.clone();
    let file = store.path().to_owned();
    let size = || std::fs::metadata(&file).map_or(0, |m| m.len());
    let settings = retention::RetentionSettings::default();
    println!(
        "month: {days} days × {per_day} orders, three shops, retention {} days (orders), {} h (notifications), {} days (Wi-Fi)\n",
        settings.order_days, settings.notification_hours, settings.wifi_days
    );
    println!(
        "| day | orders so far | file | in use | totals table | compacted |\n|---|---|---|---|---|---|"
    );
    let (start_used, _) = used(&store).await;
    let t0 = Instant::now();
    let mut n = 0u64;
    let mut peak_used = 0;
    for day in 0..days {
        let open = day0.0 + day * DAY_MS + 8 * 3_600_000;
        let items = store.write(restock).await.expect("restock");
        let step = 10 * 3_600_000 / per_day.max(1);
        for chunk in 0..per_day.div_ceil(batch) {
            set(&clock, open + chunk * batch * step);
            let first = n;
            let count = batch.min(per_day - chunk * batch);
            let items = items.clone();
            let ids = store
                .write(move |tx| {
                    (first..first + count)
                        .map(|k| {
                            guest_wifi(tx, k)?;
                            place(tx, &items, k)
                        })
                        .collect::<Result<Vec<_>, _>>()
                })
                .await
                .expect("orders");
            n += count;
            // A minute per stage: the chunk is done before the next one
            // (six minutes apart), so a day stays within 08:00–18:00.
            for to in STAGES {
                clock.advance(60_000);
                let ids = ids.clone();
                store
                    .write(move |tx| stage(tx, &ids, to))
                    .await
                    .expect("stage");
            }
        }
        // The night: idempotency keys, retention, compaction.
        set(&clock, day0.0 + (day + 1) * DAY_MS + 3 * 3_600_000);
        store
            .write(checkout::sweep_idempotency)
            .await
            .expect("keys");
        retention::run(&store, settings).await.expect("retention");
        let c = compaction::maybe_compact(&store).await.expect("compaction");
        let (in_use, totals) = used(&store).await;
        peak_used = peak_used.max(in_use);
        if std::env::args().any(|a| a == "--tables") && day + 1 == u64::from(settings.order_days) {
            tables(&store).await;
        }
        println!(
            "| {} | {n} | {} | {} | {} | {} |",
            day + 1,
            mib(size()),
            mib(in_use),
            mib(totals),
            if c.compacted { "yes" } else { "" }
        );
    }
    let (end_used, totals) = used(&store).await;
    println!(
        "\nsimulated in {:.0} s; database file after {days} days: {} (in use {}; peak in use {})",
        t0.elapsed().as_secs_f64(),
        mib(size()),
        mib(end_used),
        mib(peak_used)
    );
    let kept = u64::from(settings.order_days) * per_day;
    println!(
        "an order's details while kept: {:.0} bytes in use each ({} orders within the retention); \
         after its full life: folded into the totals table, {} for the whole month ({:.1} bytes per order)",
        peak_used.saturating_sub(start_used) as f64 / kept.max(1) as f64,
        kept,
        mib(totals),
        totals as f64 / n.max(1) as f64
    );

    // At a venue's pace each step is its own commit (one fsync each).
    let sample = arg("--sample", 200);
    let items = store.write(restock).await.expect("restock");
    set(&clock, clock.now().0 + 5 * 3_600_000);
    let before = write_bytes();
    for k in 0..sample {
        let items = items.clone();
        let id = store
            .write(move |tx| {
                guest_wifi(tx, n + k)?;
                place(tx, &items, n + k)
            })
            .await
            .expect("order");
        for to in STAGES {
            clock.advance(60_000);
            store
                .write(move |tx| stage(tx, &[id], to))
                .await
                .expect("stage");
        }
    }
    let per_order = (write_bytes() - before) / sample.max(1);
    // Retention's own writes, spread over the orders it folds.
    set(&clock, clock.now().0 + 15 * DAY_MS);
    let before = write_bytes();
    let swept = retention::run(&store, settings).await.expect("retention");
    let folding = (write_bytes() - before) / (swept.orders as u64).max(1);
    let daily = (per_order + folding) * 5000;
    println!(
        "bytes written per order, each step its own commit: {per_order} placed to collected + {folding} folding it later \
         ({sample} orders; {} folded); at 5,000 orders a day: {} a day",
        swept.orders,
        mib(daily)
    );
    // A 128 MB SLC NAND overlay: UBI levels wear over its erase blocks.
    for (cycles, what) in [
        (100_000u64, "SLC, 100k erase cycles"),
        (10_000, "10k erase cycles"),
    ] {
        let budget = 128 * 1_000_000 * cycles / 2; // write amplification 2 (UBIFS)
        println!(
            "128 MB overlay ({what}, write amplification 2): {:.0} years at 5,000 orders a day",
            budget as f64 / daily.max(1) as f64 / 365.0
        );
    }
    drop(store);
    running.shutdown().await.expect("shutdown");
}

fn set(clock: &Clock, at: u64) {
    let now = clock.now().0;
    if at > now {
        clock.advance(at - now);
    }
}
