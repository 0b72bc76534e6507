//! Which symbols a text is about: from the provider's tags and from the text, through aliases
//! (`instrument_aliases`: symbol, alias, kind), never by substring.
//!
//! - a provider tag (Yahoo's `relatedTickers`, a feed category) maps through a `ticker` alias,
//!   an EDGAR `cik:…` tag through a `cik` alias (leading zeros ignored); a provider ticker
//!   without an alias is taken as the symbol itself, a feed's `category:…` never is;
//! - a cashtag (`$AAPL`, not `$5`) maps through a `ticker`/`cashtag` alias, else is the symbol;
//! - a `name` alias ("Reliance Industries") matches as a whole run of words, case-insensitively:
//!   "Apple Inc" is found in "… Apple Inc. said …" but "Apple" is not found in "Pineapple".
//!
//! Bare tickers in running text ("IT", "A", "ALL") are not matched: too many are English words.

use std::collections::HashMap;

/// How an alias is used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AliasKind {
    Ticker,
    Cashtag,
    Name,
    Cik,
    Isin,
}

impl AliasKind {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "ticker" => Self::Ticker,
            "cashtag" => Self::Cashtag,
            "name" => Self::Name,
            "cik" => Self::Cik,
            "isin" => Self::Isin,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ticker => "ticker",
            Self::Cashtag => "cashtag",
            Self::Name => "name",
            Self::Cik => "cik",
            Self::Isin => "isin",
        }
    }
}

/// One alias of a symbol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alias {
    pub symbol: String,
    pub alias: String,
    pub kind: AliasKind,
}

/// A symbol found, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tag {
    pub symbol: String,
    /// `provider:<tag>`, `cashtag:<tag>` or `name:<alias>`.
    pub how: String,
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric() && c != '&')
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn cik_key(s: &str) -> String {
    let t = s.trim_start_matches('0');
    if t.is_empty() { "0".into() } else { t.into() }
}

/// Maps provider tags and text to symbols.
#[derive(Debug, Default)]
pub struct Tagger {
    tickers: HashMap<String, Vec<String>>,
    ciks: HashMap<String, Vec<String>>,
    /// First word of a name → (all its words, symbol).
    names: HashMap<String, Vec<(Vec<String>, String)>>,
}

impl Tagger {
    pub fn new(aliases: &[Alias]) -> Self {
        let mut t = Self::default();
        for a in aliases {
            match a.kind {
                AliasKind::Ticker | AliasKind::Cashtag | AliasKind::Isin => t
                    .tickers
                    .entry(a.alias.trim().trim_start_matches('$').to_uppercase())
                    .or_default()
                    .push(a.symbol.clone()),
                AliasKind::Cik => t
                    .ciks
                    .entry(cik_key(a.alias.trim()))
                    .or_default()
                    .push(a.symbol.clone()),
                AliasKind::Name => {
                    let w = words(&a.alias);
                    if let Some(first) = w.first() {
                        t.names
                            .entry(first.clone())
                            .or_default()
                            .push((w, a.symbol.clone()));
                    }
                }
            }
        }
        t
    }

