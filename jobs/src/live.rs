//! `elite run trader --live`: the trade engine of the backtest and the paper trader, with its
//! orders worked by Upstox instead of the fill simulator.
//!
//! The engine runs in external mode ([`Engine::set_external`]): strategies, risk, execution
//! algorithms, exit rules and the kill switch are unchanged, but bars fill nothing. Each step
//! (one bar) is:
//!
//! 1. **Sync**: while orders are working at Upstox, read the day's trade book and order book
//!    (every bar, or when the order-update feed says something happened; see below).
//!    Every trade of one of our orders not booked yet becomes a fill (`Engine::on_fill`: its
//!    quantity and price, charges from the config's cost model); an order Upstox rejected or
//!    cancelled ends (`Engine::on_order_status`) once its trades are all booked.
//! 2. **Bar**: `Engine::on_bar`, exactly as in a backtest.
//! 3. **Send**: the engine's outbox (risk-approved orders only: [`Approved`]) is mapped to
//!    Upstox orders ([`crate::brokers::upstox_order`]) and placed with our client order id as the
//!    Upstox `tag`; an order Upstox has no form for, or refuses, ends as rejected with the reason.
//!    Kill-switch cancels are sent as cancels; the orders stay working until Upstox says so.
//!
//! **Restart.** Every report applied (fill or end) is kept with the bar offset it was applied
//! before, and the map client order id → Upstox order id; both go into the atomic checkpoint
//! with the journal rows written to the warehouse. On restart the engine is rebuilt by replaying
//! the bars with the recorded reports at the same points, the rebuilt journal must equal what was
//! recorded, and the day's order book is read: an order the rebuilt engine decided whose tag is
//! already in the book is adopted, never placed again. A trade applied after the last checkpoint
//! is read again from the trade book and booked once.
//!
//! **Order updates.** With `[broker] order_updates = true` (the default) the trader listens to
//! Upstox's portfolio stream feed and reads the books only when an update for one of its orders
//! arrived, or every `poll_every` bars as a safety net; the books stay the record (trades carry
//! exact prices). An update that arrives just after a bar's read is acted on at the next bar.
//!
//! What it does not do yet: modify working orders; trade bracket, trailing-stop or GTC orders at
//! Upstox (they are refused before sending, with the reason).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;

use elite_collectors::upstox_orders::{OrderState, Placed, UpstoxOrders, upstox_time};
use elite_store::Warehouse;
use elite_trade::engine::Engine;
use elite_trade::money::Money;
use elite_trade::order::OrderStatus;
use elite_trade::risk::Approved;
use elite_trade::sim::Bar;
use elite_warehouse::Timestamp;
use serde::{Deserialize, Serialize};

use crate::backtest::{
    BacktestConfig, Prepared, Written, build_engine, load_bars, run_id, write_journal,
};
use crate::brokers::{Product, upstox_order, upstox_routed_order, upstox_tag};
use crate::{Error, Result};

/// `[broker]` in a trader config.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BrokerConfig {
    /// `upstox` (the only live broker).
    pub kind: String,
    /// API base URL.
    #[serde(default = "default_base")]
    pub base_url: String,
    /// Environment variable holding the access token (never the token itself in a file).
    #[serde(default = "default_token_env")]
    pub token_env: String,
    /// `delivery` (default) or `intraday`.
    #[serde(default = "default_product")]
    pub product: String,
    /// Listen to Upstox's order-update feed (portfolio stream): the books are then read when an
    /// update for one of this run's orders arrives, and every `poll_every` bars as a safety net;
    /// without the feed (or when it cannot connect) they are read every bar orders are working.
    #[serde(default = "dtrue")]
    pub order_updates: bool,
    #[serde(default = "d_poll_every")]
    pub poll_every: usize,
    /// Symbol → more instrument keys of the same ISIN on other venues (`RELIANCE =
    /// ["BSE_EQ|INE002A01018"]`): market orders are then routed by best price among the primary
    /// (`instruments`) and these, from Upstox's full market quotes at the time of sending.
    #[serde(default)]
    pub venues: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub routing: RoutingConfig,
    /// Symbol → Upstox instrument key (`GOOG = "NSE_EQ|INE..."`); a symbol without one is not
    /// traded live (its orders are refused with the reason).
    #[serde(default)]
    pub instruments: BTreeMap<String, String>,
}

