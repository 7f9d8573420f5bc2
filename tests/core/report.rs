//! The report of a chosen range as CSV: orders and outcomes, items, paid
//! and unpaid by method, and the preparation time's average and p90.

use serde_json::json;

use crate::support::{DUMPLINGS, PORK, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_downloads_as_csv_for_a_day_or_a_range() {
    let server = TestServer::start().await;
    let pork = server.item_id(PORK);
    let mut keeper = server.login(DUMPLINGS).await;
    let mut guest = server.guest();
    let a = guest.place(&[(pork, 2)], "report-order-a").await;
    let b = guest.place(&[(pork, 1)], "report-order-b").await;
    let c = guest.place(&[(pork, 1)], "report-order-c").await;
    for step in ["accepted", "preparing", "ready"] {
        keeper.set_status(&a, step).await.expect(200);
    }
    keeper
        .post(
            &format!("/api/shop/orders/{}/payment", a["id"]),
            json!({"status": "successful", "method": "card"}),
        )
        .await
        .expect(200);
    keeper.set_status(&b, "accepted").await.expect(200);
    keeper.set_status(&c, "cancelled").await.expect(200);

    let session = keeper.cookie("ql_session").expect("session").to_owned();
    let get = |query: &str| {
        let url = format!("http://127.0.0.1:{}/shop/report.csv{query}", server.port());
        let cookie = format!("ql_session={session}");
        async move {
            let r = reqwest::Client::new()
                .get(url)
                .header("cookie", cookie)
                .send()
                .await
                .expect("answer");
            let status = r.status().as_u16();
            let disposition = r
                .headers()
                .get("content-disposition")
                .map(|v| v.to_str().expect("ascii").to_owned());
            (status, disposition, r.text().await.expect("text"))
        }
    };
    let (status, disposition, today) = get("").await;
    assert_eq!(status, 200, "{today}");
    let disposition = disposition.expect("a download");
    eprintln!("{disposition}\n{today}");
    assert!(today.starts_with("section,name,count,amount\n"), "{today}");
    for row in [
        "summary,orders,3,",
        "summary,cancelled,1,",
        "item,Pork dumplings (6),3,",
        "paid,card,1,",
        "unpaid,cash,1,",
        "preparation,p90 seconds,1,0",
    ] {
        assert!(today.contains(row), "{row} in\n{today}");
    }
    // The same day named explicitly, and a range around it, agree; a day
    // long before has nothing.
    let day = disposition
        .split("report-")
        .nth(1)
        .and_then(|s| s.get(..10))
        .expect("the day in the file name")
        .to_owned();
    let (_, _, named) = get(&format!("?from={day}&to={day}")).await;
    assert_eq!(named, today);
    let (_, _, old) = get("?from=2001-01-01&to=2001-01-31").await;
    assert!(old.contains("summary,orders,0,"), "{old}");
    let (status, _, _) = get("?from=2026-02-30&to=2026-03-01").await;
    assert_eq!(status, 422, "not a date");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_counts_each_option() {
    let server = TestServer::start().await;
    let d = crate::options::drink(&server, 0).await;
    let mut keeper = d.keeper;
    let mut guest = server.guest();
    let r = guest
        .post(
            "/api/orders",
            json!({"items": [crate::options::line(d.item, 3, &[d.large])],
                "idempotency_key": "report-options-checkout"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let session = keeper.cookie("ql_session").expect("session").to_owned();
    let csv = reqwest::Client::new()
        .get(format!(
            "http://127.0.0.1:{}/shop/report.csv",
            server.port()
        ))
        .header("cookie", format!("ql_session={session}"))
        .send()
        .await
        .expect("answer")
        .text()
        .await
        .expect("csv");
    let row = csv
        .lines()
        .find(|l| l.starts_with("option,"))
        .unwrap_or_else(|| panic!("an option row in\n{csv}"));
    assert!(row.contains(",3,"), "3 drinks with the option: {row}");
    assert!(row.contains("Large"), "{row}");
    let _ = keeper.get("/api/shop").await;
    server.stop().await;
}
