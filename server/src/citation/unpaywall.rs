//! Unpaywall `GET /v2/{doi}?email=…`: whether a free, legal copy exists
//! (ill-domain.md §3.5). `is_oa` first; then the best OA location.

use app::lookup::OpenAccessCopy;
use serde_json::Value;

use super::text::text;
use super::Unreadable;

/// The best free copy, or `None` when the work is closed.
pub fn parse(body: &[u8]) -> Result<Option<OpenAccessCopy>, Unreadable> {
    let v: Value = serde_json::from_slice(body).map_err(Unreadable::json)?;
    if !v.is_object() {
        return Err(Unreadable::new("not a JSON object"));
    }
    let Some(is_oa) = v["is_oa"].as_bool() else {
        return Err(Unreadable::new("no `is_oa`"));
    };
    if !is_oa {
        return Ok(None);
    }
    let locations = v["oa_locations"].as_array().cloned().unwrap_or_default();
    let best = Some(&v["best_oa_location"])
        .filter(|l| l.is_object())
        .or_else(|| {
            locations
                .iter()
                .find(|l| l["is_best"].as_bool() == Some(true))
        })
        .or_else(|| locations.first());
    let Some(best) = best else {
        return Ok(None);
    };
    let Some(url) = ["url_for_pdf", "url", "url_for_landing_page"]
        .iter()
        .find_map(|k| text(&best[*k]))
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
    else {
        return Ok(None);
    };
    Ok(Some(OpenAccessCopy {
        url,
        version: text(&best["version"]),
        host_type: text(&best["host_type"]),
        license: text(&best["license"]),
    }))
}
