//! Item photos: a shopkeeper uploads a PNG as the raw body; it is served
//! from the data directory (not the database) with its content type, a
//! content-hashed URL and immutable caching; an upload over 300 KB is
//! refused with 413 and one that is not a JPEG, PNG or WebP with 415,
//! writing nothing; the demo's photos are drawn at start.

use serde_json::Value;

use crate::support::{DUMPLINGS, PORK, TEA, TestServer, find};

/// The demo photos' drawing (build time), for a fresh PNG to upload.
#[expect(dead_code, reason = "the suite uses the drawing, not the demo table")]
#[path = "../../build/demo_art.rs"]
mod demo_art;

const PNG: &str = "application/octet-stream";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_is_uploaded_kept_on_disk_and_served_for_ever() {
    let server = TestServer::start().await;
    let pork = server.item_id(PORK);
    let mut keeper = server.login(DUMPLINGS).await;
    let photo = demo_art::draw([1, 2, 3], [200, 100, 50]).expect("a PNG");
    let path = format!("/api/shop/items/{pork}/photo");

    // Refusals first: nothing written.
    let mut other = server.login(TEA).await;
    let before = server.dump().await;
    let mut too_big = photo.clone();
    too_big.resize(300 * 1024 + 1, 0);
    let r = keeper
        .raw("PUT", &path, &[("content-type", PNG)], Some(too_big))
        .await;
    assert_eq!(r.error(413), "photo_too_large");
    assert!(r.message().contains("at most 300 KB"), "{}", r.message());
    let r = keeper
        .raw(
            "PUT",
            &path,
            &[("content-type", PNG)],
            Some(vec![0; 2 << 20]),
        )
        .await;
    assert_eq!(r.error(413), "photo_too_large", "far over: refused unread");
    let r = keeper
        .raw(
            "PUT",
            &path,
            &[("content-type", "image/png")],
            Some(b"GIF89a....".to_vec()),
        )
        .await;
    assert_eq!(
        r.error(415),
        "not_an_image",
        "the bytes decide, not the header"
    );
    other
        .raw("PUT", &path, &[("content-type", PNG)], Some(photo.clone()))
        .await
        .error(404);
    server
        .guest()
        .raw("PUT", &path, &[("content-type", PNG)], Some(photo.clone()))
        .await
        .error(401);
    before.assert_same(&server.dump().await, "refused photos");

    let item = keeper
        .raw("PUT", &path, &[("content-type", PNG)], Some(photo.clone()))
        .await
        .expect(200);
    let url = item["photo"].as_str().expect("a photo URL").to_owned();
    assert!(
        url.starts_with("/photos/") && url.ends_with(".png"),
        "{url}"
    );
    let menu = server.menu(server.shop_id("Dumpling House")).await;
    assert_eq!(
        find(&menu["items"], pork)["photo"],
        Value::from(url.clone())
    );
    let file = server
        .store()
        .photos_dir()
        .join(url.trim_start_matches("/photos/"));
    assert_eq!(std::fs::read(&file).expect("kept on disk"), photo);

    let r = reqwest::get(format!("{}{url}", server.base))
        .await
        .expect("get");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(
        r.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(r.bytes().await.expect("bytes").to_vec(), photo);
    for bad in [
        "/photos/../db.redb",
        "/photos/nope.png",
        "/photos/%2e%2e%2fdb.redb",
    ] {
        let r = reqwest::get(format!("{}{bad}", server.base))
            .await
            .expect("get");
        assert_eq!(r.status(), 404, "{bad}");
    }

    // The demo's own photos, drawn at start.
    let tea = server.menu(server.shop_id("Bubble Lab")).await;
    let classic = server.item_id("Classic milk tea");
    let demo = find(&tea["items"], classic)["photo"]
        .as_str()
        .expect("photo")
        .to_owned();
    let r = reqwest::get(format!("{}{demo}", server.base))
        .await
        .expect("get");
    assert_eq!(r.headers()["content-type"], "image/png");
    let size = r.bytes().await.expect("bytes").len();
    eprintln!("a demo photo: {size} bytes");
    assert!(size < 4096, "{size}");
    server.stop().await;
}
