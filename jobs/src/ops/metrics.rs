//! The process's Prometheus metrics: one registry per process (a process is one job), encoded
//! in the OpenMetrics text format for `/metrics`.
//!
//! Names follow Prometheus' conventions: the `elite_` prefix, units in the name (`_seconds`,
//! `_ratio`), `_total` on counters (added by the encoder), and bounded label sets — a job kind
//! and its runner name, a table, a model id, a risk check, an alert rule — never a symbol or an
//! order id.

use std::sync::LazyLock;
use std::sync::atomic::AtomicU64;

use elite_trade::engine::Engine;
use elite_trade::risk::Decision;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

/// A metric's labels: (name, value) pairs from a bounded set.
pub type Labels = Vec<(&'static str, String)>;
/// A gauge holding an `f64`.
pub type F64Gauge = Gauge<f64, AtomicU64>;
type Histograms = Family<Labels, Histogram, fn() -> Histogram>;

/// Latency buckets: 1 µs to ~8 s, doubling.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(1e-6, 2.0, 24))
}

/// The labels of one job: `runner`, its kind (`trader`, `signals`, `feed`, …), and its `name`
/// (not `job`: Prometheus sets `job` to the scrape job's name).
pub fn job(kind: &str, name: &str) -> Labels {
    vec![("runner", kind.to_string()), ("name", name.to_string())]
}

/// `labels` plus one more.
pub fn with(labels: &Labels, key: &'static str, value: impl Into<String>) -> Labels {
    let mut l = labels.clone();
    l.push((key, value.into()));
    l
}

/// Every metric a job can report. Families with no observation are not encoded.
pub struct Metrics {
    registry: Registry,
    pub rows_ingested: Family<Labels, Counter>,
    pub rows_quarantined: Family<Labels, Counter>,
    pub feed_frames: Family<Labels, Counter>,
    pub feed_reconnects: Family<Labels, Counter>,
    pub bars_processed: Family<Labels, Counter>,
    pub signals_emitted: Family<Labels, Counter>,
    pub predictions: Family<Labels, Counter>,
    pub prediction_score_mean: Family<Labels, F64Gauge>,
    pub prediction_score_stddev: Family<Labels, F64Gauge>,
    pub consumer_lag: Family<Labels, Gauge>,
    pub bar_to_signal: Histograms,
    pub event_to_decision: Histograms,
    pub commits: Family<Labels, Counter>,
    pub orders: Family<Labels, Counter>,
    pub fills: Family<Labels, Counter>,
    pub risk_refusals: Family<Labels, Counter>,
    pub equity: Family<Labels, F64Gauge>,
    pub pnl: Family<Labels, F64Gauge>,
    pub leverage: Family<Labels, F64Gauge>,
    pub concentration: Family<Labels, F64Gauge>,
    pub drawdown: Family<Labels, F64Gauge>,
    pub drawdown_limit: Family<Labels, F64Gauge>,
    pub kill_switch: Family<Labels, Gauge>,
    pub data_age: Family<Labels, F64Gauge>,
    pub last_success: Family<Labels, F64Gauge>,
    pub log_events: Family<Labels, Counter>,
    pub alerts_sent: Family<Labels, Counter>,
    pub alerts_suppressed: Family<Labels, Counter>,
    pub alerts_failed: Family<Labels, Counter>,
    pub bot_commands: Family<Labels, Counter>,
    pub build_info: Family<Labels, Gauge>,
}

