//! Where to send the browser after sign-in: only a path on our own origin.

/// The target if it is a same-origin relative path (keeping its query
/// string), else `/`. Refuses absolute and scheme-relative URLs (`//evil`),
/// backslash tricks, and control characters.
pub fn safe_return_to(target: Option<&str>) -> String {
    let Some(t) = target else { return "/".into() };
    let ok = t.starts_with('/')
        && !t.starts_with("//")
        && !t.starts_with("/\\")
        && t.len() <= 2048
        && !t.chars().any(|c| c.is_control() || c == '\\');
    if ok {
        t.to_owned()
    } else {
        "/".into()
    }
}

#[cfg(test)]
mod tests {
    use super::safe_return_to;

    #[test]
    fn only_local_paths_are_kept() {
        assert_eq!(
            safe_return_to(Some("/request?rft.atitle=X&rft_id=info:doi/10.1/x")),
            "/request?rft.atitle=X&rft_id=info:doi/10.1/x"
        );
        assert_eq!(safe_return_to(Some("/my")), "/my");
        for bad in [
            "https://evil.example/",
            "//evil.example/x",
            "/\\evil.example",
            "evil",
            "/a\nb",
            "javascript:alert(1)",
            "",
        ] {
            assert_eq!(safe_return_to(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_return_to(None), "/");
    }
}
