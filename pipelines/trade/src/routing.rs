//! Smart order routing between venues that list the same instrument (NSE and BSE list the same
//! ISIN; shares bought on one can be sold on the other): send each order where its price is
//! best right now.
//!
//! The rule, for a marketable order of `qty`: among venues with a fresh, sane quote (both sides
//! positive, bid < ask, no older than `max_age`), a buy goes to the lowest ask and a sell to the
//! highest bid; between equal prices, the venue whose displayed size covers `qty` wins, then the
//! primary venue (the first listed). A venue better by less than `min_gain_bps` than the primary
//! does not take the order from it (routing has its own costs). With no usable quote anywhere
//! the order goes to the primary venue. The decision says why, for the audit log.

use elite_warehouse::Timestamp;
use serde::{Deserialize, Serialize};

use crate::types::Side;

/// One venue's top of book.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VenueQuote {
    /// An instrument key on the venue, e.g. `NSE_EQ|INE009A01021`.
    pub venue: String,
    pub bid: f64,
    pub bid_qty: i64,
    pub ask: f64,
    pub ask_qty: i64,
    pub ts: Timestamp,
}

/// Where an order goes, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Route {
    /// Index into the quotes given.
    pub venue: usize,
    /// The price that decided (ask for a buy, bid for a sell), when a quote was usable.
    pub price: Option<f64>,
    /// Price improvement over the primary venue in bps (0 when routed to it).
    pub gain_bps: f64,
    pub reason: String,
}

/// Routing settings.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Router {
    /// Quotes older than this (ns) are not used.
    pub max_age_ns: i64,
    /// Leave the primary venue only for at least this improvement.
    #[serde(default)]
    pub min_gain_bps: f64,
}

impl Router {
    /// Choose a venue for `side` × `qty` at `now`; `quotes[0]` is the primary venue.
    pub fn route(&self, side: Side, qty: i64, quotes: &[VenueQuote], now: Timestamp) -> Route {
        let usable = |q: &VenueQuote| {
            q.bid > 0.0
                && q.ask > q.bid
                && q.bid.is_finite()
                && q.ask.is_finite()
                && now.as_nanos() - q.ts.as_nanos() <= self.max_age_ns
                && q.ts.as_nanos() <= now.as_nanos()
        };
        let price = |q: &VenueQuote| match side {
            Side::Buy => q.ask,
            Side::Sell => q.bid,
        };
        let size = |q: &VenueQuote| match side {
            Side::Buy => q.ask_qty,
            Side::Sell => q.bid_qty,
        };
        // Better = lower for a buy, higher for a sell.
        let better = |a: f64, b: f64| match side {
            Side::Buy => a < b,
            Side::Sell => a > b,
        };
        let mut best: Option<usize> = None;
        for (k, q) in quotes.iter().enumerate() {
            if !usable(q) {
                continue;
            }
            best = match best {
                None => Some(k),
                Some(b) => {
                    let (pk, pb) = (price(q), price(&quotes[b]));
                    let covers = |x: &VenueQuote| size(x) >= qty;
                    if better(pk, pb) || (pk == pb && covers(q) && !covers(&quotes[b])) {
                        Some(k)
                    } else {
                        Some(b)
                    }
                }
            };
        }
        let Some(b) = best else {
            return Route {
                venue: 0,
                price: None,
                gain_bps: 0.0,
                reason: "no fresh quote on any venue: primary".into(),
            };
        };
        let primary = quotes.first().filter(|q| usable(q));
        let gain_bps = primary.map_or(f64::INFINITY, |p| {
            let (pp, pb) = (price(p), price(&quotes[b]));
            match side {
                Side::Buy => (pp - pb) / pp * 1e4,
                Side::Sell => (pb - pp) / pp * 1e4,
            }
        });
        if b != 0 && primary.is_some() && gain_bps < self.min_gain_bps {
            return Route {
                venue: 0,
                price: primary.map(price),
                gain_bps: 0.0,
                reason: format!(
                    "{} better by {gain_bps:.2} bps < {} bps: primary",
                    quotes[b].venue, self.min_gain_bps
                ),
            };
        }
        Route {
            venue: b,
            price: Some(price(&quotes[b])),
            gain_bps: if b == 0 { 0.0 } else { gain_bps },
            reason: if b == 0 {
                format!("{} has the best price", quotes[0].venue)
            } else if primary.is_none() {
                format!("primary quote stale or missing: {}", quotes[b].venue)
            } else {
                format!("{} better by {gain_bps:.2} bps", quotes[b].venue)
            },
        }
    }
}
