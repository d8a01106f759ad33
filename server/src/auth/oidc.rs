//! The OpenID Connect relying party: discovery (cached once it succeeds),
//! the authorization URL with PKCE (S256), state and nonce, and the code
//! exchange with the ID token checked (signature against the JWKS, `iss`,
//! `aud`, `exp`, `nonce`). An ID token signed with a key the cached JWKS
//! does not have (the provider rotated its keys) makes Kauko discover
//! again, at most once a minute, and check the token against the new keys.

use app::viewer::Viewer;
use base64::Engine;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    TokenResponse,
};
use serde_json::Value;

use crate::config::AuthConfig;

type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

struct Discovered {
    client: Client,
    end_session_endpoint: Option<String>,
}

/// Why a sign-in failed, in the words a patron is shown.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("identity provider unreachable: {0}")]
    Unreachable(String),
    #[error("token exchange or ID token check failed: {0}")]
    Token(String),
}

pub struct Provider {
    issuer: String,
    client_id: String,
    client_secret: Option<String>,
    redirect_uri: String,
    scopes: Vec<String>,
    user_id_claim: String,
    staff_claim: String,
    groups_claim: String,
    staff_value: String,
    http: reqwest::Client,
    /// The discovery document and keys, and when an unknown key last made
    /// Kauko read them again.
    discovered:
        tokio::sync::RwLock<Option<(std::sync::Arc<Discovered>, Option<std::time::Instant>)>>,
}

/// The least time between two discoveries caused by unknown keys.
const REDISCOVER_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

/// What a login in progress must remember until the callback.
pub struct LoginStart {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

/// A verified sign-in.
pub struct SignedIn {
    pub viewer: Viewer,
    pub email: Option<String>,
    /// The `locale` claim (`fi-FI`, `sv`), when the provider sends one.
    pub locale: Option<String>,
    /// The groups claim's values (at most 50, each at most 64 characters).
    pub groups: Vec<String>,
    pub id_token: String,
}

impl Provider {
    pub fn new(issuer: &str, config: &AuthConfig, public_url: &str) -> Self {
        let http = reqwest::Client::builder()
            // Following redirects would open the client to SSRF.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        Self {
            issuer: issuer.trim_end_matches('/').to_owned(),
            client_id: config.client_id.clone(),
            client_secret: config.client_secret.clone().filter(|s| !s.is_empty()),
            redirect_uri: format!("{public_url}/auth/callback"),
            scopes: config.scopes.clone(),
            user_id_claim: config.user_id_claim.clone(),
            staff_claim: config.staff_claim.clone(),
            groups_claim: config.groups_claim.clone(),
            staff_value: config.staff_value.clone(),
            http,
            discovered: tokio::sync::RwLock::new(None),
        }
    }

    /// The cached discovery, read the first time it is needed.
    async fn discovered(&self) -> Result<std::sync::Arc<Discovered>, OidcError> {
        if let Some((d, _)) = self.discovered.read().await.as_ref() {
            return Ok(d.clone());
        }
        let mut slot = self.discovered.write().await;
        if let Some((d, _)) = slot.as_ref() {
            return Ok(d.clone());
        }
        let d = std::sync::Arc::new(self.discover().await?);
        *slot = Some((d.clone(), None));
        Ok(d)
    }

    /// Discovers again (new keys), unless an unknown key already made it
    /// do so within the last minute: `None` then.
    async fn rediscover(&self) -> Result<Option<std::sync::Arc<Discovered>>, OidcError> {
        let mut slot = self.discovered.write().await;
        if slot
            .as_ref()
            .and_then(|(_, at)| *at)
            .is_some_and(|at| at.elapsed() < REDISCOVER_AFTER)
        {
            return Ok(None);
        }
        let d = std::sync::Arc::new(self.discover().await?);
        *slot = Some((d.clone(), Some(std::time::Instant::now())));
        tracing::info!("sign-in: the provider's keys were read again");
        Ok(Some(d))
    }

