//! Walk-forward planning and evaluation without a warehouse: the splits a `[validation]` section
//! gives, and the report's scores, checked against values worked out by hand on datasets built
//! for the purpose.

use elite_models::data::{Dataset, Label, Row};
use elite_models::ensemble::Method;
use elite_models::linear::{LogisticLearner, LogisticParams};
use elite_models::model::Task;
use elite_models::validate::Window;
use elite_models::walkforward::{EnsembleConfig, Evaluation, Validation, assemble, evaluate, plan};

/// One symbol, `n` daily rows, label horizon 1. Row t's next return alternates +2%, −1%; its one
/// feature is that return's sign (a feature that knows the label: a learner must find it).
fn dataset(n: usize) -> Dataset {
    let day = 86_400_000_000_000i64;
    let mut ds = Dataset {
        features: vec!["f".into()],
        symbols: vec!["S".into()],
        horizon: 1,
        ..Default::default()
    };
    for t in 0..n {
        let r: f64 = if t % 2 == 0 { 0.02 } else { -0.01 };
        ds.x.push(r.signum());
        ds.rows.push(Row {
            series: 0,
            pos: t as u32,
            ts_event: t as i64 * day,
            ts_recv: t as i64 * day + 1,
            label: Some(Label {
                fwd_return: r,
                up: r > 0.0,
                known_at: (t as i64 + 1) * day + 1,
                next_return: r,
            }),
            regime: 0,
        });
    }
    ds
}

fn walk_forward(train: usize, test: usize) -> Validation {
    Validation {
        window: Window::Expanding,
        train,
        test,
        cost_bps: 0.0,
        ..Default::default()
    }
}

#[test]
fn walk_forward_plan_tests_every_date_after_the_first_train_block_once() {
    let ds = dataset(100);
    let p = plan(&ds, &walk_forward(50, 10), 1).unwrap();
    // Dates 50..99 in five blocks of ten; every labelled row is usable.
    assert_eq!(p.rows.len(), 100);
    assert_eq!(p.folds.len(), 5);
    assert_eq!(p.test, (50..100).collect::<Vec<_>>());
    let expect: Vec<usize> = (0..5).flat_map(|k| std::iter::repeat_n(k, 10)).collect();
    assert_eq!(p.fold_of, expect);
    // Each block trains only on rows whose label was known before its first prediction.
    for f in &p.folds {
        let first = ds.rows[f.test[0]].ts_recv;
        assert!(!f.train.is_empty());
        assert!(
            f.train
                .iter()
                .all(|&i| ds.rows[i].label.is_some_and(|l| l.known_at <= first))
        );
    }
}

#[test]
fn a_sequence_model_drops_the_rows_without_a_full_window() {
    let ds = dataset(100);
    let p = plan(&ds, &walk_forward(50, 10), 5).unwrap();
    // Rows 0..3 have fewer than five bars of history.
    assert_eq!(p.rows, (4..100).collect::<Vec<_>>());
    assert_eq!(p.test.first(), Some(&54));
}

#[test]
fn a_walk_forward_without_train_and_test_dates_is_refused() {
    let ds = dataset(100);
    let e = plan(&ds, &walk_forward(0, 10), 1).unwrap_err();
    assert!(e.to_string().contains("needs train and test"), "{e}");
    let kfold = Validation {
        kfold: Some(5),
        embargo: 2,
        ..Default::default()
    };
    let p = plan(&ds, &kfold, 1).unwrap();
    assert_eq!(p.folds.len(), 5);
    assert_eq!(p.test.len(), 100);
    assert_eq!(kfold.describe(), "purged 5-fold, embargo 2");
    assert_eq!(walk_forward(1, 1).describe(), "walk-forward (expanding)");
}

