//! No look-ahead anywhere on the train/predict path: on real GOOG daily bars, changing every bar
//! after a date T (prices and volumes) changes no out-of-sample prediction at or before T — for
//! each base model (logistic, online logistic, LightGBM, LSTM) and each ensemble method; and
//! with sentiment features, changing every news item received after T changes nothing at or
//! before T (items published before T but received after it included), nor does changing every
//! earnings record known after T, nor every insider trade made public after T.

use elite_jobs::models::{TrainConfig, build_dataset, build_dataset_with_events, walk_forward};
use elite_models::data::Series;
use elite_pipelines::earnings::EarningsEvent;
use elite_pipelines::indicators::Ohlcv;
use elite_pipelines::insider::InsiderEvent;
use elite_pipelines::resample::TimedBar;
use elite_pipelines::sentiment::TextEvent;
use elite_warehouse::Timestamp;

const DAY: i64 = 86_400_000_000_000;

fn goog() -> Vec<TimedBar> {
    let path = format!(
        "{}/../collectors/fixtures/bars/GOOG_1d.csv",
        std::env::var("CARGO_MANIFEST_DIR").unwrap()
    );
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let d = chrono::NaiveDate::parse_from_str(f[0], "%Y-%m-%d").unwrap();
            let ts = d
                .and_hms_opt(0, 0, 0)
                .unwrap()
                .and_utc()
                .timestamp_nanos_opt()
                .unwrap();
            let v: Vec<f64> = f[1..6].iter().map(|x| x.parse().unwrap()).collect();
            TimedBar {
                ts_event: Timestamp::from_nanos(ts),
                ts_recv: Timestamp::from_nanos(ts + DAY),
                bar: Ohlcv::new(v[0], v[1], v[2], v[3], v[4]),
            }
        })
        .collect()
}

const CONFIG: &str = r#"
name = "goog-lookahead"
[data]
timeframe = "1d"
[features]
set = "technical"
horizon = 3
[validation]
train = 500
test = 150
[[model]]
name = "logistic"
kind = "logistic"
[[model]]
name = "online"
kind = "online_logistic"
[[model]]
name = "gbdt"
kind = "lightgbm"
params = { num_iterations = 30, num_threads = 1 }
[[model]]
name = "lstm"
kind = "lstm"
params = { seq_len = 5, hidden = 4, epochs = 1, batch = 32 }
[[model]]
name = "transformer"
kind = "transformer"
params = { seq_len = 5, d_model = 4, heads = 2, ff = 8, epochs = 1, batch = 32 }
[[model]]
name = "cnn_lstm"
kind = "cnn_lstm"
params = { seq_len = 6, filters = 3, kernel = 3, hidden = 4, epochs = 1, batch = 32 }
[ensemble]
members = ["logistic", "online", "gbdt", "lstm", "transformer", "cnn_lstm"]
params = { min_history = 100, refit = 100, halflife = 100.0 }
"#;

#[test]
fn perturbing_the_future_changes_no_past_prediction() {
    let cfg = TrainConfig::from_toml(CONFIG).unwrap();
    let bars = goog();
    let cut = bars[1400].ts_event;
    let mut future = bars.clone();
    for (k, b) in future.iter_mut().enumerate().skip(1401) {
        let m = 1.0 + 0.3 * ((k * 7919 % 97) as f64 / 97.0 - 0.5);
        b.bar = Ohlcv::new(
            b.bar.open * m,
            b.bar.high * m * 1.01,
            b.bar.low * m * 0.99,
            b.bar.close * m,
            b.bar.volume * 2.0,
        );
    }
    let run = |bars: Vec<TimedBar>| {
        let ds = build_dataset(
            &cfg,
            &[Series {
                symbol: "GOOG".into(),
                bars,
            }],
        )
        .unwrap();
        let wf = walk_forward(&cfg, &ds, None).unwrap();
        let ts: Vec<i64> = wf.test.iter().map(|&i| ds.rows[i].ts_event).collect();
        (wf, ts)
    };
    let (a, ts_a) = run(bars);
    let (b, ts_b) = run(future);
    assert_eq!(ts_a, ts_b);
    assert!(a.folds >= 8, "{} folds", a.folds);
    let before: Vec<usize> = (0..ts_a.len())
        .filter(|&k| ts_a[k] <= cut.as_nanos())
        .collect();
    let after: Vec<usize> = (0..ts_a.len())
        .filter(|&k| ts_a[k] > cut.as_nanos())
        .collect();
    assert!(before.len() > 500 && after.len() > 300);
    assert_eq!(a.predictions.len(), 6 + 5);
    for (name, pa) in &a.predictions {
        let pb = &b.predictions[name];
        for &k in &before {
            assert_eq!(pa[k], pb[k], "{name}: prediction at {} moved", ts_a[k]);
        }
        // The perturbation is real: predictions after T do change.
        assert!(
            after.iter().any(|&k| pa[k] != pb[k]),
            "{name}: nothing changed after T"
        );
    }
}

