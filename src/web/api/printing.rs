//! The counter's printer and payment-QR routes and fields: the settings
//! `PATCH /api/shop` takes and `GET /api/shop` returns beside the shop
//! (`printer`, `print_on`, `printer_state`, `payment_qr`), the reprint
//! route, and the payment QR of a guest's order.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use super::dto::ShopDto;
use super::schemas;
use crate::domain::OrderId;
use crate::domain::ShopId;
use crate::domain::order::{Order, OrderStatus};
use crate::domain::payqr::PaymentQr;
use crate::domain::service::{Payment, PaymentStatus};
use crate::domain::shop::{PrintOn, PrinterSettings, PrinterTarget};
use crate::domain::text::check_name;
use crate::store::kitchen::{self, KitchenSettings};
use crate::store::{StoreError, Tx, View, printing};
use crate::web::AppState;
use crate::web::error::{ApiError, ApiResult, ErrorBody, Failure};
use crate::web::extract::{ApiPath, Shopkeeper};

/// A payment QR's static data, as the shop enters it.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(tag = "format", rename_all = "snake_case", deny_unknown_fields)]
pub enum PaymentQrDto {
    /// UPI: the shop's address (`shop@bank`) and name.
    Upi {
        #[schema(schema_with = schemas::upi_vpa)]
        vpa: String,
        #[schema(schema_with = schemas::upi_name)]
        name: String,
    },
    /// EMVCo merchant-presented (PayNow, PromptPay, DuitNow, Pix, …): the
    /// text of the shop's static QR; each order's amount goes in tag 54.
    Emvco {
        #[schema(schema_with = schemas::emvco_payload)]
        payload: String,
    },
    /// EPC / SEPA credit transfer: beneficiary name, IBAN, optional BIC.
    Epc {
        #[schema(schema_with = schemas::epc_name)]
        name: String,
        #[schema(schema_with = schemas::iban)]
        iban: String,
        #[serde(default)]
        #[schema(schema_with = schemas::bic_or_null)]
        bic: Option<String>,
    },
}

impl PaymentQrDto {
    /// Checks the fields as the schema states them (422 otherwise) and
    /// then the format's own rules (an EMVCo payload's structure and CRC:
    /// 409, since no schema can state them).
    fn check(self) -> ApiResult<PaymentQr> {
        let bad = |m: String| ApiError::invalid(format!("payment_qr.{m}"));
        let qr = match self {
            PaymentQrDto::Upi { vpa, name } => PaymentQr::Upi {
                vpa,
                name: check_name("name", &name, schemas::MAX_UPI_NAME).map_err(bad)?,
            },
            PaymentQrDto::Emvco { payload } => {
                let printable = payload.chars().all(|c| (' '..='~').contains(&c));
                if payload.is_empty() || payload.len() > schemas::MAX_EMVCO || !printable {
                    return Err(bad(format!(
                        "payload must be 1 to {} printable ASCII characters",
                        schemas::MAX_EMVCO
                    )));
                }
                PaymentQr::Emvco { payload }
            }
            PaymentQrDto::Epc { name, iban, bic } => {
                let bic = bic.filter(|b| !b.is_empty());
                if bic
                    .as_ref()
                    .is_some_and(|b| !b.chars().all(|c| c.is_ascii_alphanumeric()))
                {
                    return Err(bad("bic: letters and digits only".into()));
                }
                PaymentQr::Epc {
                    name: check_name("name", &name, schemas::MAX_EPC_NAME).map_err(bad)?,
                    iban,
                    bic,
                }
            }
        };
        match qr.validate() {
            Ok(()) => Ok(qr),
            Err(e) if matches!(qr, PaymentQr::Emvco { .. }) => Err(ApiError::new(
                Failure::Conflict,
                "payment_qr_rejected",
                format!("payment_qr: {e}"),
            )),
            Err(e) => Err(bad(e.to_string())),
        }
    }
}

