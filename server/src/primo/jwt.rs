//! Who the Primo user is, without trusting the browser: Primo's JWT
//! (`sessionStorage.primoExploreJwt`, sent by the status widget as
//! `Authorization: Bearer …`) is verified here.
//!
//! - the header must say `alg: ES256` and name a key id (`kid`); a token
//!   with `alg: none` or any other algorithm is refused before any key is
//!   looked at;
//! - the key comes from the institution's JWKS, fetched through
//!   [`JwksSource`] and cached ([`JwksCache`]): a key id Kauko does not
//!   know makes it fetch the set again, at most once per
//!   `primo.jwks_min_refetch_seconds`;
//! - the signature (ES256, P-256), `exp` (required; `primo.leeway_seconds`
//!   of clock difference) and, when configured, `iss` are checked by the
//!   `jsonwebtoken` crate;
//! - the institution claim must be the configured institution;
//! - a guest's token (Primo gives one to every visitor: no `userName`, or
//!   `isLoggedIn: false`) is refused.
//!
//! The token itself is never logged.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use crate::config::PrimoConfig;

/// Why a token was refused (or could not be checked).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    /// No `Authorization: Bearer` token.
    #[error("no token")]
    Missing,
    /// Not a JWT, a wrong algorithm, an unknown key, a bad signature, an
    /// expired token or a wrong issuer: 401.
    #[error("invalid token: {0}")]
    Invalid(String),
    /// A guest (not signed in to Primo): 403.
    #[error("a guest token")]
    Guest,
    /// Another institution's token: 403.
    #[error("another institution's token")]
    WrongInstitution,
    /// The JWKS could not be fetched: 503.
    #[error("the JWKS cannot be fetched: {0}")]
    KeysUnavailable(String),
}

/// Where the public keys come from (Ex Libris' JWKS URL over HTTP; tests
/// may count or script the fetches).
#[async_trait]
pub trait JwksSource: Send + Sync {
    async fn fetch(&self) -> Result<JwkSet, String>;
}

/// The JWKS over HTTP(S), with a 5 s timeout and no redirects.
pub struct HttpJwks {
    url: String,
    client: reqwest::Client,
}

impl HttpJwks {
    pub fn new(url: String) -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("Kauko (Primo JWKS)")
            .build()
            .unwrap_or_default();
        Self { url, client }
    }
}

#[async_trait]
impl JwksSource for HttpJwks {
    async fn fetch(&self) -> Result<JwkSet, String> {
        let res = self
            .client
            .get(&self.url)
            .send()
            .await
            .map_err(|e| format!("{}: {e}", crate::config::redact_url(&self.url)))?;
        if !res.status().is_success() {
            return Err(format!(
                "{} answered {}",
                crate::config::redact_url(&self.url),
                res.status()
            ));
        }
        res.json::<JwkSet>()
            .await
            .map_err(|e| format!("the JWKS is not readable: {e}"))
    }
}

struct Cached {
    keys: HashMap<String, Jwk>,
    fetched: Option<Instant>,
    /// When the last fetch was tried (a failed one counts too, so a
    /// flood of bad key ids cannot make Kauko hammer the JWKS).
    tried: Option<Instant>,
}

/// The JWKS, cached; fetched again on an unknown key id (at most once per
/// `min_refetch`) and when older than `max_age`.
pub struct JwksCache {
    source: Arc<dyn JwksSource>,
    min_refetch: Duration,
    max_age: Duration,
    state: tokio::sync::Mutex<Cached>,
}

impl JwksCache {
    pub fn new(source: Arc<dyn JwksSource>, min_refetch: Duration, max_age: Duration) -> Self {
        Self {
            source,
            min_refetch,
            max_age,
            state: tokio::sync::Mutex::new(Cached {
                keys: HashMap::new(),
                fetched: None,
                tried: None,
            }),
        }
    }

    /// The key with this id.
    pub async fn key(&self, kid: &str) -> Result<Jwk, TokenError> {
        let mut state = self.state.lock().await;
        let stale = state.fetched.is_none_or(|t| t.elapsed() >= self.max_age);
        if let Some(key) = state.keys.get(kid).filter(|_| !stale) {
            return Ok(key.clone());
        }
        let may_fetch = state.tried.is_none_or(|t| t.elapsed() >= self.min_refetch);
        if may_fetch {
            state.tried = Some(Instant::now());
            match self.source.fetch().await {
                Ok(set) => {
                    state.keys = set
                        .keys
                        .into_iter()
                        .filter_map(|k| k.common.key_id.clone().map(|id| (id, k)))
                        .collect();
                    state.fetched = Some(Instant::now());
                    tracing::info!(keys = state.keys.len(), "Primo JWKS fetched");
                }
                Err(e) => {
                    tracing::warn!(error = %e, "Primo JWKS fetch failed");
                    if state.keys.is_empty() {
                        return Err(TokenError::KeysUnavailable(e));
                    }
                }
            }
        }
        state
            .keys
            .get(kid)
            .cloned()
            .ok_or_else(|| TokenError::Invalid("unknown key id".into()))
    }
}

/// The claims Kauko reads from Primo's token.
#[derive(Debug, Deserialize)]
struct PrimoClaims {
    #[serde(rename = "userName", default)]
    user_name: Option<String>,
    #[serde(rename = "isLoggedIn", default)]
    is_logged_in: Option<serde_json::Value>,
    #[serde(flatten)]
    rest: HashMap<String, serde_json::Value>,
}

