//! Settings: flags > `ELITE_*` environment > config file > defaults.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;

use crate::args::{Format, GlobalArgs};

/// The config file (TOML). Every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub home: Option<String>,
    pub format: Option<Format>,
    pub no_progress: Option<bool>,
    pub yahoo_base_url: Option<String>,
    pub upstox_base_url: Option<String>,
    /// Prefer the UPSTOX_ACCESS_TOKEN environment variable; never commit a token.
    pub upstox_access_token: Option<String>,
    /// Object-store options (e.g. AWS_REGION, AWS_ENDPOINT_URL, credentials).
    #[serde(default)]
    pub storage_options: HashMap<String, String>,
}

/// Resolved settings every command receives.
#[derive(Debug)]
pub struct Settings {
    pub home: String,
    pub format: Format,
    pub progress: bool,
    pub quiet: bool,
    pub yahoo_base_url: String,
    pub upstox_base_url: String,
    pub upstox_access_token: Option<String>,
    pub storage_options: HashMap<String, String>,
}

fn default_config_path() -> Option<PathBuf> {
    let local = Path::new("elite.toml");
    if local.exists() {
        return Some(local.to_path_buf());
    }
    let home = std::env::var_os("HOME")?;
    let p = Path::new(&home).join(".config/elite/config.toml");
    p.exists().then_some(p)
}

impl Settings {
    pub fn resolve(g: &GlobalArgs) -> Result<Self> {
        let path = g.config.clone().or_else(default_config_path);
        let file = match &path {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("cannot read config file {}", p.display()))?;
                toml::from_str::<ConfigFile>(&text)
                    .with_context(|| format!("invalid config file {}", p.display()))?
            }
            None => ConfigFile::default(),
        };
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Ok(Self {
            home: g
                .home
                .clone()
                .or(file.home)
                .unwrap_or_else(|| "./elite-data".into()),
            format: g.format.or(file.format).unwrap_or(Format::Table),
            progress: !(g.no_progress || file.no_progress.unwrap_or(false)),
            quiet: g.quiet,
            yahoo_base_url: file
                .yahoo_base_url
                .unwrap_or_else(|| elite_collectors::yahoo::YAHOO_BASE.into()),
            upstox_base_url: file
                .upstox_base_url
                .unwrap_or_else(|| elite_collectors::upstox::UPSTOX_BASE.into()),
            upstox_access_token: env("UPSTOX_ACCESS_TOKEN").or(file.upstox_access_token),
            storage_options: file.storage_options,
        })
    }

    /// Open the warehouse these settings name.
    pub fn warehouse(&self) -> Result<elite_store::Warehouse> {
        Ok(elite_store::Warehouse::open(&self.home)?
            .with_storage_options(self.storage_options.clone()))
    }
}