    /// The symbols of one item: provider tags first, then cashtags and names in the text; each
    /// symbol once, with the first way it was found.
    pub fn tag(&self, provider_tags: &[String], text: &str) -> Vec<Tag> {
        let mut out: Vec<Tag> = Vec::new();
        let mut push = |symbol: &str, how: String| {
            if !symbol.is_empty() && !out.iter().any(|t| t.symbol == symbol) {
                out.push(Tag {
                    symbol: symbol.to_string(),
                    how,
                });
            }
        };
        for tag in provider_tags {
            let tag = tag.trim();
            if let Some(cik) = tag.strip_prefix("cik:") {
                for s in self.ciks.get(&cik_key(cik)).into_iter().flatten() {
                    push(s, format!("provider:{tag}"));
                }
            } else if let Some(cat) = tag.strip_prefix("category:") {
                // A feed's category ("Business", "AAPL") counts only through an alias.
                for s in self
                    .tickers
                    .get(&cat.trim().to_uppercase())
                    .into_iter()
                    .flatten()
                {
                    push(s, format!("provider:{tag}"));
                }
            } else if let Some(syms) = self.tickers.get(&tag.to_uppercase()) {
                syms.iter().for_each(|s| push(s, format!("provider:{tag}")));
            } else if is_ticker_like(tag) {
                push(tag, format!("provider:{tag}"));
            }
        }
        for cash in cashtags(text) {
            match self.tickers.get(&cash) {
                Some(syms) => syms
                    .iter()
                    .for_each(|s| push(s, format!("cashtag:${cash}"))),
                None => push(&cash, format!("cashtag:${cash}")),
            }
        }
        let w = words(text);
        for i in 0..w.len() {
            for (name, symbol) in self.names.get(&w[i]).into_iter().flatten() {
                if w.len() - i >= name.len() && w[i..i + name.len()] == name[..] {
                    push(symbol, format!("name:{}", name.join(" ")));
                }
            }
        }
        out
    }
}

/// A provider tag that can stand for a symbol: letters, digits and `.-=^&|_:` (Yahoo's `RELIANCE.NS`,
/// `EURUSD=X`, `^GSPC`, Upstox's `NSE_EQ|INE…`), 1–40 characters, at least one letter.
fn is_ticker_like(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 40
        && t.chars().any(|c| c.is_ascii_alphabetic())
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-=^&|_:".contains(c))
}

/// `$AAPL`-style cashtags: `$` at the start or after a non-alphanumeric, then a letter, then up to
/// nine letters, digits, `.` or `-`; returned upper-cased without the `$`.
pub fn cashtags(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let b = text.as_bytes();
    for (i, _) in text.match_indices('$') {
        if i > 0 && b[i - 1].is_ascii_alphanumeric() {
            continue;
        }
        let rest = &text[i + 1..];
        if !rest.starts_with(|c: char| c.is_ascii_alphabetic()) {
            continue;
        }
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'))
            .unwrap_or(rest.len())
            .min(10);
        let tag = rest[..end].trim_end_matches(['.', '-']).to_uppercase();
        if !out.contains(&tag) {
            out.push(tag);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alias(symbol: &str, alias: &str, kind: AliasKind) -> Alias {
        Alias {
            symbol: symbol.into(),
            alias: alias.into(),
            kind,
        }
    }

    #[test]
    fn tags_from_providers_cashtags_and_whole_names() {
        let t = Tagger::new(&[
            alias("AAPL", "Apple Inc", AliasKind::Name),
            alias("RELIANCE", "RELIANCE.NS", AliasKind::Ticker),
            alias("RELIANCE", "Reliance Industries", AliasKind::Name),
            alias("HNGE", "1673743", AliasKind::Cik),
        ]);
        let got = t.tag(
            &["RELIANCE.NS".into(), "cik:0001673743".into()],
            "Apple Inc. and Reliance Industries rally; $tsla $5 x$MSFT",
        );
        let syms: Vec<&str> = got.iter().map(|t| t.symbol.as_str()).collect();
        assert_eq!(syms, ["RELIANCE", "HNGE", "TSLA", "AAPL"]);
        assert_eq!(got[3].how, "name:apple inc");
        // Never a substring: "Pineapple Inc" is not Apple Inc; "apple" alone is not the name.
        assert!(t.tag(&[], "Pineapple Inc gains; apple prices").is_empty());
        // A provider ticker without an alias is the symbol; junk tags are not.
        let got = t.tag(
            &[
                "MSFT".into(),
                "Top Stories!".into(),
                "category:Business".into(),
            ],
            "",
        );
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].symbol, "MSFT");
    }

    #[test]
    fn cashtags_need_a_letter_and_a_boundary() {
        assert_eq!(cashtags("$AAPL, ($brk.b) $5 a$B $"), ["AAPL", "BRK.B"]);
    }
}
