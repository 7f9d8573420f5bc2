//! The language switch: `POST /lang` (a plain form on every page, with the
//! CSRF token like every other) keeps the chosen language in a cookie and
//! goes back to the page it came from. The cookie outranks the browser's
//! `Accept-Language` ([`crate::i18n::Lang::negotiate`]); like every cookie
//! of ours it travels as `__Host-ql_lang` over HTTPS.

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::Response;
use axum::routing::post;
use serde::Deserialize;

use super::cart::local_path;
use super::{PageError, PageForm, PageResult, see_other};
use crate::i18n::Lang;
use crate::web::AppState;
use crate::web::error::Failure;
use crate::web::extract::{cookies, set_cookie};

/// How long the choice is kept: a year (it is not personal data, only a
/// language; the guest's next visit to the venue still reads it).
const KEEP_SECONDS: u64 = 365 * 86_400;

/// The switch route.
pub fn router() -> Router<AppState> {
    Router::new().route("/lang", post(switch))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SwitchForm {
    lang: String,
    #[serde(default)]
    back: String,
}

async fn switch(
    State(state): State<AppState>,
    PageForm(f): PageForm<SwitchForm>,
) -> PageResult<Response> {
    // The same rule as every other `back`: a path on this site, else home.
    let back = local_path(&f.back, "/");
    let lang: Lang = f.lang.parse().map_err(|_| {
        PageError::said_with(
            Failure::Invalid,
            "common.switch.unknown",
            vec![("lang", f.lang.clone())],
        )
        .back(back.clone())
    })?;
    let mut r = see_other(&back);
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(
            cookies::LANG,
            lang.code(),
            KEEP_SECONDS,
            "Lax",
            state.web.secure_cookies,
        ),
    );
    Ok(r)
}

#[cfg(test)]
mod tests {
    /// The templates whose every word comes from the locale files.
    const TRANSLATED: &[&str] = &[
        "base.html",
        "error.html",
        "landing.html",
        "menu.html",
        "chooser.html",
        "cart.html",
        "order.html",
        "my_orders.html",
        "table.html",
        // The shopkeeper's, the operator's and the pickup board's pages.
        "board.html",
        "staff_login.html",
        "staff_register.html",
        "shop_dashboard.html",
        "shop_queue.html",
        "shop_item.html",
        "shop_menu.html",
        "shop_options.html",
        "shop_report.html",
        "shop_settings.html",
        "shop_tables.html",
        "shop_table_print.html",
        "admin.html",
    ];

    /// Attributes a person reads (or hears).
    const READ: &[&str] = &["aria-label", "alt", "title", "placeholder"];

    /// `text` without askama's `{{ … }}`, `{% … %}` and `{# … #}`.
    fn without_template_code(text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find(['{']) {
            let close = match rest[start..].chars().nth(1) {
                Some('{') => "}}",
                Some('%') => "%}",
                Some('#') => "#}",
                _ => {
                    out.push_str(&rest[..=start]);
                    rest = &rest[start + 1..];
                    continue;
                }
            };
            out.push_str(&rest[..start]);
            out.push(' ');
            let end = rest[start..].find(close).expect("closed") + start + close.len();
            rest = &rest[end..];
        }
        out.push_str(rest);
        out
    }

    /// Words (runs of letters) a person would read in `html`: the text
    /// between tags and the read attributes' values. `<script>` and
    /// `<style>` bodies are code, not words.
    fn words(html: &str) -> Vec<String> {
        let mut read = String::new();
        let mut rest = html;
        while let Some(open) = rest.find('<') {
            read.push_str(&rest[..open]);
            read.push(' ');
            let end = rest[open..].find('>').expect("tag closes") + open;
            let tag = &rest[open + 1..end];
            for attr in READ {
                for (i, _) in tag.match_indices(&format!("{attr}=\"")) {
                    let value = &tag[i + attr.len() + 2..];
                    read.push_str(value.split('"').next().unwrap_or_default());
                    read.push(' ');
                }
            }
            rest = &rest[end + 1..];
            if tag.starts_with("script") || tag.starts_with("style") {
                let close = if tag.starts_with("script") {
                    "</script>"
                } else {
                    "</style>"
                };
                rest = &rest[rest.find(close).unwrap_or(0)..];
            }
        }
        read.push_str(rest);
        read.split(|c: char| !c.is_alphabetic())
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn translated_templates_have_no_words_outside_translation_calls() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");
        for name in TRANSLATED {
            let mut text = std::fs::read_to_string(format!("{dir}/{name}")).expect("template");
            // `<body>`'s attributes, written outside the tag.
            if let Some(start) = text.find("{% block bodyattrs %}") {
                let end = text[start..].find("{% endblock %}").expect("block ends") + start;
                text.replace_range(start..end, "");
            }
            let left = words(&without_template_code(&text));
            // The doctype is markup; everything else would be English.
            let left: Vec<&String> = left
                .iter()
                .filter(|w| *w != "doctype" && *w != "html")
                .collect();
            assert!(left.is_empty(), "{name} has words outside c.t(…): {left:?}");
        }
    }

    #[test]
    fn the_check_finds_words_where_they_hide() {
        let page = r#"<p class="x">{{ c.t("a") }} Hello</p><button aria-label="Add it">{% if x %}+{% endif %}</button><script>var no = 1;</script>"#;
        assert_eq!(words(&without_template_code(page)), ["Hello", "Add", "it"]);
        assert!(words(&without_template_code(r#"<b title="{{ c.t("k") }}">×</b>"#)).is_empty());
    }
}
