//! Loughran-McDonald finance dictionary scoring (Loughran & McDonald, J. Finance 2011).
//!
//! The dictionary is the user's file (its licence forbids shipping it): the LM master dictionary
//! CSV (`Word,…,Negative,Positive,Uncertainty,Litigious,Constraining,…`) or any CSV with a `word`
//! column and those category columns. A category cell holds the year the word entered it (a
//! negative year: removed that year; 0: never), so a word belongs where the cell is > 0.
//!
//! Both the dictionary's words and the text's tokens are stemmed with the Snowball English stemmer
//! (`rust-stemmers`), so "losses", "loss" and "lossy" meet at one stem; a stem carries every category
//! of the words that share it. As in LM (2011), a positive word with a negator (no, not, none,
//! neither, never, nobody) among the three tokens before it counts as negative.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use rust_stemmers::{Algorithm, Stemmer};
use serde::Serialize;

use crate::{Error, Result};

/// The categories scored, in column order of the output.
pub const CATEGORIES: [&str; 5] = [
    "negative",
    "positive",
    "uncertainty",
    "litigious",
    "constraining",
];

const NEGATORS: [&str; 6] = ["no", "not", "none", "neither", "never", "nobody"];

/// One text's Loughran-McDonald scores.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct LmScores {
    /// Tokens read (alphabetic runs).
    pub words: usize,
    pub negative: usize,
    pub positive: usize,
    pub uncertainty: usize,
    pub litigious: usize,
    pub constraining: usize,
    /// (positive − negative) / (positive + negative); 0 when neither occurs.
    pub polarity: f64,
    /// (positive + negative) / words; 0 for an empty text.
    pub subjectivity: f64,
}

/// A loaded dictionary: stem → category bits (bit i = `CATEGORIES[i]`).
pub struct LmDictionary {
    stems: HashMap<String, u8>,
    words: usize,
    stemmer: Stemmer,
}

impl std::fmt::Debug for LmDictionary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LmDictionary")
            .field("words", &self.words)
            .field("stems", &self.stems.len())
            .finish()
    }
}

fn stem<'a>(stemmer: &Stemmer, lower: &'a str) -> Cow<'a, str> {
    stemmer.stem(lower)
}

