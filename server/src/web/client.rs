//! Who is asking: the client's address, put in every request's extensions
//! for the server functions, and the per-address limit on the public
//! lending form.
//!
//! The address is the peer of the TCP connection, or, with
//! `lending.trust_forwarded_for` (only behind a proxy that sets it), the
//! first entry of `X-Forwarded-For`. IPv6 clients are counted per /64,
//! the block one host usually has to itself.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;

use app::api::lend::{ClientAddr, SubmitLimiter};
use axum::extract::{ConnectInfo, Request};
use axum::middleware::Next;
use axum::response::Response;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::LendingConfig;

/// The key a client is counted under.
pub fn client_key(peer: Option<IpAddr>, forwarded_for: Option<&str>, trust: bool) -> String {
    let forwarded = trust
        .then(|| {
            forwarded_for?
                .split(',')
                .next()?
                .trim()
                .parse::<IpAddr>()
                .ok()
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
pub async fn client_addr(trust_forwarded_for: bool, mut req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let forwarded = req
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok());
    let key = client_key(peer, forwarded, trust_forwarded_for);
    req.extensions_mut().insert(ClientAddr(key));
    next.run(req).await
}

/// At most `max_requests_per_minute` submissions per client in any minute
/// (all at once, then one every 60/n seconds), counted in this instance.
pub struct LendingLimiter {
    limiter: DefaultKeyedRateLimiter<String>,
}

/// Clients remembered before forgetting those whose limit has refilled.
const FORGET_AFTER: usize = 10_000;

impl LendingLimiter {
    pub fn new(config: &LendingConfig) -> Self {
        let n = NonZeroU32::new(config.max_requests_per_minute).unwrap_or(NonZeroU32::MIN);
        Self {
            limiter: RateLimiter::keyed(Quota::per_minute(n).allow_burst(n)),
        }
    }
}

impl SubmitLimiter for LendingLimiter {
    fn allow(&self, client: &str) -> bool {
        if self.limiter.len() > FORGET_AFTER {
            self.limiter.retain_recent();
        }
        let allowed = self.limiter.check_key(&client.to_owned()).is_ok();
        if !allowed {
            tracing::warn!(client, "lending form: rate limit reached; refused");
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
    fn the_peer_counts_unless_the_proxy_is_trusted() {
        let fwd = Some("203.0.113.9, 10.0.0.1");
        assert_eq!(client_key(ip("10.0.0.1"), fwd, false), "10.0.0.1");
        assert_eq!(client_key(ip("10.0.0.1"), fwd, true), "203.0.113.9");
        // A header that is not an address is ignored, not trusted.
        assert_eq!(client_key(ip("10.0.0.1"), Some("evil"), true), "10.0.0.1");
        assert_eq!(client_key(None, None, false), "unknown");
    }

    #[test]
    fn ipv6_clients_are_counted_per_64_block() {
        let a = client_key(ip("2001:db8:1:2:aaaa::1"), None, false);
        let b = client_key(ip("2001:db8:1:2:bbbb::7"), None, false);
        let c = client_key(ip("2001:db8:1:3::1"), None, false);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(client_key(ip("::ffff:192.0.2.4"), None, false), "192.0.2.4");
    }

    #[test]
    fn each_client_has_its_own_allowance() {
        let limiter = LendingLimiter::new(&LendingConfig {
            max_requests_per_minute: 2,
            trust_forwarded_for: false,
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
