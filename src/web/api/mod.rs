//! The JSON API: every route, collected with its OpenAPI description by
//! `utoipa-axum`, so the document at `/api/openapi.json` is generated from
//! the same code that serves the routes.

pub mod account;
pub mod admin;
pub mod board;
pub mod contract;
pub mod dto;
pub mod guest;
pub mod kitchen;
pub mod menu;
pub mod options;
pub mod pickup;
pub mod printing;
pub mod schemas;
pub mod shop;
pub mod staff;

use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "queueless API",
        description = "Ordering over the venue Wi-Fi. Guests are known by the `ql_device` cookie \
            (set on first request); staff log in at `/api/auth/login` and carry the `ql_session` \
            cookie. Money is in integer minor units (`*_cents`). Errors are \
            `{\"error\": \"code\", \"message\": \"…\"}`."
    ),
    tags(
        (name = "guest", description = "Browsing and ordering; no login"),
        (name = "account", description = "Login and shop registration"),
        (name = "shop", description = "Running a shop's counter (shopkeeper login)"),
        (name = "menu", description = "Editing a shop's menu and stock (shopkeeper login)"),
        (name = "admin", description = "The venue operator (admin login)")
    )
)]
struct ApiDoc;

/// The API's routes and its finished OpenAPI document (shared statuses
/// added by [`contract::complete`]).
pub fn routes_and_document() -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    let (routes, mut doc) = router().split_for_parts();
    contract::complete(&mut doc);
    (routes, doc)
}

/// Every API route with its documentation.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes({
            let (schemas, paths, route) = routes!(crate::web::photos::upload);
            (
                schemas,
                paths,
                route.layer(crate::web::photos::upload_limit()),
            )
        })
        .routes(routes!(guest::list_shops))
        .routes(routes!(guest::shop_menu))
        .routes(routes!(guest::place_order))
        .routes(routes!(guest::get_order))
        .routes(routes!(guest::cancel_order))
        .routes(routes!(guest::my_orders))
        .routes(routes!(guest::my_notifications))
        .routes(routes!(guest::read_notification))
        .routes(routes!(guest::table))
        .routes(routes!(board::get_board))
        .routes(routes!(account::login))
        .routes(routes!(account::logout))
        .routes(routes!(account::me))
        .routes(routes!(account::register_shop))
        .routes(routes!(shop::list_orders))
        .routes(routes!(shop::set_status))
        .routes(routes!(shop::set_payment))
        .routes(routes!(printing::reprint))
        .routes(routes!(kitchen::undo))
        .routes(routes!(shop::get_shop, shop::patch_shop))
        .routes(routes!(shop::reset_numbers))
        .routes(routes!(pickup::get_pickup, pickup::put_pickup))
        .routes(routes!(shop::report))
        .routes(routes!(shop::open_table, shop::list_tables))
        .routes(routes!(shop::close_table))
        .routes(routes!(shop::table_orders))
        .routes(routes!(menu::own_menu))
        .routes(routes!(menu::create_category))
        .routes(routes!(menu::create_item))
        .routes(routes!(menu::patch_item, menu::delete_item))
        .routes(routes!(menu::item_stock))
        .routes(routes!(menu::create_ingredient))
        .routes(routes!(menu::ingredient_stock))
        .routes(routes!(options::list_groups, options::create_group))
        .routes(routes!(options::patch_group, options::delete_group))
        .routes(routes!(options::create_option))
        .routes(routes!(options::patch_option, options::delete_option))
        .routes(routes!(options::option_stock))
        .routes(routes!(options::attach, options::detach))
        .routes(routes!(admin::list_shops))
        .routes(routes!(admin::approve))
        .routes(routes!(admin::reject))
        .routes(routes!(admin::rename))
        .routes(routes!(staff::list_staff, staff::add_staff))
        .routes(routes!(staff::remove_staff))
        .routes(routes!(staff::reset_password))
}