/// A verified Primo user: Alma's primary id (the token's `userName`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrimoUser {
    pub user_name: String,
}

/// Verifies Primo's tokens for one institution.
pub struct Verifier {
    keys: JwksCache,
    institution: String,
    institution_claim: String,
    issuer: Option<String>,
    leeway: u64,
}

impl Verifier {
    /// `None` when `primo.institution` is not set.
    pub fn from_config(config: &PrimoConfig) -> Option<Self> {
        let url = config.jwks_url()?;
        Self::with_source(config, Arc::new(HttpJwks::new(url)))
    }

    /// With another source of keys (tests).
    pub fn with_source(config: &PrimoConfig, source: Arc<dyn JwksSource>) -> Option<Self> {
        let institution = config
            .institution
            .as_deref()
            .map(str::trim)
            .filter(|i| !i.is_empty())?
            .to_owned();
        Some(Self {
            keys: JwksCache::new(
                source,
                Duration::from_secs(config.jwks_min_refetch_seconds),
                Duration::from_secs(config.jwks_max_age_seconds.max(1)),
            ),
            institution,
            institution_claim: config.institution_claim.clone(),
            issuer: config.issuer.clone().filter(|i| !i.trim().is_empty()),
            leeway: config.leeway_seconds,
        })
    }

    /// The user a token names, or why it is refused.
    pub async fn verify(&self, token: &str) -> Result<PrimoUser, TokenError> {
        // Primo keeps the token JSON-quoted in sessionStorage; a widget
        // may pass it on with the quotes.
        let token = token.trim().trim_matches('"');
        if token.is_empty() {
            return Err(TokenError::Missing);
        }
        // `alg: none` (and anything jsonwebtoken does not know) fails here.
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| TokenError::Invalid(format!("header: {e}")))?;
        if header.alg != Algorithm::ES256 {
            return Err(TokenError::Invalid(format!(
                "algorithm {:?} (ES256 expected)",
                header.alg
            )));
        }
        let kid = header
            .kid
            .ok_or_else(|| TokenError::Invalid("no key id".into()))?;
        let jwk = self.keys.key(&kid).await?;
        let key = DecodingKey::from_jwk(&jwk)
            .map_err(|e| TokenError::Invalid(format!("key {kid}: {e}")))?;
        let mut validation = Validation::new(Algorithm::ES256);
        validation.leeway = self.leeway;
        validation.validate_exp = true;
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp"]);
        if let Some(issuer) = &self.issuer {
            validation.set_issuer(&[issuer]);
        }
        let data = jsonwebtoken::decode::<PrimoClaims>(token, &key, &validation)
            .map_err(|e| TokenError::Invalid(e.to_string()))?;
        let claims = data.claims;
        let institution = claims
            .rest
            .get(&self.institution_claim)
            .and_then(|v| v.as_str())
            .map(str::trim);
        if !institution.is_some_and(|i| i.eq_ignore_ascii_case(&self.institution)) {
            return Err(TokenError::WrongInstitution);
        }
        let logged_in = match &claims.is_logged_in {
            None => true,
            Some(serde_json::Value::Bool(b)) => *b,
            Some(serde_json::Value::String(s)) => s == "true",
            Some(_) => false,
        };
        let user = claims
            .user_name
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty() && !u.eq_ignore_ascii_case("guest"));
        match (logged_in, user) {
            (true, Some(user)) => Ok(PrimoUser {
                user_name: user.to_owned(),
            }),
            _ => Err(TokenError::Guest),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Counting(AtomicUsize);

    #[async_trait]
    impl JwksSource for Counting {
        async fn fetch(&self) -> Result<JwkSet, String> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(JwkSet { keys: Vec::new() })
        }
    }

    #[tokio::test]
    async fn unknown_key_ids_fetch_the_jwks_at_most_once_a_minute() {
        let source = Arc::new(Counting(AtomicUsize::new(0)));
        let cache = JwksCache::new(
            source.clone(),
            Duration::from_secs(60),
            Duration::from_secs(3600),
        );
        for i in 0..20 {
            let e = cache.key(&format!("kid-{i}")).await.unwrap_err();
            assert_eq!(e, TokenError::Invalid("unknown key id".into()));
        }
        assert_eq!(source.0.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn alg_none_and_junk_are_refused_before_any_key_is_fetched() {
        let source = Arc::new(Counting(AtomicUsize::new(0)));
        let config = PrimoConfig {
            institution: Some("TEST_INST".into()),
            ..PrimoConfig::default()
        };
        let verifier = Verifier::with_source(&config, source.clone()).unwrap();
        use base64::Engine;
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let none = format!(
            "{}.{}.",
            b64(r#"{"alg":"none","typ":"JWT"}"#),
            b64(r#"{"userName":"aino","inst":"TEST_INST","exp":9999999999}"#)
        );
        assert!(matches!(
            verifier.verify(&none).await,
            Err(TokenError::Invalid(_))
        ));
        let hs = format!(
            "{}.{}.c2ln",
            b64(r#"{"alg":"HS256","typ":"JWT","kid":"k"}"#),
            b64(r#"{"userName":"aino","inst":"TEST_INST","exp":9999999999}"#)
        );
        assert!(matches!(
            verifier.verify(&hs).await,
            Err(TokenError::Invalid(_))
        ));
        assert!(matches!(
            verifier.verify("not a token").await,
            Err(TokenError::Invalid(_))
        ));
        assert_eq!(verifier.verify("").await, Err(TokenError::Missing));
        assert_eq!(source.0.load(Ordering::SeqCst), 0);
    }
}
