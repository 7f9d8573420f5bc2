//! Placing a checkout: items of one or several shops become one order per
//! shop, all or nothing, with stock checked and taken in the same write
//! transaction. A retried checkout (same guest, same idempotency key)
//! returns the orders of the first one.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::catalog::{not_found, own_ingredient, publish_availability, shop};
use super::options::item_groups;
use super::tables::*;
use super::{StoreError, Tx};
use crate::domain::menu::{Ingredient, MAX_TEXT, MenuItem, StockPolicy, check_text};
use crate::domain::options::{
    ChoiceError, LineOption, MenuOption, OptionGroup, check_choice, option_taken, unit_price,
};
use crate::domain::order::{Actor, Order, OrderEvent, OrderLine, OrderStatus, pickup_code};
use crate::domain::service::{Notification, OrderSession, Payment, PaymentMethod, PaymentStatus};
use crate::domain::stock::{Needs, User, policy_left, taken_for, units_left};
use crate::domain::{Cents, GuestId, ItemId, NotificationId, OptionId, OrderId, ShopId, Token};
use crate::events::DomainEvent;

/// Most units of one item in one checkout.
pub const MAX_QUANTITY: u32 = 99;
/// Most lines in one checkout.
pub const MAX_LINES: usize = 50;
/// Most options chosen on one line.
pub const MAX_LINE_OPTIONS: usize = 32;
/// How long a retry may reuse an idempotency key.
pub const IDEMPOTENCY_TTL_MS: u64 = 24 * 3_600_000;
/// Shortest idempotency key: long enough that nobody guesses another
/// guest's (a UUID has 36 characters).
pub const MIN_IDEMPOTENCY_KEY: usize = 16;
/// Longest idempotency key.
pub const MAX_IDEMPOTENCY_KEY: usize = 100;

/// One line of a checkout.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckoutLine {
    /// The item.
    pub item: ItemId,
    /// How many.
    pub quantity: u32,
    /// The options chosen for it (each at most once).
    pub options: Vec<OptionId>,
}

/// A merged line, loaded and checked: the item, how many, and the chosen
/// options with their groups.
type Line = (MenuItem, u32, Vec<(OptionGroup, MenuOption)>);

/// What a guest sends at checkout.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkout {
    /// The guest's device.
    pub guest: GuestId,
    /// The lines.
    pub lines: Vec<CheckoutLine>,
    /// Makes retries safe: the same key returns the same orders.
    pub idempotency_key: String,
    /// A note to every shop of the checkout that has none in `notes`.
    pub note: String,
    /// A note to one shop: it goes on that shop's order (and ticket) only,
    /// in place of `note`. A shop must have items in the checkout.
    pub notes: BTreeMap<ShopId, String>,
    /// Name to call at pickup.
    pub pickup_name: String,
    /// The table (order session) code, if the guest scanned one.
    pub session: Option<Token>,
    /// How the guest will pay.
    pub payment: PaymentMethod,
}

/// The outcome of a checkout.
#[derive(Clone, Debug)]
pub struct Placed {
    /// One order per shop.
    pub orders: Vec<Order>,
    /// True when this was a retry of an earlier checkout.
    pub replayed: bool,
}

#[derive(Serialize, Deserialize)]
struct IdempotencyRecord {
    /// The checkout as first sent (with the key blanked), to spot a key reused
    /// for a different checkout.
    request: Vec<u8>,
    orders: Vec<OrderId>,
    at: crate::domain::Timestamp,
}

/// The checkout as a retry must repeat it: everything but the key and the
/// device (a retry whose first answer, and so its device cookie, was lost
/// comes from a new device).
fn fingerprint(c: &Checkout) -> Result<Vec<u8>, StoreError> {
    let mut c = c.clone();
    c.idempotency_key.clear();
    c.guest = Token([0; 16]);
    encode(&c)
}

