//! `elite sentiment …`: score texts and evaluate scorers.

use std::io::BufRead;

use anyhow::{Context, Result};
use elite_text::eval::{CLASSES, Evaluation, class_of};
use elite_text::lm::LmDictionary;
use elite_text::{Scorer, ScorerKind};
use serde::Serialize;
use serde_json::{Map, Value};

use super::user_bail;
use crate::args::{
    AltSignalsArgs, ImpactArgs, ScorerFilesArg, SentimentBuildArgs, SentimentEvalArgs,
    SentimentScoreArgs, SpikesArgs,
};
use crate::printer::Printer;
use crate::settings::Settings;

/// Build a scorer by name; `lm` needs the dictionary path, `finbert` the model directory.
pub fn scorer(name: &str, dict: &ScorerFilesArg) -> Result<Scorer> {
    Ok(match name.parse::<ScorerKind>()? {
        ScorerKind::Vader => Scorer::Vader,
        ScorerKind::Lm => {
            let Some(path) = &dict.lm_dictionary else {
                user_bail!(
                    "the lm scorer needs the Loughran-McDonald dictionary: --lm-dictionary FILE.csv \
                     (or ELITE_LM_DICTIONARY); it is not shipped with Elite (its licence forbids it)"
                )
            };
            Scorer::Lm(Box::new(LmDictionary::load(path)?))
        }
        ScorerKind::Finbert => {
            let Some(dir) = &dict.finbert_model else {
                user_bail!(
                    "the finbert scorer needs a model: --finbert-model DIR (or ELITE_FINBERT_MODEL) \
                     holding model.onnx, tokenizer.json and config.json"
                )
            };
            let m = elite_onnx::text::TextClassifier::load(dir)
                .with_context(|| format!("loading the finbert model in {}", dir.display()))?;
            Scorer::Model(Box::new(m))
        }
    })
}

pub fn score(a: SentimentScoreArgs, printer: &Printer) -> Result<()> {
    let s = scorer(&a.scorer, &a.dict)?;
    let texts = if a.texts.is_empty() {
        std::io::stdin()
            .lock()
            .lines()
            .collect::<std::io::Result<Vec<_>>>()
            .context("reading texts from stdin")?
    } else {
        a.texts
    };
    let rows: Vec<Value> = texts
        .iter()
        .map(|t| {
            let sc = s.score(t)?;
            let mut m = Map::new();
            m.insert("text".into(), t.clone().into());
            m.insert("scorer".into(), s.version().into());
            m.insert("label".into(), CLASSES[s.classify(&sc)].into());
            for (k, v) in sc.parts {
                m.insert(k.into(), v.into());
            }
            Ok(Value::Object(m))
        })
        .collect::<Result<_>>()?;
    printer.records(&rows)
}

#[derive(Serialize)]
struct EvalRow {
    scorer: String,
    sentences: usize,
    skipped: usize,
    accuracy: f64,
    macro_f1: f64,
    f1_negative: f64,
    f1_neutral: f64,
    f1_positive: f64,
    /// Rows: true class; columns: predicted (negative, neutral, positive).
    confusion: String,
}

