//! Smart routing between NSE and BSE by hand.

use elite_trade::order::Side;
use elite_trade::routing::{Router, VenueQuote};
use elite_warehouse::Timestamp;

const SEC: i64 = 1_000_000_000;

fn q(venue: &str, bid: f64, bid_qty: i64, ask: f64, ask_qty: i64, age_s: i64) -> VenueQuote {
    VenueQuote {
        venue: venue.into(),
        bid,
        bid_qty,
        ask,
        ask_qty,
        ts: Timestamp::from_nanos(100 * SEC - age_s * SEC),
    }
}

fn router(min_gain_bps: f64) -> Router {
    Router {
        max_age_ns: 5 * SEC,
        min_gain_bps,
    }
}

const NOW: Timestamp = Timestamp::from_nanos(100 * SEC);

#[test]
fn best_price_per_side() {
    let quotes = [
        q("NSE_EQ|INE009A01021", 1500.0, 200, 1500.5, 200, 0),
        q("BSE_EQ|INE009A01021", 1499.5, 200, 1500.0, 200, 1),
    ];
    let r = router(0.0).route(Side::Buy, 100, &quotes, NOW);
    assert_eq!((r.venue, r.price), (1, Some(1500.0)));
    // (1500.5 − 1500.0) / 1500.5 = 3.332 bps.
    assert!((r.gain_bps - 3.3322).abs() < 1e-3, "{}", r.gain_bps);
    let r = router(0.0).route(Side::Sell, 100, &quotes, NOW);
    assert_eq!((r.venue, r.price, r.gain_bps), (0, Some(1500.0), 0.0));
}

#[test]
fn size_breaks_a_price_tie_then_the_primary() {
    let quotes = [
        q("NSE_EQ|X", 99.0, 50, 100.0, 50, 0),
        q("BSE_EQ|X", 99.0, 500, 100.0, 500, 0),
    ];
    assert_eq!(router(0.0).route(Side::Buy, 100, &quotes, NOW).venue, 1);
    assert_eq!(router(0.0).route(Side::Buy, 40, &quotes, NOW).venue, 0);
}

#[test]
fn small_gains_stay_on_the_primary() {
    let quotes = [
        q("NSE_EQ|X", 1500.0, 200, 1500.5, 200, 0),
        q("BSE_EQ|X", 1499.5, 200, 1500.0, 200, 0),
    ];
    let r = router(5.0).route(Side::Buy, 100, &quotes, NOW);
    assert_eq!(r.venue, 0);
    assert!(r.reason.contains("3.33 bps < 5 bps"), "{}", r.reason);
}

#[test]
fn stale_crossed_or_missing_quotes_are_not_used() {
    // The primary's quote is 10 s old: the fresh venue takes it whatever the price.
    let quotes = [
        q("NSE_EQ|X", 99.0, 100, 99.5, 100, 10),
        q("BSE_EQ|X", 99.0, 100, 100.0, 100, 0),
    ];
    let r = router(0.0).route(Side::Buy, 10, &quotes, NOW);
    assert_eq!(r.venue, 1);
    assert!(r.reason.contains("stale"), "{}", r.reason);
    // A crossed quote (bid ≥ ask) and a zero quote are ignored; nothing usable → primary.
    let quotes = [
        q("NSE_EQ|X", 101.0, 100, 100.0, 100, 0),
        q("BSE_EQ|X", 0.0, 0, 0.0, 0, 0),
    ];
    let r = router(0.0).route(Side::Buy, 10, &quotes, NOW);
    assert_eq!((r.venue, r.price), (0, None));
    // A quote from the future (clock skew) is not trusted either.
    let quotes = [
        q("NSE_EQ|X", 99.0, 100, 100.0, 100, 0),
        q("BSE_EQ|X", 98.0, 100, 98.5, 100, -3),
    ];
    assert_eq!(router(0.0).route(Side::Buy, 10, &quotes, NOW).venue, 0);
}
