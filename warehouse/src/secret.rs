//! [`Secret`]: a credential that never reaches logs, errors or `Debug` output.

use std::fmt;

/// A credential (an access token, a storage key). `Debug` and `Display` print `[redacted]`; only
/// [`Secret::expose`] yields the value, at the one place that sends it (an HTTP header, an
/// object-store client). Deserializes from a plain string, so config files hold it as one.
#[derive(Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself: call only where it is sent, never to print.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.trim().is_empty()
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Self(s.to_string())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// `Debug` of a map of options whose values may be credentials (object-store options such as
/// `AWS_SECRET_ACCESS_KEY`): the keys, each value shown as `[redacted]`.
pub struct RedactedMap<'a, K, V>(pub &'a std::collections::HashMap<K, V>);

impl<K: fmt::Debug + Ord, V> fmt::Debug for RedactedMap<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut keys: Vec<&K> = self.0.keys().collect();
        keys.sort();
        f.debug_map()
            .entries(keys.into_iter().map(|k| (k, format_args!("[redacted]"))))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let s = Secret::new("tok-8f2c91");
        assert_eq!(format!("{s:?}"), "Secret([redacted])");
        assert_eq!(format!("{s}"), "[redacted]");
        assert_eq!(
            format!("{:#?}", Some(&s)),
            "Some(\n    Secret([redacted]),\n)"
        );
        assert_eq!(s.expose(), "tok-8f2c91");
        let m = std::collections::HashMap::from([("AWS_SECRET_ACCESS_KEY", "k-77aa")]);
        let d = format!("{:?}", RedactedMap(&m));
        assert!(
            d.contains("AWS_SECRET_ACCESS_KEY") && !d.contains("k-77aa"),
            "{d}"
        );
    }
}
