//! Item photos over HTTP: a shopkeeper uploads one as the raw body of
//! `PUT /api/shop/items/{item_id}/photo` (JPEG, PNG or WebP, told by its
//! bytes; at most 300 KB: 413 or 415 otherwise), kept in the data
//! directory under a name made from its hash; `GET /photos/{name}` serves
//! it with its content type and `Cache-Control: immutable` (a new photo is
//! a new name, so a cached one is never stale). The item's `photo` field
//! then holds `/photos/{name}`; URLs of photos elsewhere still work.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Router, extract::rejection::BytesRejection};

use crate::domain::ItemId;
use crate::domain::photo::{MAX_BYTES, PhotoError};
use crate::store::{ItemPatch, StoreError, catalog, photos};
use crate::web::AppState;
use crate::web::api::dto::ItemDto;
use crate::web::error::{ApiError, ApiResult, ErrorBody, Failure};
use crate::web::extract::{ApiPath, Shopkeeper};

/// `GET /photos/{name}`.
pub fn router() -> Router<AppState> {
    Router::new().route("/photos/{name}", get(serve))
}

/// The upload route's body limit: one byte over the largest photo, so an
/// upload just over it is read and refused with the photo's own message.
pub fn upload_limit() -> DefaultBodyLimit {
    DefaultBodyLimit::max(MAX_BYTES + 1)
}

/// Sets an item's photo from the request body: a JPEG, PNG or WebP image.
#[utoipa::path(put, path = "/api/shop/items/{item_id}/photo", tag = "menu",
    params(("item_id" = u64, Path)),
    request_body(content = Vec<u8>, description = "The image's bytes (JPEG, PNG or WebP, at most 300 KB; the format is read from the bytes)",
        content_type = "application/octet-stream"),
    responses((status = 200, body = ItemDto, description = "The item, its `photo` now `/photos/{hash}.{jpg|png|webp}`"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 413, body = ErrorBody, description = "Over 300 KB (`photo_too_large`)"),
        (status = 415, body = ErrorBody, description = "Not a JPEG, PNG or WebP image (`not_an_image`)")))]
pub async fn upload(
    State(state): State<AppState>,
    k: Shopkeeper,
    ApiPath(item_id): ApiPath<u64>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<ItemDto>> {
    let body = body.map_err(|_| {
        ApiError::from(StoreError::Photo(PhotoError::TooLarge {
            size: MAX_BYTES + 1,
        }))
    })?;
    let id = ItemId(item_id);
    // The item first: no file is kept for an item that is not the shop's.
    state
        .store
        .read(move |r| catalog::own_item(r, k.shop, id))
        .await?;
    let dir = state.store.photos_dir();
    let name = tokio::task::spawn_blocking(move || photos::save(&dir, &body))
        .await
        .map_err(|e| ApiError::from(StoreError::Internal(format!("keeping a photo: {e}"))))??;
    tracing::info!(item = %id, photo = %name, "photo uploaded");
    let patch = ItemPatch {
        photo: Some(Some(format!("/photos/{name}"))),
        ..ItemPatch::default()
    };
    let view = state
        .store
        .write(move |tx| {
            catalog::update_item(tx, k.shop, id, patch)?;
            crate::web::api::menu::item_view(&**tx, k.shop, id)
        })
        .await?;
    Ok(Json(ItemDto::new(&view, true)))
}

async fn serve(State(state): State<AppState>, Path(name): Path<String>) -> Response {
    let dir = state.store.photos_dir();
    let found = tokio::task::spawn_blocking(move || photos::load(&dir, &name))
        .await
        .ok()
        .flatten();
    match found {
        Some((bytes, kind)) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(kind.content_type()),
                ),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=31536000, immutable"),
                ),
            ],
            bytes,
        )
            .into_response(),
        None => ApiError::new(Failure::NotFound, "not_found", "no such photo").into_response(),
    }
}
