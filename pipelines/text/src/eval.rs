//! Classification metrics for scorers against labelled sentences (three classes).

use serde::Serialize;

/// The three sentiment classes, in the order the confusion matrix uses.
pub const CLASSES: [&str; 3] = ["negative", "neutral", "positive"];

/// Class index of a label (`negative`/`neutral`/`positive`, any case), if it is one.
pub fn class_of(label: &str) -> Option<usize> {
    CLASSES
        .iter()
        .position(|c| c.eq_ignore_ascii_case(label.trim()))
}

/// Accuracy, per-class precision/recall/F1 and macro-F1 from (truth, predicted) pairs.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Evaluation {
    pub n: usize,
    /// `confusion[truth][predicted]`.
    pub confusion: [[usize; 3]; 3],
    pub accuracy: f64,
    pub precision: [f64; 3],
    pub recall: [f64; 3],
    pub f1: [f64; 3],
    pub macro_f1: f64,
}

impl Evaluation {
    /// Evaluate predicted class indices against true ones; a class never predicted and never
    /// true has F1 0 (scikit-learn's `zero_division=0`).
    pub fn from_pairs(pairs: impl IntoIterator<Item = (usize, usize)>) -> Self {
        let mut e = Self::default();
        for (t, p) in pairs {
            e.confusion[t][p] += 1;
            e.n += 1;
        }
        let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let correct: usize = (0..3).map(|k| e.confusion[k][k]).sum();
        e.accuracy = ratio(correct, e.n);
        for k in 0..3 {
            let tp = e.confusion[k][k];
            let predicted: usize = (0..3).map(|t| e.confusion[t][k]).sum();
            let actual: usize = e.confusion[k].iter().sum();
            e.precision[k] = ratio(tp, predicted);
            e.recall[k] = ratio(tp, actual);
            let (p, r) = (e.precision[k], e.recall[k]);
            e.f1[k] = if p + r > 0.0 {
                2.0 * p * r / (p + r)
            } else {
                0.0
            };
        }
        e.macro_f1 = e.f1.iter().sum::<f64>() / 3.0;
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_scikit_learn_on_a_small_case() {
        // y_true = [0,0,1,1,2,2], y_pred = [0,1,1,1,2,0]:
        // sklearn f1_score(average=None) = [0.5, 0.8, 0.6667], macro 0.65556, accuracy 4/6.
        let e = Evaluation::from_pairs([(0, 0), (0, 1), (1, 1), (1, 1), (2, 2), (2, 0)]);
        assert_eq!(e.n, 6);
        assert!((e.accuracy - 4.0 / 6.0).abs() < 1e-12);
        let want = [0.5, 0.8, 2.0 / 3.0];
        assert_eq!(e.f1.len(), want.len());
        for (got, want) in e.f1.iter().zip(want) {
            assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        }
        assert!((e.macro_f1 - (0.5 + 0.8 + 2.0 / 3.0) / 3.0).abs() < 1e-12);
        assert_eq!(class_of(" Positive"), Some(2));
        assert_eq!(class_of("1"), None);
    }
}
