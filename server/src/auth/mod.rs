//! Sign-in through the university's OpenID Connect provider (Authorization
//! Code with PKCE), server-side sessions shared through the database, and
//! the guards that keep each patron to their own data.
//!
//! - [`routes`]: `/auth/login`, `/auth/callback`, `/auth/logout`.
//! - [`session`]: the session store and the cookie that names a session.
//! - [`guard`]: resolves the session on every request, protects pages, and
//!   checks the Origin of state-changing requests (CSRF).

pub mod guard;
pub mod oidc;
pub mod return_to;
pub mod routes;
pub mod session;

use std::sync::Arc;

use crate::config::Config;
use crate::storage::Db;

/// Everything sign-in needs, shared by the routes and the guard.
#[derive(Clone)]
pub struct Auth {
    pub provider: Option<Arc<oidc::Provider>>,
    pub sessions: session::SessionStore,
    pub cookies: session::CookiePolicy,
    pub public_url: String,
}

impl Auth {
    pub fn from_config(config: &Config, db: &Db) -> Self {
        let public_url = config.public_url();
        let provider = config
            .auth
            .issuer_url
            .as_deref()
            .filter(|u| !u.is_empty())
            .map(|issuer| Arc::new(oidc::Provider::new(issuer, &config.auth, &public_url)));
        Self {
            provider,
            sessions: session::SessionStore::new(db.clone(), &config.auth),
            cookies: session::CookiePolicy::for_origin(&public_url),
            public_url,
        }
    }
}
