//! Brokers the trade-runner can send approved orders to. Today: the mapping of an engine order
//! to the Upstox v2 order API (`elite_collectors::upstox_orders`). Only [`Approved`] orders map:
//! what reaches a broker has passed pre-trade risk.

use elite_collectors::upstox_orders::PlaceOrder;
use elite_trade::order::{OrderKind, Side, Tif};
use elite_trade::risk::Approved;

use crate::{Error, Result};

/// Upstox product: delivery (`D`) or intraday (`I`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Product {
    Delivery,
    Intraday,
}

/// The Upstox request for an approved order on `instrument` (an instrument key such as
/// `NSE_EQ|INE002A01018`). Order types Upstox v2 has no form for (trailing stops, GTC, brackets)
/// are refused here, before anything is sent: the engine works those itself.
pub fn upstox_order(order: &Approved, instrument: &str, product: Product) -> Result<PlaceOrder> {
    let o = order.order();
    if !o.attached.is_empty() {
        return Err(Error::Config(format!(
            "order {}: brackets are worked by the engine, not sent to Upstox as one order",
            o.id
        )));
    }
    let validity = match o.tif {
        Tif::Day => "DAY",
        Tif::Ioc => "IOC",
        // A market order executes at once: DAY holds it as long as it can work at Upstox. The
        // risk engine's kill-switch and de-risking orders are GTC market orders (so the
        // simulator keeps working them across bars); refusing them would leave a halted book
        // unflattened at the broker.
        Tif::Gtc if matches!(o.kind, OrderKind::Market) => "DAY",
        Tif::Gtc => {
            return Err(Error::Config(format!(
                "order {}: Upstox v2 orders are DAY or IOC; GTC is worked by the engine",
                o.id
            )));
        }
    };
    let (order_type, price, trigger) = match o.kind {
        OrderKind::Market => ("MARKET", 0.0, 0.0),
        OrderKind::Limit { limit } => ("LIMIT", limit.to_f64(), 0.0),
        OrderKind::Stop { stop } => ("SL-M", 0.0, stop.to_f64()),
        OrderKind::StopLimit { stop, limit } => ("SL", limit.to_f64(), stop.to_f64()),
        OrderKind::TrailingStop { .. } => {
            return Err(Error::Config(format!(
                "order {}: Upstox v2 has no trailing stop; the engine trails and sends stops",
                o.id
            )));
        }
    };
    Ok(PlaceOrder {
        quantity: o.qty,
        product: match product {
            Product::Delivery => "D",
            Product::Intraday => "I",
        }
        .into(),
        validity: validity.into(),
        price,
        tag: upstox_tag(&o.id),
        instrument_token: instrument.into(),
        order_type: order_type.into(),
        transaction_type: match o.side {
            Side::Buy => "BUY",
            Side::Sell => "SELL",
        }
        .into(),
        disclosed_quantity: o.display_qty.unwrap_or(0),
        trigger_price: trigger,
        is_amo: false,
    })
}

/// The Upstox `tag` for a client order id: the id itself up to 20 characters, else `e` and the
/// first 19 hex digits of its SHA-256 (Upstox does not document a tag length limit; 20 is kept
/// to be safe). It is the idempotency key: one tag, at most one Upstox order.
pub fn upstox_tag(client_order_id: &str) -> String {
    if client_order_id.len() <= 20 && client_order_id.is_ascii() {
        return client_order_id.to_string();
    }
    use sha2::{Digest, Sha256};
    let h = hex::encode(Sha256::digest(client_order_id.as_bytes()));
    format!("e{}", &h[..19])
}

/// [`upstox_order`] sent where the price is best: the instrument key of the venue the router
/// picks among `quotes` (the same ISIN on NSE and BSE; `quotes[0]` is the primary venue), with
/// the routing decision for the audit log.
pub fn upstox_routed_order(
    order: &Approved,
    quotes: &[elite_trade::routing::VenueQuote],
    router: &elite_trade::routing::Router,
    product: Product,
    now: elite_warehouse::Timestamp,
) -> Result<(PlaceOrder, elite_trade::routing::Route)> {
    if quotes.is_empty() {
        return Err(Error::Config(format!(
            "order {}: no venue to route to",
            order.order().id
        )));
    }
    let o = order.order();
    let route = router.route(o.side, o.qty, quotes, now);
    let req = upstox_order(order, &quotes[route.venue].venue, product)?;
    Ok((req, route))
}

#[cfg(test)]
mod tests {
    use super::*;
    use elite_trade::Money;
    use elite_trade::ledger::Ledger;
    use elite_trade::order::{OrderRequest, Trail};
    use elite_trade::risk::{Book, RiskEngine, RiskLimits};
    use elite_warehouse::Timestamp;

    fn approve(o: OrderRequest) -> Approved {
        let ledger = Ledger::new(Money::units(1_000_000));
        let prices = [2973.1];
        let book = Book {
            ledger: &ledger,
            prices: &prices,
            pending: &|_| (0, 0),
            equity: 1e6,
        };
        let limits = RiskLimits {
            allow_short: true,
            ..Default::default()
        };
        let (a, ev) = RiskEngine::new(limits).check(o, &book, Timestamp::from_nanos(0));
        a.unwrap_or_else(|| panic!("refused: {ev:?}"))
    }