pub fn eval(a: SentimentEvalArgs, printer: &Printer) -> Result<()> {
    let path = a.file.display().to_string();
    let mut rdr = csv::Reader::from_path(&a.file).with_context(|| format!("opening {path}"))?;
    let headers = rdr
        .headers()
        .with_context(|| format!("{path}: header"))?
        .clone();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (Some(tc), Some(lc)) = (col(&a.text_column), col(&a.label_column)) else {
        user_bail!(
            "{path}: needs columns `{}` and `{}` (header: {})",
            a.text_column,
            a.label_column,
            headers.iter().collect::<Vec<_>>().join(",")
        )
    };
    let mut rows = Vec::new();
    let mut skipped = 0;
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.with_context(|| format!("{path}: record {}", i + 1))?;
        match (rec.get(tc), rec.get(lc).and_then(class_of)) {
            (Some(t), Some(c)) => rows.push((t.to_string(), c)),
            _ => skipped += 1,
        }
    }
    let mut out = Vec::new();
    for name in &a.scorers {
        let s = scorer(name, &a.dict)?;
        let mut pairs = Vec::with_capacity(rows.len());
        for (t, c) in &rows {
            pairs.push((*c, s.classify(&s.score(t)?)));
        }
        let e = Evaluation::from_pairs(pairs);
        out.push(EvalRow {
            scorer: s.version().to_string(),
            sentences: e.n,
            skipped,
            accuracy: e.accuracy,
            macro_f1: e.macro_f1,
            f1_negative: e.f1[0],
            f1_neutral: e.f1[1],
            f1_positive: e.f1[2],
            confusion: format!("{:?}", e.confusion),
        });
    }
    printer.records(&out)
}

pub async fn build(a: SentimentBuildArgs, settings: &Settings, printer: &Printer) -> Result<()> {
    let s = scorer(&a.scorer, &a.dict)?;
    let r = elite_jobs::alt::score_news(&settings.warehouse()?, &s).await?;
    printer.records(&[r])
}

pub async fn spikes(a: SpikesArgs, settings: &Settings, printer: &Printer) -> Result<()> {
    let tf = elite_warehouse::Timeframe::parse(&a.bucket)?;
    let Some(bucket) = tf.fixed_nanos() else {
        user_bail!("--bucket {}: needs a fixed length (1m, 1h, 1d …)", a.bucket)
    };
    let now = elite_warehouse::Timestamp::from_datetime(&chrono::Utc::now())
        .context("the clock is outside 1970–2262")?;
    let rows = elite_jobs::social::mention_spikes(
        &settings.warehouse()?,
        a.symbol.as_deref(),
        bucket,
        a.window as usize,
        a.threshold,
        now,
    )
    .await?;
    let rows: Vec<_> = rows.into_iter().filter(|r| a.all || r.spike).collect();
    if rows.is_empty() {
        printer.note("no spikes (use --all to see every bucket)");
        return Ok(());
    }
    printer.records(&rows)
}

pub async fn impact(a: ImpactArgs, settings: &Settings, printer: &Printer) -> Result<()> {
    let opts = elite_jobs::news_impact::ImpactOptions {
        version: a.scorer_version,
        market: a.market,
        windows: elite_pipelines::event_study::Windows {
            estimation: a.estimation as usize,
            gap: a.gap as usize,
            post: a.post as usize,
        },
    };
    let r = elite_jobs::news_impact::news_impact(&settings.warehouse()?, &opts).await?;
    printer.note(format!(
        "{}: {} events read, {} measured, {} skipped (no bars, or windows outside them), {} rows added",
        r.params, r.events_read, r.events_measured, r.events_skipped, r.rows_added
    ));
    printer.records(&r.by_label)
}

pub async fn alt_signals(a: AltSignalsArgs, settings: &Settings, printer: &Printer) -> Result<()> {
    let tf = elite_warehouse::Timeframe::parse(&a.timeframe)?;
    let social = match &a.social_bucket {
        None => None,
        Some(b) => {
            let Some(bucket_ns) = elite_warehouse::Timeframe::parse(b)?.fixed_nanos() else {
                user_bail!("--social-bucket {b}: needs a fixed length (1m, 1h, 1d …)")
            };
            Some(elite_jobs::alt_signals::SocialSpikes {
                bucket_ns,
                window: a.social_window as usize,
                threshold: a.social_threshold,
                until: elite_warehouse::Timestamp::from_datetime(&chrono::Utc::now())
                    .context("the clock is outside 1970–2262")?,
            })
        }
    };
    let r = elite_jobs::alt_signals::alt_signals(
        &settings.warehouse()?,
        tf,
        &a.scorer_version,
        a.threshold,
        social.as_ref(),
    )
    .await?;
    printer.records(&[r])
}
