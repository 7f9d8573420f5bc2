//! The accessibility checker: axe-core (npm, pinned in node/package.json,
//! installed by `.ci/run`) injected into a page in real Chromium, and run
//! there; serious and critical violations are returned as lines to report.

use std::path::PathBuf;

use fantoccini::Client;
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
