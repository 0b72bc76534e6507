//! `elite run trader --live`: the trade engine of the backtest and the paper trader, with its
//! orders worked by Upstox instead of the fill simulator.
//!
//! The engine's broker is the [`Outbox`]: strategies, risk, execution algorithms, exit rules and
//! the kill switch are unchanged, but bars fill nothing. The run's events come from the same
//! [`Intake`] as a backtest's (bars, predictions, signal events). Each step (the inputs before
//! one bar, then the bar) is:
//!
//! 1. **Sync**: while orders are working at Upstox, read the day's trade book and order book
//!    (every bar, or when the order-update feed says something happened; see below).
//!    Every trade of one of our orders not booked yet becomes a fill report
//!    ([`Event::Fill`]: its quantity and price, charges from the config's cost model); an order
//!    Upstox rejected or cancelled ends ([`Event::Status`]) once its trades are all booked.
//! 2. **Bar**: `Engine::process(Event::Bar)`, exactly as in a backtest.
//! 3. **Send**: the engine's outbox (risk-approved orders only: [`Approved`]) is mapped to
//!    Upstox orders ([`crate::brokers::upstox_order`]) and placed with our client order id as the
//!    Upstox `tag`; an order Upstox has no form for, or refuses, ends as rejected with the reason.
//!    Kill-switch cancels are sent as cancels; the orders stay working until Upstox says so.
//!
//! **Restart.** Every report applied (fill, end, route) is kept with the event offset it was
//! applied before, and the map client order id → Upstox order id; both go into the atomic
//! checkpoint with the journal rows written to the warehouse. On restart the engine is rebuilt by
//! [`crate::run::replay`] (the paper trader's too): the intake's events with the recorded reports
//! at the same points, the rebuilt journal must equal what was
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
use elite_trade::broker::Outbox;
use elite_trade::event::Event;
use elite_trade::money::Money;
use elite_trade::order::OrderStatus;
use elite_trade::risk::Approved;
use elite_trade::types::Bar;
use elite_warehouse::Timestamp;
use serde::{Deserialize, Serialize};

use crate::brokers::{Product, upstox_order, upstox_routed_order, upstox_tag};
use crate::run::session::load_checkpoint;
use crate::run::{BrokerConfig, Intake, RunConfig, Session, build_engine, run_id};
use crate::{Error, Result};

/// What the live trader adds to a session's checkpoint.
#[derive(Debug, Default, Serialize, Deserialize)]
struct LiveState {
    /// Client order id → Upstox order id.
    placed: BTreeMap<String, String>,
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
    /// Predictions or signal events that landed after their bar was processed (never used).
    pub late_inputs: usize,
}

/// A live trader: the engine, its Upstox link and what makes a restart safe.
pub struct LiveTrader<'a> {
    wh: &'a Warehouse,
    cfg: RunConfig,
    client: UpstoxOrders,
    product: Product,
    /// The run: engine (with the [`Outbox`] broker), intake, offset, reports, checkpoint.
    pub session: Session,
    instruments: Vec<Option<String>>,
    /// Per symbol: more venues' instrument keys (smart routing).
    venues: Vec<Vec<String>>,
    router: elite_trade::routing::Router,
    placed: BTreeMap<String, String>,
    /// Upstox order id → client order id.
    ours: HashMap<String, String>,
    /// Tag → Upstox order id, from the last order book read.
    tags: HashMap<String, String>,
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
    /// Metrics, health, alerts and chat commands (see [`LiveTrader::operate`]).
    pub ops: Option<crate::ops::watch::TraderOps>,
    base_url: String,
}

impl<'a> LiveTrader<'a> {
    /// Open (or resume) the live trader `opts.name` for `cfg`, talking to Upstox through
    /// `client`. Reads the latest bars; resuming replays them up to the checkpoint with the
    /// recorded broker reports and checks the result against the checkpoint.
    pub async fn open(
        wh: &'a Warehouse,
        cfg: &RunConfig,
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
        let cp = load_checkpoint::<LiveState>(&path, &opts.name, opts.fresh)?;
        let late = cp.as_ref().map(|c| c.late.clone()).unwrap_or_default();
        let intake = Intake::load(wh, cfg, None, &late).await?;
        // A live run is the config, not one bars version: new bars extend it.
        let run = run_id(cfg, None, "", "live")?;
        let outbox = Outbox::new(cfg.fills.clone(), cfg.costs.clone());
        let engine = build_engine(cfg, &intake.symbols, &intake.inputs, Some(Box::new(outbox)))?;
        let symbols = intake.symbols.clone();
        let session = Session::open(&opts.name, path, run, engine, intake, cp.as_ref())?;
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
            session,
            instruments,
            venues,
            router,
            placed: BTreeMap::new(),
            ours: HashMap::new(),
            tags: HashMap::new(),
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
            ops: None,
            base_url: broker.base_url.clone(),
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
        let _ = symbols;
        // The day's order book: orders this trader decided before a crash but had not recorded
        // as placed are found by their tag and adopted, never placed again.
        t.collect_outbox();
        t.read_tags().await?;
        Ok(t)
    }

