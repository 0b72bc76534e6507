//! VADER sentiment (Hutto & Gilbert, ICWSM 2014), rule for rule as Python `vaderSentiment` 3.3.2
//! `SentimentIntensityAnalyzer.polarity_scores`.
//!
//! The `vader_sentiment` crate (0.1.1) is a port of an older release and differs from 3.3.2 on
//! 20 of the 100 reference sentences in `tests/data/vader_reference.csv`: booster words
//! ("very", "extremely", "kind of"), "without a doubt", "no … no", emoticons with capitals (`:D`),
//! exclamation and question-mark emphasis. This module follows 3.3.2's code path exactly — including
//! its quirks (the contrastive "but" rescales the *first* equal score, as `list.index` does) — with
//! 3.3.2's lexicon (`resources/vader_lexicon.tsv`) and the crate's emoji lexicon (identical to
//! 3.3.2's). Scores are rounded like Python's `round` (neg/neu/pos to 3 places, compound to 4).

use std::collections::HashMap;
use std::sync::LazyLock;

use serde::Serialize;

const B_INCR: f64 = 0.293;
const B_DECR: f64 = -0.293;
const C_INCR: f64 = 0.733;
const N_SCALAR: f64 = -0.74;

const NEGATE: &[&str] = &[
    "aint",
    "arent",
    "cannot",
    "cant",
    "couldnt",
    "darent",
    "didnt",
    "doesnt",
    "ain't",
    "aren't",
    "can't",
    "couldn't",
    "daren't",
    "didn't",
    "doesn't",
    "dont",
    "hadnt",
    "hasnt",
    "havent",
    "isnt",
    "mightnt",
    "mustnt",
    "neither",
    "don't",
    "hadn't",
    "hasn't",
    "haven't",
    "isn't",
    "mightn't",
    "mustn't",
    "neednt",
    "needn't",
    "never",
    "none",
    "nope",
    "nor",
    "not",
    "nothing",
    "nowhere",
    "oughtnt",
    "shant",
    "shouldnt",
    "uhuh",
    "wasnt",
    "werent",
    "oughtn't",
    "shan't",
    "shouldn't",
    "uh-uh",
    "wasn't",
    "weren't",
    "without",
    "wont",
    "wouldnt",
    "won't",
    "wouldn't",
    "rarely",
    "seldom",
    "despite",
];

const BOOSTER_INCR: &[&str] = &[
    "absolutely",
    "amazingly",
    "awfully",
    "completely",
    "considerable",
    "considerably",
    "decidedly",
    "deeply",
    "effing",
    "enormous",
    "enormously",
    "entirely",
    "especially",
    "exceptional",
    "exceptionally",
    "extreme",
    "extremely",
    "fabulously",
    "flipping",
    "flippin",
    "frackin",
    "fracking",
    "fricking",
    "frickin",
    "frigging",
    "friggin",
    "fully",
    "fuckin",
    "fucking",
    "fuggin",
    "fugging",
    "greatly",
    "hella",
    "highly",
    "hugely",
    "incredible",
    "incredibly",
    "intensely",
    "major",
    "majorly",
    "more",
    "most",
    "particularly",
    "purely",
    "quite",
    "really",
    "remarkably",
    "so",
    "substantially",
    "thoroughly",
    "total",
    "totally",
    "tremendous",
    "tremendously",
    "uber",
    "unbelievably",
    "unusually",
    "utter",
    "utterly",
    "very",
];

const BOOSTER_DECR: &[&str] = &[
    "almost",
    "barely",
    "hardly",
    "just enough",
    "kind of",
    "kinda",
    "kindof",
    "kind-of",
    "less",
    "little",
    "marginal",
    "marginally",
    "occasional",
    "occasionally",
    "partly",
    "scarce",
    "scarcely",
    "slight",
    "slightly",
    "somewhat",
    "sort of",
    "sorta",
    "sortof",
    "sort-of",
];

const SPECIAL_CASES: &[(&str, f64)] = &[
    ("the shit", 3.0),
    ("the bomb", 3.0),
    ("bad ass", 1.5),
    ("badass", 1.5),
    ("bus stop", 0.0),
    ("yeah right", -2.0),
    ("kiss of death", -1.5),
    ("to die for", 3.0),
    ("beating heart", 3.5),
];

