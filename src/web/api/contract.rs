//! The statuses every operation shares, added to the OpenAPI document in
//! one place so a new route cannot forget them.
//!
//! Each route documents what is particular to it (its success, the 404 of
//! its object, the 409 of its rule). What follows from the route's shape is
//! added here, from the same facts the server acts on:
//! - a JSON body: `413` over the body limit, `415` without
//!   `Content-Type: application/json`, `422` for malformed or unknown fields;
//! - query parameters: `422` when they do not parse;
//! - a path parameter: `404` when it names nothing (ids that do not parse
//!   included);
//! - a state change: `403` for a cross-site request (CSRF guard), `503`
//!   while the store cannot write (`storage_failed`, `shutting_down`; placing
//!   an order documents its own `out_of_storage` too);
//! - a staff operation (tags `shop`, `menu`, `admin`): the `staff_session`
//!   cookie as its security, `401` without a login, `403` for another role
//!   or from the guest network.
//!
//! Nothing here invents a status the server does not send; the contract test
//! (schemathesis in CI) fails on any status missing from the document.

use utoipa::openapi::path::{HttpMethod, Operation, ParameterIn};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder};

/// The cookie a staff login carries, as the document's security scheme.
const STAFF_SCHEME: &str = "staff_session";

/// Tags whose operations need a staff login.
const STAFF_TAGS: [&str; 3] = ["shop", "menu", "admin"];

/// Adds the shared statuses and the staff security to every operation.
pub fn complete(doc: &mut OpenApi) {
    let components = doc.components.get_or_insert_with(Default::default);
    components.security_schemes.insert(
        STAFF_SCHEME.into(),
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
            super::super::extract::SESSION_COOKIE,
            "The staff login, set by `POST /api/auth/login`.",
        ))),
    );
    close_variants(doc, "StockDto");
    close_variants(doc, "PaymentQrDto");
    for item in doc.paths.paths.values_mut() {
        for (method, op) in operations(item) {
            complete_operation(method, op);
        }
    }
}

/// Marks each variant of the tagged enum `name` as refusing unknown
/// fields, as its `#[serde(deny_unknown_fields)]` does (utoipa 5.5 leaves
/// enum variants open).
fn close_variants(doc: &mut OpenApi, name: &str) {
    use utoipa::openapi::schema::{AdditionalProperties, Schema};
    let Some(RefOr::T(Schema::OneOf(one_of))) = doc
        .components
        .as_mut()
        .and_then(|c| c.schemas.get_mut(name))
    else {
        return;
    };
    for variant in &mut one_of.items {
        if let RefOr::T(Schema::Object(o)) = variant {
            o.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
        }
    }
}

fn operations(
    item: &mut utoipa::openapi::PathItem,
) -> impl Iterator<Item = (HttpMethod, &mut Operation)> {
    [
        (HttpMethod::Get, item.get.as_mut()),
        (HttpMethod::Post, item.post.as_mut()),
        (HttpMethod::Put, item.put.as_mut()),
        (HttpMethod::Patch, item.patch.as_mut()),
        (HttpMethod::Delete, item.delete.as_mut()),
    ]
    .into_iter()
    .filter_map(|(m, op)| op.map(|op| (m, op)))
}

fn complete_operation(method: HttpMethod, op: &mut Operation) {
    let params = op.parameters.as_deref().unwrap_or_default();
    let has_path = params
        .iter()
        .any(|p| matches!(p.parameter_in, ParameterIn::Path));
    let has_query = params
        .iter()
        .any(|p| matches!(p.parameter_in, ParameterIn::Query));
    let staff = op
        .tags
        .iter()
        .flatten()
        .any(|t| STAFF_TAGS.contains(&t.as_str()));
    let changes = method != HttpMethod::Get;

    if op.request_body.is_some() {
        add(
            op,
            "413",
            "The body is larger than the server accepts (64 KiB)",
        );
        add(op, "415", "The body is not sent as `application/json`");
        add(
            op,
            "422",
            "The body is malformed, has unknown fields or breaks a rule",
        );
    }
    if has_query {
        add(
            op,
            "422",
            "A query parameter does not parse or is out of range",
        );
    }
    if has_path {
        add(
            op,
            "404",
            "The path names nothing (or nothing this caller may see)",
        );
    }
    if changes {
        add(op, "403", "Refused: a cross-site request (CSRF protection)");
        add(
            op,
            "503",
            "The store cannot write at the moment: `storage_failed` (the storage is full or \
             failing; the store re-opens the database by itself once a write works) or \
             `shutting_down`; try again",
        );
    }
    if staff {
        op.security = Some(vec![SecurityRequirement::new(
            STAFF_SCHEME,
            Vec::<String>::new(),
        )]);
        add(op, "401", "Log in first (`POST /api/auth/login`)");
        add(
            op,
            "403",
            "Not allowed for this login, or staff from the guest network",
        );
    }
}

/// Adds a response with the error body unless the route documents the
/// status itself (its own description is more precise).
fn add(op: &mut Operation, status: &str, description: &str) {
    op.responses
        .responses
        .entry(status.to_owned())
        .or_insert_with(|| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("ErrorBody")))
                            .build(),
                    )
                    .build(),
            )
        });
}

#[cfg(test)]
mod tests {
    fn document() -> serde_json::Value {
        let doc = crate::web::api::document();
        serde_json::to_value(&doc).expect("the document serialises")
    }

    fn statuses(doc: &serde_json::Value, path: &str, method: &str) -> Vec<String> {
        doc["paths"][path][method]["responses"]
            .as_object()
            .expect("responses")
            .keys()
            .cloned()
            .collect()
    }

    #[test]
    fn staff_operations_need_the_session_and_say_so() {
        let doc = document();
        let op = &doc["paths"]["/api/shop/orders"]["get"];
        assert_eq!(op["security"][0]["staff_session"], serde_json::json!([]));
        let s = statuses(&doc, "/api/shop/orders", "get");
        assert!(
            s.contains(&"401".into()) && s.contains(&"403".into()),
            "{s:?}"
        );
        assert_eq!(
            doc["components"]["securitySchemes"]["staff_session"]["in"],
            "cookie"
        );
    }

    #[test]
    fn bodies_and_paths_get_their_statuses() {
        let doc = document();
        let s = statuses(&doc, "/api/orders", "post");
        for code in ["201", "403", "413", "415", "422", "503"] {
            assert!(s.contains(&code.into()), "{code} missing from {s:?}");
        }
        assert!(doc["paths"]["/api/orders"]["post"]["security"].is_null());
        let s = statuses(&doc, "/api/tables/{code}", "get");
        assert!(s.contains(&"404".into()), "{s:?}");
        assert!(
            !s.contains(&"403".into()),
            "a read needs no CSRF refusal: {s:?}"
        );
    }

    #[test]
    fn placing_an_order_names_out_of_storage() {
        let doc = document();
        let d = doc["paths"]["/api/orders"]["post"]["responses"]["503"]["description"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(d.contains("out_of_storage"), "{d}");
        let d = doc["paths"]["/api/shop/orders/{order_id}/status"]["post"]["responses"]["503"]
            ["description"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            d.contains("storage_failed") && !d.contains("out_of_storage"),
            "staff actions are not refused for space: {d}"
        );
    }

    #[test]
    fn a_route_keeps_its_own_description() {
        let doc = document();
        let d = doc["paths"]["/api/orders"]["post"]["responses"]["422"]["description"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(d.starts_with("Malformed input, or options"), "{d}");
    }
}