const SENTIMENT: &str = r#"
name = "goog-sentiment-lookahead"
[data]
timeframe = "1d"
[features]
set = "technical+sentiment+earnings"
select = ["ret_1", "ret_5", "rsi_14", "dist_sma_20", "sent_count_1d", "sent_mean_1d",
          "sent_count_5d", "sent_mean_5d", "sent_std_5d", "sent_decay", "days_to_earnings",
          "last_surprise", "days_since_earnings"]
horizon = 1
[validation]
train = 500
test = 150
[[model]]
name = "logistic"
kind = "logistic"
[[model]]
name = "gbdt"
kind = "lightgbm"
params = { num_iterations = 30, num_threads = 1 }
"#;

#[test]
fn perturbing_future_news_changes_no_past_prediction() {
    let cfg = TrainConfig::from_toml(SENTIMENT).unwrap();
    let bars = goog();
    // Synthetic scored items: one or two a day, known 1–30 hours after publication, with scores
    // from a fixed sequence (the scores are what the test moves, not what it measures).
    let items: Vec<(i64, i64, f64)> = (0..bars.len() * 3 / 2)
        .map(|k| {
            let day = bars[k * 2 / 3].ts_event.as_nanos();
            let published = day + (k as i64 * 7 % 24) * 3_600_000_000_000;
            let recv = published + (1 + k as i64 * 13 % 30) * 3_600_000_000_000;
            (published, recv, ((k * 7919 % 201) as f64 - 100.0) / 100.0)
        })
        .collect();
    let cut = bars[1400].ts_recv.as_nanos();
    let events = |perturb: bool| {
        let mut ev: Vec<TextEvent> = items
            .iter()
            .map(|&(_, recv, s)| TextEvent {
                ts_recv: Timestamp::from_nanos(recv),
                score: if perturb && recv > cut {
                    -s * 0.5 + 0.3
                } else {
                    s
                },
            })
            .collect();
        if perturb {
            // More news after T, some of it published (not received) before T.
            ev.extend((0..200).map(|k| TextEvent {
                ts_recv: Timestamp::from_nanos(cut + 1 + k * DAY / 3),
                score: 0.9,
            }));
        }
        ev
    };
    // Quarterly earnings: scheduled 40 days ahead, reported with a surprise 2 days after the date.
    let quarters: Vec<(i64, i64, f64)> = (0..bars.len() / 63)
        .map(|q| {
            let at = bars[q * 63].ts_event.as_nanos() + 40 * DAY;
            (at - 40 * DAY, at, ((q * 37 % 11) as f64 - 5.0) / 50.0)
        })
        .collect();
    let earnings = |perturb: bool| {
        let mut ev = vec![];
        for &(known, at, s) in &quarters {
            let moved = perturb && at > cut;
            ev.push(EarningsEvent::Scheduled {
                ts_recv: Timestamp::from_nanos(known),
                at: Timestamp::from_nanos(if moved && known > cut {
                    at + 5 * DAY
                } else {
                    at
                }),
            });
            ev.push(EarningsEvent::Reported {
                ts_recv: Timestamp::from_nanos(at + 2 * DAY),
                surprise: if perturb && at + 2 * DAY > cut { -s } else { s },
            });
        }
        ev
    };
    let run = |ev: Vec<TextEvent>, perturb: bool| {
        let events = elite_pipelines::features::SymbolEvents {
            text: std::collections::HashMap::from([("GOOG".to_string(), ev)]),
            earnings: std::collections::HashMap::from([("GOOG".to_string(), earnings(perturb))]),
            ..Default::default()
        };
        let series = [Series {
            symbol: "GOOG".into(),
            bars: bars.clone(),
        }];
        let ds = build_dataset_with_events(&cfg, &series, &events).unwrap();
        let wf = walk_forward(&cfg, &ds, None).unwrap();
        let ts: Vec<i64> = wf.test.iter().map(|&i| ds.rows[i].ts_recv).collect();
        (wf, ts, ds)
    };
    let (a, ts_a, ds_a) = run(events(false), false);
    let (b, ts_b, _) = run(events(true), true);
    assert_eq!(ts_a, ts_b);
    // The sentiment features are not constant: the items reach the rows.
    let p = ds_a.p();
    for col in [p - 4, p - 2] {
        let v: Vec<f64> = ds_a.x.iter().skip(col).step_by(p).copied().collect();
        assert!(
            v.iter().any(|x| *x != v[0]),
            "{} constant",
            ds_a.features[col]
        );
    }
    let before: Vec<usize> = (0..ts_a.len()).filter(|&k| ts_a[k] <= cut).collect();
    let after: Vec<usize> = (0..ts_a.len()).filter(|&k| ts_a[k] > cut).collect();
    assert!(before.len() > 500 && after.len() > 300);
    for (name, pa) in &a.predictions {
        let pb = &b.predictions[name];
        assert_eq!(pa.len(), pb.len());
        for &k in &before {
            assert_eq!(pa[k], pb[k], "{name}: prediction at {} moved", ts_a[k]);
        }
        assert!(
            after.iter().any(|&k| pa[k] != pb[k]),
            "{name}: nothing changed after T"
        );
    }
}