/// `[broker.routing]`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RoutingConfig {
    /// Quotes older than this are not used.
    #[serde(default = "d_max_age_ms")]
    pub max_age_ms: u64,
    /// Leave the primary venue only for at least this price improvement.
    #[serde(default)]
    pub min_gain_bps: f64,
}

impl Default for RoutingConfig {
    fn default() -> Self {
        RoutingConfig {
            max_age_ms: d_max_age_ms(),
            min_gain_bps: 0.0,
        }
    }
}

fn d_max_age_ms() -> u64 {
    2_000
}

fn dtrue() -> bool {
    true
}
fn d_poll_every() -> usize {
    20
}

fn default_base() -> String {
    "https://api.upstox.com/".into()
}
fn default_token_env() -> String {
    "UPSTOX_ACCESS_TOKEN".into()
}
fn default_product() -> String {
    "delivery".into()
}

impl BrokerConfig {
    fn product(&self) -> Result<Product> {
        match self.product.as_str() {
            "delivery" => Ok(Product::Delivery),
            "intraday" => Ok(Product::Intraday),
            p => Err(Error::Config(format!(
                "broker.product {p:?}: expected delivery or intraday"
            ))),
        }
    }
}

/// A broker report the engine applied.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Report {
    Fill {
        order_id: String,
        trade_id: String,
        qty: i64,
        price: Money,
        ts: Timestamp,
        ts_recv: Timestamp,
    },
    End {
        order_id: String,
        status: OrderStatus,
        reason: String,
        ts_recv: Timestamp,
    },
    /// Where an order was routed, and why (recorded in `risk_events` as check `route`).
    Route {
        order_id: String,
        sym: u32,
        venue: String,
        detail: String,
        ts_recv: Timestamp,
    },
}

#[derive(Debug, Serialize, Deserialize)]
struct Checkpoint {
    name: String,
    run_id: String,
    next_offset: u64,
    written: Written,
    /// Client order id → Upstox order id.
    placed: BTreeMap<String, String>,
    /// (bar offset the report was applied before, report), in the order applied.
    reports: Vec<(u64, Report)>,
}

/// How the live trader runs.
#[derive(Clone, Debug)]
pub struct LiveOptions {
    pub name: String,
    pub state_dir: PathBuf,
    pub fresh: bool,
}

/// What a live session has done (this process).
#[derive(Clone, Debug, Default, Serialize)]
pub struct LiveStats {
    pub bars: u64,
    pub placed: usize,
    /// Orders found already at Upstox by their tag (after a restart): not placed again.
    pub adopted: usize,
    /// Orders refused before or at Upstox (rejected in the engine with the reason).
    pub refused: usize,
    pub fills: usize,
    pub ends: usize,
    pub cancels: usize,
    /// Book reads (each a trade-book and an order-book request).
    pub polls: usize,
    /// Orders routed among venues (see `[broker] venues`); those sent away from the primary.
    pub routed: usize,
    pub rerouted: usize,
    /// Order updates received from the feed, and how many were for this run's orders.
    pub updates: usize,
    pub our_updates: usize,
    /// The order-update feed: `connected`, `off`, or why it is unavailable (polling every bar).
    pub feed: String,
    /// Trades in the day's book for orders that are not this run's (ignored).
    pub foreign_trades: usize,
}

/// A live trader: the engine, its Upstox link and what makes a restart safe.
pub struct LiveTrader<'a> {
    wh: &'a Warehouse,
    cfg: BacktestConfig,
    client: UpstoxOrders,
    product: Product,
    path: PathBuf,
    name: String,
    pub run_id: String,
    pub engine: Engine,
    symbols: Vec<String>,
    instruments: Vec<Option<String>>,
    /// Per symbol: more venues' instrument keys (smart routing).
    venues: Vec<Vec<String>>,
    router: elite_trade::routing::Router,
    bars: Vec<Bar>,
    offset: usize,
    written: Written,
    placed: BTreeMap<String, String>,
    /// Upstox order id → client order id.
    ours: HashMap<String, String>,
    /// Tag → Upstox order id, from the last order book read.
    tags: HashMap<String, String>,
    reports: Vec<(u64, Report)>,
    trades: HashSet<String>,
    /// Trade ids in the day's book that are not this run's.
    foreign: HashSet<String>,
    pending: Vec<Approved>,
    updates: Option<elite_collectors::upstox_orders::OrderUpdates>,
    /// Updates received by [`LiveTrader::wait_updates`], for the next sync.
    received: Vec<elite_collectors::upstox_orders::OrderStatus>,
    poll_every: usize,
    since_poll: usize,
    pub stats: LiveStats,
}

