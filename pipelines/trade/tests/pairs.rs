//! Pairs statistics against statsmodels 0.15.0 (OLS, adfuller, coint, mackinnoncrit; golden/gen_pairs.py)
//! on KO and PEP: not cointegrated over 2010's first 250 days, cointegrated over 2015's.

use elite_trade::pairs::{adf_t, eg_critical_5pct, ols, pair_stat};

fn log_closes(sym: &str, start: &str) -> Vec<f64> {
    let path = format!(
        "{}/../../collectors/fixtures/bars/sp500_20_1d_2010_2022.csv.gz",
        std::env::var("CARGO_MANIFEST_DIR").unwrap()
    );
    let gz = flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap());
    let mut r = csv::Reader::from_reader(gz);
    let mut v: Vec<(String, f64)> = r
        .records()
        .map(|x| x.unwrap())
        .filter(|x| &x[0] == sym && &x[1] >= start)
        .map(|x| (x[1].to_string(), x[5].parse::<f64>().unwrap()))
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v.iter().take(250).map(|x| x.1.ln()).collect()
}

#[test]
fn engle_granger_matches_statsmodels() {
    let path = format!(
        "{}/golden/pairs_golden.json",
        std::env::var("CARGO_MANIFEST_DIR").unwrap()
    );
    let g: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for case in g.as_array().unwrap() {
        let start = case["start"].as_str().unwrap();
        let (a, b) = (log_closes("KO", start), log_closes("PEP", start));
        let (alpha, beta, res) = ols(&a, &b).unwrap();
        let close = |x: f64, y: f64| (x - y).abs() <= 1e-9 * y.abs().max(1.0);
        assert!(close(alpha, case["alpha"].as_f64().unwrap()), "{alpha}");
        assert!(close(beta, case["beta"].as_f64().unwrap()), "{beta}");
        let t = adf_t(&res).unwrap();
        assert!(close(t, case["adf"].as_f64().unwrap()), "{t}");
        assert!(close(t, case["coint_t"].as_f64().unwrap()), "{t}");
        assert!(close(
            eg_critical_5pct(249),
            case["crit5"].as_f64().unwrap()
        ));
        let st = pair_stat(&a, &b).unwrap();
        assert_eq!(
            st.cointegrated,
            start.starts_with("2015"),
            "{start}: {st:?}"
        );
    }
}
