//! The item page's allergens and tags: the shopkeeper ticks the 14 EU
//! allergens (Regulation 1169/2011) and types free tags (vegan, spicy…),
//! comma-separated. Guests see both on the menu and in the chooser.

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::post;

use super::{PageError, PageForm, PageResult, ShopPage, see_other};
use crate::domain::ItemId;
use crate::store::{ItemPatch, catalog};
use crate::web::AppState;
use crate::web::error::Failure;

/// Routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/shop/menu/items/{item_id}/labels", post(save))
}

/// `allergen=<key>` once per ticked allergen, `tags=a, b`.
fn read(pairs: Vec<(String, String)>) -> Result<(Vec<String>, Vec<String>), PageError> {
    let mut allergens = Vec::new();
    let mut tags = Vec::new();
    for (k, v) in pairs {
        match k.as_str() {
            "allergen" => allergens.push(v),
            "tags" => tags.extend(
                v.split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned),
            ),
            _ => {
                return Err(PageError::said_with(
                    Failure::Invalid,
                    "staff.form.unknown_field",
                    vec![("field", format!("{k:?}"))],
                ));
            }
        }
    }
    Ok((allergens, tags))
}

async fn save(
    State(state): State<AppState>,
    k: ShopPage,
    Path(item_id): Path<u64>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> PageResult {
    let back = format!("/shop/menu/items/{item_id}");
    let (allergens, tags) = read(pairs).map_err(|e| e.back(&back))?;
    let patch = ItemPatch {
        allergens: Some(allergens),
        tags: Some(tags),
        ..ItemPatch::default()
    };
    state
        .store
        .write(move |tx| catalog::update_item(tx, k.shop, ItemId(item_id), patch))
        .await
        .map_err(|e| PageError::from(e).back(&back))?;
    Ok(see_other(&back))
}