    async fn discover(&self) -> Result<Discovered, OidcError> {
        let issuer = IssuerUrl::new(self.issuer.clone())
            .map_err(|e| OidcError::Unreachable(e.to_string()))?;
        let metadata = CoreProviderMetadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| OidcError::Unreachable(format!("discovery: {e}")))?;
        // end_session_endpoint is not in the core metadata type.
        let raw: Value = self
            .http
            .get(format!("{}/.well-known/openid-configuration", self.issuer))
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| OidcError::Unreachable(e.to_string()))?
            .json()
            .await
            .map_err(|e| OidcError::Unreachable(e.to_string()))?;
        let redirect = RedirectUrl::new(self.redirect_uri.clone())
            .map_err(|e| OidcError::Unreachable(e.to_string()))?;
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.client_id.clone()),
            self.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(redirect);
        Ok(Discovered {
            client,
            end_session_endpoint: raw["end_session_endpoint"].as_str().map(str::to_owned),
        })
    }

    /// Where to send the browser to sign in.
    pub async fn start(&self) -> Result<LoginStart, OidcError> {
        let d = self.discovered().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = d.client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for scope in self.scopes.iter().filter(|s| *s != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        Ok(LoginStart {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// Exchanges the code and checks the ID token.
    pub async fn finish(
        &self,
        code: &str,
        pkce_verifier: &str,
        nonce: &str,
    ) -> Result<SignedIn, OidcError> {
        let d = self.discovered().await?;
        let response = d
            .client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| OidcError::Token(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                openidconnect::RequestTokenError::Request(inner) => {
                    OidcError::Unreachable(inner.to_string())
                }
                other => OidcError::Token(other.to_string()),
            })?;
        let id_token = response
            .id_token()
            .ok_or_else(|| OidcError::Token("no ID token in the response".into()))?;
        let nonce = Nonce::new(nonce.to_owned());
        let claims = match id_token.claims(&d.client.id_token_verifier(), &nonce) {
            Ok(claims) => claims.clone(),
            Err(openidconnect::ClaimsVerificationError::SignatureVerification(
                openidconnect::SignatureVerificationError::NoMatchingKey,
            )) => {
                // Signed with a key we have not seen: the provider rotated.
                let fresh = self.rediscover().await?.ok_or_else(|| {
                    OidcError::Token("the ID token's key is not in the provider's keys".into())
                })?;
                let verifier = fresh.client.id_token_verifier();
                let claims = id_token
                    .claims(&verifier, &nonce)
                    .map_err(|e| OidcError::Token(e.to_string()))?
                    .clone();
                claims
            }
            Err(e) => return Err(OidcError::Token(e.to_string())),
        };
        // The signature, issuer, audience, expiry and nonce are verified
        // above; the claims Kauko maps (which the core type does not model)
        // are read from the same verified payload.
        let jwt = id_token.to_string();
        let payload = jwt
            .split('.')
            .nth(1)
            .ok_or_else(|| OidcError::Token("malformed ID token".into()))?;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload.trim_end_matches('='))
            .map_err(|e| OidcError::Token(e.to_string()))?;
        let raw: Value =
            serde_json::from_slice(&bytes).map_err(|e| OidcError::Token(e.to_string()))?;
        let user_id = match raw.get(&self.user_id_claim) {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => {
                return Err(OidcError::Token(format!(
                    "the ID token has no `{}` claim",
                    self.user_id_claim
                )))
            }
        };
        let staff = match raw.get(&self.staff_claim) {
            Some(Value::String(s)) => s == &self.staff_value,
            Some(Value::Array(values)) => values
                .iter()
                .any(|v| v.as_str() == Some(self.staff_value.as_str())),
            _ => false,
        };
        let name = claims
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str().to_owned())
            .or_else(|| claims.preferred_username().map(|u| u.as_str().to_owned()))
            .unwrap_or_else(|| user_id.clone());
        Ok(SignedIn {
            viewer: Viewer {
                user_id,
                name,
                staff,
            },
            email: claims.email().map(|e| e.as_str().to_owned()),
            groups: match raw.get(&self.groups_claim) {
                Some(Value::String(s)) => vec![s.clone()],
                Some(Value::Array(values)) => values
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
                _ => Vec::new(),
            }
            .into_iter()
            .filter(|g| !g.is_empty() && g.chars().count() <= 64)
            .take(50)
            .collect(),
            locale: raw
                .get("locale")
                .and_then(Value::as_str)
                .map(|l| l.chars().take(35).collect()),
            id_token: jwt,
        })
    }

    /// The provider's logout URL, when it has one.
    pub async fn logout_url(&self, id_token: Option<&str>, post_logout: &str) -> Option<String> {
        let d = self.discovered().await.ok()?;
        let mut url = reqwest::Url::parse(d.end_session_endpoint.as_deref()?).ok()?;
        {
            let mut q = url.query_pairs_mut();
            if let Some(t) = id_token {
                q.append_pair("id_token_hint", t);
            }
            q.append_pair("post_logout_redirect_uri", post_logout);
            q.append_pair("client_id", &self.client_id);
        }
        Some(url.to_string())
    }
}