impl Metrics {
    fn new() -> Self {
        let mut r = Registry::default();
        macro_rules! reg {
            ($name:literal, $help:literal) => {{
                let f = Family::default();
                r.register($name, $help, f.clone());
                f
            }};
            ($name:literal, $help:literal, $unit:expr) => {{
                let f = Family::default();
                r.register_with_unit($name, $help, $unit, f.clone());
                f
            }};
        }
        let bar_to_signal: Histograms = Family::new_with_constructor(latency_histogram);
        r.register_with_unit(
            "elite_bar_to_signal",
            "From a bar's delivery by the transport to its signals and predictions being computed",
            Unit::Seconds,
            bar_to_signal.clone(),
        );
        let event_to_decision: Histograms = Family::new_with_constructor(latency_histogram);
        r.register_with_unit(
            "elite_event_to_decision",
            "From an event's delivery by the transport to the trader's orders on it being decided",
            Unit::Seconds,
            event_to_decision.clone(),
        );
        let m = Metrics {
            rows_ingested: reg!("elite_rows_ingested", "Rows landed in a table"),
            rows_quarantined: reg!(
                "elite_rows_quarantined",
                "Rows refused and written to quarantine"
            ),
            feed_frames: reg!("elite_feed_frames", "Market-data feed frames received"),
            feed_reconnects: reg!("elite_feed_reconnects", "Market-data feed reconnections"),
            bars_processed: reg!("elite_bars_processed", "Bars a job has processed"),
            signals_emitted: reg!("elite_signals_emitted", "Rule signals emitted"),
            predictions: reg!("elite_predictions", "Model predictions made, per model"),
            prediction_score_mean: reg!(
                "elite_prediction_score_mean",
                "Exponentially weighted mean of a model's scores (drift watch)"
            ),
            prediction_score_stddev: reg!(
                "elite_prediction_score_stddev",
                "Exponentially weighted standard deviation of a model's scores (drift watch)"
            ),
            consumer_lag: reg!(
                "elite_consumer_lag_records",
                "Records published to a topic and not yet consumed"
            ),
            bar_to_signal,
            event_to_decision,
            commits: reg!("elite_commits", "Warehouse commits a job made"),
            orders: reg!("elite_orders_submitted", "Orders submitted to the broker"),
            fills: reg!("elite_fills", "Fills booked"),
            risk_refusals: reg!("elite_risk_refusals", "Orders refused by risk, per check"),
            equity: reg!(
                "elite_equity",
                "Account equity at the last close (account currency)"
            ),
            pnl: reg!("elite_pnl", "Equity minus initial cash (account currency)"),
            leverage: reg!(
                "elite_leverage_ratio",
                "Gross exposure over equity at the last close"
            ),
            concentration: reg!(
                "elite_concentration_ratio",
                "Largest single position's value over equity at the last close"
            ),
            drawdown: reg!(
                "elite_drawdown_ratio",
                "Loss from the equity peak, as a fraction of the peak"
            ),
            drawdown_limit: reg!(
                "elite_drawdown_limit_ratio",
                "The risk limit's maximum drawdown (the kill switch trips above it)"
            ),
            kill_switch: reg!("elite_kill_switch", "1 while the kill switch is on"),
            data_age: reg!(
                "elite_data_age",
                "Now minus ts_recv of the latest bar a job has seen",
                Unit::Seconds
            ),
            last_success: reg!(
                "elite_job_last_success_timestamp",
                "Unix time of a job's last successful commit",
                Unit::Seconds
            ),
            log_events: reg!("elite_log_events", "Warnings and errors logged, per level"),
            alerts_sent: reg!(
                "elite_alerts_sent",
                "Alerts delivered, per channel and rule"
            ),
            alerts_suppressed: reg!(
                "elite_alerts_suppressed",
                "Alerts not sent (duplicate within the window, or over the rate limit)"
            ),
            alerts_failed: reg!(
                "elite_alerts_failed",
                "Alerts a channel did not accept after every retry"
            ),
            bot_commands: reg!(
                "elite_bot_commands",
                "Chat commands received, per command and whether the sender is allowed"
            ),
            build_info: reg!("elite_build_info", "The running build (value 1)"),
            registry: r,
        };
        m.build_info
            .get_or_create(&vec![("version", env!("CARGO_PKG_VERSION").to_string())])
            .set(1);
        m
    }

