//! `elite bench cycle`: the latency of one trade-runner decision cycle over `assets` assets —
//! Ledoit-Wolf covariance of the last `lookback` returns, long-only mean-variance (minimum
//! variance, 5% cap, 10 sectors capped at 25%) on Clarabel, then one order per asset through
//! pre-trade risk and into the broker. Synthetic prices; each phase timed separately.

use std::time::Instant;

use anyhow::Result;
use elite_pipelines::bench::synthetic;
use elite_trade::Money;
use elite_trade::ledger::Ledger;
use elite_trade::order::{OrderRequest, Side};
use elite_trade::portfolio::{Bounds, Objective, ledoit_wolf, mean_variance};
use elite_trade::risk::{Book, RiskEngine, RiskLimits};
use elite_trade::sim::{FillConfig, SimBroker};
use elite_warehouse::Timestamp;
use serde::Serialize;

use crate::args::BenchCycleArgs;
use crate::printer::Printer;
use crate::settings::Settings;

#[derive(Serialize)]
struct Row {
    phase: &'static str,
    p50_ms: f64,
    p90_ms: f64,
    max_ms: f64,
}

pub fn run(args: BenchCycleArgs, _settings: &Settings, printer: &Printer) -> Result<()> {
    let (n, lookback) = (args.assets, args.lookback);
    let data = synthetic(n, lookback + args.cycles + 1);
    let mut times: [Vec<f64>; 4] = Default::default();
    let sectors: Vec<Option<usize>> = (0..n).map(|i| Some(i % 10)).collect();
    let bounds = Bounds {
        lower: 0.0,
        upper: 0.05_f64.max(1.0 / n as f64),
        sectors,
        sector_cap: Some(0.25),
    };
    let limits = RiskLimits {
        max_concentration: Some(0.06),
        max_gross_leverage: Some(1.0),
        max_order_notional: Some(1e9),
        price_band: Some(0.1),
        ..Default::default()
    };
    let mut ok = 0usize;
    for c in 0..args.cycles {
        let t0 = Instant::now();
        let ret: Vec<Vec<f64>> = (c..c + lookback)
            .map(|t| {
                (0..n)
                    .map(|i| data[i][t + 1].close / data[i][t].close - 1.0)
                    .collect()
            })
            .collect();
        let (cov, _, mu) = ledoit_wolf(&ret)?;
        let t1 = Instant::now();
        let w = mean_variance(&mu, &cov, Objective::MinVariance, &bounds)?;
        let t2 = Instant::now();
        let prices: Vec<f64> = (0..n).map(|i| data[i][c + lookback].close).collect();
        let ledger = Ledger::new(Money::units(100_000_000));
        let mut risk = RiskEngine::new(limits.clone());
        let mut broker = SimBroker::new(FillConfig::default(), Default::default());
        let now = Timestamp::from_nanos(c as i64);
        let mut pending = vec![0i64; n];
        for (i, wi) in w.iter().enumerate() {
            let qty = (wi * 100_000_000.0 / prices[i]).floor() as i64;
            if qty <= 0 {
                continue;
            }
            let o = OrderRequest::market(format!("c{c}-{i}"), i as u32, Side::Buy, qty);
            let book = Book {
                ledger: &ledger,
                prices: &prices,
                pending: &|s| (pending[s as usize], 0),
                equity: 100_000_000.0,
            };
            let (a, _) = risk.check(o, &book, now);
            if let Some(a) = a {
                pending[i] += qty;
                broker.submit(a, now, Money::from_f64(prices[i]).unwrap_or_default());
                ok += 1;
            }
        }
        let t3 = Instant::now();
        for (k, d) in [t1 - t0, t2 - t1, t3 - t2, t3 - t0].iter().enumerate() {
            times[k].push(d.as_secs_f64() * 1e3);
        }
    }
    let q = |v: &mut Vec<f64>, p: f64| {
        v.sort_by(f64::total_cmp);
        v[((v.len() - 1) as f64 * p).round() as usize]
    };
    let r = |x: f64| (x * 1000.0).round() / 1000.0;
    let mut rows = vec![];
    for (k, name) in [
        "ledoit-wolf covariance",
        "mean-variance (Clarabel)",
        "risk checks + orders",
        "whole cycle",
    ]
    .iter()
    .enumerate()
    {
        let v = &mut times[k];
        rows.push(Row {
            phase: name,
            p50_ms: r(q(v, 0.5)),
            p90_ms: r(q(v, 0.9)),
            max_ms: r(q(v, 1.0)),
        });
    }
    printer.note(format!(
        "{n} assets, {lookback} returns, {} cycles on 1 core; {} orders approved and sent in total",
        args.cycles, ok
    ));
    printer.records(&rows)
}
