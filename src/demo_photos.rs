//! Photos for a few demo items, drawn when the crate is built (no
//! downloaded images; `build/demo_art.rs` draws them, `build.rs` writes
//! them): a 96 × 96 PNG per item, a few hundred bytes each. Kept like
//! uploaded photos (`store::photos`).

use crate::domain::{ItemId, ShopId};
use crate::store::{ItemPatch, Store, catalog, photos};

include!(concat!(env!("OUT_DIR"), "/demo_photos.rs"));

/// Draws and keeps the demo photos and sets them on their items.
pub async fn add(store: &Store) -> anyhow::Result<()> {
    let dir = store.photos_dir();
    let mut named: Vec<(String, String)> = Vec::new();
    for &(item, bytes) in PHOTOS {
        named.push((item.to_owned(), photos::save(&dir, bytes)?));
    }
    store
        .write(move |tx| {
            let shops: Vec<ShopId> = catalog::shops(&**tx, false)?.iter().map(|s| s.id).collect();
            for shop in shops {
                let items: Vec<(ItemId, String)> = catalog::menu(&**tx, shop)?
                    .items
                    .iter()
                    .map(|v| (v.item.id, v.item.name.clone()))
                    .collect();
                for (id, name) in items {
                    if let Some((_, file)) = named.iter().find(|(n, _)| *n == name) {
                        let patch = ItemPatch {
                            photo: Some(Some(format!("/photos/{file}"))),
                            ..ItemPatch::default()
                        };
                        catalog::update_item(tx, shop, id, patch)?;
                    }
                }
            }
            Ok(())
        })
        .await?;
    Ok(())
}
