//! Server-side sessions in the database, so every server instance sees the
//! same ones. The cookie holds a random token; the database holds only its
//! SHA-256 hash. Sessions end after a period without activity and, in any
//! case, a fixed time after sign-in.

use app::viewer::Viewer;
use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::config::AuthConfig;
use crate::storage::{parse_ts, ts, Db};

pub const SESSION_COOKIE: &str = "kauko_session";
/// Binds a login in progress to the browser that started it.
pub const LOGIN_COOKIE: &str = "kauko_login";

/// A cookie's value from a request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| app::i18n::cookie_value(c, name))
}

/// A new unguessable token (244 random bits).
pub fn new_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

pub fn hash_token(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// How Kauko's cookies are marked: SameSite=Lax, HttpOnly unless the page's
/// script must write them, and Secure unless Kauko is served over plain http
/// on this machine. The one rule for every cookie Kauko sets.
#[derive(Clone, Copy, Debug)]
pub struct CookiePolicy {
    pub secure: bool,
}

impl CookiePolicy {
    pub fn for_origin(public_url: &str) -> Self {
        let local_http = public_url.starts_with("http://127.0.0.1")
            || public_url.starts_with("http://localhost")
            || public_url.starts_with("http://[::1]");
        Self {
            secure: !local_http,
        }
    }

    /// An HttpOnly cookie (sessions, login state).
    pub fn set(&self, name: &str, value: &str, path: &str, max_age_seconds: i64) -> String {
        format!(
            "{}; HttpOnly",
            self.set_readable(name, value, path, max_age_seconds)
        )
    }

    /// A cookie the page's own script may also write (the language choice,
    /// which the browser updates when the language is switched in place).
    pub fn set_readable(
        &self,
        name: &str,
        value: &str,
        path: &str,
        max_age_seconds: i64,
    ) -> String {
        format!(
            "{name}={value}; Path={path}; Max-Age={max_age_seconds}; SameSite=Lax{}",
            if self.secure { "; Secure" } else { "" }
        )
    }

    pub fn clear(&self, name: &str, path: &str) -> String {
        self.set(name, "", path, 0)
    }

    /// The session cookie's name: over https with the `__Host-` prefix, so
    /// the browser only takes it Secure, for the whole site and from this
    /// host (no subdomain can set or shadow it).
    pub fn session_name(&self) -> &'static str {
        if self.secure {
            "__Host-kauko_session"
        } else {
            SESSION_COOKIE
        }
    }

    /// The sign-in state cookie's name (path `/auth`): `__Secure-` over
    /// https.
    pub fn login_name(&self) -> &'static str {
        if self.secure {
            "__Secure-kauko_login"
        } else {
            LOGIN_COOKIE
        }
    }
}

#[derive(Clone, Debug)]
pub struct SessionStore {
    db: Db,
    idle: Duration,
    max: Duration,
    /// How long a staff role read at sign-in holds.
    role_recheck: Duration,
    /// Sign-ins under way kept at once.
    max_pending: u64,
}

/// A live session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub viewer: Viewer,
    pub id_token: Option<String>,
}

impl SessionStore {
    pub fn new(db: Db, config: &AuthConfig) -> Self {
        Self {
            db,
            idle: Duration::minutes(i64::try_from(config.session_idle_minutes).unwrap_or(60)),
            max: Duration::hours(i64::try_from(config.session_max_hours).unwrap_or(12)),
            role_recheck: Duration::minutes(
                i64::try_from(config.role_recheck_minutes.max(1)).unwrap_or(60),
            ),
            max_pending: config.max_pending_sign_ins.max(1),
        }
    }