    /// Take over what the checkpoint recorded (the session was rebuilt from it by replay).
    fn resume(&mut self, cp: crate::run::Checkpoint<LiveState>) -> Result<()> {
        self.session
            .check_rebuilt(&cp, " (with the recorded broker reports)")?;
        self.ours = cp
            .extra
            .placed
            .iter()
            .map(|(c, b)| (b.clone(), c.clone()))
            .collect();
        self.placed = cp.extra.placed;
        self.trades = cp
            .reports
            .iter()
            .filter_map(|(_, r)| match r {
                Event::Fill { trade_id, .. } => Some(trade_id.clone()),
                _ => None,
            })
            .collect();
        Ok(())
    }

    /// Apply a new report now and keep it for replay, before bar `offset` (what the broker
    /// reported while syncing for that bar).
    fn record(&mut self, r: Event) -> Result<()> {
        self.record_before(self.session.offset as u64, r)
    }

    /// Apply a new report now and keep it for replay before bar `before`: decisions taken while
    /// sending the orders of bar `offset` are replayed after it, before bar `offset + 1`.
    fn record_before(&mut self, before: u64, r: Event) -> Result<()> {
        match &r {
            Event::Fill { .. } => self.stats.fills += 1,
            Event::Status { .. } => self.stats.ends += 1,
            Event::Route { .. } => self.stats.routed += 1,
            _ => {}
        }
        self.session.record(before, r)
    }

