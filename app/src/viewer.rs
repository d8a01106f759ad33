//! Who is looking at the page: the signed-in user, if any. The server puts
//! a [`Viewer`] in the request's extensions after checking the session
//! cookie; the app reads it while rendering and hands it to the browser in
//! the boot data, so hydration renders the same header.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    /// The library-system user id (from the configured identity claim).
    pub user_id: String,
    pub name: String,
    pub staff: bool,
}

/// The viewer of the current page (`None` when signed out).
#[derive(Clone, Copy)]
pub struct ViewerContext(pub StoredValue<Option<Viewer>>);

pub fn use_viewer() -> Option<Viewer> {
    use_context::<ViewerContext>().and_then(|v| v.0.get_value())
}

/// The viewer the server attached to this request.
#[cfg(feature = "ssr")]
pub fn request_viewer() -> Option<Viewer> {
    use_context::<http::request::Parts>().and_then(|p| p.extensions.get::<Viewer>().cloned())
}

/// Where "Sign in" sends the browser: the login route, returning here.
pub fn login_href(path_and_query: &str) -> String {
    let mut encoded = String::with_capacity(path_and_query.len());
    for b in path_and_query.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                encoded.push(b as char)
            }
            _ => encoded.push_str(&format!("%{b:02X}")),
        }
    }
    format!("/auth/login?return_to={encoded}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn login_links_keep_the_query_string() {
        assert_eq!(
            super::login_href("/request?rft.atitle=A&b=c d"),
            "/auth/login?return_to=/request%3Frft.atitle%3DA%26b%3Dc%20d"
        );
    }
}
