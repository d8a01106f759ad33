//! The encoding of every server function's answer.
//!
//! The same JSON as server_fn's own `Json` on the wire (`application/json`,
//! written by `serde_json::to_vec`), but read in the browser with
//! `serde_json::from_str`, the reader Leptos uses for the values a page
//! carries from the server into hydration. With one reader, each type's
//! deserializer is compiled into the WebAssembly once instead of twice (once
//! per reader): measured 2026-12-05, the whole wasm before splitting fell
//! from 955 to 894 KB gzipped (issue 14). A test below checks that every
//! server function names it.

use leptos::server_fn::codec::Post;
use leptos::server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};
use serde::{de::DeserializeOwned, Serialize};

/// JSON, read as text (see the module).
pub struct JsonText;

impl ContentType for JsonText {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for JsonText {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for JsonText {
    type Error = serde_json::Error;

    fn encode(output: &T) -> Result<Bytes, Self::Error> {
        serde_json::to_vec(output).map(Bytes::from)
    }
}

impl<T: DeserializeOwned> Decodes<T> for JsonText {
    type Error = serde_json::Error;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        // Not UTF-8 is not JSON: serde_json's own error says so.
        let text = std::str::from_utf8(&bytes).map_err(|_| {
            <serde_json::Error as serde::de::Error>::custom("the answer is not UTF-8")
        })?;
        serde_json::from_str(text)
    }
}

/// A server function's answer: `#[server(..., output = Answer)]`.
pub type Answer = Post<JsonText>;

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// The `#[server(...)]` attributes of every server function under `dir`
    /// (not the `#[server(flatten)]` or `#[server(default)]` of arguments).
    fn server_attributes(dir: &Path, found: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                server_attributes(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                // Spelled in two parts so that this file does not match.
                for (at, _) in text.match_indices(concat!("#[server(", "endpoint")) {
                    let end = at + text[at..].find(")]").unwrap();
                    found.push((path.display().to_string(), text[at..end].to_owned()));
                }
            }
        }
    }

    /// A server function left on server_fn's default `Json` output would
    /// bring the second reader, and every type's deserializer twice, back
    /// into the wasm (issue 14): each one must name `Answer`.
    #[test]
    fn every_server_function_answers_with_json_text() {
        let mut found = Vec::new();
        server_attributes(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut found,
        );
        assert!(
            found.len() >= 49,
            "only {} server functions found",
            found.len()
        );
        let default_output: Vec<_> = found
            .iter()
            .filter(|(_, attribute)| !attribute.contains("output = crate::api::codec::Answer"))
            .collect();
        assert!(default_output.is_empty(), "{default_output:#?}");
    }
}
