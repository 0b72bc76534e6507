//! Every indicator against golden values from TA-Lib 0.8.1 (and numpy where TA-Lib has none):
//! see `pipelines/golden/gen_talib.py` for how the files were made. Each golden column header is
//! an indicator spec; the test parses it, runs the streaming indicator over the same bars and
//! compares row by row: the same warm-up (None exactly where TA-Lib has NaN) and values within
//! 1e-9 relative.

use elite_pipelines::indicators::Ohlcv;
use elite_pipelines::spec::{IndicatorSpec, Obs};
use std::io::Read;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR"))
        .join("..")
}

fn read_csv(path: &std::path::Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut text = String::new();
    let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if path.extension().is_some_and(|e| e == "gz") {
        flate2::read::GzDecoder::new(f)
            .read_to_string(&mut text)
            .unwrap();
    } else {
        std::io::BufReader::new(f)
            .read_to_string(&mut text)
            .unwrap();
    }
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|x| x.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

fn days(date: &str) -> i64 {
    let d = chrono::NaiveDate::parse_from_str(&date[..10], "%Y-%m-%d").unwrap();
    d.signed_duration_since(chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap())
        .num_days()
}

/// Compare one golden file; returns the number of values compared.
fn check(golden: &str, obs: &[Obs]) -> usize {
    let (header, rows) = read_csv(&root().join("pipelines/golden").join(golden));
    assert_eq!(rows.len(), obs.len(), "{golden}: row count");
    let mut compared = 0;
    let mut failures = vec![];
    for (c, name) in header.iter().enumerate().skip(1) {
        let spec: IndicatorSpec = name.parse().unwrap_or_else(|e| panic!("{golden}: {e}"));
        let mut ind = spec.build();
        let mut worst = (0.0f64, 0usize);
        for (i, (o, row)) in obs.iter().zip(&rows).enumerate() {
            let got = ind.update(o);
            let want = (!row[c].is_empty()).then(|| row[c].parse::<f64>().unwrap());
            match (got, want) {
                (None, None) => {}
                (Some(g), Some(w)) => {
                    compared += 1;
                    match elite_warehouse::approx::max_rel_diff(&[g], &[w]) {
                        Ok((rel, _)) if rel > worst.0 => worst = (rel, i),
                        Ok(_) => {}
                        Err(e) => {
                            failures.push(format!("{golden} {name} row {i}: {e}"));
                            break;
                        }
                    }
                }
                (g, w) => {
                    failures.push(format!(
                        "{golden} {name} row {i}: got {g:?}, TA-Lib {w:?} (warm-up differs)"
                    ));
                    break;
                }
            }
        }
        if worst.0 > 1e-9 {
            failures.push(format!(
                "{golden} {name}: worst relative error {:.3e} at row {}",
                worst.0, worst.1
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    compared
}

fn bars(file: &str, limit: usize) -> Vec<Obs> {
    let (header, rows) = read_csv(&root().join("collectors/fixtures/bars").join(file));
    assert_eq!(header, ["ts", "open", "high", "low", "close", "volume"]);
    rows.iter()
        .take(limit)
        .map(|r| {
            let f = |i: usize| r[i].parse::<f64>().unwrap();
            Obs {
                bar: Ohlcv::new(f(1), f(2), f(3), f(4), f(5)),
                session: days(&r[0]),
                other: 0.0,
            }
        })
        .collect()
}

#[test]
fn goog_daily_matches_talib() {
    let n = check("GOOG_1d.talib.csv.gz", &bars("GOOG_1d.csv", usize::MAX));
    assert!(n > 70_000, "{n}");
}

#[test]
fn eurusd_hourly_matches_talib() {
    let n = check("EURUSD_1h.talib.csv.gz", &bars("EURUSD_1h.csv", 2000));
    assert!(n > 70_000, "{n}");
}

#[test]
fn msft_on_sp500_beta_and_correlation_match_talib() {
    let (_, rows) = read_csv(&root().join("pipelines/golden/MSFT_AAPL_SP500_1d.csv"));
    let obs: Vec<Obs> = rows
        .iter()
        .map(|r| Obs {
            bar: Ohlcv {
                close: r[1].parse().unwrap(),
                ..Default::default()
            },
            other: r[3].parse().unwrap(),
            session: 0,
        })
        .collect();
    let n = check("MSFT_SP500_1d.talib.csv.gz", &obs);
    assert!(n > 7000, "{n}");
}