    /// Every sample name this process can expose (`elite_fills_total`, `…_seconds_bucket`, …),
    /// read off a private registry in which each family has one series: what a dashboard or an
    /// alert rule may query.
    pub fn declared() -> Vec<String> {
        let m = Metrics::new();
        let l = job("x", "x");
        for f in [
            &m.rows_ingested,
            &m.rows_quarantined,
            &m.feed_frames,
            &m.feed_reconnects,
            &m.bars_processed,
            &m.signals_emitted,
            &m.predictions,
            &m.commits,
            &m.orders,
            &m.fills,
            &m.risk_refusals,
            &m.log_events,
            &m.alerts_sent,
            &m.alerts_suppressed,
            &m.alerts_failed,
            &m.bot_commands,
        ] {
            f.get_or_create(&l).inc();
        }
        for f in [
            &m.prediction_score_mean,
            &m.prediction_score_stddev,
            &m.equity,
            &m.pnl,
            &m.leverage,
            &m.concentration,
            &m.drawdown,
            &m.drawdown_limit,
            &m.data_age,
            &m.last_success,
        ] {
            f.get_or_create(&l).set(1.0);
        }
        for f in [&m.consumer_lag, &m.kill_switch] {
            f.get_or_create(&l).set(1);
        }
        for f in [&m.bar_to_signal, &m.event_to_decision] {
            f.get_or_create(&l).observe(0.001);
        }
        let mut names: Vec<String> = m
            .encode()
            .lines()
            .filter(|x| !x.starts_with('#'))
            .filter_map(|x| x.split(['{', ' ']).next())
            .map(str::to_string)
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// Everything, in the OpenMetrics text format (ends with `# EOF`).
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

/// The process's metrics.
pub fn metrics() -> &'static Metrics {
    static M: LazyLock<Metrics> = LazyLock::new(Metrics::new);
    &M
}

/// A job with `labels` made a warehouse commit: count it and note the time (its last success).
pub fn committed(labels: &Labels) {
    let m = metrics();
    m.commits.get_or_create(labels).inc();
    m.last_success.get_or_create(labels).set(unix_now());
}

/// Seconds since the Unix epoch, now.
pub fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The trader's gauges and counters, read off its engine after each step: what was journaled
/// since the last look is counted once (a resumed run's replayed history is not counted again).
#[derive(Clone, Debug)]
pub struct EngineWatch {
    pub labels: Labels,
    submitted: usize,
    fills: usize,
    risk: usize,
    /// Equity points of the journal seen, and the highest of them.
    points: usize,
    peak: f64,
}

/// What an [`EngineWatch`] saw at its last look (for alerts and health).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EngineView {
    pub equity: f64,
    pub pnl: f64,
    pub drawdown: f64,
    pub leverage: f64,
    pub concentration: f64,
    pub halted: bool,
    /// Kill-switch events journaled since the last look: (tripped, detail).
    pub kill_events: Vec<(bool, String)>,
    /// Orders refused since the last look: (check, symbol index).
    pub refusals: Vec<(String, Option<u32>)>,
}

impl EngineWatch {
    /// Start watching `engine`: what it has journaled so far is history, not new.
    pub fn new(labels: Labels, engine: &Engine) -> Self {
        let peak = engine
            .journal
            .equity
            .iter()
            .map(|e| e.equity)
            .filter(|e| e.is_finite())
            .fold(engine.ledger.initial.to_f64(), f64::max);
        EngineWatch {
            labels,
            submitted: engine.journal.submitted.len(),
            fills: engine.journal.fills.len(),
            risk: engine.journal.risk.len(),
            points: engine.journal.equity.len(),
            peak,
        }
    }

