//! Validated identifiers.

use std::fmt;

use crate::{Error, Result};

/// An instrument symbol as the source names it (`AAPL`, `EURUSD=X`, `NSE_EQ|INE002A01018`).
///
/// Checked: 1..=64 bytes, no whitespace or control characters, no `/` (symbols become
/// partition directory names in the warehouse).
#[derive(
    Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct Symbol(String);

impl Symbol {
    /// Validate and wrap `s`.
    pub fn new(s: impl Into<String>) -> Result<Self> {
        let s = s.into();
        let bad = |reason| Error::InvalidSymbol {
            value: s.clone(),
            reason,
        };
        if s.is_empty() {
            return Err(bad("empty"));
        }
        if s.len() > 64 {
            return Err(bad("longer than 64 bytes"));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("contains whitespace or control characters"));
        }
        if s.contains('/') {
            return Err(bad("contains '/'"));
        }
        Ok(Self(s))
    }

    /// The symbol text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Symbol {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        Self::new(s)
    }
}

impl From<Symbol> for String {
    fn from(s: Symbol) -> String {
        s.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_real_symbols() {
        for s in [
            "AAPL",
            "EURUSD=X",
            "BTC-USD",
            "NSE_EQ|INE002A01018",
            "WSU.DE",
            "^GSPC",
        ] {
            assert_eq!(Symbol::new(s).unwrap().as_str(), s);
        }
    }

    #[test]
    fn rejects_bad_symbols() {
        for s in ["", " AAPL", "A B", "a/b", "x\n"] {
            assert!(Symbol::new(s).is_err(), "{s:?}");
        }
        assert!(Symbol::new("x".repeat(65)).is_err());
    }
}
