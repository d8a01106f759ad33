//! Implementations of the resource-sharing port.

pub mod alma;
pub mod local;

use std::sync::Arc;

use crate::config::{BackendKind, Config, ConfigError};
use crate::port::ResourceSharing;
use crate::storage::Db;

/// The adapter the configuration names.
pub fn from_config(config: &Config, db: &Db) -> Result<Arc<dyn ResourceSharing>, ConfigError> {
    match config.backend.kind {
        BackendKind::Local => Ok(Arc::new(local::LocalBackend::new(
            db.clone(),
            local::LocalRules::from_config(config),
        ))),
        BackendKind::Alma => Ok(Arc::new(alma::AlmaBackend::new(
            db.clone(),
            alma::AlmaSettings::from_config(config)?,
        )?)),
    }
}