impl From<&PaymentQr> for PaymentQrDto {
    fn from(q: &PaymentQr) -> Self {
        match q.clone() {
            PaymentQr::Upi { vpa, name } => PaymentQrDto::Upi { vpa, name },
            PaymentQr::Emvco { payload } => PaymentQrDto::Emvco { payload },
            PaymentQr::Epc { name, iban, bic } => PaymentQrDto::Epc { name, iban, bic },
        }
    }
}

/// Whether the printer answers and how many tickets wait for it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PrinterStateDto {
    /// The printer took the last ticket or answered the last check.
    pub online: bool,
    /// Tickets stored and not yet printed.
    pub waiting: usize,
}

/// The shop as its shopkeeper sees it: the public fields and the counter's settings.
#[derive(Debug, Serialize, ToSchema)]
pub struct OwnShopDto {
    #[serde(flatten)]
    pub shop: ShopDto,
    /// `host:port` or a device path; `null` without a printer.
    pub printer: Option<String>,
    /// `placed` or `accepted`: when a ticket prints.
    #[schema(value_type = String)]
    pub print_on: PrintOn,
    pub printer_state: PrinterStateDto,
    /// The payment QR guests see on their order, if set up.
    pub payment_qr: Option<PaymentQrDto>,
    /// Minutes a ready order waits before it is closed as not collected;
    /// 0: only by hand.
    pub not_collected_after_minutes: u32,
}

/// What the counter's settings are, read in the same snapshot as the shop.
#[derive(Debug)]
pub struct Counter {
    printer: PrinterSettings,
    waiting: usize,
    payment_qr: Option<PaymentQr>,
    kitchen: KitchenSettings,
}

/// Reads the counter's settings of `shop`.
pub fn counter(v: &impl View, shop: ShopId) -> Result<Counter, StoreError> {
    Ok(Counter {
        printer: printing::printer_settings(v, shop)?,
        waiting: printing::waiting(v, shop)?,
        payment_qr: printing::payment_qr(v, shop)?,
        kitchen: kitchen::settings(v, shop)?,
    })
}

/// The shopkeeper's view of their shop.
pub fn own_shop(state: &AppState, shop: ShopDto, c: Counter) -> OwnShopDto {
    let id = ShopId(shop.id);
    let online = c.printer.printer.is_some()
        && state
            .printers
            .as_ref()
            .and_then(|p| p.online(id))
            .unwrap_or(false);
    OwnShopDto {
        shop,
        printer: c.printer.printer.as_ref().map(ToString::to_string),
        print_on: c.printer.print_on,
        printer_state: PrinterStateDto {
            online,
            waiting: c.waiting,
        },
        payment_qr: c.payment_qr.as_ref().map(PaymentQrDto::from),
        not_collected_after_minutes: c.kitchen.not_collected_after_minutes,
    }
}

/// `Some(None)` for an explicit `null`, `None` when the field is left out.
pub fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// The counter's part of a shop patch, checked before anything is written.
#[derive(Debug, Default)]
pub struct CounterPatch {
    printer: Option<Option<PrinterTarget>>,
    print_on: Option<PrintOn>,
    payment_qr: Option<Option<PaymentQr>>,
    not_collected_after_minutes: Option<u32>,
}

impl CounterPatch {
    /// Checks the request's fields; a bad one is a 422 that writes nothing.
    pub fn new(
        printer: Option<Option<String>>,
        print_on: Option<PrintOn>,
        payment_qr: Option<Option<PaymentQrDto>>,
        not_collected_after_minutes: Option<u32>,
    ) -> ApiResult<CounterPatch> {
        if not_collected_after_minutes.is_some_and(|m| m > kitchen::MAX_NOT_COLLECTED_MINUTES) {
            return Err(ApiError::invalid(format!(
                "not_collected_after_minutes must be 0 to {}",
                kitchen::MAX_NOT_COLLECTED_MINUTES
            )));
        }
        let printer = match printer {
            Some(Some(text)) => Some(Some(
                PrinterTarget::parse(&text).map_err(ApiError::invalid)?,
            )),
            Some(None) => Some(None),
            None => None,
        };
        let payment_qr = match payment_qr {
            Some(Some(dto)) => Some(Some(dto.check()?)),
            Some(None) => Some(None),
            None => None,
        };
        Ok(CounterPatch {
            printer,
            print_on,
            payment_qr,
            not_collected_after_minutes,
        })
    }

