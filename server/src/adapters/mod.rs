//! Implementations of the resource-sharing port.

pub mod alma;
pub mod local;

use std::sync::Arc;

use crate::config::{BackendKind, Config, ConfigError};
use crate::port::ResourceSharing;
use crate::storage::Db;

/// The adapter the configuration names, and the Alma adapter itself when
/// it is that one (its background sync is started by `main`).
pub struct Built {
    pub port: Arc<dyn ResourceSharing>,
    pub alma: Option<Arc<alma::AlmaBackend>>,
}

pub fn build(config: &Config, db: &Db) -> Result<Built, ConfigError> {
    match config.backend.kind {
        BackendKind::Local => Ok(Built {
            port: Arc::new(local::LocalBackend::new(
                db.clone(),
                local::LocalRules::from_config(config),
            )),
            alma: None,
        }),
        BackendKind::Alma => {
            let alma = Arc::new(alma::AlmaBackend::new(
                db.clone(),
                alma::AlmaSettings::from_config(config)?,
            )?);
            Ok(Built {
                port: alma.clone(),
                alma: Some(alma),
            })
        }
    }
}

/// The adapter the configuration names.
pub fn from_config(config: &Config, db: &Db) -> Result<Arc<dyn ResourceSharing>, ConfigError> {
    Ok(build(config, db)?.port)
}
