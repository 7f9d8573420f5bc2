//! Schemas of request fields whose rules the server enforces beyond their
//! type, built from the same constants and rules ([`crate::domain::text`])
//! the server checks, for `#[schema(schema_with = …)]`. A request the
//! document calls valid is accepted, and one it calls invalid is refused:
//! the contract test holds the server to both.

use utoipa::openapi::schema::{
    ArrayBuilder, KnownFormat, ObjectBuilder, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::{Array, Object};

use crate::domain::account::{MAX_PASSWORD, MIN_PASSWORD};
use crate::domain::menu::{MAX_NAME, MAX_TEXT};
use crate::domain::text::{MAX_EMAIL, email_pattern, name_pattern, text_pattern};
use crate::store::catalog::MAX_TAGS;

/// Longest location or contact of a shop.
pub const MAX_SHORT_TEXT: usize = 120;
/// Longest name to call at pickup.
pub const MAX_PICKUP_NAME: usize = 60;
/// Longest photo URL.
pub const MAX_PHOTO: usize = 300;

fn string(max: usize, pattern: String, nullable: bool) -> Object {
    let t = if nullable {
        SchemaType::from_iter([Type::String, Type::Null])
    } else {
        SchemaType::Type(Type::String)
    };
    ObjectBuilder::new()
        .schema_type(t)
        .max_length(Some(max))
        .pattern(Some(pattern))
        .build()
}

/// A name: 1 to 80 characters, something besides white space, nothing
/// invisible.
pub fn name() -> Object {
    string(MAX_NAME, name_pattern(), false)
}

/// [`name`], or null to leave it as it is.
pub fn name_or_null() -> Object {
    string(MAX_NAME, name_pattern(), true)
}

/// A short free text (a location, a contact).
pub fn short_text() -> Object {
    string(MAX_SHORT_TEXT, text_pattern(), false)
}

/// [`short_text`], or null.
pub fn short_text_or_null() -> Object {
    string(MAX_SHORT_TEXT, text_pattern(), true)
}

/// Free text (a note, a description).
pub fn text() -> Object {
    string(MAX_TEXT, text_pattern(), false)
}

/// [`text`], or null.
pub fn text_or_null() -> Object {
    string(MAX_TEXT, text_pattern(), true)
}

/// The name to call at pickup.
pub fn pickup_name() -> Object {
    string(MAX_PICKUP_NAME, text_pattern(), false)
}

/// A cancel reason, or null.
pub fn reason_or_null() -> Object {
    string(crate::store::orders::MAX_REASON, text_pattern(), true)
}

/// A photo URL (`https://…`, `http://…` or a path on this server), or null.
pub fn photo_or_null() -> Object {
    let any_text = text_pattern();
    let rest = any_text.strip_prefix('^').unwrap_or(&any_text);
    string(MAX_PHOTO, format!("^(https?://|/){rest}"), true)
}

/// An e-mail address: printable ASCII with one `@`.
pub fn email() -> Object {
    string(MAX_EMAIL, email_pattern(), false)
}

/// A new password.
pub fn password() -> Object {
    let mut o = string(MAX_PASSWORD, "^[\\s\\S]*$".to_owned(), false);
    o.min_length = Some(MIN_PASSWORD);
    o.pattern = None;
    o
}

fn names(nullable: bool) -> Array {
    let mut a = ArrayBuilder::new()
        .items(name())
        .max_items(Some(MAX_TAGS))
        .build();
    if nullable {
        a.schema_type = SchemaType::from_iter([Type::Array, Type::Null]);
    }
    a
}

/// Tags or allergens: at most 16 names.
pub fn name_list() -> Array {
    names(false)
}

/// [`name_list`], or null.
pub fn name_list_or_null() -> Array {
    names(true)
}

fn words(values: &[&str], nullable: bool) -> Object {
    let t = if nullable {
        SchemaType::from_iter([Type::String, Type::Null])
    } else {
        SchemaType::Type(Type::String)
    };
    let mut o = ObjectBuilder::new()
        .schema_type(t)
        .enum_values(Some(values.iter().copied()))
        .build();
    if nullable && let Some(e) = o.enum_values.as_mut() {
        e.push(serde_json::Value::Null);
    }
    o
}

/// A stage a shop moves an order to.
pub fn stage() -> Object {
    words(
        &[
            "accepted",
            "preparing",
            "ready",
            "completed",
            "cancelled",
            "not_collected",
        ],
        false,
    )
}

/// A payment's state.
pub fn payment_status() -> Object {
    words(&["pending", "successful", "failed"], false)
}

/// A payment method, or null for the default (cash).
pub fn payment_method_or_null() -> Object {
    words(&["cash", "card", "upi", "wallet"], true)
}

/// A photo URL, `""` to remove the photo, or null to keep it.
pub fn photo_or_empty_or_null() -> Object {
    let mut o = photo_or_null();
    o.pattern = o.pattern.map(|p| format!("^$|{p}"));
    o
}

/// A stock change: exactly one of `delta` (relative) and `set` (absolute).
pub fn stock_change() -> Object {
    let int = |format: KnownFormat, min: Option<i64>, doc: &str| {
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::Integer))
            .format(Some(SchemaFormat::KnownFormat(format)))
            .minimum(min)
            .description(Some(doc))
            .build()
    };
    ObjectBuilder::new()
        .description(Some("A stock change: exactly one of `delta` and `set`."))
        .property(
            "delta",
            int(
                KnownFormat::Int64,
                None,
                "Add (or with a negative number, remove) units.",
            ),
        )
        .property(
            "set",
            int(
                KnownFormat::Int64,
                Some(0),
                "Set the count outright (a stock-take).",
            ),
        )
        .min_properties(Some(1))
        .max_properties(Some(1))
        .additional_properties(Some(
            utoipa::openapi::schema::AdditionalProperties::FreeForm(false),
        ))
        .build()
}