    /// Writes the patch (call after the shop's own checks passed).
    pub fn apply(self, tx: &mut Tx<'_>, shop: ShopId) -> Result<(), StoreError> {
        if self.printer.is_some() || self.print_on.is_some() {
            let mut settings = printing::printer_settings(&**tx, shop)?;
            if let Some(p) = self.printer {
                settings.printer = p;
            }
            if let Some(on) = self.print_on {
                settings.print_on = on;
            }
            printing::set_printer(tx, shop, Some(settings))?;
        }
        if let Some(qr) = self.payment_qr {
            printing::set_payment_qr(tx, shop, qr)?;
        }
        if let Some(minutes) = self.not_collected_after_minutes {
            kitchen::set_settings(
                tx,
                shop,
                KitchenSettings {
                    not_collected_after_minutes: minutes,
                },
            )?;
        }
        Ok(())
    }
}

/// Printer state after a reprint was queued.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReprintDto {
    pub printer_state: PrinterStateDto,
}

/// Prints an order's ticket again (marked as a reprint).
#[utoipa::path(post, path = "/api/shop/orders/{order_id}/print", tag = "shop",
    params(("order_id" = u64, Path)),
    responses((status = 202, body = ReprintDto, description = "Queued for the printer"),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody, description = "No printer set")))]
pub async fn reprint(
    State(state): State<AppState>,
    k: Shopkeeper,
    ApiPath(order_id): ApiPath<u64>,
) -> ApiResult<(StatusCode, Json<ReprintDto>)> {
    let waiting = state
        .store
        .write(move |tx| {
            printing::queue_reprint(tx, k.shop, OrderId(order_id))?;
            printing::waiting(&**tx, k.shop)
        })
        .await?;
    let online = state
        .printers
        .as_ref()
        .and_then(|p| p.online(k.shop))
        .unwrap_or(false);
    Ok((
        StatusCode::ACCEPTED,
        Json(ReprintDto {
            printer_state: PrinterStateDto { online, waiting },
        }),
    ))
}

/// A guest's order with its payment QR.
#[derive(Debug, Serialize, ToSchema)]
pub struct GuestOrderDto {
    #[serde(flatten)]
    pub order: super::dto::OrderDto,
    /// Scan to pay the exact amount (while unpaid, if the shop set one up).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_qr: Option<PaymentQrView>,
}

/// The payment QR shown with a guest's order: the exact amount, while unpaid.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PaymentQrView {
    /// `upi`, `emvco` or `epc`.
    pub format: &'static str,
    /// The QR's text.
    pub payload: String,
}

/// The order's payment QR, if its shop set one up and the order still owes money.
pub fn order_payment_qr(
    v: &impl View,
    order: &Order,
    payment: Option<&Payment>,
) -> Result<Option<PaymentQrView>, StoreError> {
    let Some(p) = payment.filter(|p| p.status == PaymentStatus::Pending) else {
        return Ok(None);
    };
    if order.status == OrderStatus::Cancelled || p.amount.0 == 0 {
        return Ok(None);
    }
    let Some(qr) = printing::payment_qr(v, order.shop)? else {
        return Ok(None);
    };
    // The order number and id: unique, and not the pickup code (a secret).
    let reference = format!("{}-{}", order.number, order.id.0);
    match qr.payload(p.amount, &reference) {
        Ok(payload) => Ok(Some(PaymentQrView {
            format: qr.format(),
            payload,
        })),
        Err(e) => {
            tracing::warn!(order = %order.id, error = %e, "no payment QR for this order");
            Ok(None)
        }
    }
}