/// Checks the checkout's shape (before the writer sees it).
pub fn validate(c: &Checkout) -> Result<(), StoreError> {
    let invalid = |m: String| Err(StoreError::Invalid(m));
    if c.lines.is_empty() {
        return invalid("the checkout has no items".into());
    }
    if c.lines.len() > MAX_LINES {
        return invalid(format!("at most {MAX_LINES} lines in one checkout"));
    }
    if let Some(l) = c
        .lines
        .iter()
        .find(|l| l.quantity == 0 || l.quantity > MAX_QUANTITY)
    {
        return invalid(format!(
            "quantity of item {} must be 1 to {MAX_QUANTITY}",
            l.item
        ));
    }
    if c.lines.iter().any(|l| l.options.len() > MAX_LINE_OPTIONS) {
        return invalid(format!("at most {MAX_LINE_OPTIONS} options on one line"));
    }
    let key = &c.idempotency_key;
    if !(MIN_IDEMPOTENCY_KEY..=MAX_IDEMPOTENCY_KEY).contains(&key.len())
        || !key.chars().all(|ch| ch.is_ascii_graphic())
    {
        return invalid(format!(
            "idempotency_key must be {MIN_IDEMPOTENCY_KEY} to {MAX_IDEMPOTENCY_KEY} visible ASCII \
             characters (a UUID, say)"
        ));
    }
    check_text("note", &c.note, MAX_TEXT).map_err(StoreError::Invalid)?;
    if c.notes.len() > MAX_LINES {
        return invalid(format!("at most {MAX_LINES} notes in one checkout"));
    }
    for (shop, note) in &c.notes {
        crate::domain::text::check_text(&format!("note to shop {shop}"), note, MAX_TEXT)
            .map_err(StoreError::Invalid)?;
    }
    check_text("pickup name", &c.pickup_name, 60).map_err(StoreError::Invalid)?;
    Ok(())
}

