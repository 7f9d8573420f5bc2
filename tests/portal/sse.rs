//! The live streams over plain HTTP: a reconnect with `Last-Event-ID` gets
//! exactly the missed events, in order; streams per address are capped;
//! logins that end take their streams with them; an open menu hears the
//! options an order takes and a cancel gives back.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{Api, Server, advance, place};

/// One parsed Server-Sent Event.
#[derive(Debug)]
struct Sse {
    event: String,
    id: Option<u64>,
    data: Value,
}

/// Reads events from a streaming response.
struct Stream {
    resp: reqwest::Response,
    buf: String,
}

impl Stream {
    async fn open(server: &Server, path: &str, cookies: &str, last_id: Option<u64>) -> Stream {
        let mut req = reqwest::Client::new()
            .get(server.url(path))
            .header("cookie", cookies)
            .header("accept", "text/event-stream");
        if let Some(id) = last_id {
            req = req.header("last-event-id", id.to_string());
        }
        let resp = req.send().await.expect("stream opens");
        assert_eq!(resp.status(), 200, "stream {path}");
        assert_eq!(
            resp.headers()["content-type"].to_str().expect("ascii"),
            "text/event-stream"
        );
        Stream {
            resp,
            buf: String::new(),
        }
    }

    /// The next named event (comments and keep-alives skipped), or `None`
    /// when nothing arrives within `wait`.
    async fn next(&mut self, wait: Duration) -> Option<Sse> {
        loop {
            while let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let mut e = Sse {
                    event: String::new(),
                    id: None,
                    data: Value::Null,
                };
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event: ") {
                        e.event = v.to_owned();
                    } else if let Some(v) = line.strip_prefix("id: ") {
                        e.id = v.parse().ok();
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        e.data = serde_json::from_str(v).unwrap_or(Value::String(v.to_owned()));
                    }
                }
                if !e.event.is_empty() {
                    return Some(e);
                }
            }
            let chunk = tokio::time::timeout(wait, self.resp.chunk()).await.ok()?;
            let bytes = chunk.expect("stream read")?;
            self.buf
                .push_str(std::str::from_utf8(&bytes).expect("utf-8"));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnect_with_last_event_id_replays_exactly_the_missed_events() {
    let server = Server::start().await;
    let mut guest = Api::new(&server);
    let mut keeper = Api::new(&server);
    keeper.login("juice@demo.queueless").await;
    let (id, token) = place(&mut guest, 9, "sse-1").await;
    let path = format!("/events/order/{token}");
    let wait = Duration::from_secs(5);

    let mut s = Stream::open(&server, &path, "", None).await;
    let mut me = Stream::open(&server, "/events/me", &guest.cookies(), None).await;
    advance(&mut keeper, id, "accepted").await;
    let first = s.next(wait).await.expect("accepted arrives");
    assert_eq!(first.event, "status");
    assert_eq!(first.data["status"], "accepted");
    let seen = first.id.expect("status events carry the notification id");
    let on_me = me.next(wait).await.expect("device stream too");
    assert_eq!(on_me.id, Some(seen), "both streams number events alike");
    drop(s);
    drop(me);

    // Missed while disconnected.
    for st in ["preparing", "ready", "completed"] {
        advance(&mut keeper, id, st).await;
    }
    // Something for another guest must not leak into this replay.
    let mut other = Api::new(&server);
    let (other_id, _) = place(&mut other, 9, "sse-2").await;
    advance(&mut keeper, other_id, "accepted").await;

    for path in [path.as_str(), "/events/me"] {
        let mut s = Stream::open(&server, path, &guest.cookies(), Some(seen)).await;
        let mut got = Vec::new();
        while let Some(e) = s.next(Duration::from_millis(700)).await {
            got.push(e);
        }
        let statuses: Vec<&str> = got
            .iter()
            .map(|e| e.data["status"].as_str().expect("status"))
            .collect();
        assert_eq!(
            statuses,
            ["preparing", "ready", "completed"],
            "{path}: {got:?}"
        );
        let ids: Vec<u64> = got.iter().map(|e| e.id.expect("id")).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "in order: {ids:?}");
        assert!(ids[0] > seen);
        assert!(got.iter().all(|e| e.data["order_id"] == id));
    }
}