const INSIDER: &str = r#"
name = "goog-insider-lookahead"
[data]
timeframe = "1d"
[features]
set = "technical+insider"
select = ["ret_1", "ret_5", "rsi_14", "dist_sma_20", "insider_net_30d", "insider_net_90d",
          "insider_officer_net_90d", "insider_director_net_90d", "insider_owner_net_90d",
          "insider_buys_90d", "insider_sells_90d"]
horizon = 1
[validation]
train = 500
test = 150
[[model]]
name = "logistic"
kind = "logistic"
[[model]]
name = "gbdt"
kind = "lightgbm"
params = { num_iterations = 30, num_threads = 1 }
"#;

/// Insider trades every ~9 trading days by rotating roles, public 1–4 days after they were made;
/// after T every trade public after T flips side and doubles, and more trades made before T
/// but public after it are added: no prediction at or before T moves.
#[test]
fn perturbing_future_insider_trades_changes_no_past_prediction() {
    let cfg = TrainConfig::from_toml(INSIDER).unwrap();
    let bars = goog();
    let cut = bars[1400].ts_recv.as_nanos();
    let trades = |perturb: bool| {
        let mut ev: Vec<InsiderEvent> = (0..bars.len() / 9)
            .map(|k| {
                let made = bars[k * 9].ts_event.as_nanos();
                let public = made + (1 + k as i64 % 4) * DAY;
                let moved = perturb && public > cut;
                let buy = (k * 7 % 5 < 2) != moved;
                InsiderEvent {
                    ts_event: Timestamp::from_nanos(made),
                    ts_recv: Timestamp::from_nanos(public),
                    buy,
                    shares: (100 + k * 37 % 900) as f64 * if moved { 2.0 } else { 1.0 },
                    officer: k % 3 == 0,
                    director: k % 3 == 1,
                    owner: k % 3 == 2,
                }
            })
            .collect();
        if perturb {
            ev.extend((0..50).map(|k| InsiderEvent {
                ts_event: Timestamp::from_nanos(cut - DAY * (k % 5)),
                ts_recv: Timestamp::from_nanos(cut + 1 + k * DAY),
                buy: true,
                shares: 5000.0,
                officer: true,
                director: false,
                owner: false,
            }));
        }
        ev
    };
    let run = |perturb: bool| {
        let events = elite_pipelines::features::SymbolEvents {
            insider: std::collections::HashMap::from([("GOOG".to_string(), trades(perturb))]),
            ..Default::default()
        };
        let series = [Series {
            symbol: "GOOG".into(),
            bars: bars.clone(),
        }];
        let ds = build_dataset_with_events(&cfg, &series, &events).unwrap();
        let wf = walk_forward(&cfg, &ds, None).unwrap();
        let ts: Vec<i64> = wf.test.iter().map(|&i| ds.rows[i].ts_recv).collect();
        (wf, ts, ds)
    };
    let (a, ts_a, ds_a) = run(false);
    let (b, ts_b, _) = run(true);
    assert_eq!(ts_a, ts_b);
    let p = ds_a.p();
    assert_eq!(p, 11);
    for col in 4..p {
        let v: Vec<f64> = ds_a.x.iter().skip(col).step_by(p).copied().collect();
        assert!(v.iter().all(|x| x.is_finite()), "{}", ds_a.features[col]);
        assert!(
            v.iter().any(|x| *x != v[0]),
            "{} constant",
            ds_a.features[col]
        );
    }
    let before: Vec<usize> = (0..ts_a.len()).filter(|&k| ts_a[k] <= cut).collect();
    let after: Vec<usize> = (0..ts_a.len()).filter(|&k| ts_a[k] > cut).collect();
    assert!(before.len() > 500 && after.len() > 300);
    for (name, pa) in &a.predictions {
        let pb = &b.predictions[name];
        assert_eq!(pa.len(), pb.len());
        for &k in &before {
            assert_eq!(pa[k], pb[k], "{name}: prediction at {} moved", ts_a[k]);
        }
        assert!(
            after.iter().any(|&k| pa[k] != pb[k]),
            "{name}: nothing changed after T"
        );
    }
}