/// Places a checkout inside the writer's transaction.
pub fn place(tx: &mut Tx<'_>, c: Checkout) -> Result<Placed, StoreError> {
    validate(&c)?;
    // The key alone names the checkout, whichever device sends it.
    let key = c.idempotency_key.clone();
    let request = fingerprint(&c)?;
    if let Some(record) =
        tx.get::<&str, IdempotencyRecord>(IDEMPOTENCY_KEY_TO_CHECKOUT, key.as_str())?
    {
        if record.request != request {
            return Err(StoreError::Conflict(
                "this idempotency_key was already used for a different checkout; use a new key"
                    .into(),
            ));
        }
        let ids: Vec<u64> = record.orders.iter().map(|o| o.0).collect();
        let orders = tx.many(ID_TO_ORDER, &ids)?;
        return Ok(Placed {
            orders,
            replayed: true,
        });
    }
    // A replay writes nothing, so it is answered even when storage is low.
    tx.admit_new_order()?;

    // An option twice in one line is refused before lines are merged.
    for line in &c.lines {
        for (i, &o) in line.options.iter().enumerate() {
            if line.options[..i].contains(&o) {
                let name = tx
                    .get::<u64, MenuOption>(ID_TO_OPTION, o.0)?
                    .map(|o| o.name)
                    .unwrap_or_default();
                return Err(StoreError::Choice(ChoiceError::Duplicate {
                    option: o,
                    name,
                }));
            }
        }
    }
    // Merge lines of the same item with the same options, keeping the
    // first-seen order of lines; other options stay separate lines.
    let mut quantities: Vec<(ItemId, Vec<OptionId>, u32)> = Vec::new();
    for line in &c.lines {
        let mut options = line.options.clone();
        options.sort_unstable();
        match quantities
            .iter_mut()
            .find(|(i, o, _)| *i == line.item && *o == options)
        {
            Some((_, _, q)) => *q = q.saturating_add(line.quantity),
            None => quantities.push((line.item, options, line.quantity)),
        }
    }
    // Each line is valid on its own (checked above); together they are a
    // conflict, not malformed input.
    if let Some((item, _, q)) = quantities.iter().find(|(_, _, q)| *q > MAX_QUANTITY) {
        return Err(StoreError::Conflict(format!(
            "item {item} is ordered {q} times in all; at most {MAX_QUANTITY} in one checkout"
        )));
    }

    // Load and check everything; nothing is written until all is well.
    let mut by_shop: BTreeMap<ShopId, Vec<Line>> = BTreeMap::new();
    for (id, chosen, quantity) in quantities {
        // An item of a shop that is not listed is as unknown as no item.
        let item: MenuItem = super::catalog::listed_item(&**tx, id)?.ok_or_else(|| {
            not_found(format!("item {id} (the menu may have changed; reload it)"))
        })?;
        if !item.enabled {
            return Err(StoreError::ItemUnavailable {
                item: item.id,
                name: item.name,
            });
        }
        let groups = item_groups(&**tx, item.id)?;
        let options: Vec<(OptionGroup, MenuOption)> = check_choice(&item.name, &groups, &chosen)
            .map_err(StoreError::Choice)?
            .into_iter()
            .map(|(g, o)| (g.clone(), o.clone()))
            .collect();
        if let Some((_, o)) = options.iter().find(|(_, o)| !o.enabled) {
            return Err(StoreError::OptionUnavailable {
                option: o.id,
                name: o.name.clone(),
            });
        }
        by_shop
            .entry(item.shop)
            .or_default()
            .push((item, quantity, options));
    }
    // A note to a shop with nothing in the checkout would reach nobody.
    if let Some(shop) = c.notes.keys().find(|s| !by_shop.contains_key(s)) {
        return Err(StoreError::Invalid(format!(
            "notes names shop {shop}, which has no items in this checkout"
        )));
    }
    let mut shops = Vec::new();
    for &shop_id in by_shop.keys() {
        let s = shop(&**tx, shop_id)?;
        let open = super::catalog::open_order_count(&**tx, shop_id)?;
        s.accepts_orders(tx.now, tx.utc_offset_minutes, open)?;
        shops.push(s);
    }
    let table = match c.session {
        Some(code) => Some(open_session(tx, code)?),
        None => None,
    };

    let mut needs = Needs::default();
    let mut chosen: BTreeMap<OptionId, &MenuOption> = BTreeMap::new();
    for lines in by_shop.values() {
        for (item, q, options) in lines {
            needs.add(item.id, &taken_for(item, *q));
            for (_, o) in options {
                needs.add_option(o.id, &option_taken(o, *q));
                chosen.insert(o.id, o);
            }
        }
    }
    let items: BTreeMap<ItemId, &MenuItem> = by_shop
        .values()
        .flatten()
        .map(|(i, _, _)| (i.id, i))
        .collect();
    for (&id, &need) in &needs.options {
        let o = chosen[&id];
        if let StockPolicy::Counted(left) = o.stock
            && u64::from(left) < need
        {
            return Err(StoreError::OptionOutOfStock {
                option: id,
                name: o.name.clone(),
                left: u64::from(left),
            });
        }
    }
    for (&id, &need) in &needs.items {
        let item = items[&id];
        if let StockPolicy::Counted(left) = item.stock
            && u64::from(left) < need
        {
            return Err(StoreError::OutOfStock {
                item: id,
                name: item.name.clone(),
                left: u64::from(left),
            });
        }
    }
    let mut ingredients: BTreeMap<_, Ingredient> = BTreeMap::new();
    for (&id, &(need, user)) in &needs.ingredients {
        let item = match user {
            User::Item(item) => items[&item],
            User::Option(option) => {
                let o = chosen[&option];
                let ing = own_ingredient(&**tx, o.shop, id).map_err(|_| {
                    StoreError::OptionUnavailable {
                        option,
                        name: o.name.clone(),
                    }
                })?;
                if ing.stock < need {
                    let left = policy_left(&o.stock, |i| {
                        own_ingredient(&**tx, o.shop, i).ok().map(|g| g.stock)
                    });
                    return Err(StoreError::OptionOutOfStock {
                        option,
                        name: o.name.clone(),
                        left: left.unwrap_or(0),
                    });
                }
                ingredients.insert(id, ing);
                continue;
            }
        };
        let ing =
            own_ingredient(&**tx, item.shop, id).map_err(|_| StoreError::ItemUnavailable {
                item: item.id,
                name: item.name.clone(),
            })?;
        if ing.stock < need {
            let left = units_left(item, |i| {
                own_ingredient(&**tx, item.shop, i).ok().map(|g| g.stock)
            });
            return Err(StoreError::OutOfStock {
                item: item.id,
                name: item.name.clone(),
                left: left.unwrap_or(0),
            });
        }
        ingredients.insert(id, ing);
    }
    let mut totals = BTreeMap::new();
    for (&shop_id, lines) in &by_shop {
        let mut total = Cents(0);
        for (item, q, options) in lines {
            total = unit_price(item.price, options.iter().map(|(_, o)| o.price_delta))
                .and_then(|p| p.times(*q))
                .and_then(|t| total.plus(t))
                .ok_or_else(|| StoreError::Invalid("the order total is too large".into()))?;
        }
        totals.insert(shop_id, total);
    }
    let mut randomness = Vec::new();
    for _ in &shops {
        let token =
            Token::random().map_err(|e| StoreError::Internal(format!("no randomness: {e}")))?;
        randomness.push(token);
    }

    // Everything checked: take the stock and write the orders.
    for (&id, &need) in &needs.items {
        let mut item = items[&id].clone();
        if let StockPolicy::Counted(left) = item.stock {
            let left = u64::from(left) - need;
            item.stock = StockPolicy::Counted(u32::try_from(left).unwrap_or(u32::MAX));
            tx.put(ID_TO_ITEM, id.0, &item)?;
        }
    }
    for (&id, &need) in &needs.options {
        let mut o = chosen[&id].clone();
        if let StockPolicy::Counted(left) = o.stock {
            let left = u64::from(left) - need;
            o.stock = StockPolicy::Counted(u32::try_from(left).unwrap_or(u32::MAX));
            tx.put(ID_TO_OPTION, id.0, &o)?;
        }
    }
    for (&id, &(need, _)) in &needs.ingredients {
        if let Some(ing) = ingredients.get_mut(&id) {
            ing.stock -= need;
            tx.put(ID_TO_INGREDIENT, id.0, &*ing)?;
        }
    }
    let mut orders = Vec::new();
    for (mut s, token) in shops.into_iter().zip(randomness) {
        let lines = &by_shop[&s.id];
        let id = OrderId(tx.next_id("order")?);
        let [a, b, c_, d] = [token.0[12], token.0[13], token.0[14], token.0[15]];
        let order = Order {
            id,
            shop: s.id,
            guest: c.guest,
            number: s.next_number,
            pickup_code: pickup_code([a, b, c_, d]),
            token,
            status: OrderStatus::Placed,
            lines: lines
                .iter()
                .map(|(item, q, options)| OrderLine {
                    item: item.id,
                    name: item.name.clone(),
                    // Checked when the totals were summed.
                    unit_price: unit_price(item.price, options.iter().map(|(_, o)| o.price_delta))
                        .unwrap_or_default(),
                    quantity: *q,
                    taken: taken_for(item, *q),
                    options: options
                        .iter()
                        .map(|(g, o)| LineOption {
                            option: o.id,
                            group: g.name.clone(),
                            name: o.name.clone(),
                            price_delta: o.price_delta,
                            taken: option_taken(o, *q),
                        })
                        .collect(),
                })
                .collect(),
            total: totals[&s.id],
            note: c.notes.get(&s.id).unwrap_or(&c.note).trim().to_owned(),
            pickup_name: c.pickup_name.trim().to_owned(),
            session: table.as_ref().filter(|t| t.shop == s.id).map(|t| t.id),
            created_at: tx.now,
            updated_at: tx.now,
            accepted_at: None,
            cancel_reason: None,
        };
        s.next_number = s.next_number.checked_add(1).unwrap_or(1);
        tx.put(ID_TO_SHOP, s.id.0, &s)?;
        write_new_order(tx, &order, c.payment)?;
        orders.push(order);
    }
    let record = IdempotencyRecord {
        request,
        orders: orders.iter().map(|o| o.id).collect(),
        at: tx.now,
    };
    tx.put(IDEMPOTENCY_KEY_TO_CHECKOUT, key.as_str(), &record)?;
    for (&shop_id, lines) in &by_shop {
        let touched_items: BTreeSet<ItemId> = lines
            .iter()
            .filter(|(i, _, _)| matches!(i.stock, StockPolicy::Counted(_)))
            .map(|(i, _, _)| i.id)
            .collect();
        // Counted options taken: open menus show what is left of them.
        let counted_options: BTreeSet<OptionId> = needs
            .options
            .keys()
            .filter(|id| chosen[id].shop == shop_id)
            .copied()
            .collect();
        let touched_ingredients = needs
            .ingredients
            .keys()
            .filter(|id| ingredients.get(id).is_some_and(|g| g.shop == shop_id))
            .copied()
            .collect();
        publish_availability(
            tx,
            shop_id,
            &touched_items,
            &counted_options,
            &touched_ingredients,
        )?;
    }
    Ok(Placed {
        orders,
        replayed: false,
    })
}

