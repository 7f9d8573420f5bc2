//! The API's JSON shapes, separate from the stored records: this is the
//! public contract that integrations depend on, so it changes only on
//! purpose. Conversions from domain records live here too.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::Timestamp;
use crate::domain::currency::Currency;
use crate::domain::menu::{Category, Ingredient, StockPolicy};
use crate::domain::order::{Order, OrderLine, OrderStatus};
use crate::domain::service::{OrderSession, Payment, PaymentMethod, PaymentStatus};
use crate::domain::shop::{Approval, Shop, Window};
use crate::store::options::{GroupView, OptionView};
use crate::store::{ItemView, OrderView};

/// A shop as guests see it in the list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShopDto {
    pub id: u64,
    pub name: String,
    pub location: String,
    pub contact: String,
    /// Takes orders right now.
    pub accepting_orders: bool,
    /// Why not, when it does not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_accepting_reason: Option<String>,
    pub paused: bool,
    /// `pending`, `approved` or `rejected`.
    pub approval: String,
    /// Weekly opening windows; empty means always open.
    pub hours: Vec<WindowDto>,
    pub open_order_limit: Option<u32>,
    /// Average preparation time of recent orders, in seconds.
    pub average_prep_seconds: u32,
    /// The venue's ISO 4217 currency; every `*_cents` amount is in its minor units.
    pub currency: String,
}

/// One opening window, in venue-local minutes of the day.
#[derive(Debug, Serialize, Deserialize, ToSchema, Clone, Copy)]
#[serde(deny_unknown_fields)]
pub struct WindowDto {
    /// 0 = Monday … 6 = Sunday.
    #[schema(maximum = 6)]
    pub weekday: u8,
    /// Opening minute (0–1439).
    #[schema(maximum = 1439)]
    pub open: u16,
    /// Closing minute (0–1440); not after `open` means past midnight.
    #[schema(maximum = 1440)]
    pub close: u16,
}

impl From<WindowDto> for Window {
    fn from(w: WindowDto) -> Self {
        Window {
            weekday: w.weekday,
            open: w.open,
            close: w.close,
        }
    }
}

pub fn approval_str(a: Approval) -> &'static str {
    match a {
        Approval::Pending => "pending",
        Approval::Approved => "approved",
        Approval::Rejected => "rejected",
    }
}

impl From<&crate::web::ops::ShopStatus> for ShopDto {
    fn from(s: &crate::web::ops::ShopStatus) -> Self {
        Self::new(&s.shop, s.refusal.clone(), s.currency)
    }
}