    /// Move what the engine decided into `pending` (skipping what is already at Upstox or ended)
    /// and send its cancels.
    fn collect_outbox(&mut self) -> Vec<String> {
        let (orders, cancels) = self.session.engine.take_outbox();
        for a in orders {
            let id = &a.order().id;
            let working = self
                .session
                .engine
                .broker
                .working()
                .any(|w| &w.req.id == id);
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
        upstox_tag(&format!("{}|{id}", self.session.run_id))
    }

    /// Read the tables again and take in what landed since (the `--follow` loop): bars, and the
    /// predictions and signal events the strategies trade (see [`Intake::refresh`]). The bars
    /// already processed must be unchanged, and so must the symbol set: otherwise the book would
    /// have been built on different data, and the trader stops. Returns how many new bars there
    /// are.
    pub async fn refresh(&mut self) -> Result<usize> {
        let (bars, _, late) = self
            .session
            .intake
            .refresh(self.wh, &self.cfg, self.session.offset)
            .await?;
        self.stats.late_inputs += late;
        Ok(bars)
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
        self.session.intake.events[self.session.offset..]
            .iter()
            .find_map(|e| match e {
                Event::Bar(b) => Some(b),
                _ => None,
            })
    }

    /// Bars not processed yet.
    pub fn remaining(&self) -> usize {
        self.session.intake.bars_from(self.session.offset)
    }

    /// Orders working at Upstox (placed, not ended in the engine).
    pub fn working(&self) -> usize {
        self.session
            .engine
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
            self.record(Event::Fill {
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
            let Some(w) = self
                .session
                .engine
                .broker
                .working()
                .find(|w| w.req.id == id)
            else {
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
            self.record(Event::Status {
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
        let r = Event::Status {
            order_id: id,
            status: OrderStatus::Rejected,
            reason,
            ts_recv: now,
        };
        self.record_before(self.session.offset as u64 + 1, r)
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
                    .session
                    .intake
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
                        let r = Event::Route {
                            order_id: id.clone(),
                            sym: o.sym,
                            venue: quotes[route.venue].venue.clone(),
                            detail: match route.price {
                                Some(p) => format!("{}; price {p}", route.reason),
                                None => route.reason,
                            },
                            ts_recv: now,
                        };
                        self.record_before(self.session.offset as u64 + 1, r)?;
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

    /// Process the next bar: the inputs that come before it, then sync with Upstox, feed the
    /// bar, send what the engine decided. `None` when there is no bar left (inputs after the last
    /// bar are processed too).
    pub async fn step(&mut self) -> Result<Option<Bar>> {
        loop {
            let Some(e) = self.session.intake.events.get(self.session.offset).cloned() else {
                return Ok(None);
            };
            let Event::Bar(bar) = e else {
                self.session.engine.process(&e)?;
                self.session.offset += 1;
                continue;
            };
            let now = bar.ts_recv;
            self.sync(now).await?;
            self.session.engine.process(&e)?;
            let cancels = self.collect_outbox();
            self.send(cancels, now).await?;
            self.session.offset += 1;
            self.stats.bars += 1;
            return Ok(Some(bar));
        }
    }

    /// Write the journal since the last commit, then the checkpoint (atomically).
    pub async fn commit(&mut self) -> Result<()> {
        let state = LiveState {
            placed: self.placed.clone(),
        };
        self.session.commit(self.wh, None, state).await?;
        if let Some(o) = &self.ops {
            crate::ops::metrics::committed(&o.ops.labels);
        }
        Ok(())
    }
}

impl LiveTrader<'_> {
    /// Report metrics and health, raise alerts and answer commands through `ops` from now on.
    pub fn operate(&mut self, ops: crate::ops::watch::Ops) {
        ops.health.fact("run_id", &self.session.run_id);
        self.ops = Some(crate::ops::watch::TraderOps::new(ops, &self.session.engine));
        self.observe(0, None);
    }

    /// After a step: metrics, checks and alerts. Upstox answered every request so far (a
    /// failed one stops the trader, and its status says why).
    fn observe(&mut self, new_bars: u64, latest: Option<Timestamp>) {
        let lag = self.remaining() as u64;
        if let Some(o) = &mut self.ops {
            o.observe(&self.session.engine, new_bars, latest, lag);
            let h = &o.ops.health;
            h.set(
                "broker",
                true,
                format!(
                    "upstox at {}: every request answered; order-update feed {}",
                    self.base_url, self.stats.feed
                ),
            );
            h.fact("bars_processed", self.stats.bars);
            h.fact("orders_placed", self.stats.placed);
            h.fact("orders_refused", self.stats.refused);
        }
    }

    /// Commands received since the last look.
    fn pending_commands(&mut self) -> Vec<crate::ops::alerts::Request> {
        self.ops
            .as_mut()
            .map(|o| o.ops.pending())
            .unwrap_or_default()
    }

    /// Answer an operator's command in its chat.
    pub async fn answer(&mut self, r: crate::ops::alerts::Request) -> Result<()> {
        let text = self.command(&r).await?;
        self.observe(0, None);
        if let Some(o) = &self.ops {
            o.ops.reply(r.chat_id, text);
        }
        Ok(())
    }

    /// Carry out `r` and say what happened: `/halt` cancels at Upstox what is working and
    /// places the flattening orders now, like a drawdown breach; it is kept for replay and
    /// committed at once.
    pub async fn command(&mut self, r: &crate::ops::alerts::Request) -> Result<String> {
        use crate::run::operate;
        let bars = self.stats.bars;
        let ev = match operate::respond(r, &self.session, "LIVE trader", bars, self.ops.as_ref()) {
            Ok(ev) => ev,
            Err(text) => return Ok(text),
        };
        let halt = matches!(ev, Event::Control { halt: true, .. });
        let now = ev.ts();
        let placed = self.stats.placed;
        let at = self.session.offset as u64;
        self.session.record(at, ev)?;
        let cancels = self.collect_outbox();
        self.send(cancels, now).await?;
        self.commit().await?;
        Ok(operate::control_reply(halt, self.stats.placed - placed))
    }

    /// Keep trading what lands: every `secs` seconds read the bars table again and trade the new
    /// bars; answer commands as they come; until `stop` resolves. Returns the new bars.
    pub async fn follow(
        &mut self,
        secs: f64,
        commit_every: usize,
        stop: impl std::future::Future<Output = ()>,
    ) -> Result<usize> {
        use crate::run::operate::{self, Step};
        if let Some(o) = &mut self.ops {
            o.following = true;
        }
        tokio::pin!(stop);
        let mut every = operate::ticker(secs).await;
        let mut added = 0;
        loop {
            match operate::next_step(&mut self.ops, &mut every, &mut stop).await {
                Step::Stop => {
                    self.commit().await?;
                    return Ok(added);
                }
                Step::Command(r) => self.answer(r).await?,
                Step::NoCommands => {
                    if let Some(o) = &mut self.ops {
                        o.ops.commands = None;
                    }
                }
                Step::Tick => {
                    let n = self.refresh().await?;
                    if n > 0 {
                        added += n;
                        run_live(self, commit_every).await?;
                    }
                    self.observe(0, None);
                }
            }
        }
    }
}

/// Run every bar not processed yet, committing every `commit_every` bars and at the end.
pub async fn run_live(trader: &mut LiveTrader<'_>, commit_every: usize) -> Result<()> {
    let mut since = 0;
    let latency = trader
        .ops
        .as_ref()
        .map(crate::ops::watch::TraderOps::decision_latency);
    loop {
        let t0 = std::time::Instant::now();
        let Some(bar) = trader.step().await? else {
            break;
        };
        if let Some(h) = &latency {
            // Live, the decision includes syncing with Upstox and sending the orders.
            h.observe(t0.elapsed().as_secs_f64());
        }
        since += 1;
        if since >= commit_every.max(1) {
            trader.commit().await?;
            since = 0;
        }
        trader.observe(1, Some(bar.ts_recv));
        for r in trader.pending_commands() {
            trader.answer(r).await?;
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
