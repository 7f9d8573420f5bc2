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

use super::{AppState, photos};

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

/// Every API route, listed once: `$add!([handlers…] layer?)` for each
/// path. [`routes`] serves them and [`document`] describes them, both
/// from this list, so the document cannot miss a route the daemon serves.
macro_rules! each_route {
    ($add:ident) => {
        $add!([photos::upload] photos::upload_limit());
        $add!([guest::list_shops]);
        $add!([guest::shop_menu]);
        $add!([guest::place_order]);
        $add!([guest::get_order]);
        $add!([guest::cancel_order]);
        $add!([guest::my_orders]);
        $add!([guest::my_notifications]);
        $add!([guest::read_notification]);
        $add!([guest::table]);
        $add!([board::get_board]);
        $add!([account::login]);
        $add!([account::logout]);
        $add!([account::me]);
        $add!([account::register_shop]);
        $add!([shop::list_orders]);
        $add!([shop::set_status]);
        $add!([shop::set_payment]);
        $add!([printing::reprint]);
        $add!([kitchen::undo]);
        $add!([shop::get_shop, shop::patch_shop]);
        $add!([shop::reset_numbers]);
        $add!([pickup::get_pickup, pickup::put_pickup]);
        $add!([shop::report]);
        $add!([shop::open_table, shop::list_tables]);
        $add!([shop::close_table]);
        $add!([shop::table_orders]);
        $add!([menu::own_menu]);
        $add!([menu::create_category]);
        $add!([menu::create_item]);
        $add!([menu::patch_item, menu::delete_item]);
        $add!([menu::item_stock]);
        $add!([menu::create_ingredient]);
        $add!([menu::ingredient_stock]);
        $add!([options::list_groups, options::create_group]);
        $add!([options::patch_group, options::delete_group]);
        $add!([options::create_option]);
        $add!([options::patch_option, options::delete_option]);
        $add!([options::option_stock]);
        $add!([options::attach, options::detach]);
        $add!([admin::list_shops]);
        $add!([admin::approve]);
        $add!([admin::reject]);
        $add!([admin::rename]);
        $add!([staff::list_staff, staff::add_staff]);
        $add!([staff::remove_staff]);
        $add!([staff::reset_password]);
    };
}

/// The API's routes, for serving. Only each handler's path and methods
/// are read, not its documentation: building the document takes about
/// 2 MiB of small allocations, which an idle router should not keep.
pub fn routes() -> axum::Router<AppState> {
    use utoipa::Path as _;
    use utoipa_axum::PathItemExt as _;
    let mut router = axum::Router::new();
    macro_rules! serve {
        ([$($module:ident :: $handler:ident),+] $($layer:expr)?) => {{
            let mut paths = Vec::new();
            let mut methods = axum::routing::MethodRouter::new();
            $(utoipa_axum::paste! {
                paths.push($module::[<__path_ $handler>]::path());
                for m in $module::[<__path_ $handler>]::methods() {
                    methods = methods.on(m.to_method_filter(), $module::$handler);
                }
            })+
            $(methods = methods.layer($layer);)?
            paths.dedup();
            let [path] = paths.as_slice() else {
                panic!("handlers listed together must share one path: {paths:?}");
            };
            router = router.route(path, methods);
        }};
    }
    each_route!(serve);
    router
}

/// The finished OpenAPI document (shared statuses added by
/// [`contract::complete`]), built from the same list as [`routes`].
pub fn document() -> utoipa::openapi::OpenApi {
    let mut all = OpenApiRouter::<AppState>::with_openapi(ApiDoc::openapi());
    macro_rules! describe {
        ([$($handler:path),+] $($layer:expr)?) => {
            all = all.routes(routes!($($handler),+));
        };
    }
    each_route!(describe);
    let mut doc = all.into_openapi();
    contract::complete(&mut doc);
    doc
}
