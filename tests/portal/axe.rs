//! The accessibility checker: axe-core (npm, pinned in node/package.json,
//! installed by `.ci/run`) injected into a page in real Chromium, and run
//! there; serious and critical violations are returned as lines to report.
//! Beside it, what axe cannot see: a walk with the Tab key that must reach
//! every visible control and show where the focus is.

use std::path::PathBuf;

use fantoccini::Client;
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use serde_json::Value;

/// Where `npm ci --prefix tests/portal/node` puts axe-core.
fn axe_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/portal/node/node_modules/axe-core/axe.min.js")
}

/// axe-core's script, or `None` (a skip, said on stderr) where it is not
/// installed; in CI its absence fails.
pub fn axe_source() -> Option<String> {
    let path = axe_path();
    match std::fs::read_to_string(&path) {
        Ok(s) => Some(s),
        Err(e) => {
            let msg = format!(
                "the accessibility test needs axe-core at {} ({e}): run `npm ci --prefix tests/portal/node` (.ci/run does)",
                path.display()
            );
            if std::env::var_os("CI").is_some() {
                panic!("{msg}");
            }
            eprintln!("SKIPPED: {msg}");
            None
        }
    }
}

/// Runs axe on the page `c` shows: one line per serious or critical
/// violation (rule, impact, the elements as CSS selectors, what to do), and
/// the count of lesser ones (moderate, minor) for the log.
pub async fn audit(c: &Client, axe: &str) -> (Vec<String>, usize) {
    let loaded = c
        .execute("return typeof window.axe === 'object';", vec![])
        .await
        .expect("script runs");
    if loaded != Value::Bool(true) {
        c.execute(axe, vec![]).await.expect("axe-core loads");
    }
    let result = c
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ['violations']}).then(
  r => done({violations: r.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => n.target.join(' ') + (n.failureSummary ? ' — ' + n.failureSummary.split('\n').slice(1).join(' ').trim() : ''))
  }))}),
  e => done({error: String(e)}));"#,
            vec![],
        )
        .await
        .expect("axe runs");
    if let Some(e) = result.get("error") {
        panic!("axe failed: {e}");
    }
    let mut serious = Vec::new();
    let mut lesser = 0;
    for v in result["violations"].as_array().expect("violations") {
        let impact = v["impact"].as_str().unwrap_or("?");
        let nodes: Vec<&str> = v["nodes"]
            .as_array()
            .map(|n| n.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if impact == "serious" || impact == "critical" {
            serious.push(format!(
                "{} ({impact}): {}\n      {}",
                v["id"].as_str().unwrap_or("?"),
                v["help"].as_str().unwrap_or("?"),
                nodes.join("\n      ")
            ));
        } else {
            eprintln!(
                "  note: {} ({impact}) on {}",
                v["id"].as_str().unwrap_or("?"),
                nodes.join(", ")
            );
            lesser += 1;
        }
    }
    (serious, lesser)
}

/// Lists the page's visible controls (not those in a closed `<details>`;
/// a radio group counts once, as arrows move within it) and records each
/// one the focus reaches, with whether anything shows it (an outline or a
/// shadow). Returns how many Tab presses pass them all.
const FOCUS_PROBE: &str = r#"
const sel = 'a[href],button:not([disabled]),input:not([type=hidden]):not([disabled]),select:not([disabled]),textarea:not([disabled]),summary,[tabindex]:not([tabindex="-1"])';
const shut = e => { const d = e.closest('details:not([open])'); return d !== null && e !== d.querySelector('summary'); };
const all = Array.from(document.querySelectorAll(sel)).filter(e =>
  e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden' && !shut(e));
const key = e => e.type === 'radio' ? 'radio ' + e.name : 'c' + all.indexOf(e);
const name = e => (e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + ' "' +
  (e.getAttribute('aria-label') || e.textContent || e.name || '').trim().slice(0, 40) + '"');
window.__focus = {want: {}, got: {}, unseen: []};
all.forEach(e => { window.__focus.want[key(e)] = name(e); });
document.addEventListener('focusin', ev => {
  const e = ev.target, s = getComputedStyle(e);
  window.__focus.got[key(e)] = true;
  const ring = (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none';
  if (!ring) { window.__focus.unseen.push(name(e)); }
}, true);
if (document.activeElement) { document.activeElement.blur(); }
// Date and time fields take a Tab per part (day, month, year).
const parts = all.filter(e => /^(date|time|datetime-local)$/.test(e.type)).length * 3;
return all.length + parts + 2;"#;

/// Tabs through the page from its top: one line per visible control the
/// Tab key never reaches, and per control focused with nothing to show it.
pub async fn keyboard(c: &Client) -> Vec<String> {
    let presses = c
        .execute(FOCUS_PROBE, vec![])
        .await
        .expect("focus probe")
        .as_u64()
        .expect("a count");
    let mut keys = KeyActions::new("keyboard".into());
    for _ in 0..presses {
        keys = keys
            .then(KeyAction::Down {
                value: Key::Tab.into(),
            })
            .then(KeyAction::Up {
                value: Key::Tab.into(),
            });
    }
    c.perform_actions(keys).await.expect("tabbing");
    let seen = c
        .execute("return window.__focus;", vec![])
        .await
        .expect("focus log");
    let mut out = Vec::new();
    if let Some(want) = seen["want"].as_object() {
        for (k, name) in want {
            if seen["got"].get(k).is_none() {
                out.push(format!(
                    "keyboard: the Tab key never reaches {}",
                    name.as_str().unwrap_or(k)
                ));
            }
        }
    }
    for name in seen["unseen"].as_array().into_iter().flatten() {
        out.push(format!(
            "keyboard: no visible focus on {}",
            name.as_str().unwrap_or("?")
        ));
    }
    out
}