    /// Count what is new in `engine`'s journal and set the gauges from its last close.
    pub fn observe(&mut self, engine: &Engine) -> EngineView {
        let m = metrics();
        let j = &engine.journal;
        let l = &self.labels;
        m.orders
            .get_or_create(l)
            .inc_by((j.submitted.len().saturating_sub(self.submitted)) as u64);
        m.fills
            .get_or_create(l)
            .inc_by((j.fills.len().saturating_sub(self.fills)) as u64);
        self.submitted = j.submitted.len();
        self.fills = j.fills.len();
        let mut view = EngineView::default();
        for ev in j.risk.iter().skip(self.risk) {
            match ev.decision {
                Decision::Refused => {
                    m.risk_refusals
                        .get_or_create(&with(l, "check", ev.check.clone()))
                        .inc();
                    view.refusals.push((ev.check.clone(), ev.sym));
                }
                Decision::KillSwitch => view.kill_events.push((true, ev.detail.clone())),
                Decision::Normal if ev.check == "kill_switch" => {
                    view.kill_events.push((false, ev.detail.clone()))
                }
                _ => {}
            }
        }
        self.risk = j.risk.len();
        let px: Vec<f64> = engine
            .prices
            .iter()
            .map(|p| if p.is_finite() { *p } else { 0.0 })
            .collect();
        let equity = engine.ledger.equity(&px);
        let initial = engine.ledger.initial.to_f64();
        // The peak over every close since the last look (a batch may hold many), and now.
        for p in j.equity.iter().skip(self.points) {
            if p.equity.is_finite() {
                self.peak = self.peak.max(p.equity);
            }
        }
        self.points = j.equity.len();
        if equity.is_finite() {
            self.peak = self.peak.max(equity);
        }
        let gross = engine.ledger.gross(&px);
        let largest = engine
            .ledger
            .positions
            .iter()
            .zip(&px)
            .map(|(p, x)| (p.qty as f64 * x).abs())
            .fold(0.0, |a: f64, b| {
                if a.is_nan() || b.is_nan() {
                    f64::NAN
                } else {
                    a.max(b)
                }
            });
        let ratio = |x: f64| if equity > 0.0 { x / equity } else { f64::NAN };
        view.equity = equity;
        view.pnl = equity - initial;
        view.drawdown = if self.peak > 0.0 {
            (1.0 - equity / self.peak).max(0.0)
        } else {
            0.0
        };
        view.leverage = ratio(gross);
        view.concentration = ratio(largest);
        view.halted = engine.risk.halted();
        m.equity.get_or_create(l).set(view.equity);
        m.pnl.get_or_create(l).set(view.pnl);
        m.drawdown.get_or_create(l).set(view.drawdown);
        m.leverage.get_or_create(l).set(view.leverage);
        m.concentration.get_or_create(l).set(view.concentration);
        if let Some(limit) = engine.risk.limits.max_drawdown {
            m.drawdown_limit.get_or_create(l).set(limit);
        }
        m.kill_switch.get_or_create(l).set(i64::from(view.halted));
        view
    }
}

/// An exponentially weighted mean and variance of a stream of scores (a model's drift watch).
#[derive(Clone, Copy, Debug, Default)]
pub struct Ewm {
    n: u64,
    mean: f64,
    var: f64,
}

impl Ewm {
    /// Add `x` with weight `alpha` (the first value starts the mean); NaN is skipped.
    pub fn push(&mut self, x: f64, alpha: f64) {
        if !x.is_finite() {
            return;
        }
        if self.n == 0 {
            self.mean = x;
            self.var = 0.0;
        } else {
            let d = x - self.mean;
            self.mean += alpha * d;
            self.var = (1.0 - alpha) * (self.var + alpha * d * d);
        }
        self.n += 1;
    }
    pub fn mean(&self) -> f64 {
        self.mean
    }
    pub fn stddev(&self) -> f64 {
        self.var.sqrt()
    }
}

/// A tracing layer counting warnings and errors into `elite_log_events_total{level}` (give it a
/// WARN filter so it costs nothing for the levels it ignores).
pub struct CountLogEvents;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for CountLogEvents {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        let level = match *event.metadata().level() {
            tracing::Level::ERROR => "error",
            tracing::Level::WARN => "warn",
            _ => return,
        };
        metrics()
            .log_events
            .get_or_create(&vec![("level", level.to_string())])
            .inc();
    }
}
