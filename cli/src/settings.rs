//! Settings: flags > `ELITE_*` environment > config file > defaults.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;

use elite_warehouse::{RedactedMap, Secret};

use crate::args::{Format, GlobalArgs};

/// The config file (TOML). Every key is optional.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub home: Option<String>,
    pub format: Option<Format>,
    pub no_progress: Option<bool>,
    pub yahoo_base_url: Option<String>,
    pub upstox_base_url: Option<String>,
    /// Prefer the UPSTOX_ACCESS_TOKEN environment variable; never commit a token.
    pub upstox_access_token: Option<Secret>,
    /// Object-store options (e.g. AWS_REGION, AWS_ENDPOINT_URL, credentials).
    #[serde(default)]
    pub storage_options: HashMap<String, String>,
    /// Alert rules and channels of the long-running jobs (tokens come from the environment).
    pub alerts: Option<elite_jobs::ops::alerts::AlertConfig>,
}

impl std::fmt::Debug for ConfigFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigFile")
            .field("home", &self.home)
            .field("format", &self.format)
            .field("no_progress", &self.no_progress)
            .field("yahoo_base_url", &self.yahoo_base_url)
            .field("upstox_base_url", &self.upstox_base_url)
            .field("upstox_access_token", &self.upstox_access_token)
            .field("storage_options", &RedactedMap(&self.storage_options))
            .field("alerts", &self.alerts)
            .finish()
    }
}

/// Resolved settings every command receives. `Debug` never shows the token or storage option
/// values.
pub struct Settings {
    pub home: String,
    pub format: Format,
    pub progress: bool,
    pub quiet: bool,
    pub yahoo_base_url: String,
    pub upstox_base_url: String,
    pub upstox_access_token: Option<Secret>,
    pub storage_options: HashMap<String, String>,
    pub alerts: Option<elite_jobs::ops::alerts::AlertConfig>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("home", &self.home)
            .field("format", &self.format)
            .field("progress", &self.progress)
            .field("quiet", &self.quiet)
            .field("yahoo_base_url", &self.yahoo_base_url)
            .field("upstox_base_url", &self.upstox_base_url)
            .field("upstox_access_token", &self.upstox_access_token)
            .field("storage_options", &RedactedMap(&self.storage_options))
            .field("alerts", &self.alerts)
            .finish()
    }
}

/// A config file that does not parse, reported by line and message only: the parser's own
/// report quotes the offending line, which may hold a token.
fn config_error(path: &Path, text: &str, e: &toml::de::Error) -> anyhow::Error {
    let line = e
        .span()
        .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
    let at = line.map(|l| format!(" line {l}:")).unwrap_or_default();
    anyhow::Error::new(crate::commands::UserError(format!(
        "invalid config file {}:{at} {}",
        path.display(),
        e.message()
    )))
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
                toml::from_str::<ConfigFile>(&text).map_err(|e| config_error(p, &text, &e))?
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
            upstox_access_token: env("UPSTOX_ACCESS_TOKEN")
                .map(Secret::new)
                .or(file.upstox_access_token),
            storage_options: file.storage_options,
            alerts: file.alerts,
        })
    }

    /// Open the warehouse these settings name.
    pub fn warehouse(&self) -> Result<elite_store::Warehouse> {
        Ok(elite_store::Warehouse::open(&self.home)?
            .with_storage_options(self.storage_options.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_token_or_storage_credentials() {
        let s = Settings {
            home: "s3://bucket/elite".into(),
            format: Format::Table,
            progress: false,
            quiet: false,
            yahoo_base_url: "https://query1.finance.yahoo.com".into(),
            upstox_base_url: "https://api.upstox.com".into(),
            upstox_access_token: Some(Secret::new("tok-8f2c91")),
            storage_options: HashMap::from([(
                "AWS_SECRET_ACCESS_KEY".to_string(),
                "k-77aa".to_string(),
            )]),
            alerts: None,
        };
        let wh = elite_store::Warehouse::open("memory:///x")
            .unwrap()
            .with_storage_options(s.storage_options.clone());
        for d in [format!("{s:?}"), format!("{s:#?}"), format!("{wh:?}")] {
            assert!(!d.contains("tok-8f2c91") && !d.contains("k-77aa"), "{d}");
        }
        assert!(format!("{s:?}").contains("AWS_SECRET_ACCESS_KEY"));
        let file: ConfigFile =
            toml::from_str("upstox_access_token = \"tok-8f2c91\"\n[storage_options]\nAWS_SECRET_ACCESS_KEY = \"k-77aa\"\n")
                .unwrap();
        let d = format!("{file:?}");
        assert!(!d.contains("tok-8f2c91") && !d.contains("k-77aa"), "{d}");
    }
}