/// A table's code from its QR link (32 hexadecimal digits), `""` or null
/// for none.
pub fn table_code_or_null() -> Object {
    string(32, "^([0-9a-fA-F]{32})?$".to_owned(), true)
}

/// A ticket printer (`host:port`, `host`, a printer device or a FIFO), or
/// null for none: [`crate::domain::shop::printer_pattern`].
pub fn printer_or_null() -> Object {
    string(MAX_PRINTER, crate::domain::shop::printer_pattern(), true)
}

/// Longest printer setting (a host name and a port).
pub const MAX_PRINTER: usize = 259;

/// When a ticket prints, or null to leave it.
pub fn print_on_or_null() -> Object {
    words(&["placed", "accepted"], true)
}

/// A UPI payee name.
pub fn upi_name() -> Object {
    string(MAX_UPI_NAME, name_pattern(), false)
}

/// Longest UPI payee name.
pub const MAX_UPI_NAME: usize = 50;

/// A UPI address (`shop@bank`).
pub fn upi_vpa() -> Object {
    string(255, "^[A-Za-z0-9._-]+@[A-Za-z0-9._@-]+$".to_owned(), false)
}

/// A SEPA beneficiary's name.
pub fn epc_name() -> Object {
    string(MAX_EPC_NAME, name_pattern(), false)
}

/// Longest SEPA beneficiary name.
pub const MAX_EPC_NAME: usize = 70;

/// An IBAN: capital letters and digits, no spaces.
pub fn iban() -> Object {
    string(34, "^[A-Z]{2}[A-Z0-9]{13,32}$".to_owned(), false)
}

/// A BIC (8 or 11 letters and digits), `""` or null for none.
pub fn bic_or_null() -> Object {
    string(11, "^([A-Za-z0-9]{8}|[A-Za-z0-9]{11})?$".to_owned(), true)
}

/// The text of an EMVCo static QR: printable ASCII.
pub fn emvco_payload() -> Object {
    let mut o = string(MAX_EMVCO, "^[ -~]+$".to_owned(), false);
    o.min_length = Some(1);
    o
}

/// Longest EMVCo payload (the format's own limit is 512).
pub const MAX_EMVCO: usize = 512;

/// A call prefix: 1 to 3 letters A–Z (either case), or null to derive one
/// from the shop's name (`domain::callsign::check_prefix`).
pub fn call_prefix_or_null() -> Object {
    string(
        crate::domain::callsign::MAX_PREFIX,
        format!("^[A-Za-z]{{1,{}}}$", crate::domain::callsign::MAX_PREFIX),
        true,
    )
}

/// The options chosen for one checkout line: distinct ids, at most
/// [`crate::store::checkout::MAX_LINE_OPTIONS`].
pub fn option_ids() -> Array {
    let id = ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::Integer))
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(Some(0))
        .build();
    ArrayBuilder::new()
        .items(id)
        .max_items(Some(crate::store::checkout::MAX_LINE_OPTIONS))
        .unique_items(true)
        .build()
}

fn allergens(nullable: bool) -> Array {
    let key = ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .enum_values(Some(crate::domain::allergen::keys()))
        .build();
    let mut a = ArrayBuilder::new()
        .items(key)
        .max_items(Some(crate::domain::allergen::ALLERGENS.len()))
        .unique_items(true)
        .description(Some(
            "Allergens of EU Regulation 1169/2011 (Annex II), by key, each once.",
        ))
        .build();
    if nullable {
        a.schema_type = SchemaType::from_iter([Type::Array, Type::Null]);
    }
    a
}

/// An item's allergens: keys of the 14 EU allergens, each once.
pub fn allergen_list() -> Array {
    allergens(false)
}

/// [`allergen_list`], or null.
pub fn allergen_list_or_null() -> Array {
    allergens(true)
}

/// Notes to single shops of a checkout: shop id (decimal) → [`text`], at
/// most [`crate::store::checkout::MAX_LINES`] of them.
pub fn shop_notes() -> Object {
    let key = ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .pattern(Some("^[0-9]{1,19}$"))
        .build();
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::Object))
        .property_names(Some(key))
        .additional_properties(Some(utoipa::openapi::RefOr::T(
            utoipa::openapi::Schema::Object(text()),
        )))
        .max_properties(Some(crate::store::checkout::MAX_LINES))
        .description(Some(
            "A note per shop, by shop id: it goes on that shop's order and ticket only, in place \
             of `note`. Each shop named must have items in the checkout.",
        ))
        .build()
}
