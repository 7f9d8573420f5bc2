//! What a guest is told about pickup: the wait estimate (from the shop's
//! usual time, then the median of its recent orders, never "0 min" while
//! in line) and the called identifier ("B1") that the phone and the board
//! share, with the shop's own prefix and the pickup code kept off the board.

use queueless::domain::Timestamp;
use queueless::domain::order::Order;
use queueless::store::View;
use queueless::store::tables::ID_TO_ORDER;
use serde_json::{Value, json};

use crate::support::{CLASSIC, DUMPLINGS, JUICE, ORANGE, PORK, TEA, TestServer};

/// Walks an order through every stage at once: a preparation of 0 s.
async fn rush(keeper: &mut crate::support::Client, order: &Value) {
    for s in ["accepted", "preparing", "ready", "completed"] {
        keeper.set_status(order, s).await.expect(200);
    }
}

fn wait_of(view: &Value) -> (u64, u64, u64) {
    let n = |k: &str| view[k].as_u64().unwrap_or_else(|| panic!("{k} in {view}"));
    (
        n("estimated_wait_min_seconds"),
        n("estimated_wait_seconds"),
        n("estimated_wait_max_seconds"),
    )
}

async fn text(server: &TestServer, path: &str) -> String {
    reqwest::get(format!("{}{path}", server.base))
        .await
        .expect("page")
        .text()
        .await
        .expect("body")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wait_starts_from_the_usual_time_and_never_reads_zero() {
    let server = TestServer::start().await;
    let orange = server.item_id(ORANGE);
    let mut keeper = server.login(JUICE).await;
    let mut guest = server.guest();

    // No history: the venue's 5 minutes, as a range.
    let first = guest.place(&[(orange, 1)], "first").await;
    assert_eq!(wait_of(&guest.view(&first).await), (150, 300, 450));
    // The shop's own usual time.
    let p = keeper
        .send(
            "PUT",
            "/api/shop/pickup",
            Some(json!({"prefix": null, "default_prep_seconds": 120})),
        )
        .await
        .expect(200);
    assert_eq!(p["typical_prep_seconds"], 120);
    assert_eq!(wait_of(&guest.view(&first).await), (60, 120, 180));
    let second = guest.place(&[(orange, 1)], "second").await;
    assert_eq!(guest.view(&second).await["queue_position"], 2);
    assert_eq!(wait_of(&guest.view(&second).await), (120, 240, 360));

    // Six orders made in no time: the estimate stays at least a minute.
    rush(&mut keeper, &first).await;
    rush(&mut keeper, &second).await;
    for i in 0..4 {
        let o = guest.place(&[(orange, 1)], &format!("fast-{i}")).await;
        rush(&mut keeper, &o).await;
    }
    let a = guest.place(&[(orange, 1)], "a").await;
    let b = guest.place(&[(orange, 1)], "b").await;
    for (o, position) in [(&a, 1), (&b, 2)] {
        let v = guest.view(o).await;
        assert_eq!(v["queue_position"], position);
        let (low, typical, high) = wait_of(&v);
        assert!(low >= 60 && typical >= 60 && high >= 60, "{v}");
        assert_eq!((low, high), (typical, typical), "settled: one figure");
    }
    // Ready: no estimate at all.
    for s in ["accepted", "preparing", "ready"] {
        keeper.set_status(&a, s).await.expect(200);
    }
    let v = guest.view(&a).await;
    assert!(v["estimated_wait_seconds"].is_null(), "{v}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_phone_and_the_board_show_one_identifier() {
    let server = TestServer::start().await;
    let (classic, pork) = (server.item_id(CLASSIC), server.item_id(PORK));
    let mut tea = server.login(TEA).await;
    let mut dumplings = server.login(DUMPLINGS).await;
    let mut guest = server.guest();

    let t = guest.place(&[(classic, 1)], "tea").await;
    let d = guest.place(&[(pork, 1)], "dumplings").await;
    assert_eq!(guest.view(&t).await["call"], "B1", "Bubble Lab");
    assert_eq!(guest.view(&d).await["call"], "D1", "Dumpling House");

    // A prefix another shop is called with is refused; letters only.
    let taken = tea
        .send("PUT", "/api/shop/pickup", Some(json!({"prefix": "d"})))
        .await;
    assert_eq!(taken.error(409), "conflict");
    let bad = tea
        .send("PUT", "/api/shop/pickup", Some(json!({"prefix": "B1"})))
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    let p = tea
        .send("PUT", "/api/shop/pickup", Some(json!({"prefix": "bl"})))
        .await
        .expect(200);
    assert_eq!(
        (&p["prefix"], &p["chosen_prefix"]),
        (&json!("BL"), &json!("BL"))
    );
    let view = guest.view(&t).await;
    assert_eq!(view["call"], "BL1");

    // Both on the venue board under the same identifiers, never with a code.
    for s in ["accepted", "preparing", "ready"] {
        tea.set_status(&t, s).await.expect(200);
    }
    dumplings.set_status(&d, "accepted").await.expect(200);
    let board = guest.get("/api/board").await.expect(200);
    assert_eq!(board["ready"][0]["call"], "BL1", "{board}");
    assert_eq!(board["ready"][0]["fresh"], true);
    assert_eq!(board["preparing"][0]["call"], "D1", "{board}");
    let legend: Vec<&Value> = board["legend"].as_array().expect("legend").iter().collect();
    assert!(
        legend
            .iter()
            .any(|l| l["prefix"] == "BL" && l["shop"] == "Bubble Lab")
    );
    let json_text = board.to_string();
    for o in [&t, &d] {
        let code = o["pickup_code"].as_str().expect("code");
        assert!(
            !json_text.contains(code),
            "the board shows {code}: {json_text}"
        );
    }
    // The order page shows the identifier big and the code as the secret.
    let token = t["token"].as_str().expect("token");
    let page = text(&server, &format!("/o/{token}")).await;
    let board_page = text(&server, "/board").await;
    assert!(page.contains("id=\"call\">BL1<"), "{page}");
    assert!(page.contains(view["pickup_code"].as_str().expect("code")));
    assert!(board_page.contains("<b>BL1</b>") && board_page.contains("<b>D1</b>"));
    for o in [&t, &d] {
        assert!(!board_page.contains(o["pickup_code"].as_str().expect("code")));
    }

    // Collected: off the board.
    tea.set_status(&t, "completed").await.expect(200);
    let board = guest.get("/api/board").await.expect(200);
    assert_eq!(board["ready"], json!([]));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_numbers_leave_the_board_after_the_venues_time() {
    let server = TestServer::start_with(|c| c.board_ready_minutes = 0).await;
    let orange = server.item_id(ORANGE);
    let mut keeper = server.login(JUICE).await;
    let mut guest = server.guest();
    let o = guest.place(&[(orange, 1)], "o").await;
    for s in ["accepted", "preparing", "ready"] {
        keeper.set_status(&o, s).await.expect(200);
    }
    // 0: kept until collected.
    let board = guest.get("/api/board").await.expect(200);
    assert_eq!(board["ready"][0]["call"], "F1");
    server.stop().await;

    // Any other time: gone once it has passed (the order's ready time is
    // set back two minutes in the store).
    let server = TestServer::start_with(|c| c.board_ready_minutes = 1).await;
    let mut keeper = server.login(JUICE).await;
    let mut guest = server.guest();
    let o = guest.place(&[(orange, 1)], "o").await;
    for s in ["accepted", "preparing", "ready"] {
        keeper.set_status(&o, s).await.expect(200);
    }
    let board = guest.get("/api/board").await.expect(200);
    assert_eq!(board["ready"][0]["call"], "F1", "still within the minute");
    let id = o["id"].as_u64().expect("id");
    server
        .store()
        .write(move |tx| {
            let mut order: Order = tx.get(ID_TO_ORDER, id)?.expect("the order");
            order.updated_at = Timestamp(order.updated_at.0 - 120_000);
            tx.put(ID_TO_ORDER, id, &order)
        })
        .await
        .expect("written");
    let board = guest.get("/api/board").await.expect(200);
    assert_eq!(board["ready"], json!([]), "cleared after a minute");
    assert_eq!(
        guest.view(&o).await["status"],
        "ready",
        "still ready to collect"
    );
    server.stop().await;
}
