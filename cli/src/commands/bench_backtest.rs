//! `elite bench backtest`: an SMA(10)/SMA(30) crossover backtest with fills (market orders at the
//! next bar's open, 10 shares, long only, no costs) over `symbols` × `bars` synthetic daily bars,
//! beside backtrader and vectorbt on the same numbers and rules in the same run.
//!
//! Each engine is timed around its backtest only (data already in memory; Elite: a fresh engine
//! configured as `elite backtest` runs it, risk decisions journaled, every bar through
//! `on_bar`; vectorbt: the moving averages, crossings and `Portfolio.from_signals`, after one
//! untimed pass that compiles numba's kernels; backtrader: `cerebro.run()` on a cerebro built
//! before the timer). Every engine runs `repeat` times and the median is reported for each.
//! Each reports its trades as (symbol, entry bar, exit bar); the run fails if a peer's trades are
//! not exactly Elite's, or if there are none. A benchmark, not a test: it asserts nothing about
//! speed.

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use elite_pipelines::bench::synthetic;
use elite_trade::Money;
use elite_trade::engine::{Engine, EngineConfig};
use elite_trade::sim::Bar;
use elite_trade::strategies::{Sizing, SmaCrossConfig, StrategySpec};
use elite_warehouse::Timestamp;
use serde::Serialize;

use crate::args::BenchBacktestArgs;
use crate::printer::Printer;
use crate::settings::Settings;

const DAY: i64 = 86_400_000_000_000;

const PEERS: &str = r#"
import sys, time, json, warnings
warnings.filterwarnings("ignore")
import numpy as np, pandas as pd
path, S, T, which, R = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4].split(","), int(sys.argv[5])
import statistics
data = np.fromfile(path, dtype="<f8").reshape(S, 5, T)
idx = pd.date_range("2010-01-04", periods=T, freq="D")
cols = [f"S{s}" for s in range(S)]
out = {}
if "vectorbt" in which:
    import vectorbt as vbt
    close = pd.DataFrame(data[:, 3, :].T, index=idx, columns=cols)
    open_ = pd.DataFrame(data[:, 0, :].T, index=idx, columns=cols)
    # pass 0 compiles numba's kernels for these arrays (untimed); passes 1..R are timed
    times = []
    for rep in range(R + 1):
        t0 = time.perf_counter()
        fast = close.rolling(10).mean(); slow = close.rolling(30).mean()
        en = fast.vbt.crossed_above(slow).vbt.fshift(1); ex = fast.vbt.crossed_below(slow).vbt.fshift(1)
        pf = vbt.Portfolio.from_signals(close, en, ex, price=open_, size=10, init_cash=1e12, fees=0.0, freq="1D")
        rec = pf.trades.values
        if rep > 0:
            times.append(time.perf_counter() - t0)
    trades = [[int(r["col"]), int(r["entry_idx"]), int(r["exit_idx"]) if int(r["status"]) == 1 else -1] for r in rec]
    out["vectorbt"] = {"seconds": statistics.median(times), "runs": times, "version": vbt.__version__, "trades": trades}
if "backtrader" in which:
    import backtrader as bt
    class SmaCross(bt.Strategy):
        def __init__(self):
            self.x = [bt.ind.CrossOver(bt.ind.SMA(d.close, period=10), bt.ind.SMA(d.close, period=30)) for d in self.datas]
            self.opened = {}
            self.trades = []
        def next(self):
            for i, d in enumerate(self.datas):
                pos = self.getposition(d).size
                c = self.x[i][0]
                if not pos and c > 0: self.buy(data=d, size=10)
                elif pos and c < 0: self.close(data=d)
        def notify_trade(self, t):
            i = self.datas.index(t.data)
            if t.justopened: self.opened[i] = t.baropen - 1
            if t.isclosed: self.trades.append([i, t.baropen - 1, t.barclose - 1]); self.opened.pop(i, None)
    frames = [pd.DataFrame({"open": data[s, 0], "high": data[s, 1], "low": data[s, 2], "close": data[s, 3],
                            "volume": data[s, 4]}, index=idx) for s in range(S)]
    times = []
    for rep in range(R):
        cerebro = bt.Cerebro(stdstats=False)
        for s in range(S):
            cerebro.adddata(bt.feeds.PandasData(dataname=frames[s]), name=cols[s])
        cerebro.addstrategy(SmaCross)
        cerebro.broker.setcash(1e12)
        t0 = time.perf_counter()
        st = cerebro.run()[0]
        times.append(time.perf_counter() - t0)
    trades = st.trades + [[i, e, -1] for i, e in st.opened.items()]
    out["backtrader"] = {"seconds": statistics.median(times), "runs": times, "version": bt.__version__, "trades": trades}
print(json.dumps(out))
"#;

#[derive(Serialize)]
struct Row {
    engine: String,
    seconds: f64,
    m_bars_per_s: f64,
    elite_speedup: f64,
    trades: usize,
    trades_equal_to_elite: usize,
}

type Trade = (usize, i64, i64);