/// The open table a code names. It belongs to its shop: orders at other
/// shops in the same checkout go through without it (a table link from
/// anywhere must not stop a guest ordering elsewhere).
fn open_session(tx: &Tx<'_>, code: Token) -> Result<OrderSession, StoreError> {
    let session: OrderSession = tx
        .lookup(CODE_TO_ORDER_SESSION_ID, code.0)?
        .map(|id| tx.get(ID_TO_ORDER_SESSION, id))
        .transpose()?
        .flatten()
        .ok_or_else(|| StoreError::NotFound {
            what: "table".into(),
        })?;
    if session.closed_at.is_some() {
        return Err(StoreError::Conflict(format!(
            "{} is closed; ask the shop to open a new table",
            session.label
        )));
    }
    Ok(session)
}

/// Writes a new order with its indexes, first event, payment record and
/// notification.
fn write_new_order(
    tx: &mut Tx<'_>,
    order: &Order,
    method: PaymentMethod,
) -> Result<(), StoreError> {
    let id = order.id;
    tx.put(ID_TO_ORDER, id.0, order)?;
    tx.put_value(TOKEN_TO_ORDER_ID, order.token.0, id.0)?;
    tx.put_value(SHOP_TO_ORDER, (order.shop.0, id.0), ())?;
    tx.put_value(SHOP_TO_OPEN_ORDER, (order.shop.0, id.0), ())?;
    tx.put_value(GUEST_TO_ORDER, (order.guest.0, id.0), ())?;
    if let Some(session) = order.session {
        tx.put_value(SESSION_TO_ORDER, (session.0, id.0), ())?;
    }
    let event = OrderEvent {
        from: None,
        to: OrderStatus::Placed,
        actor: Actor::Guest,
        at: tx.now,
        reason: None,
    };
    tx.put(ORDER_SEQ_TO_EVENT, (id.0, 0u32), &event)?;
    let payment = Payment {
        order: id,
        method,
        status: PaymentStatus::Pending,
        amount: order.total,
        transaction_id: None,
        updated_at: tx.now,
    };
    tx.put(ORDER_ID_TO_PAYMENT, id.0, &payment)?;
    notify(tx, order, OrderStatus::Placed, None)?;
    super::printing::on_stage(tx, order, OrderStatus::Placed)?;
    tx.publish(DomainEvent::OrderPlaced {
        order: id,
        shop: order.shop,
        guest: order.guest,
    });
    Ok(())
}