#[test]
fn the_report_scores_perfect_inverse_and_ensemble_predictions_as_worked_out_by_hand() {
    let ds = dataset(100);
    let v = walk_forward(50, 10);
    let p = plan(&ds, &v, 1).unwrap();
    let up = |i: usize| ds.rows[i].label.unwrap().up;
    let perfect: Vec<f64> = p
        .test
        .iter()
        .map(|&i| if up(i) { 0.9 } else { 0.1 })
        .collect();
    let inverse: Vec<f64> = perfect.iter().map(|x| 1.0 - x).collect();
    let base = vec![
        Evaluation {
            name: "perfect".into(),
            kind: "test".into(),
            task: Task::Classification,
            predictions: perfect.clone(),
            seconds: 0.0,
        },
        Evaluation {
            name: "inverse".into(),
            kind: "test".into(),
            task: Task::Classification,
            predictions: inverse,
            seconds: 0.0,
        },
    ];
    let ens = EnsembleConfig {
        members: vec!["perfect".into(), "inverse".into()],
        methods: vec![Method::Mean],
        params: Default::default(),
    };
    let r = assemble("g", &ds, &v, Some(7), &p, base, Some(&ens)).unwrap();
    assert_eq!(r.group, "g");
    assert_eq!(r.bars_version, Some(7));
    assert_eq!((r.rows, r.folds, r.test_rows), (100, 5, 50));
    let row = |n: &str| r.rows_table.iter().find(|e| e.name == n).unwrap();
    let names: Vec<&str> = r.rows_table.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        ["perfect", "inverse", "ensemble:mean", "buy_and_hold"]
    );

    // Perfect: every call right, AUC 1; long-short earns |r| every day: 25 days of +2% and 25
    // of +1%, compounded.
    let s = &row("perfect").scores;
    assert_eq!((s.rows, s.accuracy, s.auc), (50, 1.0, 1.0));
    let ls = 1.02f64.powi(25) * 1.01f64.powi(25) - 1.0;
    assert!((s.long_short.total_return - ls).abs() < 1e-12, "{s:?}");
    // Long-flat: only the +2% days.
    assert!((s.long_flat.total_return - (1.02f64.powi(25) - 1.0)).abs() < 1e-12);
    // Inverse: every call wrong.
    let s = &row("inverse").scores;
    assert_eq!((s.accuracy, s.auc), (0.0, 0.0));
    assert!(
        (s.long_short.total_return - (0.98f64.powi(25) * 0.99f64.powi(25) - 1.0)).abs() < 1e-12
    );
    // Their mean is 0.5 everywhere: no information, AUC 0.5, log-loss ln 2.
    let s = &row("ensemble:mean").scores;
    assert_eq!(r.predictions["ensemble:mean"].len(), 50);
    assert!(
        r.predictions["ensemble:mean"]
            .iter()
            .all(|p| (p - 0.5).abs() < 1e-12)
    );
    assert!((s.auc - 0.5).abs() < 1e-12, "{s:?}");
    assert!(
        (s.log_loss.unwrap() - std::f64::consts::LN_2).abs() < 1e-9,
        "{s:?}"
    );
    // Buy-and-hold: +2% and −1% alternately, 25 of each.
    let h = &row("buy_and_hold").scores;
    assert!(h.auc.is_nan() && h.accuracy.is_nan());
    let hold = 1.02f64.powi(25) * 0.99f64.powi(25) - 1.0;
    assert!((h.long_flat.total_return - hold).abs() < 1e-12, "{h:?}");
}

#[test]
fn an_ensemble_member_without_predictions_is_an_error_not_a_panic() {
    let ds = dataset(100);
    let v = walk_forward(50, 10);
    let p = plan(&ds, &v, 1).unwrap();
    let ens = EnsembleConfig {
        members: vec!["missing".into()],
        methods: vec![Method::Mean],
        params: Default::default(),
    };
    let e = assemble("g", &ds, &v, None, &p, vec![], Some(&ens)).unwrap_err();
    assert!(e.to_string().contains("missing"), "{e}");
}

#[test]
fn a_logistic_learner_finds_a_feature_that_knows_the_label() {
    let ds = dataset(100);
    let p = plan(&ds, &walk_forward(50, 10), 1).unwrap();
    let l = LogisticLearner {
        name: "logistic".into(),
        params: LogisticParams {
            l2: 1.0,
            max_iter: 50,
        },
    };
    let (pred, _seconds) = evaluate(&ds, &p, &l).unwrap();
    assert_eq!(pred.len(), p.test.len());
    for (k, &i) in p.test.iter().enumerate() {
        assert_eq!(
            pred[k] > 0.5,
            ds.rows[i].label.unwrap().up,
            "row {i}: {}",
            pred[k]
        );
    }
}
