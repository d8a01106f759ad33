//! The encoding of every server function's answer.
//!
//! The same JSON as server_fn's own `Json` on the wire (`application/json`,
//! written by `serde_json::to_vec`), but read in the browser with
//! `serde_json::from_str`, the reader Leptos uses for the values a page
//! carries from the server into hydration. With one reader, each type's
//! deserializer is compiled into the WebAssembly once instead of twice (once
//! per reader): measured 2026-12-05, the release front end's wasm fell by
//! the figures the README gives (issue 14).

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