    #[test]
    fn maps_each_order_type() {
        let k = "NSE_EQ|INE002A01018";
        let lim = approve(OrderRequest::new(
            "a",
            0,
            Side::Buy,
            10,
            OrderKind::Limit {
                limit: Money::parse("2973.1").unwrap(),
            },
        ));
        let p = upstox_order(&lim, k, Product::Delivery).unwrap();
        assert_eq!(
            (
                p.order_type.as_str(),
                p.price,
                p.trigger_price,
                p.tag.as_str()
            ),
            ("LIMIT", 2973.1, 0.0, "a")
        );
        assert_eq!(
            (
                p.product.as_str(),
                p.validity.as_str(),
                p.transaction_type.as_str()
            ),
            ("D", "DAY", "BUY")
        );
        let sl = approve(OrderRequest::new(
            "b",
            0,
            Side::Sell,
            5,
            OrderKind::StopLimit {
                stop: Money::units(2900),
                limit: Money::units(2895),
            },
        ));
        let p = upstox_order(&sl, k, Product::Intraday).unwrap();
        assert_eq!(
            (
                p.order_type.as_str(),
                p.price,
                p.trigger_price,
                p.product.as_str()
            ),
            ("SL", 2895.0, 2900.0, "I")
        );
        let mut ice = OrderRequest::market("c", 0, Side::Buy, 100).tif(Tif::Ioc);
        ice.display_qty = Some(10);
        let p = upstox_order(&approve(ice), k, Product::Delivery).unwrap();
        assert_eq!(
            (
                p.order_type.as_str(),
                p.disclosed_quantity,
                p.validity.as_str()
            ),
            ("MARKET", 10, "IOC")
        );
        let stop = approve(OrderRequest::new(
            "d",
            0,
            Side::Sell,
            1,
            OrderKind::Stop {
                stop: Money::units(2800),
            },
        ));
        assert_eq!(
            upstox_order(&stop, k, Product::Delivery)
                .unwrap()
                .order_type,
            "SL-M"
        );
    }

    #[test]
    fn refuses_what_upstox_cannot_hold() {
        let k = "NSE_EQ|INE002A01018";
        let gtc = approve(
            OrderRequest::new(
                "g",
                0,
                Side::Buy,
                1,
                OrderKind::Limit {
                    limit: Money::units(3000),
                },
            )
            .tif(Tif::Gtc),
        );
        assert!(
            upstox_order(&gtc, k, Product::Delivery)
                .unwrap_err()
                .to_string()
                .contains("GTC")
        );
        // A GTC market order (the kill switch's flatten) goes as DAY: it executes at once.
        let flatten = approve(OrderRequest::market("f", 0, Side::Sell, 1).tif(Tif::Gtc));
        assert_eq!(
            upstox_order(&flatten, k, Product::Delivery)
                .unwrap()
                .validity,
            "DAY"
        );
        let trail = approve(OrderRequest::new(
            "t",
            0,
            Side::Sell,
            1,
            OrderKind::TrailingStop {
                trail: Trail::Bps(100),
            },
        ));
        assert!(upstox_order(&trail, k, Product::Delivery).is_err());
        let br = approve(
            OrderRequest::market("br", 0, Side::Buy, 1)
                .bracket(Money::units(3100), Money::units(2900)),
        );
        assert!(upstox_order(&br, k, Product::Delivery).is_err());
    }

    #[test]
    fn routes_to_the_venue_with_the_best_price() {
        use elite_trade::routing::{Router, VenueQuote};
        let quote = |venue: &str, bid: f64, ask: f64| VenueQuote {
            venue: venue.into(),
            bid,
            bid_qty: 500,
            ask,
            ask_qty: 500,
            ts: Timestamp::from_nanos(0),
        };
        let quotes = [
            quote("NSE_EQ|INE002A01018", 2972.9, 2973.3),
            quote("BSE_EQ|INE002A01018", 2972.5, 2973.0),
        ];
        let router = Router {
            max_age_ns: 2_000_000_000,
            min_gain_bps: 0.5,
        };
        let buy = approve(OrderRequest::market("b", 0, Side::Buy, 10));
        let (req, route) = upstox_routed_order(
            &buy,
            &quotes,
            &router,
            Product::Delivery,
            Timestamp::from_nanos(1),
        )
        .unwrap();
        // 0.3 / 2973.3 = 1.01 bps better on BSE.
        assert_eq!(req.instrument_token, "BSE_EQ|INE002A01018");
        assert!(route.reason.contains("1.01 bps"), "{}", route.reason);
        let sell = approve(OrderRequest::market("s", 0, Side::Sell, 10));
        let (req, _) = upstox_routed_order(
            &sell,
            &quotes,
            &router,
            Product::Delivery,
            Timestamp::from_nanos(1),
        )
        .unwrap();
        assert_eq!(req.instrument_token, "NSE_EQ|INE002A01018");
        assert_eq!(req.tag, "s");
    }
}