/// Stores a notification for the order's guest; returns its id.
pub fn notify(
    tx: &mut Tx<'_>,
    order: &Order,
    status: OrderStatus,
    reason: Option<&str>,
) -> Result<NotificationId, StoreError> {
    let mut text = status.guest_message().to_owned();
    if let Some(reason) = reason {
        text.push_str(" Reason: ");
        text.push_str(reason);
    }
    notify_text(tx, order, status, &text)
}

/// Stores the guest's notification of `order` reaching `status`, saying `text`.
pub fn notify_text(
    tx: &mut Tx<'_>,
    order: &Order,
    status: OrderStatus,
    text: &str,
) -> Result<NotificationId, StoreError> {
    let id = NotificationId(tx.next_id("notification")?);
    // The identifier the counter calls out, as on the phone and the board.
    let call =
        crate::domain::callsign::call(&super::pickup::prefix(&**tx, order.shop)?, order.number);
    let message = format!("Order {call} (pickup code {}): {text}", order.pickup_code);
    let n = Notification {
        id,
        guest: order.guest,
        order: order.id,
        shop: order.shop,
        status,
        message,
        created_at: tx.now,
        read: false,
    };
    tx.put(ID_TO_NOTIFICATION, id.0, &n)?;
    tx.put_value(GUEST_TO_NOTIFICATION, (order.guest.0, id.0), ())?;
    Ok(id)
}

/// Forgets idempotency keys older than a day; returns how many.
pub fn sweep_idempotency(tx: &mut Tx<'_>) -> Result<usize, StoreError> {
    let cutoff = tx.now.0.saturating_sub(IDEMPOTENCY_TTL_MS);
    let old: Vec<String> = {
        let table = tx.open_table(IDEMPOTENCY_KEY_TO_CHECKOUT)?;
        let mut out = Vec::new();
        for entry in redb::ReadableTable::iter(&table)? {
            let (k, v) = entry?;
            let record: IdempotencyRecord = decode(v.value())?;
            if record.at.0 < cutoff {
                out.push(k.value().to_owned());
            }
        }
        out
    };
    for k in &old {
        tx.remove(IDEMPOTENCY_KEY_TO_CHECKOUT, k.as_str())?;
    }
    Ok(old.len())
}
