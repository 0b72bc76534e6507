//! # elite-text — scoring text for sentiment
//!
//! | scorer | what | module |
//! |---|---|---|
//! | `vader` | VADER, equal to Python `vaderSentiment` 3.3.2 `polarity_scores` | [`vader`] |
//! | `lm` | Loughran-McDonald finance dictionary (user-supplied), Snowball-stemmed | [`lm`] |
//! | `finbert` | a FinBERT-class transformer (user-supplied ONNX + `tokenizer.json`), behind [`TextModel`] | `elite-onnx` |
//!
//! [`tagging`] finds the symbols a text is about through aliases. [`eval`] measures a scorer against labelled sentences (accuracy, macro-F1). Pure functions; no
//! I/O except loading a dictionary file.
//!
//! ```
//! let s = elite_text::vader::polarity_scores("The book was good.");
//! assert_eq!((s.neg, s.neu, s.pos, s.compound), (0.0, 0.508, 0.492, 0.4404));
//! ```

pub mod eval;
pub mod lm;
pub mod tagging;
pub mod vader;

use serde::Serialize;

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("reading {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{origin}: {source}")]
    Csv {
        origin: String,
        #[source]
        source: csv::Error,
    },
    #[error("{origin}: no column `{column}` in the header")]
    MissingColumn { origin: String, column: String },
    #[error("{origin}: line {line}, column `{column}`: {value:?} is not a number (a year or 0)")]
    BadCell {
        origin: String,
        line: usize,
        column: String,
        value: String,
    },
    #[error("{origin}: no word with any category")]
    EmptyDictionary { origin: String },
    #[error("unknown scorer {0:?} (vader, lm or finbert)")]
    UnknownScorer(String),
    #[error("scoring with {scorer}: {source}")]
    Model {
        scorer: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The scorers, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ScorerKind {
    Vader,
    Lm,
    Finbert,
}

impl ScorerKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Vader => "vader",
            Self::Lm => "lm",
            Self::Finbert => "finbert",
        }
    }
}

impl std::str::FromStr for ScorerKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "vader" => Ok(Self::Vader),
            "lm" => Ok(Self::Lm),
            "finbert" => Ok(Self::Finbert),
            other => Err(Error::UnknownScorer(other.to_string())),
        }
    }
}

/// A learned text classifier (the `finbert` scorer lives in `elite-onnx`, which keeps ONNX
/// Runtime's native code out of this crate).
pub trait TextModel: std::fmt::Debug + Send + Sync {
    /// The version recorded with every score: names the model's bytes, so a different model is a
    /// different version.
    fn version(&self) -> &str;
    /// Score one text. The parts begin with the class probabilities in [`eval::CLASSES`]'
    /// order (`negative`, `neutral`, `positive`); the score is P(positive) − P(negative).
    fn score(
        &self,
        text: &str,
    ) -> std::result::Result<Score, Box<dyn std::error::Error + Send + Sync>>;
}

/// A scorer ready to use.
#[derive(Debug)]
pub enum Scorer {
    Vader,
    Lm(Box<lm::LmDictionary>),
    /// A learned classifier ([`ScorerKind::Finbert`]).
    Model(Box<dyn TextModel>),
}

/// One text's score: a signed headline number in [-1, 1] plus the scorer's own numbers.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Score {
    /// VADER's compound; LM's polarity; a model's P(positive) − P(negative).
    pub score: f64,
    /// The scorer's numbers by name, in a fixed order.
    pub parts: Vec<(&'static str, f64)>,
}

impl Scorer {
    pub fn kind(&self) -> ScorerKind {
        match self {
            Self::Vader => ScorerKind::Vader,
            Self::Lm(_) => ScorerKind::Lm,
            Self::Model(_) => ScorerKind::Finbert,
        }
    }

    /// The version recorded with every score: changes whenever the scorer's output could.
    pub fn version(&self) -> &str {
        match self {
            Self::Vader => "vader-3.3.2",
            Self::Lm(_) => "lm-snowball-1",
            Self::Model(m) => m.version(),
        }
    }

    /// Score one text (only a model can fail: its runtime reports an error).
    pub fn score(&self, text: &str) -> Result<Score> {
        Ok(match self {
            Self::Model(m) => m.score(text).map_err(|source| Error::Model {
                scorer: m.version().to_string(),
                source,
            })?,
            Self::Vader => {
                let s = vader::polarity_scores(text);
                Score {
                    score: s.compound,
                    parts: vec![
                        ("neg", s.neg),
                        ("neu", s.neu),
                        ("pos", s.pos),
                        ("compound", s.compound),
                    ],
                }
            }
            Self::Lm(d) => {
                let s = d.score(text);
                Score {
                    score: s.polarity,
                    parts: vec![
                        ("words", s.words as f64),
                        ("negative", s.negative as f64),
                        ("positive", s.positive as f64),
                        ("uncertainty", s.uncertainty as f64),
                        ("litigious", s.litigious as f64),
                        ("constraining", s.constraining as f64),
                        ("polarity", s.polarity),
                        ("subjectivity", s.subjectivity),
                    ],
                }
            }
        })
    }

    /// The class a score falls in: VADER's published thresholds (compound ≥ 0.05 positive,
    /// ≤ −0.05 negative); LM by the sign of the polarity; a model's most probable class (the
    /// first of equals).
    pub fn classify(&self, s: &Score) -> usize {
        let t = match self {
            Self::Vader => 0.05,
            Self::Lm(_) => f64::MIN_POSITIVE,
            Self::Model(_) => {
                let p = |k: usize| s.parts.get(k).map_or(f64::NEG_INFINITY, |x| x.1);
                return (0..3).fold(0, |best, k| if p(k) > p(best) { k } else { best });
            }
        };
        if s.score >= t {
            2
        } else if s.score <= -t {
            0
        } else {
            1
        }
    }
}