static BOOSTERS: LazyLock<HashMap<&'static str, f64>> = LazyLock::new(|| {
    BOOSTER_INCR
        .iter()
        .map(|w| (*w, B_INCR))
        .chain(BOOSTER_DECR.iter().map(|w| (*w, B_DECR)))
        .collect()
});

/// 3.3.2's lexicon, keyed exactly as in its file (a later duplicate wins, as in Python's dict).
static LEXICON: LazyLock<HashMap<&'static str, f64>> = LazyLock::new(|| {
    include_str!("../resources/vader_lexicon.tsv")
        .lines()
        .filter_map(|line| {
            let (word, measure) = line.split_once('\t')?;
            Some((word, measure.trim().parse().ok()?))
        })
        .collect()
});

/// The four scores of `polarity_scores`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct VaderScores {
    pub neg: f64,
    pub neu: f64,
    pub pos: f64,
    pub compound: f64,
}

/// Whitespace as Python's `str.split()` sees it (Unicode White_Space plus U+001C–U+001F).
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `str.isupper()`: at least one cased character and none lower- or title-case.
fn is_upper(s: &str) -> bool {
    let mut cased = false;
    for c in s.chars() {
        if c.is_lowercase() {
            return false;
        }
        if c.is_uppercase() {
            cased = true;
        }
    }
    cased
}

/// Python's `round(x, digits)`: correctly rounded, ties to even, on the exact binary value.
pub fn py_round(x: f64, digits: usize) -> f64 {
    format!("{x:.digits$}").parse().unwrap_or(x)
}

fn in_lexicon(word: &str) -> bool {
    LEXICON.contains_key(word)
}

fn negated(word: &str) -> bool {
    NEGATE.contains(&word) || word.contains("n't")
}

fn normalize(score: f64) -> f64 {
    (score / (score * score + 15.0).sqrt()).clamp(-1.0, 1.0)
}

/// `SentiText._words_and_emoticons`: split on whitespace, strip surrounding ASCII punctuation
/// unless that leaves two characters or fewer (an emoticon).
fn words_and_emoticons(text: &str) -> Vec<String> {
    text.split(is_py_space)
        .filter(|w| !w.is_empty())
        .map(|w| {
            let stripped = w.trim_matches(|c: char| c.is_ascii_punctuation());
            if stripped.chars().count() <= 2 {
                w.to_string()
            } else {
                stripped.to_string()
            }
        })
        .collect()
}

fn scalar_inc_dec(word: &str, lower: &str, valence: f64, is_cap_diff: bool) -> f64 {
    let Some(&b) = BOOSTERS.get(lower) else {
        return 0.0;
    };
    let mut scalar = if valence < 0.0 { -b } else { b };
    if is_upper(word) && is_cap_diff {
        if valence > 0.0 {
            scalar += C_INCR;
        } else {
            scalar -= C_INCR;
        }
    }
    scalar
}

struct Text {
    words: Vec<String>,
    lower: Vec<String>,
    is_cap_diff: bool,
}

impl Text {
    fn new(text: &str) -> Self {
        let words = words_and_emoticons(text);
        let lower: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
        let caps = words.iter().filter(|w| is_upper(w)).count();
        let diff = words.len() - caps;
        Self {
            is_cap_diff: diff > 0 && diff < words.len(),
            words,
            lower,
        }
    }

    fn negation_check(&self, mut valence: f64, start_i: usize, i: usize) -> f64 {
        let w = &self.lower;
        match start_i {
            0 => {
                if negated(&w[i - 1]) {
                    valence *= N_SCALAR;
                }
            }
            1 => {
                if w[i - 2] == "never" && (w[i - 1] == "so" || w[i - 1] == "this") {
                    valence *= 1.25;
                } else if w[i - 2] == "without" && w[i - 1] == "doubt" {
                } else if negated(&w[i - 2]) {
                    valence *= N_SCALAR;
                }
            }
            _ => {
                // Python's precedence: (never and (so or this)) or (so or this), on i-2 / i-1.
                if (w[i - 3] == "never" && (w[i - 2] == "so" || w[i - 2] == "this"))
                    || (w[i - 1] == "so" || w[i - 1] == "this")
                {
                    valence *= 1.25;
                } else if w[i - 3] == "without" && (w[i - 2] == "doubt" || w[i - 1] == "doubt") {
                } else if negated(&w[i - 3]) {
                    valence *= N_SCALAR;
                }
            }
        }
        valence
    }