fn engine_err(e: elite_trade::engine::EngineError) -> Error {
    Error::Internal(e.to_string())
}

impl<'a> LiveTrader<'a> {
    /// Open (or resume) the live trader `opts.name` for `cfg`, talking to Upstox through
    /// `client`. Reads the latest bars; resuming replays them up to the checkpoint with the
    /// recorded broker reports and checks the result against the checkpoint.
    pub async fn open(
        wh: &'a Warehouse,
        cfg: &BacktestConfig,
        opts: &LiveOptions,
        client: UpstoxOrders,
    ) -> Result<LiveTrader<'a>> {
        let broker = cfg.broker.as_ref().ok_or_else(|| {
            Error::Config("live trading needs a [broker] section (kind = \"upstox\")".into())
        })?;
        if broker.kind != "upstox" {
            return Err(Error::Config(format!(
                "broker.kind {:?}: the live broker is upstox",
                broker.kind
            )));
        }
        let product = broker.product()?;
        let path = opts.state_dir.join(format!("live-{}.json", opts.name));
        let cp = if opts.fresh {
            None
        } else {
            crate::checkpoint::load::<Checkpoint>(&path)?
        };
        let Prepared {
            bars,
            symbols,
            inputs,
            ..
        } = load_bars(wh, cfg, None).await?;
        // A live run is the config, not one bars version: new bars extend it.
        let run = run_id(cfg, None, "", "live")?;
        let mut engine = build_engine(cfg, &symbols, &inputs)?;
        engine.set_external(true);
        let instruments = symbols
            .iter()
            .map(|s| broker.instruments.get(s).cloned())
            .collect();
        let venues = symbols
            .iter()
            .map(|s| broker.venues.get(s).cloned().unwrap_or_default())
            .collect();
        let router = elite_trade::routing::Router {
            max_age_ns: (broker.routing.max_age_ms as i64).saturating_mul(1_000_000),
            min_gain_bps: broker.routing.min_gain_bps,
        };
        let mut t = LiveTrader {
            wh,
            cfg: cfg.clone(),
            client,
            product,
            path,
            name: opts.name.clone(),
            run_id: run,
            engine,
            symbols,
            instruments,
            venues,
            router,
            bars,
            offset: 0,
            written: Written::default(),
            placed: BTreeMap::new(),
            ours: HashMap::new(),
            tags: HashMap::new(),
            reports: vec![],
            trades: HashSet::new(),
            foreign: HashSet::new(),
            pending: vec![],
            updates: None,
            received: vec![],
            poll_every: broker.poll_every.max(1),
            since_poll: 0,
            stats: LiveStats {
                feed: "off".into(),
                ..Default::default()
            },
        };
        if broker.order_updates {
            match t.client.order_updates().await {
                Ok(u) => {
                    t.updates = Some(u);
                    t.stats.feed = "connected".into();
                }
                Err(e) => {
                    tracing::warn!(reason = %e, "order-update feed unavailable: reading the books every bar");
                    t.stats.feed = format!("unavailable ({e}): books read every bar");
                }
            }
        }
        if let Some(cp) = cp {
            t.resume(cp)?;
        }
        // The day's order book: orders this trader decided before a crash but had not recorded
        // as placed are found by their tag and adopted, never placed again.
        t.collect_outbox();
        t.read_tags().await?;
        Ok(t)
    }

    fn resume(&mut self, cp: Checkpoint) -> Result<()> {
        if cp.name != self.name {
            return Err(Error::Internal(format!(
                "checkpoint {} belongs to trader {}",
                self.path.display(),
                cp.name
            )));
        }
        if cp.run_id != self.run_id {
            return Err(Error::Config(format!(
                "checkpoint {} is for run {} but this config makes run {}; use --fresh or another --name",
                self.path.display(),
                cp.run_id,
                self.run_id
            )));
        }
        let start = cp.next_offset as usize;
        if start > self.bars.len() {
            return Err(Error::Internal(format!(
                "checkpoint offset {start} is past the {} bars in the warehouse",
                self.bars.len()
            )));
        }
        let mut k = 0;
        for i in 0..start {
            while k < cp.reports.len() && cp.reports[k].0 as usize <= i {
                self.apply(&cp.reports[k].1)?;
                k += 1;
            }
            self.engine.on_bar(&self.bars[i]).map_err(engine_err)?;
        }
        while k < cp.reports.len() {
            self.apply(&cp.reports[k].1)?;
            k += 1;
        }
        let rebuilt = Written::all_of(&self.engine.journal);
        if rebuilt != cp.written {
            return Err(Error::Internal(format!(
                "replay up to bar {start} with the recorded broker reports rebuilt {rebuilt:?} but the \
                 checkpoint recorded {:?}: not trading on a book that does not reconcile",
                cp.written
            )));
        }
        self.offset = start;
        self.written = cp.written;
        self.ours = cp
            .placed
            .iter()
            .map(|(c, b)| (b.clone(), c.clone()))
            .collect();
        self.placed = cp.placed;
        self.trades = cp
            .reports
            .iter()
            .filter_map(|(_, r)| match r {
                Report::Fill { trade_id, .. } => Some(trade_id.clone()),
                _ => None,
            })
            .collect();
        self.reports = cp.reports;
        Ok(())
    }

    fn apply(&mut self, r: &Report) -> Result<()> {
        match r {
            Report::Fill {
                order_id,
                qty,
                price,
                ts,
                ts_recv,
                ..
            } => {
                self.engine
                    .on_fill(order_id, *qty, *price, *ts, *ts_recv)
                    .map_err(engine_err)?;
            }
            Report::End {
                order_id,
                status,
                reason,
                ts_recv,
            } => {
                self.engine
                    .on_order_status(order_id, *status, reason, *ts_recv)
                    .map_err(engine_err)?;
            }
            Report::Route {
                order_id,
                sym,
                venue,
                detail,
                ts_recv,
            } => self.engine.journal.risk.push(elite_trade::risk::RiskEvent {
                ts: *ts_recv,
                order_id: order_id.clone(),
                sym: Some(*sym),
                decision: elite_trade::risk::Decision::Approved,
                check: "route".into(),
                detail: if detail.starts_with(venue.as_str()) {
                    detail.clone()
                } else {
                    format!("{venue}: {detail}")
                },
            }),
        }
        Ok(())
    }

    /// Apply a new report now and keep it for replay, before bar `offset` (what the broker
    /// reported while syncing for that bar).
    fn record(&mut self, r: Report) -> Result<()> {
        self.record_before(self.offset as u64, r)
    }

    /// Apply a new report now and keep it for replay before bar `before`: decisions taken while
    /// sending the orders of bar `offset` are replayed after it, before bar `offset + 1`.
    fn record_before(&mut self, before: u64, r: Report) -> Result<()> {
        self.apply(&r)?;
        match &r {
            Report::Fill { .. } => self.stats.fills += 1,
            Report::End { .. } => self.stats.ends += 1,
            Report::Route { .. } => self.stats.routed += 1,
        }
        self.reports.push((before, r));
        Ok(())
    }

    /// Move what the engine decided into `pending` (skipping what is already at Upstox or ended)
    /// and send its cancels.
    fn collect_outbox(&mut self) -> Vec<String> {
        let (orders, cancels) = self.engine.take_outbox();
        for a in orders {
            let id = &a.order().id;
            let working = self.engine.broker.working().any(|w| &w.req.id == id);
            if !self.placed.contains_key(id) && working {
                self.pending.push(a);
            }
        }
        cancels
    }

    async fn read_tags(&mut self) -> Result<Vec<elite_collectors::upstox_orders::OrderStatus>> {
        let book = self.client.order_book().await?;
        for o in &book {
            if let Some(tag) = &o.tag {
                self.tags.insert(tag.clone(), o.order_id.clone());
            }
        }
        Ok(book)
    }

    /// The Upstox tag of client order id `id`: a hash of this run's id and `id`, so that two
    /// traders (or two configs) with the same strategy names never share a tag.
    pub fn tag(&self, id: &str) -> String {
        upstox_tag(&format!("{}|{id}", self.run_id))
    }

    /// Read the bars table again and append the bars that landed since (the `--follow` loop).
    /// The bars already processed must be unchanged, and so must the symbol set: otherwise the
    /// book would have been built on different data, and the trader stops. Returns how many
    /// new bars there are.
    pub async fn refresh(&mut self) -> Result<usize> {
        let p = load_bars(self.wh, &self.cfg, None).await?;
        if p.symbols != self.symbols {
            return Err(Error::Config(format!(
                "the symbols changed from {:?} to {:?}: restart the trader to trade a new set",
                self.symbols, p.symbols
            )));
        }
        let n = self.bars.len();
        if p.bars.len() < n || p.bars[..n] != self.bars[..] {
            let at = (0..n.min(p.bars.len()))
                .find(|&i| p.bars[i] != self.bars[i])
                .unwrap_or(n.min(p.bars.len()));
            return Err(Error::Internal(format!(
                "the bars this trader has seen changed in the warehouse (first difference at bar {at} of {n}): \
                 not trading on a history that was rewritten"
            )));
        }
        let added = p.bars.len() - n;
        self.bars = p.bars;
        Ok(added)
    }

    /// Wait at most `timeout` for `n` order updates from the feed (kept for the next bar's
    /// sync); how many arrived. 0 at once without a feed.
    pub async fn wait_updates(&mut self, n: usize, timeout: std::time::Duration) -> usize {
        let Some(u) = self.updates.as_mut() else {
            return 0;
        };
        let deadline = tokio::time::Instant::now() + timeout;
        let mut got = 0;
        while got < n {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match u.next(left).await {
                Some(o) => {
                    self.received.push(o);
                    got += 1;
                }
                None => break,
            }
        }
        got
    }

    /// The next bar to process, if any.
    pub fn peek(&self) -> Option<&Bar> {
        self.bars.get(self.offset)
    }

    /// Bars not processed yet.
    pub fn remaining(&self) -> usize {
        self.bars.len() - self.offset
    }

    /// Orders working at Upstox (placed, not ended in the engine).
    pub fn working(&self) -> usize {
        self.engine
            .broker
            .working()
            .filter(|w| self.placed.contains_key(&w.req.id))
            .count()
    }

    /// Book what Upstox reports for our working orders, as known at `now`.
    async fn sync(&mut self, now: Timestamp) -> Result<()> {
        let mut rang = false;
        if let Some(u) = self.updates.as_mut() {
            let mut got = std::mem::take(&mut self.received);
            got.extend(u.drain());
            for o in got {
                self.stats.updates += 1;
                if self.ours.contains_key(&o.order_id) {
                    self.stats.our_updates += 1;
                    rang = true;
                }
            }
        }
        if self.working() == 0 {
            self.since_poll = 0;
            return Ok(());
        }
        self.since_poll += 1;
        if self.updates.is_some() && !rang && self.since_poll < self.poll_every {
            return Ok(());
        }
        self.since_poll = 0;
        self.stats.polls += 1;
        let mut trades = self.client.trades().await?;
        let book = self.read_tags().await?;
        trades.sort_by_cached_key(|t| (upstox_time(&t.exchange_timestamp), t.trade_id.clone()));
        for t in trades {
            let Some(id) = self.ours.get(&t.order_id).cloned() else {
                self.foreign.insert(t.trade_id);
                self.stats.foreign_trades = self.foreign.len();
                continue;
            };
            if self.trades.contains(&t.trade_id) {
                continue;
            }
            let price = Money::from_f64(t.average_price)
                .filter(|p| p.0 > 0)
                .ok_or_else(|| {
                    Error::Collector(elite_collectors::Error::Input {
                        location: format!("upstox trade {}", t.trade_id),
                        reason: format!("price {} is not a price", t.average_price),
                    })
                })?;
            let ts = upstox_time(&t.exchange_timestamp)
                .map(|x| x.min(now))
                .unwrap_or(now);
            self.trades.insert(t.trade_id.clone());
            self.record(Report::Fill {
                order_id: id,
                trade_id: t.trade_id,
                qty: t.quantity,
                price,
                ts,
                ts_recv: now,
            })?;
        }
        for o in book {
            let Some(id) = self.ours.get(&o.order_id).cloned() else {
                continue;
            };
            let Some(w) = self.engine.broker.working().find(|w| w.req.id == id) else {
                continue;
            };
            let status = match o.state() {
                OrderState::Rejected => OrderStatus::Rejected,
                OrderState::Cancelled => OrderStatus::Cancelled,
                OrderState::Working | OrderState::Complete => continue,
            };
            // Only once every trade Upstox counts is booked.
            if w.filled < o.filled_quantity {
                continue;
            }
            let reason = if o.status_message.is_empty() {
                format!("upstox: {}", o.status)
            } else {
                format!("upstox: {}: {}", o.status, o.status_message)
            };
            self.record(Report::End {
                order_id: id,
                status,
                reason,
                ts_recv: now,
            })?;
        }
        Ok(())
    }

    /// Top of book on the primary venue and the alternates, in that order, from Upstox's full
    /// market quotes; a venue without a usable answer gets an empty quote (never chosen).
    async fn venue_quotes(
        &mut self,
        primary: &str,
        alternates: &[String],
    ) -> Vec<elite_trade::routing::VenueQuote> {
        let keys: Vec<String> = std::iter::once(primary.to_string())
            .chain(alternates.iter().cloned())
            .collect();
        let got = match self.client.quotes(&keys).await {
            Ok(q) => q,
            Err(e) => {
                tracing::warn!(reason = %e, "market quotes unavailable: routing to the primary venue");
                vec![]
            }
        };
        keys.iter()
            .map(|k| {
                let q = got.iter().find(|q| &q.instrument_token == k);
                elite_trade::routing::VenueQuote {
                    venue: k.clone(),
                    bid: q.map_or(0.0, |q| q.bid),
                    bid_qty: q.map_or(0, |q| q.bid_qty),
                    ask: q.map_or(0.0, |q| q.ask),
                    ask_qty: q.map_or(0, |q| q.ask_qty),
                    ts: q.and_then(|q| q.ts).unwrap_or(Timestamp::from_nanos(0)),
                }
            })
            .collect()
    }

    /// Refuse `id` in the engine (before bar `offset + 1`: it was decided on bar `offset`).
    fn refuse(&mut self, id: String, reason: String, now: Timestamp) -> Result<()> {
        self.stats.refused += 1;
        let r = Report::End {
            order_id: id,
            status: OrderStatus::Rejected,
            reason,
            ts_recv: now,
        };
        self.record_before(self.offset as u64 + 1, r)
    }

    async fn send(&mut self, cancels: Vec<String>, now: Timestamp) -> Result<()> {
        for a in std::mem::take(&mut self.pending) {
            let o = a.order();
            let id = o.id.clone();
            let tag = self.tag(&id);
            if let Some(existing) = self.tags.get(&tag).cloned() {
                self.stats.adopted += 1;
                self.ours.insert(existing.clone(), id.clone());
                self.placed.insert(id, existing);
                continue;
            }
            let Some(key) = self.instruments.get(o.sym as usize).cloned().flatten() else {
                let sym = self
                    .symbols
                    .get(o.sym as usize)
                    .cloned()
                    .unwrap_or_default();
                self.refuse(
                    id,
                    format!("no Upstox instrument key for {sym} in [broker.instruments]"),
                    now,
                )?;
                continue;
            };
            let alternates = self.venues.get(o.sym as usize).cloned().unwrap_or_default();
            let mapped = if alternates.is_empty() || o.kind != elite_trade::order::OrderKind::Market
            {
                upstox_order(&a, &key, self.product)
            } else {
                let quotes = self.venue_quotes(&key, &alternates).await;
                match upstox_routed_order(&a, &quotes, &self.router, self.product, now) {
                    Ok((req, route)) => {
                        if route.venue > 0 {
                            self.stats.rerouted += 1;
                        }
                        let r = Report::Route {
                            order_id: id.clone(),
                            sym: o.sym,
                            venue: quotes[route.venue].venue.clone(),
                            detail: match route.price {
                                Some(p) => format!("{}; price {p}", route.reason),
                                None => route.reason,
                            },
                            ts_recv: now,
                        };
                        self.record_before(self.offset as u64 + 1, r)?;
                        Ok(req)
                    }
                    Err(e) => Err(e),
                }
            };
            let req = match mapped {
                Ok(mut r) => {
                    r.tag = tag.clone();
                    r
                }
                Err(e) => {
                    self.refuse(id, e.to_string(), now)?;
                    continue;
                }
            };
            match self.client.place(&req).await {
                Ok(p) => {
                    match &p {
                        Placed::New(_) => self.stats.placed += 1,
                        Placed::Existing(_) => self.stats.adopted += 1,
                    }
                    let bid = p.order_id().to_string();
                    self.ours.insert(bid.clone(), id.clone());
                    self.tags.insert(tag, bid.clone());
                    self.placed.insert(id, bid);
                }
                // Upstox answered and refused the order (not the session): it does not exist
                // there, so it ends here as rejected with Upstox's reason.
                Err(e @ elite_collectors::Error::Api { status, .. })
                    if !matches!(status, Some(401 | 403)) =>
                {
                    self.refuse(id, format!("upstox refused: {e}"), now)?;
                }
                // No answer after the tag check: stop; a restart finds it by tag or sends it.
                Err(e) => return Err(e.into()),
            }
        }
        for id in cancels {
            if let Some(bid) = self.placed.get(&id).cloned() {
                self.stats.cancels += 1;
                // An order that completed meanwhile cannot be cancelled: its fills still come.
                let _ = self.client.cancel(&bid).await;
            }
        }
        Ok(())
    }

    /// Process the next bar: sync with Upstox, feed the bar, send what the engine decided.
    /// `None` when there is no bar left.
    pub async fn step(&mut self) -> Result<Option<Bar>> {
        let Some(bar) = self.bars.get(self.offset).copied() else {
            return Ok(None);
        };
        let now = bar.ts_recv;
        self.sync(now).await?;
        self.engine.on_bar(&bar).map_err(engine_err)?;
        let cancels = self.collect_outbox();
        self.send(cancels, now).await?;
        self.offset += 1;
        self.stats.bars += 1;
        Ok(Some(bar))
    }

    /// Write the journal since the last commit, then the checkpoint (atomically).
    pub async fn commit(&mut self) -> Result<()> {
        write_journal(
            self.wh,
            &self.run_id,
            &self.engine,
            &self.symbols,
            &mut self.written,
        )
        .await?;
        crate::checkpoint::save(
            &self.path,
            &Checkpoint {
                name: self.name.clone(),
                run_id: self.run_id.clone(),
                next_offset: self.offset as u64,
                written: self.written,
                placed: self.placed.clone(),
                reports: self.reports.clone(),
            },
        )
    }
}

/// Run every bar not processed yet, committing every `commit_every` bars and at the end.
pub async fn run_live(trader: &mut LiveTrader<'_>, commit_every: usize) -> Result<()> {
    let mut since = 0;
    while trader.step().await?.is_some() {
        since += 1;
        if since >= commit_every.max(1) {
            trader.commit().await?;
            since = 0;
        }
    }
    trader.commit().await
}

/// The Upstox client for a `[broker]` section, with the token from its environment variable.
pub fn upstox_client(broker: &BrokerConfig) -> Result<UpstoxOrders> {
    let token = std::env::var(&broker.token_env).map_err(|_| {
        Error::Config(format!(
            "live trading needs an Upstox access token in ${} (broker.token_env)",
            broker.token_env
        ))
    })?;
    Ok(UpstoxOrders::new(
        &broker.base_url,
        elite_warehouse::Secret::new(token),
    )?)
}