impl ShopDto {
    pub fn new(s: &Shop, refusal: Option<String>, currency: Currency) -> Self {
        Self {
            id: s.id.0,
            name: s.name.clone(),
            location: s.location.clone(),
            contact: s.contact.clone(),
            accepting_orders: refusal.is_none(),
            not_accepting_reason: refusal,
            paused: s.paused,
            approval: approval_str(s.approval).into(),
            hours: s
                .hours
                .windows
                .iter()
                .map(|w| WindowDto {
                    weekday: w.weekday,
                    open: w.open,
                    close: w.close,
                })
                .collect(),
            open_order_limit: s.open_order_limit,
            average_prep_seconds: s.average_prep_seconds(),
            currency: currency.code.to_owned(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryDto {
    pub id: u64,
    pub name: String,
    pub position: u32,
}

impl From<&Category> for CategoryDto {
    fn from(c: &Category) -> Self {
        Self {
            id: c.id.0,
            name: c.name.clone(),
            position: c.position,
        }
    }
}

/// How an item's stock is kept.
#[derive(Debug, Serialize, Deserialize, ToSchema, Clone)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum StockDto {
    /// No limit. (An empty struct, not a unit variant: serde refuses
    /// unknown fields only on struct variants of a tagged enum.)
    Unlimited {},
    /// A count of units.
    Counted {
        #[schema(maximum = 1_000_000)]
        left: u32,
    },
    /// Made from ingredients.
    Recipe {
        #[schema(min_items = 1, max_items = 32)]
        lines: Vec<RecipeLineDto>,
    },
}

#[derive(Debug, Serialize, Deserialize, ToSchema, Clone, Copy)]
#[serde(deny_unknown_fields)]
pub struct RecipeLineDto {
    pub ingredient_id: u64,
    /// Units of the ingredient one item uses.
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub quantity: u32,
}

impl From<StockDto> for StockPolicy {
    fn from(s: StockDto) -> Self {
        use crate::domain::IngredientId;
        use crate::domain::menu::RecipeLine;
        match s {
            StockDto::Unlimited {} => StockPolicy::Unlimited,
            StockDto::Counted { left } => StockPolicy::Counted(left),
            StockDto::Recipe { lines } => StockPolicy::Recipe(
                lines
                    .into_iter()
                    .map(|l| RecipeLine {
                        ingredient: IngredientId(l.ingredient_id),
                        quantity: l.quantity,
                    })
                    .collect(),
            ),
        }
    }
}

impl From<&StockPolicy> for StockDto {
    fn from(s: &StockPolicy) -> Self {
        match s {
            StockPolicy::Unlimited => StockDto::Unlimited {},
            StockPolicy::Counted(left) => StockDto::Counted { left: *left },
            StockPolicy::Recipe(lines) => StockDto::Recipe {
                lines: lines
                    .iter()
                    .map(|l| RecipeLineDto {
                        ingredient_id: l.ingredient.0,
                        quantity: l.quantity,
                    })
                    .collect(),
            },
        }
    }
}

/// A menu item.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemDto {
    pub id: u64,
    pub shop_id: u64,
    pub category_id: Option<u64>,
    pub name: String,
    pub description: String,
    /// Price in minor units (cents).
    pub price_cents: u64,
    pub tags: Vec<String>,
    pub allergens: Vec<String>,
    pub photo: Option<String>,
    /// Can be ordered now (switched on and in stock).
    pub available: bool,
    /// Units left, where stock is counted (directly or through ingredients).
    pub stock_left: Option<u64>,
    /// The shopkeeper's availability toggle (shop views only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// How stock is kept (shop views only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stock: Option<StockDto>,
    /// The option groups offered with this item, in display order.
    pub option_groups: Vec<OptionGroupDto>,
}

/// An option group offered with an item.
#[derive(Debug, Serialize, ToSchema)]
pub struct OptionGroupDto {
    pub id: u64,
    pub name: String,
    /// Fewest options to choose (0 = optional).
    pub min: u8,
    /// Most options to choose.
    pub max: u8,
    pub options: Vec<OptionDto>,
}

/// One option of a group.
#[derive(Debug, Serialize, ToSchema)]
pub struct OptionDto {
    pub id: u64,
    pub name: String,
    /// Change of the item's unit price, in minor units (may be negative).
    pub price_delta_cents: i64,
    /// Can be chosen now (switched on and in stock).
    pub available: bool,
    /// Portions left (counted or through ingredients); `null` when unlimited.
    pub stock_left: Option<u64>,
    /// Preselected for guests.
    pub default: bool,
    /// The shopkeeper's switch (shop views only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// How stock is kept (shop views only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stock: Option<StockDto>,
}

impl OptionDto {
    pub fn new(v: &OptionView, for_shop: bool) -> Self {
        let o = &v.option;
        Self {
            id: o.id.0,
            name: o.name.clone(),
            price_delta_cents: o.price_delta,
            available: v.available,
            stock_left: v.left,
            default: o.default,
            enabled: for_shop.then_some(o.enabled),
            stock: for_shop.then(|| StockDto::from(&o.stock)),
        }
    }
}

impl OptionGroupDto {
    pub fn new(g: &GroupView, for_shop: bool) -> Self {
        Self {
            id: g.group.id.0,
            name: g.group.name.clone(),
            min: g.group.min,
            max: g.group.max,
            options: g
                .options
                .iter()
                .map(|o| OptionDto::new(o, for_shop))
                .collect(),
        }
    }
}

impl ItemDto {
    pub fn new(v: &ItemView, for_shop: bool) -> Self {
        let i = &v.item;
        Self {
            id: i.id.0,
            shop_id: i.shop.0,
            category_id: i.category.map(|c| c.0),
            name: i.name.clone(),
            description: i.description.clone(),
            price_cents: i.price.0,
            tags: i.tags.clone(),
            allergens: i.allergens.clone(),
            photo: i.photo.clone(),
            available: v.available,
            stock_left: v.left,
            enabled: for_shop.then_some(i.enabled),
            stock: for_shop.then(|| StockDto::from(&i.stock)),
            option_groups: v
                .options
                .iter()
                .map(|g| OptionGroupDto::new(g, for_shop))
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IngredientDto {
    pub id: u64,
    pub name: String,
    pub unit: String,
    pub stock: u64,
}

impl From<&Ingredient> for IngredientDto {
    fn from(i: &Ingredient) -> Self {
        Self {
            id: i.id.0,
            name: i.name.clone(),
            unit: i.unit.clone(),
            stock: i.stock,
        }
    }
}

/// A shop's menu.
#[derive(Debug, Serialize, ToSchema)]
pub struct MenuDto {
    pub shop: ShopDto,
    pub categories: Vec<CategoryDto>,
    pub items: Vec<ItemDto>,
    /// Ingredients with stock (shop views only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ingredients: Option<Vec<IngredientDto>>,
}

/// An order as returned on placement and in lists.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderSummaryDto {
    pub id: u64,
    pub shop_id: u64,
    /// The shop's sequential number for it.
    pub number: u32,
    /// Short code to say at the counter.
    pub pickup_code: String,
    /// `placed`, `accepted`, `preparing`, `ready`, `completed` or `cancelled`.
    pub status: String,
    pub total_cents: u64,
    /// The venue's ISO 4217 currency of `total_cents` and every line.
    pub currency: String,
    /// Unguessable status-link token: `GET /api/orders/{token}`. Only the
    /// guest gets it: shops' views of an order leave it out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    pub created_at_ms: u64,
}

impl OrderSummaryDto {
    pub fn new(o: &Order, currency: Currency) -> Self {
        Self {
            currency: currency.code.to_owned(),
            id: o.id.0,
            shop_id: o.shop.0,
            number: o.number,
            pickup_code: o.pickup_code.clone(),
            status: o.status.as_str().into(),
            total_cents: o.total.0,
            token: Some(o.token.to_string()),
            created_at_ms: o.created_at.0,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderLineDto {
    pub item_id: u64,
    pub name: String,
    /// The item's price with every option's change, when ordered (never below 0).
    pub unit_price_cents: u64,
    pub quantity: u32,
    /// `unit_price_cents` × `quantity`.
    pub line_total_cents: u64,
    /// The options chosen, as they were when ordered.
    pub options: Vec<LineOptionDto>,
}

/// An option of an order line, as it was when ordered.
#[derive(Debug, Serialize, ToSchema)]
pub struct LineOptionDto {
    pub option_id: u64,
    /// The group's name when ordered.
    pub group: String,
    pub name: String,
    pub price_delta_cents: i64,
}

impl From<&OrderLine> for OrderLineDto {
    fn from(l: &OrderLine) -> Self {
        Self {
            item_id: l.item.0,
            name: l.name.clone(),
            unit_price_cents: l.unit_price.0,
            quantity: l.quantity,
            line_total_cents: l.total().0,
            options: l
                .options
                .iter()
                .map(|o| LineOptionDto {
                    option_id: o.option.0,
                    group: o.group.clone(),
                    name: o.name.clone(),
                    price_delta_cents: o.price_delta,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderEventDto {
    pub status: String,
    pub at_ms: u64,
    /// `shop`, `guest` or `system`.
    pub by: String,
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentDto {
    /// `cash`, `card`, `upi` or `wallet`.
    #[schema(value_type = String)]
    pub method: PaymentMethod,
    /// `pending`, `successful` or `failed`.
    #[schema(value_type = String)]
    pub status: PaymentStatus,
    pub amount_cents: u64,
}

impl From<&Payment> for PaymentDto {
    fn from(p: &Payment) -> Self {
        Self {
            method: p.method,
            status: p.status,
            amount_cents: p.amount.0,
        }
    }
}

/// An order with everything its guest or shop wants to know.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderDto {
    #[serde(flatten)]
    pub summary: OrderSummaryDto,
    pub shop_name: String,
    /// The identifier called out and shown on the pickup board: the shop's
    /// prefix and the order number ("B12").
    pub call: String,
    pub lines: Vec<OrderLineDto>,
    pub note: String,
    pub pickup_name: String,
    pub updated_at_ms: u64,
    /// 1 = next; absent once ready.
    pub queue_position: Option<u32>,
    /// Typical seconds until ready (median of the shop's recent
    /// preparation times, at least 60 while in line); absent once ready.
    pub estimated_wait_seconds: Option<u32>,
    /// Earliest plausible seconds until ready (equal to the latest when the
    /// estimate is settled); absent once ready.
    pub estimated_wait_min_seconds: Option<u32>,
    /// Latest plausible seconds until ready; absent once ready.
    pub estimated_wait_max_seconds: Option<u32>,
    pub cancel_reason: Option<String>,
    pub table_id: Option<u64>,
    pub events: Vec<OrderEventDto>,
    pub payment: Option<PaymentDto>,
}

impl OrderDto {
    pub fn new(v: &OrderView, currency: Currency) -> Self {
        let o = &v.order;
        Self {
            summary: OrderSummaryDto::new(o, currency),
            shop_name: v.shop_name.clone(),
            call: v.call.clone(),
            lines: o.lines.iter().map(OrderLineDto::from).collect(),
            note: o.note.clone(),
            pickup_name: o.pickup_name.clone(),
            updated_at_ms: o.updated_at.0,
            queue_position: v.queue_position,
            estimated_wait_seconds: v.estimated_wait_seconds,
            estimated_wait_min_seconds: v.wait.map(|w| w.low),
            estimated_wait_max_seconds: v.wait.map(|w| w.high),
            cancel_reason: o.cancel_reason.clone(),
            table_id: o.session.map(|s| s.0),
            events: v
                .events
                .iter()
                .map(|e| OrderEventDto {
                    status: e.to.as_str().into(),
                    at_ms: e.at.0,
                    by: format!("{:?}", e.actor).to_lowercase(),
                    reason: e.reason.clone(),
                })
                .collect(),
            payment: v.payment.as_ref().map(PaymentDto::from),
        }
    }
}

impl OrderDto {
    /// The order as its shop sees it: without the guest's status-link token,
    /// which is the guest's capability (with it a shop could act as the
    /// guest, and its actions would be recorded as theirs).
    pub fn for_shop(v: &OrderView, currency: Currency) -> Self {
        let mut d = Self::new(v, currency);
        d.summary.token = None;
        d
    }
}

/// An order session (table).
#[derive(Debug, Serialize, ToSchema)]
pub struct TableDto {
    pub id: u64,
    pub shop_id: u64,
    pub label: String,
    /// The code guests scan (as `session` in `POST /api/orders`).
    pub code: String,
    pub open: bool,
    pub opened_at_ms: u64,
    pub closed_at_ms: Option<u64>,
}

impl From<&OrderSession> for TableDto {
    fn from(s: &OrderSession) -> Self {
        Self {
            id: s.id.0,
            shop_id: s.shop.0,
            label: s.label.clone(),
            code: s.code.to_string(),
            open: s.closed_at.is_none(),
            opened_at_ms: s.opened_at.0,
            closed_at_ms: s.closed_at.map(|t: Timestamp| t.0),
        }
    }
}

/// Parses a status name.
pub fn parse_status(s: &str) -> Option<OrderStatus> {
    OrderStatus::ALL.into_iter().find(|st| st.as_str() == s)
}