    fn special_idioms_check(&self, mut valence: f64, i: usize) -> f64 {
        let w = &self.lower;
        let onezero = format!("{} {}", w[i - 1], w[i]);
        let twoonezero = format!("{} {} {}", w[i - 2], w[i - 1], w[i]);
        let twoone = format!("{} {}", w[i - 2], w[i - 1]);
        let threetwoone = format!("{} {} {}", w[i - 3], w[i - 2], w[i - 1]);
        let threetwo = format!("{} {}", w[i - 3], w[i - 2]);
        let special = |s: &str| SPECIAL_CASES.iter().find(|(k, _)| *k == s).map(|(_, v)| *v);
        for seq in [&onezero, &twoonezero, &twoone, &threetwoone, &threetwo] {
            if let Some(v) = special(seq) {
                valence = v;
                break;
            }
        }
        if w.len() - 1 > i
            && let Some(v) = special(&format!("{} {}", w[i], w[i + 1]))
        {
            valence = v;
        }
        if w.len() - 1 > i + 1
            && let Some(v) = special(&format!("{} {} {}", w[i], w[i + 1], w[i + 2]))
        {
            valence = v;
        }
        for n_gram in [&threetwoone, &threetwo, &twoone] {
            if let Some(b) = BOOSTERS.get(n_gram.as_str()) {
                valence += b;
            }
        }
        valence
    }

    fn least_check(&self, mut valence: f64, i: usize) -> f64 {
        let w = &self.lower;
        if i > 1 && !in_lexicon(&w[i - 1]) && w[i - 1] == "least" {
            if w[i - 2] != "at" && w[i - 2] != "very" {
                valence *= N_SCALAR;
            }
        } else if i > 0 && !in_lexicon(&w[i - 1]) && w[i - 1] == "least" {
            valence *= N_SCALAR;
        }
        valence
    }

    fn sentiment_valence(&self, i: usize) -> f64 {
        let item = &self.words[i];
        let lower = &self.lower[i];
        let Some(&base) = LEXICON.get(lower.as_str()) else {
            return 0.0;
        };
        let w = &self.lower;
        let n = w.len();
        let mut valence = base;
        // "no" before another lexicon word negates it instead of scoring itself.
        if lower == "no" && i != n - 1 && in_lexicon(&w[i + 1]) {
            valence = 0.0;
        }
        if (i > 0 && w[i - 1] == "no")
            || (i > 1 && w[i - 2] == "no")
            || (i > 2 && w[i - 3] == "no" && (w[i - 1] == "or" || w[i - 1] == "nor"))
        {
            valence = base * N_SCALAR;
        }
        if is_upper(item) && self.is_cap_diff {
            if valence > 0.0 {
                valence += C_INCR;
            } else {
                valence -= C_INCR;
            }
        }
        for start_i in 0..3 {
            if i > start_i && !in_lexicon(&w[i - (start_i + 1)]) {
                let j = i - (start_i + 1);
                let mut s = scalar_inc_dec(&self.words[j], &w[j], valence, self.is_cap_diff);
                if start_i == 1 && s != 0.0 {
                    s *= 0.95;
                }
                if start_i == 2 && s != 0.0 {
                    s *= 0.9;
                }
                valence += s;
                valence = self.negation_check(valence, start_i, i);
                if start_i == 2 {
                    valence = self.special_idioms_check(valence, i);
                }
            }
        }
        self.least_check(valence, i)
    }
}

/// 3.3.2's `_but_check`, quirk included: each score rescales the first score equal to it.
fn but_check(lower: &[String], sentiments: &mut [f64]) {
    let Some(bi) = lower.iter().position(|w| w == "but") else {
        return;
    };
    for k in 0..sentiments.len() {
        let s = sentiments[k];
        let Some(si) = sentiments.iter().position(|x| *x == s) else {
            continue;
        };
        if si < bi {
            sentiments[si] = s * 0.5;
        } else if si > bi {
            sentiments[si] = s * 1.5;
        }
    }
}

