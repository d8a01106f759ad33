//! Who is asking: the client's address, put in every request's extensions
//! for the server functions, and the per-address limit on the public
//! lending form.
//!
//! The address is the peer of the TCP connection, or, behind
//! `lending.trusted_proxies` reverse proxies, the `X-Forwarded-For` entry
//! that many hops from the right: each proxy appends the address it saw, so
//! the entries further left are whatever the client wrote and are never
//! believed. IPv6 clients are counted per /64, the block one host usually
//! has to itself.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;

use app::api::lend::{ClientAddr, SubmitLimiter};
use axum::extract::{ConnectInfo, Request};
use axum::middleware::Next;
use axum::response::Response;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::LendingConfig;

/// The key a client is counted under: the connection's peer, or with
/// `trusted_proxies` = n > 0 the n-th `X-Forwarded-For` entry from the right
/// (the address the outermost trusted proxy saw). A chain shorter than n
/// was written by trusted proxies only, so its first entry counts; an entry
/// that is not an address is ignored and the peer counts.
pub fn client_key(
    peer: Option<IpAddr>,
    forwarded_for: Option<&str>,
    trusted_proxies: u32,
) -> String {
    let forwarded = (trusted_proxies > 0)
        .then(|| {
            let entries: Vec<&str> = forwarded_for?
                .split(',')
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .collect();
            let hops = usize::try_from(trusted_proxies).unwrap_or(usize::MAX);
            let index = entries.len().checked_sub(hops).unwrap_or(0);
            entries.get(index)?.parse::<IpAddr>().ok()
        })
        .flatten();
    match forwarded.or(peer) {
        Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        Some(ip) => ip.to_string(),
        None => "unknown".into(),
    }
}

/// Middleware: puts [`ClientAddr`] in the request's extensions.
pub async fn client_addr(trusted_proxies: u32, mut req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    // Several header lines are one list, in order (RFC 9110 §5.3).
    let forwarded: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let forwarded = (!forwarded.is_empty()).then(|| forwarded.join(","));
    let key = client_key(peer, forwarded.as_deref(), trusted_proxies);
    req.extensions_mut().insert(ClientAddr(key));
    next.run(req).await
}

/// At most n calls per client in any minute (all at once, then one every
/// 60/n seconds), counted in this instance: the lending form's submissions
/// and the citation look-ups each have one.
pub struct ClientLimiter {
    limiter: DefaultKeyedRateLimiter<String>,
    what: &'static str,
}

/// Clients remembered before forgetting those whose limit has refilled.
const FORGET_AFTER: usize = 10_000;

impl ClientLimiter {
    pub fn new(config: &LendingConfig) -> Self {
        Self::per_minute(config.max_requests_per_minute, "lending form")
    }

    /// `n` a minute per client (at least 1); `what` names it in the log.
    pub fn per_minute(n: u32, what: &'static str) -> Self {
        let n = NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
        Self {
            limiter: RateLimiter::keyed(Quota::per_minute(n).allow_burst(n)),
            what,
        }
    }
}

impl SubmitLimiter for ClientLimiter {
    fn allow(&self, client: &str) -> bool {
        if self.limiter.len() > FORGET_AFTER {
            self.limiter.retain_recent();
        }
        let allowed = self.limiter.check_key(&client.to_owned()).is_ok();
        if !allowed {
            tracing::warn!(
                client,
                what = self.what,
                "rate limit per client reached; refused"
            );
        }
        allowed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn the_peer_counts_unless_proxies_are_trusted() {
        let fwd = Some("203.0.113.9, 10.0.0.1");
        assert_eq!(client_key(ip("10.0.0.2"), fwd, 0), "10.0.0.2");
        // One proxy: the entry it appended (the rightmost).
        assert_eq!(client_key(ip("10.0.0.2"), fwd, 1), "10.0.0.1");
        // Two proxies: the address the outer one saw.
        assert_eq!(client_key(ip("10.0.0.2"), fwd, 2), "203.0.113.9");
        // Fewer entries than proxies: all written by trusted proxies.
        assert_eq!(client_key(ip("10.0.0.2"), fwd, 5), "203.0.113.9");
        // A header that is not an address is ignored, not trusted.
        assert_eq!(client_key(ip("10.0.0.1"), Some("evil"), 1), "10.0.0.1");
        assert_eq!(client_key(None, None, 0), "unknown");
    }

    #[test]
    fn a_client_cannot_choose_its_address_behind_a_proxy() {
        // The client writes any list it likes; the proxy appends the
        // address it saw (198.51.100.7) and Kauko takes that one.
        for spoofed in ["1.2.3.4", "1.2.3.4, 5.6.7.8", "evil, 9.9.9.9", ""] {
            let header = if spoofed.is_empty() {
                "198.51.100.7".to_owned()
            } else {
                format!("{spoofed}, 198.51.100.7")
            };
            assert_eq!(
                client_key(ip("10.0.0.1"), Some(&header), 1),
                "198.51.100.7",
                "{header}"
            );
        }
    }

    #[test]
    fn ipv6_clients_are_counted_per_64_block() {
        let a = client_key(ip("2001:db8:1:2:aaaa::1"), None, 0);
        let b = client_key(ip("2001:db8:1:2:bbbb::7"), None, 0);
        let c = client_key(ip("2001:db8:1:3::1"), None, 0);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(client_key(ip("::ffff:192.0.2.4"), None, 0), "192.0.2.4");
    }

    #[test]
    fn each_client_has_its_own_allowance() {
        let limiter = ClientLimiter::new(&LendingConfig {
            max_requests_per_minute: 2,
            ..LendingConfig::default()
        });
        assert!(limiter.allow("192.0.2.1"));
        assert!(limiter.allow("192.0.2.1"));
        assert!(
            !limiter.allow("192.0.2.1"),
            "the third in a minute is refused"
        );
        assert!(limiter.allow("192.0.2.2"), "another client is not affected");
    }
}
