//! `alpha158` against an independent numpy implementation of the same definitions
//! (`pipelines/golden/gen_alpha158.py`) on real GOOG daily bars: the same 158 names in the same
//! order, the same warm-up, values within 1e-9 relative (1e-12 absolute for values near 0, which
//! sums in a different order cannot match relatively). Stream with checkpoints == uninterrupted.

use elite_pipelines::alpha158::{Alpha158, names};
use elite_pipelines::indicators::Ohlcv;
use std::io::Read;

fn read(path: &str, gz: bool) -> (Vec<String>, Vec<Vec<String>>) {
    let f = std::fs::File::open(path).unwrap();
    let mut s = String::new();
    if gz {
        flate2::read::GzDecoder::new(f)
            .read_to_string(&mut s)
            .unwrap();
    } else {
        std::io::BufReader::new(f).read_to_string(&mut s).unwrap();
    }
    let mut r = csv::Reader::from_reader(s.as_bytes());
    let h = r.headers().unwrap().iter().map(String::from).collect();
    (
        h,
        r.records()
            .map(|x| x.unwrap().iter().map(String::from).collect())
            .collect(),
    )
}

fn goog() -> Vec<Ohlcv> {
    let (_, rows) = read(
        &format!(
            "{}/../collectors/fixtures/bars/GOOG_1d.csv",
            std::env::var("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR")
        ),
        false,
    );
    rows.iter()
        .map(|r| {
            let f = |i: usize| r[i].parse::<f64>().unwrap();
            Ohlcv::new(f(1), f(2), f(3), f(4), f(5))
        })
        .collect()
}

#[test]
fn alpha158_matches_the_numpy_reference() {
    let (header, rows) = read(
        &format!(
            "{}/golden/GOOG_1d.alpha158.csv.gz",
            std::env::var("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR")
        ),
        true,
    );
    assert_eq!(header[1..], names()[..]);
    assert_eq!(names().len(), 158);
    let bars = goog();
    let mut a = Alpha158::new();
    let mut out = vec![];
    let mut compared = 0;
    let mut failures = vec![];
    for (i, row) in rows.iter().enumerate() {
        out.clear();
        a.update(&bars[i], &mut out);
        assert_eq!(out.len(), 158);
        assert_eq!(
            row.len(),
            159,
            "row {i}: the golden row has the date and 158 values"
        );
        for (k, (got, want)) in out.iter().zip(&row[1..]).enumerate() {
            let want = (!want.is_empty()).then(|| want.parse::<f64>().unwrap());
            match (got, want) {
                (None, None) => {}
                (Some(g), Some(w)) => {
                    compared += 1;
                    let tol = 1e-9 * g.abs().max(w.abs()) + 1e-12;
                    if (g - w).abs() > tol && failures.len() < 20 {
                        failures.push(format!("row {i} {}: {g} vs numpy {w}", header[k + 1]));
                    }
                }
                (g, w) => {
                    if failures.len() < 20 {
                        failures.push(format!(
                            "row {i} {}: {g:?} vs numpy {w:?} (warm-up)",
                            header[k + 1]
                        ));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(compared > 110_000, "{compared}");
}

#[test]
fn alpha158_checkpointed_stream_equals_uninterrupted() {
    let bars = goog();
    let run = |cut: Option<usize>| {
        let mut a = Alpha158::new();
        let mut all = vec![];
        for (i, b) in bars.iter().enumerate() {
            if Some(i) == cut {
                a = serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
            }
            let mut out = vec![];
            a.update(b, &mut out);
            all.push(out.iter().map(|x| x.map(f64::to_bits)).collect::<Vec<_>>());
        }
        all
    };
    let whole = run(None);
    for cut in [1, 59, 61, 122, 123, 1000] {
        assert_eq!(run(Some(cut)), whole, "cut at {cut}");
    }
}