    /// Starts a session; returns the cookie token. A new token at every
    /// sign-in: a session id set before login is never reused.
    pub async fn create(
        &self,
        viewer: &Viewer,
        email: Option<&str>,
        id_token: Option<&str>,
    ) -> Result<String, sqlx::Error> {
        let token = new_token();
        let now = Utc::now();
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, name, email, staff, id_token, created_at, last_seen, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8)",
        )
        .bind(hash_token(&token))
        .bind(viewer.user_id.clone())
        .bind(viewer.name.clone())
        .bind(email.map(str::to_owned))
        .bind(i64::from(viewer.staff))
        .bind(id_token.map(str::to_owned))
        .bind(ts(now))
        .bind(ts(now + self.max))
        .execute(&self.db.pool)
        .await?;
        Ok(token)
    }

    /// The live session for a cookie token, refreshing its activity time;
    /// `None` for unknown, idle or expired sessions (which are removed).
    pub async fn lookup(&self, token: &str) -> Result<Option<Session>, sqlx::Error> {
        let hash = hash_token(token);
        let Some(row) = sqlx::query("SELECT user_id, name, staff, id_token, created_at, last_seen, expires_at FROM sessions WHERE token_hash = $1")
            .bind(hash.clone())
            .fetch_optional(&self.db.pool)
            .await?
        else {
            return Ok(None);
        };
        let now = Utc::now();
        let last_seen: DateTime<Utc> = parse_ts(&row.try_get::<String, _>("last_seen")?)?;
        let expires: DateTime<Utc> = parse_ts(&row.try_get::<String, _>("expires_at")?)?;
        let created: DateTime<Utc> = parse_ts(&row.try_get::<String, _>("created_at")?)?;
        let staff = row.try_get::<i64, _>("staff")? != 0;
        // A staff role is only as fresh as the sign-in that read it.
        let role_stale = staff && now - created >= self.role_recheck;
        if now >= expires || now - last_seen >= self.idle || role_stale {
            self.delete(token).await?;
            return Ok(None);
        }
        // Write activity at most once a minute.
        if now - last_seen >= Duration::minutes(1) {
            sqlx::query("UPDATE sessions SET last_seen = $1 WHERE token_hash = $2")
                .bind(ts(now))
                .bind(hash)
                .execute(&self.db.pool)
                .await?;
        }
        Ok(Some(Session {
            viewer: Viewer {
                user_id: row.try_get("user_id")?,
                name: row.try_get("name")?,
                staff,
            },
            id_token: row.try_get("id_token")?,
        }))
    }

    pub async fn delete(&self, token: &str) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(hash_token(token))
            .execute(&self.db.pool)
            .await?;
        Ok(())
    }

    /// Whether another sign-in may start: fewer than
    /// `auth.max_pending_sign_ins` are under way (expired ones are removed
    /// first when the cap is reached).
    pub async fn room_for_sign_in(&self) -> Result<bool, sqlx::Error> {
        let count = || async {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM login_states")
                .fetch_one(&self.db.pool)
                .await
        };
        let max = i64::try_from(self.max_pending).unwrap_or(i64::MAX);
        if count().await? < max {
            return Ok(true);
        }
        self.purge_expired().await?;
        Ok(count().await? < max)
    }

    /// Removes sessions and login states that can no longer be used.
    pub async fn purge_expired(&self) -> Result<u64, sqlx::Error> {
        let now = Utc::now();
        let a = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen <= $2")
            .bind(ts(now))
            .bind(ts(now - self.idle))
            .execute(&self.db.pool)
            .await?;
        let b = sqlx::query("DELETE FROM login_states WHERE created_at <= $1")
            .bind(ts(now - Duration::minutes(super::routes::LOGIN_TTL_MINUTES)))
            .execute(&self.db.pool)
            .await?;
        Ok(a.rows_affected() + b.rows_affected())
    }

    /// Test support: moves a session's clock back, as if time had passed.
    pub async fn age_for_tests(&self, token: &str, by: Duration) -> Result<(), sqlx::Error> {
        let row = sqlx::query("SELECT last_seen, expires_at FROM sessions WHERE token_hash = $1")
            .bind(hash_token(token))
            .fetch_one(&self.db.pool)
            .await?;
        let last_seen = parse_ts(&row.try_get::<String, _>("last_seen")?)? - by;
        let expires = parse_ts(&row.try_get::<String, _>("expires_at")?)? - by;
        sqlx::query("UPDATE sessions SET last_seen = $1, expires_at = $2 WHERE token_hash = $3")
            .bind(ts(last_seen))
            .bind(ts(expires))
            .bind(hash_token(token))
            .execute(&self.db.pool)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_rule_for_secure_cookies() {
        for (origin, secure) in [
            ("https://kauko.library.example.fi", true),
            ("http://kauko.library.example.fi", true),
            ("http://127.0.0.1:3000", false),
            ("http://localhost:3000", false),
        ] {
            let policy = CookiePolicy::for_origin(origin);
            let session = policy.set(SESSION_COOKIE, "t", "/", 60);
            assert_eq!(session.contains("; Secure"), secure, "{origin}");
            assert!(
                session.contains("; HttpOnly") && session.contains("SameSite=Lax"),
                "{session}"
            );
            assert!(!policy
                .set_readable("kauko_lang", "fi", "/", 60)
                .contains("HttpOnly"));
        }
        assert!(CookiePolicy::for_origin("http://127.0.0.1")
            .clear(SESSION_COOKIE, "/")
            .contains("Max-Age=0"));
    }

    #[tokio::test]
    async fn a_staff_role_is_read_again_after_the_recheck_interval() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(
            &format!("sqlite://{}/kauko.db", dir.path().display()),
            2,
            std::time::Duration::from_secs(5),
        )
        .await
        .unwrap();
        db.migrate().await.unwrap();
        let config = AuthConfig {
            role_recheck_minutes: 30,
            ..AuthConfig::default()
        };
        let store = SessionStore::new(db.clone(), &config);
        let viewer = |staff| Viewer {
            user_id: if staff { "staff".into() } else { "aino".into() },
            name: "N".into(),
            staff,
        };
        let staff = store.create(&viewer(true), None, None).await.unwrap();
        let patron = store.create(&viewer(false), None, None).await.unwrap();
        assert!(store.lookup(&staff).await.unwrap().unwrap().viewer.staff);
        // 31 minutes after sign-in (and active all along).
        sqlx::query("UPDATE sessions SET created_at = $1")
            .bind(ts(Utc::now() - Duration::minutes(31)))
            .execute(&db.pool)
            .await
            .unwrap();
        assert_eq!(
            store.lookup(&staff).await.unwrap(),
            None,
            "the staff session ends: signing in again reads the role"
        );
        assert!(
            store.lookup(&patron).await.unwrap().is_some(),
            "a patron's goes on"
        );
    }

    #[test]
    fn over_https_the_session_cookie_is_host_only() {
        let https = CookiePolicy::for_origin("https://kauko.library.example.fi");
        let cookie = https.set(https.session_name(), "t", "/", 60);
        assert!(
            cookie.starts_with("__Host-kauko_session=t; Path=/;"),
            "{cookie}"
        );
        assert!(
            cookie.contains("; Secure") && !cookie.contains("Domain"),
            "{cookie}"
        );
        let login = https.set(https.login_name(), "b", "/auth", 60);
        assert!(login.starts_with("__Secure-kauko_login=") && login.contains("; Secure"));
        let local = CookiePolicy::for_origin("http://127.0.0.1:3000");
        assert_eq!(local.session_name(), "kauko_session");
        assert_eq!(local.login_name(), "kauko_login");
    }
}
