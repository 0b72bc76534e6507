//! LightGBM trained and scored from many threads at once, half asking for one thread and half for
//! all cores (LightGBM keeps that setting in a process global): every booster scores exactly as the
//! one trained alone, and nothing crashes. `ELITE_LGBM_STRESS=N` runs N rounds of 8 threads.

use elite_lgbm::{LgbmParams, predict_matrix, train_matrix};
use elite_models::model::Task;

fn data(n: usize, seed: u64) -> (Vec<f64>, Vec<f32>) {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((s >> 11) as f64) / ((1u64 << 53) as f64) - 0.5
    };
    let mut x = Vec::with_capacity(n * 4);
    let mut y = Vec::with_capacity(n);
    for _ in 0..n {
        let r: Vec<f64> = (0..4).map(|_| next()).collect();
        y.push(if r[0] + 0.5 * r[1] + 0.3 * next() > 0.0 {
            1.0
        } else {
            0.0
        });
        x.extend(r);
    }
    (x, y)
}

fn fit_and_score(seed: u64, threads: u32) -> Vec<f64> {
    let names: Vec<String> = ["a", "b", "c", "d"].iter().map(|s| s.to_string()).collect();
    let (x, y) = data(3000, seed);
    let params = LgbmParams {
        task: Task::Classification,
        num_iterations: 20,
        num_threads: threads,
        ..LgbmParams::default()
    };
    let booster = train_matrix(&x, &y, &names, &params).unwrap();
    predict_matrix(&booster, &x, 4).unwrap()
}

#[test]
fn boosters_trained_on_many_threads_equal_those_trained_alone() {
    let alone: Vec<Vec<f64>> = (0..4).map(|k| fit_and_score(k, 1)).collect();
    let rounds: usize = std::env::var("ELITE_LGBM_STRESS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6);
    for _ in 0..rounds {
        let handles: Vec<_> = (0..8u64)
            .map(|t| std::thread::spawn(move || (t % 4, fit_and_score(t % 4, (t % 2) as u32))))
            .collect();
        for h in handles {
            let (k, got) = h.join().unwrap();
            let want = &alone[k as usize];
            assert_eq!(got.len(), want.len());
            for (g, w) in got.iter().zip(want) {
                assert!(g.to_bits() == w.to_bits(), "seed {k}: {g} vs {w}");
            }
        }
    }
}