pub fn run(args: BenchBacktestArgs, _settings: &Settings, printer: &Printer) -> Result<()> {
    let (symbols, bars) = (args.symbols, args.bars);
    printer.note(format!(
        "generating {symbols} × {bars} synthetic daily bars"
    ));
    let data = synthetic(symbols, bars);
    let t0 = 1_262_563_200i64 * 1_000_000_000; // 2010-01-04 00:00 UTC
    let mut events = Vec::with_capacity(symbols * bars);
    for t in 0..bars {
        for (s, series) in data.iter().enumerate() {
            let b = series[t];
            events.push(Bar {
                sym: s as u32,
                ts_event: Timestamp::from_nanos(t0 + t as i64 * DAY),
                ts_recv: Timestamp::from_nanos(t0 + (t as i64 + 1) * DAY),
                open: b.open,
                high: b.high,
                low: b.low,
                close: b.close,
                volume: b.volume,
            });
        }
    }

    let spec = StrategySpec::SmaCross(SmaCrossConfig {
        fast: 10,
        slow: 30,
        short: false,
        size: Sizing::Shares(10),
    });
    let cfg = EngineConfig::new(Money::units(1_000_000_000_000));
    let mut runs = Vec::with_capacity(args.repeat);
    let mut engine = None;
    for _ in 0..args.repeat {
        // As `elite backtest` runs it: every risk decision journaled (log_approvals stays on).
        let mut e = Engine::new(cfg.clone(), symbols);
        e.add(spec.build("sma_cross", &[])?, 1.0);
        let t = Instant::now();
        for b in &events {
            e.on_bar(b)?;
        }
        e.finish();
        runs.push(t.elapsed().as_secs_f64());
        engine = Some(e);
    }
    let best = super::bench_indicators::median(&runs);
    let engine = engine.context("at least one run")?;
    engine.ledger.reconcile(Some(&engine.journal.fills))?;
    let mut open: std::collections::HashMap<usize, i64> = Default::default();
    let mut mine: Vec<Trade> = vec![];
    for f in &engine.journal.fills {
        let i = (f.ts.as_nanos() - t0) / DAY;
        match f.side {
            elite_trade::order::Side::Buy => {
                open.insert(f.sym as usize, i);
            }
            elite_trade::order::Side::Sell => {
                let e = open
                    .remove(&(f.sym as usize))
                    .context("sell without a buy")?;
                mine.push((f.sym as usize, e, i));
            }
        }
    }
    mine.extend(open.into_iter().map(|(s, e)| (s, e, -1)));
    let mine: BTreeSet<Trade> = mine.into_iter().collect();
    if mine.is_empty() {
        bail!("elite made no trades: nothing to compare");
    }

    // The peers, on the same numbers.
    let dir = std::env::temp_dir().join(format!("elite-bench-bt-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("bars.f64");
    super::bench_indicators::write_bars_f64(&path, &data)?;
    printer.note(format!("{} via {} …", args.peers, args.python));
    let res = Command::new(&args.python)
        .args(["-c", PEERS])
        .arg(&path)
        .arg(symbols.to_string())
        .arg(bars.to_string())
        .arg(&args.peers)
        .arg(args.repeat.to_string())
        .output()
        .context(
            "running Python with backtrader / vectorbt (tests/dev bench backtest installs them)",
        )?;
    let _ = std::fs::remove_dir_all(&dir);
    if !res.status.success() {
        bail!("peer run failed: {}", String::from_utf8_lossy(&res.stderr));
    }
    let v: serde_json::Value = serde_json::from_slice(&res.stdout).context("peer output")?;

    let total = (symbols * bars) as f64;
    let r3 = |x: f64| (x * 1000.0).round() / 1000.0;
    let mut rows = vec![Row {
        engine: "elite (Rust event engine: orders, risk, fills, ledger; 1 core)".into(),
        seconds: r3(best),
        m_bars_per_s: r3(total / best / 1e6),
        elite_speedup: 1.0,
        trades: mine.len(),
        trades_equal_to_elite: mine.len(),
    }];
    for peer in ["vectorbt", "backtrader"] {
        if !args.peers.split(',').any(|x| x.trim() == peer) {
            continue;
        }
        let Some(p) = v.get(peer) else {
            bail!("{peer} was asked for but printed no result")
        };
        let secs = p["seconds"].as_f64().context("no median time")?;
        let theirs: BTreeSet<Trade> = p["trades"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|t| {
                        Some((
                            t.get(0)?.as_u64()? as usize,
                            t.get(1)?.as_i64()?,
                            t.get(2)?.as_i64()?,
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        if theirs != mine {
            let only_theirs: Vec<_> = theirs.difference(&mine).take(3).collect();
            let only_mine: Vec<_> = mine.difference(&theirs).take(3).collect();
            bail!(
                "{peer}'s trades differ from elite's: {} vs {} trades, {} in common; only {peer}: {only_theirs:?}; only elite: {only_mine:?}",
                theirs.len(),
                mine.len(),
                theirs.intersection(&mine).count()
            );
        }
        rows.push(Row {
            engine: format!("{peer} {} (Python)", p["version"].as_str().unwrap_or("?")),
            seconds: r3(secs),
            m_bars_per_s: r3(total / secs / 1e6),
            elite_speedup: r3(secs / best),
            trades: theirs.len(),
            trades_equal_to_elite: theirs.intersection(&mine).count(),
        });
    }
    printer.note(format!(
        "{symbols} symbols × {bars} daily bars = {} bars; SMA(10)/SMA(30) cross, market orders filled at the next open, 10 shares, long only; median of {} runs per engine; every peer's trades equal elite's",
        symbols * bars,
        args.repeat
    ));
    printer.records(&rows)
}
