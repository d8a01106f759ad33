//! The contract harness for the Alma adapter: a fresh Alma API simulator on
//! a loopback port, and the adapter (built from configuration, as Kauko
//! builds it) with its own SQLite records.

use std::sync::Arc;

use app::domain::{BorrowingStatus, PatronId};
use async_trait::async_trait;
use server::alma_sim::{AlmaSim, NewSimLoan, SimConfig, SimHandle};
use server::config::Config;
use server::port::contract::Harness;
use server::port::ResourceSharing;

pub const KEY: &str = "contract-key";

/// Kauko's configuration for an Alma at `base_url` (`extra` overrides).
pub fn alma_config(base_url: &str, dir: &std::path::Path, extra: &[(&str, &str)]) -> Config {
    let mut vars: Vec<(String, String)> = vec![
        ("KAUKO_BACKEND_KIND".into(), "alma".into()),
        ("KAUKO_ALMA_URL".into(), base_url.into()),
        ("KAUKO_ALMA_API_KEY".into(), KEY.into()),
        ("KAUKO_ALMA_RS_LIBRARY".into(), "RES_SHARE".into()),
        (
            "KAUKO_DATABASE_URL".into(),
            format!("sqlite://{}/kauko.db", dir.display()),
        ),
    ];
    vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Config::from_sources("", vars).unwrap()
}

/// Creates an RS request straight in the simulator's Alma API, as Primo or
/// staff in Alma would (Kauko has no record of it); its id.
pub async fn place_in_alma(sim_base_url: &str, patron: &str, title: &str) -> String {
    let res = reqwest::Client::new()
        .post(format!(
            "{sim_base_url}/almaws/v1/users/{patron}/resource-sharing-requests"
        ))
        .header("authorization", format!("apikey {KEY}"))
        .header("accept", "application/json")
        .json(&serde_json::json!({
            "format": {"value": "PHYSICAL"},
            "citation_type": {"value": "BK"},
            "title": title,
            "agree_to_copyright_terms": true,
            "pickup_location": {"value": "MAIN"},
            "pickup_location_type": "LIBRARY"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "placing a request in the simulator");
    let body: serde_json::Value = res.json().await.unwrap();
    body["request_id"].as_str().unwrap().to_owned()
}

pub fn sim_config() -> SimConfig {
    SimConfig {
        api_keys: vec![KEY.into()],
        // Generous: the contract is about behaviour; the threshold has its
        // own tests.
        threshold_per_second: 1000,
        ..SimConfig::default()
    }
}

pub struct AlmaHarness {
    pub sim: SimHandle,
    pub port: Arc<dyn ResourceSharing>,
    pub config: Config,
    _dir: tempfile::TempDir,
}

impl AlmaHarness {
    pub async fn start() -> Self {
        Self::start_with(sim_config(), &[]).await
    }

    pub async fn start_with(sim: SimConfig, extra: &[(&str, &str)]) -> Self {
        let sim = AlmaSim::start(sim).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let config = alma_config(&sim.base_url, dir.path(), extra);
        let db = server::storage::Db::open(&config.database).await.unwrap();
        let port = server::adapters::from_config(&config, &db).unwrap();
        Self {
            sim,
            port,
            config,
            _dir: dir,
        }
    }
}

#[async_trait]
impl Harness for AlmaHarness {
    fn port(&self) -> Arc<dyn ResourceSharing> {
        self.port.clone()
    }

    async fn set_status(&self, request_id: &str, status: BorrowingStatus) {
        assert!(
            self.sim.state.set_status(request_id, status.code()),
            "no request {request_id} in the simulator"
        );
    }

    async fn check_out(
        &self,
        patron: &PatronId,
        title: &str,
        days: i64,
        renewable: bool,
    ) -> String {
        self.sim.state.add_loan(NewSimLoan {
            user_id: patron.0.clone(),
            title: title.to_owned(),
            author: None,
            due_in_days: days,
            renewable,
            rs_request_id: None,
        })
    }

    fn max_renewals(&self) -> u32 {
        self.config.requests.max_renewals
    }
}