fn punctuation_emphasis(text: &str) -> f64 {
    let ep = text.matches('!').count().min(4) as f64 * 0.292;
    let qm = match text.matches('?').count() {
        0 | 1 => 0.0,
        n @ 2..=3 => n as f64 * 0.18,
        _ => 0.96,
    };
    ep + qm
}

/// Replace each emoji (one code point in the emoji lexicon) by its description, as 3.3.2 does.
fn describe_emojis(text: &str) -> String {
    let emojis = &*vader_sentiment::EMOJI_LEXICON;
    let mut out = String::with_capacity(text.len());
    let mut prev_space = true;
    let mut buf = [0u8; 4];
    for c in text.chars() {
        if let Some(desc) = emojis.get(&*c.encode_utf8(&mut buf)) {
            if !prev_space {
                out.push(' ');
            }
            out.push_str(desc);
            prev_space = false;
        } else {
            out.push(c);
            prev_space = c == ' ';
        }
    }
    out.trim_matches(is_py_space).to_string()
}

/// VADER's `polarity_scores` of one text.
pub fn polarity_scores(text: &str) -> VaderScores {
    let text = describe_emojis(text);
    let t = Text::new(&text);
    let n = t.words.len();
    let mut sentiments = Vec::with_capacity(n);
    for i in 0..n {
        let lower = &t.lower[i];
        if BOOSTERS.contains_key(lower.as_str())
            || (i < n.saturating_sub(1) && lower == "kind" && t.lower[i + 1] == "of")
        {
            sentiments.push(0.0);
            continue;
        }
        sentiments.push(t.sentiment_valence(i));
    }
    but_check(&t.lower, &mut sentiments);
    score_valence(&sentiments, &text)
}

fn score_valence(sentiments: &[f64], text: &str) -> VaderScores {
    if sentiments.is_empty() {
        return VaderScores {
            neg: 0.0,
            neu: 0.0,
            pos: 0.0,
            compound: 0.0,
        };
    }
    let mut sum_s: f64 = sentiments.iter().sum();
    let punct = punctuation_emphasis(text);
    if sum_s > 0.0 {
        sum_s += punct;
    } else if sum_s < 0.0 {
        sum_s -= punct;
    }
    let compound = normalize(sum_s);
    let (mut pos_sum, mut neg_sum, mut neu_count) = (0.0, 0.0, 0usize);
    for &s in sentiments {
        if s > 0.0 {
            pos_sum += s + 1.0;
        }
        if s < 0.0 {
            neg_sum += s - 1.0;
        }
        if s == 0.0 {
            neu_count += 1;
        }
    }
    if pos_sum > neg_sum.abs() {
        pos_sum += punct;
    } else if pos_sum < neg_sum.abs() {
        neg_sum -= punct;
    }
    let total = pos_sum + neg_sum.abs() + neu_count as f64;
    VaderScores {
        neg: py_round((neg_sum / total).abs(), 3),
        neu: py_round((neu_count as f64 / total).abs(), 3),
        pos: py_round((pos_sum / total).abs(), 3),
        compound: py_round(compound, 4),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_round_is_half_even_on_the_binary_value() {
        assert_eq!(py_round(0.125, 2), 0.12);
        assert_eq!(py_round(0.375, 2), 0.38);
        assert_eq!(py_round(0.0005, 3), 0.001); // 0.0005 is slightly above half in binary
    }

    #[test]
    fn tokens_keep_emoticons_and_strip_words() {
        assert_eq!(
            words_and_emoticons("Make sure you :) or :D today!"),
            ["Make", "sure", "you", ":)", "or", ":D", "today"]
        );
        assert!(is_upper("SUX!") && !is_upper("Sux") && !is_upper("!!"));
    }

    #[test]
    fn but_rescales_the_first_equal_score_like_list_index() {
        let lower: Vec<String> = ["x", "y", "but", "z"].map(String::from).into();
        let mut s = [1.0, 0.5, 0.0, 1.0];
        but_check(&lower, &mut s);
        // Python 3.3.2 gives [0.25, 0.5, 0, 1.5]: the 0.5 left at index 0 is found before index 1's.
        assert_eq!(s, [0.25, 0.5, 0.0, 1.5]);
    }

    #[test]
    fn empty_text_scores_zero() {
        let s = polarity_scores("");
        assert_eq!((s.neg, s.neu, s.pos, s.compound), (0.0, 0.0, 0.0, 0.0));
    }
}
