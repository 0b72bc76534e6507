//! The arguments of `elite sentiment …`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum SentimentCommand {
    /// Score texts (arguments, or one per line on stdin) with one scorer: one row per text with
    /// every number of that scorer; needs no warehouse
    #[command(after_help = "Examples:
  elite sentiment score \"Profit rose 20%, beating estimates\" \"Shares plunge on fraud probe\"
  elite sentiment score --scorer lm --lm-dictionary LM_MasterDictionary.csv < headlines.txt
  elite --format json sentiment score --scorer vader \"VADER is VERY SMART!!!\"")]
    Score(SentimentScoreArgs),
    /// Accuracy and macro-F1 of each scorer against labelled sentences (negative/neutral/positive)
    #[command(after_help = "Example:
  elite sentiment eval Sentences_AllAgree.csv --scorer vader --scorer lm --lm-dictionary LM.csv")]
    Eval(SentimentEvalArgs),
}

/// Which scorer, and where its dictionary is.
#[derive(Debug, Args, Clone)]
pub struct LmDictionaryArg {
    /// The Loughran-McDonald dictionary CSV (the master dictionary, or any CSV with `word` and
    /// the category columns; `.gz` is read): user-supplied, its licence forbids bundling it
    #[arg(long, env = "ELITE_LM_DICTIONARY", value_name = "CSV")]
    pub lm_dictionary: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SentimentScoreArgs {
    /// vader (VADER, as vaderSentiment 3.3.2) or lm (Loughran-McDonald, stemmed)
    #[arg(long, default_value = "vader", value_parser = ["vader", "lm"])]
    pub scorer: String,
    #[command(flatten)]
    pub dict: LmDictionaryArg,
    /// The texts; none: read one text per line from stdin
    pub texts: Vec<String>,
}

#[derive(Debug, Args)]
pub struct SentimentEvalArgs {
    /// Labelled sentences: a CSV with a text column and a label column
    pub file: PathBuf,
    /// Scorers to evaluate (repeat the flag)
    #[arg(long = "scorer", default_values_t = ["vader".to_string()], value_parser = ["vader", "lm"])]
    pub scorers: Vec<String>,
    #[command(flatten)]
    pub dict: LmDictionaryArg,
    /// The column holding the text
    #[arg(long, default_value = "sentence")]
    pub text_column: String,
    /// The column holding the label (negative, neutral or positive; rows with another label are
    /// counted as skipped)
    #[arg(long, default_value = "label")]
    pub label_column: String,
}