impl LmDictionary {
    /// Load a dictionary CSV (optionally `.gz`).
    pub fn load(path: &Path) -> Result<Self> {
        let io = |source| Error::Io {
            path: path.display().to_string(),
            source,
        };
        let raw = std::fs::read(path).map_err(io)?;
        let bytes = if path.extension().is_some_and(|e| e == "gz") {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&raw[..])
                .read_to_end(&mut out)
                .map_err(io)?;
            out
        } else {
            raw
        };
        Self::from_csv(&bytes, &path.display().to_string())
    }

    /// Parse a dictionary CSV already in memory; `origin` names it in errors.
    pub fn from_csv(bytes: &[u8], origin: &str) -> Result<Self> {
        let csv_err = |source| Error::Csv {
            origin: origin.to_string(),
            source,
        };
        let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
        let headers = rdr.headers().map_err(csv_err)?.clone();
        let find = |name: &str| {
            headers
                .iter()
                .position(|h| {
                    h.trim()
                        .trim_start_matches('\u{feff}')
                        .eq_ignore_ascii_case(name)
                })
                .ok_or_else(|| Error::MissingColumn {
                    origin: origin.to_string(),
                    column: name.to_string(),
                })
        };
        let word_col = find("word")?;
        let cat_cols = CATEGORIES.map(find);
        let cat_cols: Vec<usize> = cat_cols.into_iter().collect::<Result<_>>()?;
        let stemmer = Stemmer::create(Algorithm::English);
        let mut stems: HashMap<String, u8> = HashMap::new();
        let mut words = 0;
        for (i, rec) in rdr.records().enumerate() {
            let rec = rec.map_err(csv_err)?;
            let Some(word) = rec.get(word_col).map(str::trim).filter(|w| !w.is_empty()) else {
                continue;
            };
            let mut bits = 0u8;
            for (k, &c) in cat_cols.iter().enumerate() {
                let cell = rec.get(c).unwrap_or("").trim();
                let year: f64 = if cell.is_empty() {
                    0.0
                } else {
                    cell.parse().map_err(|_| Error::BadCell {
                        origin: origin.to_string(),
                        line: i + 2,
                        column: CATEGORIES[k].to_string(),
                        value: cell.to_string(),
                    })?
                };
                if year > 0.0 {
                    bits |= 1 << k;
                }
            }
            words += 1;
            if bits != 0 {
                let lower = word.to_lowercase();
                *stems
                    .entry(stem(&stemmer, &lower).into_owned())
                    .or_default() |= bits;
            }
        }
        if stems.is_empty() {
            return Err(Error::EmptyDictionary {
                origin: origin.to_string(),
            });
        }
        Ok(Self {
            stems,
            words,
            stemmer,
        })
    }

    /// Dictionary rows read.
    pub fn words(&self) -> usize {
        self.words
    }

    /// Distinct stems with a category.
    pub fn stems(&self) -> usize {
        self.stems.len()
    }

    /// Score one text.
    pub fn score(&self, text: &str) -> LmScores {
        let tokens: Vec<String> = text
            .split(|c: char| !c.is_alphabetic())
            .filter(|t| !t.is_empty())
            .map(str::to_lowercase)
            .collect();
        let mut counts = [0usize; 5];
        for (i, tok) in tokens.iter().enumerate() {
            let Some(&bits) = self.stems.get(stem(&self.stemmer, tok).as_ref()) else {
                continue;
            };
            for (k, c) in counts.iter_mut().enumerate() {
                if bits & (1 << k) != 0 {
                    *c += 1;
                }
            }
            let negated = tokens[i.saturating_sub(3)..i]
                .iter()
                .any(|t| NEGATORS.contains(&t.as_str()));
            if bits & 0b10 != 0 && negated {
                counts[1] -= 1;
                counts[0] += usize::from(bits & 0b01 == 0);
            }
        }
        let [negative, positive, uncertainty, litigious, constraining] = counts;
        let pn = (positive + negative) as f64;
        LmScores {
            words: tokens.len(),
            negative,
            positive,
            uncertainty,
            litigious,
            constraining,
            polarity: if pn > 0.0 {
                (positive as f64 - negative as f64) / pn
            } else {
                0.0
            },
            subjectivity: if tokens.is_empty() {
                0.0
            } else {
                pn / tokens.len() as f64
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DICT: &str = "Word,Negative,Positive,Uncertainty,Litigious,Constraining\n\
        LOSS,2009,0,0,0,0\nLOSSES,2009,0,0,0,0\nGAIN,0,2009,0,0,0\nIMPROVED,0,2009,0,0,0\n\
        MAY,0,0,2009,0,0\nLAWSUIT,0,0,0,2009,0\nREQUIRED,0,0,0,0,2009\nOLDWORD,-2020,0,0,0,0\n";

    #[test]
    fn counts_stemmed_categories_and_negated_positives() {
        let d = LmDictionary::from_csv(DICT.as_bytes(), "test").unwrap();
        let s = d.score("Net losses widened; the lawsuit may be required. Margins improve.");
        assert_eq!(
            (
                s.negative,
                s.positive,
                s.uncertainty,
                s.litigious,
                s.constraining
            ),
            (1, 1, 1, 1, 1)
        );
        assert_eq!(s.polarity, 0.0);
        // "not" two tokens before a positive word turns it negative.
        let s = d.score("Results did not improve this quarter; gains elsewhere.");
        assert_eq!((s.negative, s.positive), (1, 1));
        // A word removed from a category (negative year) is not in it.
        assert_eq!(d.score("oldword").negative, 0);
        assert_eq!(d.score("").polarity, 0.0);
    }

    #[test]
    fn a_bad_cell_names_the_line_and_column() {
        let err = LmDictionary::from_csv(
            b"word,negative,positive,uncertainty,litigious,constraining\nX,abc,0,0,0,0\n",
            "d.csv",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("d.csv") && err.contains("line 2") && err.contains("negative"),
            "{err}"
        );
        let err = LmDictionary::from_csv(b"word,negative\nX,1\n", "d.csv").unwrap_err();
        assert!(err.to_string().contains("positive"), "{err}");
    }
}
