//! The encoding of every server function's answer, and of the arguments
//! of those that a form without JavaScript posts too.
//!
//! The same JSON as server_fn's own `Json` on the wire (`application/json`,
//! written by `serde_json::to_vec`), but read in the browser with
//! `serde_json::from_str`, the reader Leptos uses for the values a page
//! carries from the server into hydration. With one reader, each type's
//! deserializer is compiled into the WebAssembly once instead of twice (once
//! per reader): measured 2026-12-05, the whole wasm before splitting fell
//! from 955 to 894 KB gzipped (issue 14). A test below checks that every
//! server function names it.

use leptos::server_fn::codec::{Encoding, Post};
use leptos::server_fn::error::{FromServerFnError, IntoAppError, ServerFnErrorErr};
use leptos::server_fn::request::{ClientReq, Req};
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

/// The arguments of a server function that a page's form also posts
/// without JavaScript (`#[server(..., input = JsonOrForm)]`): the page's
/// code sends them as JSON, a browser without JavaScript as the form's
/// fields (`application/x-www-form-urlencoded`), which the server reads as
/// server_fn's own `PostUrl` does. The wasm then needs no serde_qs (its
/// URL-encoding serializer, about 7 KB before compression) but only the
/// JSON writer it already carries for the islands' props (issue 14).
pub struct JsonOrForm;

impl ContentType for JsonOrForm {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl Encoding for JsonOrForm {
    const METHOD: http::Method = http::Method::POST;
}

/// The arguments of the named server functions' (their generated
/// structs) travel as [`JsonOrForm`]: `json_or_form!(SubmitRequest);`
/// beside the function. (Rust allows these impls only per local type.)
macro_rules! json_or_form {
    ($($args:ty),+) => {$(
        impl<E, Request> leptos::server_fn::codec::IntoReq<$crate::api::codec::JsonOrForm, Request, E> for $args
        where
            Request: leptos::server_fn::request::ClientReq<E>,
            E: leptos::server_fn::error::FromServerFnError,
        {
            fn into_req(self, path: &str, accepts: &str) -> Result<Request, E> {
                $crate::api::codec::json_request(&self, path, accepts)
            }
        }

        impl<E, Request> leptos::server_fn::codec::FromReq<$crate::api::codec::JsonOrForm, Request, E> for $args
        where
            Request: leptos::server_fn::request::Req<E> + Send + 'static,
            E: leptos::server_fn::error::FromServerFnError,
        {
            async fn from_req(req: Request) -> Result<Self, E> {
                $crate::api::codec::json_or_form_args(req).await
            }
        }
    )+};
}
pub(crate) use json_or_form;

/// The page's code: the arguments as JSON.
pub fn json_request<T, E, Request>(args: &T, path: &str, accepts: &str) -> Result<Request, E>
where
    T: Serialize,
    Request: ClientReq<E>,
    E: FromServerFnError,
{
    let body = serde_json::to_string(args)
        .map_err(|e| ServerFnErrorErr::Serialization(e.to_string()).into_app_error())?;
    Request::try_new_post(path, JsonOrForm::CONTENT_TYPE, accepts, body)
}

/// The server: JSON from the page's code, else the form's fields.
pub async fn json_or_form_args<T, E, Request>(req: Request) -> Result<T, E>
where
    T: DeserializeOwned,
    Request: Req<E> + Send + 'static,
    E: FromServerFnError,
{
    let json = req
        .to_content_type()
        .is_some_and(|t| t.trim_start().starts_with(JsonOrForm::CONTENT_TYPE));
    let body = req.try_into_string().await?;
    let args = if json {
        serde_json::from_str(&body).map_err(|e| e.to_string())
    } else {
        serde_qs::Config::new(5, false)
            .deserialize_str(&body)
            .map_err(|e| e.to_string())
    };
    args.map_err(|e| ServerFnErrorErr::Args(e).into_app_error())
}

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