impl Stream {
    /// Whether the server ends the stream within `wait` (events and
    /// keep-alives before the end are skipped).
    async fn ends(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.resp.chunk()).await {
                Err(_) => return false,
                Ok(Ok(None)) | Ok(Err(_)) => return true,
                Ok(Ok(Some(_))) => {}
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_and_a_password_reset_end_the_logins_streams() {
    let server = Server::start().await;
    let wait = Duration::from_secs(5);
    // Two logins of one shopkeeper (a tablet and a laptop), each with a stream.
    let mut tablet = Api::new(&server);
    tablet.login("dumplings@demo.queueless").await;
    let mut laptop = Api::new(&server);
    laptop.login("dumplings@demo.queueless").await;
    let mut on_tablet = Stream::open(&server, "/events/shop", &tablet.cookies(), None).await;
    let mut on_laptop = Stream::open(&server, "/events/shop", &laptop.cookies(), None).await;

    // Logging out on the tablet ends the tablet's stream only.
    let (code, _) = tablet.send("POST", "/api/auth/logout", None).await;
    assert_eq!(code, 204);
    assert!(on_tablet.ends(wait).await, "the logged-out stream ends");
    let mut guest = Api::new(&server);
    let (id, _) = place(&mut guest, 5, "after-logout").await;
    let e = on_laptop
        .next(wait)
        .await
        .expect("the other login still hears orders");
    assert_eq!((e.event.as_str(), e.data.clone()), ("placed", json!(id)));

    // The operator resets the shopkeeper's password: every login of theirs
    // ends, and so do their streams.
    let (_, me) = laptop.send("GET", "/api/auth/me", None).await;
    let mut admin = Api::new(&server);
    admin.login("admin@demo.queueless").await;
    let (code, body) = admin
        .send(
            "POST",
            &format!("/api/admin/users/{}/password-reset", me["user_id"]),
            Some(json!({})),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    assert!(
        on_laptop.ends(wait).await,
        "the reset ends the laptop's stream"
    );
    let (code, _) = laptop.send("GET", "/api/shop", None).await;
    assert_eq!(code, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn menu_and_shop_streams_follow_stock_and_orders() {
    let server = Server::start().await;
    let mut keeper = Api::new(&server);
    keeper.login("dumplings@demo.queueless").await;
    let wait = Duration::from_secs(5);
    let mut menu = Stream::open(&server, "/events/menu/2", "", None).await;
    let mut dash = Stream::open(&server, "/events/shop", &keeper.cookies(), None).await;

    let (code, _) = keeper
        .send("POST", "/api/shop/items/5/stock", Some(json!({"set": 1})))
        .await;
    assert_eq!(code, 200);
    let e = menu.next(wait).await.expect("availability");
    assert_eq!(e.event, "availability");
    assert_eq!(
        e.data,
        json!([{"item_id": 5, "available": true, "left": 1}])
    );

    let mut guest = Api::new(&server);
    let (id, _) = place(&mut guest, 5, "last-one").await;
    let e = menu.next(wait).await.expect("sold out");
    assert_eq!(
        e.data,
        json!([{"item_id": 5, "available": false, "left": 0}])
    );
    // The dashboard hears the stock change, then the order.
    let e = dash.next(wait).await.expect("stock");
    assert_eq!(e.event, "stock");
    let e = dash.next(wait).await.expect("dashboard hears the order");
    assert_eq!((e.event.as_str(), e.data.clone()), ("placed", json!(id)));

    // Another shop's streams stay quiet.
    let mut tea_menu = Stream::open(&server, "/events/menu/1", "", None).await;
    advance(&mut keeper, id, "accepted").await;
    assert!(tea_menu.next(Duration::from_millis(500)).await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_per_address_are_capped_and_freed() {
    let server = Server::start().await;
    let mut open = Vec::new();
    for _ in 0..16 {
        open.push(Stream::open(&server, "/events/menu/1", "", None).await);
    }
    let refused = reqwest::get(server.url("/events/menu/1"))
        .await
        .expect("request");
    assert_eq!(refused.status(), 429);
    let body: Value = refused.json().await.expect("json");
    assert_eq!(body["error"], "too_many_streams");
    open.pop();
    // The slot frees once the server notices the closed stream.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let r = reqwest::get(server.url("/events/menu/1"))
            .await
            .expect("request");
        if r.status() == 200 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "slot never freed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pickup_board_follows_stages_and_never_shows_codes() {
    let server = Server::start().await;
    let mut guest = Api::new(&server);
    let mut keeper = Api::new(&server);
    keeper.login("juice@demo.queueless").await;
    let mut board = Stream::open(&server, "/events/board?shop=3", "", None).await;
    let wait = Duration::from_secs(5);
    let first = board.next(wait).await.expect("the board as it is");
    assert_eq!(
        (&first.data["preparing"], &first.data["ready"]),
        (&json!([]), &json!([]))
    );
    let (id, token) = place(&mut guest, 9, "board").await;
    let (_, view) = guest
        .send("GET", &format!("/api/orders/{token}"), None)
        .await;
    let code = view["pickup_code"].as_str().expect("code").to_owned();
    for (status, column) in [
        ("accepted", "preparing"),
        ("preparing", "preparing"),
        ("ready", "ready"),
    ] {
        advance(&mut keeper, id, status).await;
        let mut e = board.next(wait).await.expect("board update");
        // The placement itself also updates the board; skip to this stage.
        while e.data[column].as_array().is_none_or(|l| l.is_empty()) {
            e = board.next(wait).await.expect("board update");
        }
        assert_eq!(e.data[column][0]["call"], view["call"], "as on the phone");
        assert!(
            !e.data.to_string().contains(&code),
            "no pickup code on a public screen"
        );
    }
    let (_, page, _) = guest.page("/board?shop=3").await;
    assert!(page.contains("Ready") && !page.contains(&code));
}

/// An open menu hears what an order takes of its options and what a cancel
/// gives back: the tapioca pearls through their ingredient (with the items
/// made from it), the grass jelly by its count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_menu_hears_options_an_order_takes_and_a_cancel_gives_back() {
    let server = Server::start().await;
    let venue = server.venue().await;
    let (shop, taro) = venue.item("Taro milk tea");
    let mut guest = Api::new(&server);
    let (_, menu) = guest
        .send("GET", &format!("/api/shops/{shop}/menu"), None)
        .await;
    let item = menu["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["id"] == taro)
        .expect("taro on the menu");
    let option = |name: &str| -> (u64, u64) {
        item["option_groups"]
            .as_array()
            .expect("groups")
            .iter()
            .flat_map(|g| g["options"].as_array().expect("options"))
            .find(|o| o["name"] == name)
            .map(|o| {
                let left = o["stock_left"]
                    .as_u64()
                    .expect("counted or made from stock");
                (o["id"].as_u64().expect("id"), left)
            })
            .unwrap_or_else(|| panic!("no option {name}"))
    };
    let (pearls, pearls_left) = option("Tapioca pearls");
    let (jelly, jelly_left) = option("Grass jelly");
    let mut chosen: Vec<u64> = item["option_groups"]
        .as_array()
        .expect("groups")
        .iter()
        .flat_map(|g| g["options"].as_array().expect("options"))
        .filter(|o| o["default"] == true)
        .map(|o| o["id"].as_u64().expect("id"))
        .collect();
    chosen.extend([pearls, jelly]);

    let mut stream = Stream::open(&server, &format!("/events/menu/{shop}"), "", None).await;
    let (code, placed) = guest
        .send(
            "POST",
            "/api/orders",
            Some(
                json!({"items": [{"item_id": taro, "quantity": 2, "options": chosen}],
                        "idempotency_key": "menu-hears-options-1"}),
            ),
        )
        .await;
    assert_eq!(code, 201, "{placed}");
    let heard = options_left(&mut stream, [pearls, jelly]).await;
    assert_eq!(heard, [pearls_left - 2, jelly_left - 2]);

    let token = placed["orders"][0]["token"].as_str().expect("token");
    let (code, body) = guest
        .send("POST", &format!("/api/orders/{token}/cancel"), None)
        .await;
    assert_eq!(code, 200, "{body}");
    let heard = options_left(&mut stream, [pearls, jelly]).await;
    assert_eq!(heard, [pearls_left, jelly_left]);
}

/// What each of `options` has left, from a menu stream's `options` events
/// until all are heard; any other option in them fails the test.
async fn options_left<const N: usize>(stream: &mut Stream, options: [u64; N]) -> [u64; N] {
    let mut left = std::collections::BTreeMap::new();
    while left.len() < N {
        let e = stream
            .next(Duration::from_secs(5))
            .await
            .expect("an options event");
        if e.event != "options" {
            continue;
        }
        for o in e.data.as_array().expect("options") {
            let id = o["option_id"].as_u64().expect("id");
            assert!(options.contains(&id), "only the options touched: {o}");
            left.insert(id, o["left"].as_u64().expect("left"));
        }
    }
    options.map(|id| left[&id])
}
