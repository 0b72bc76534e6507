//! Transaction costs, charged per fill in fixed-point money.
//!
//! Two models:
//! - [`CostModel::Simple`]: basis points of traded value plus an amount per share, with a minimum
//!   per fill (the usual US-broker and backtest model);
//! - [`CostModel::India`]: the charges an Indian equity contract note shows — brokerage, STT,
//!   exchange transaction charges, SEBI turnover fee, stamp duty and GST — each rounded as contract
//!   notes round them (to the paisa; STT to the rupee). Rates are configuration, not code:
//!   [`IndiaCharges::zerodha_delivery`] / [`IndiaCharges::zerodha_intraday`] carry the rates
//!   published on Zerodha's charges page (zerodha.com/charges, 2025: STT 0.1% both sides on
//!   delivery, 0.025% sell side intraday; NSE transaction charge 0.00297%; SEBI ₹10/crore; stamp
//!   duty 0.015% delivery / 0.003% intraday, buy side; GST 18% on brokerage + exchange + SEBI
//!   charges; brokerage ₹0 delivery, 0.03% capped at ₹20 per executed order intraday).
//!   Users configure their broker's and the current statutory rates in the backtest file.

use serde::{Deserialize, Serialize};

use crate::money::{Money, Rate};
use crate::types::Side;

/// What a fill cost, by component (all ≥ 0).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Charges {
    pub brokerage: Money,
    pub stt: Money,
    pub exchange: Money,
    pub sebi: Money,
    pub stamp: Money,
    pub gst: Money,
    /// Everything else (the simple model's whole cost).
    pub other: Money,
}

impl Charges {
    pub fn total(&self) -> Money {
        self.brokerage + self.stt + self.exchange + self.sebi + self.stamp + self.gst + self.other
    }
}

impl std::ops::AddAssign for Charges {
    fn add_assign(&mut self, o: Charges) {
        self.brokerage += o.brokerage;
        self.stt += o.stt;
        self.exchange += o.exchange;
        self.sebi += o.sebi;
        self.stamp += o.stamp;
        self.gst += o.gst;
        self.other += o.other;
    }
}

/// Rates of an Indian equity contract note. Percentages are exact decimals (`Rate`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IndiaCharges {
    /// Brokerage as a share of traded value…
    pub brokerage: Rate,
    /// …capped at this much per executed order (`None`: no cap).
    pub brokerage_cap: Option<Money>,
    pub stt_buy: Rate,
    pub stt_sell: Rate,
    /// STT is rounded to this step (₹1 on contract notes).
    pub stt_round: Money,
    pub exchange: Rate,
    pub sebi: Rate,
    pub stamp_buy: Rate,
    pub stamp_sell: Rate,
    pub gst: Rate,
    /// Whether GST is charged on the SEBI fee too (it is since 2018; older notes did not).
    pub gst_on_sebi: bool,
}

impl IndiaCharges {
    /// Equity delivery at Zerodha's published 2025 rates (see the module docs).
    pub fn zerodha_delivery() -> Self {
        IndiaCharges {
            brokerage: Rate::ZERO,
            brokerage_cap: None,
            stt_buy: Rate::new(1, 1000),
            stt_sell: Rate::new(1, 1000),
            stt_round: Money::units(1),
            exchange: Rate::new(297, 10_000_000),
            sebi: Rate::new(10, 10_000_000),
            stamp_buy: Rate::new(15, 100_000),
            stamp_sell: Rate::ZERO,
            gst: Rate::new(18, 100),
            gst_on_sebi: true,
        }
    }

    /// Equity intraday at Zerodha's published 2025 rates.
    pub fn zerodha_intraday() -> Self {
        IndiaCharges {
            brokerage: Rate::new(3, 10_000),
            brokerage_cap: Some(Money::units(20)),
            stt_buy: Rate::ZERO,
            stt_sell: Rate::new(25, 100_000),
            stamp_buy: Rate::new(3, 100_000),
            ..Self::zerodha_delivery()
        }
    }

    pub fn charges(&self, side: Side, value: Money) -> Charges {
        let paisa = Money::cents(1);
        let value = value.abs();
        let mut brokerage = value.mul_rate(self.brokerage, paisa);
        if let Some(cap) = self.brokerage_cap {
            brokerage = brokerage.min(cap);
        }
        let (stt, stamp) = match side {
            Side::Buy => (self.stt_buy, self.stamp_buy),
            Side::Sell => (self.stt_sell, self.stamp_sell),
        };
        let stt = value.mul_rate(stt, self.stt_round);
        let stamp = value.mul_rate(stamp, paisa);
        let exchange = value.mul_rate(self.exchange, paisa);
        let sebi = value.mul_rate(self.sebi, paisa);
        let taxable = brokerage + exchange + if self.gst_on_sebi { sebi } else { Money::ZERO };
        let gst = taxable.mul_rate(self.gst, paisa);
        Charges {
            brokerage,
            stt,
            exchange,
            sebi,
            stamp,
            gst,
            other: Money::ZERO,
        }
    }
}

/// The open contract note: one trading day's running totals, from which each fill is charged the
/// increase of every component, so that a day's fills sum exactly to its contract note.
///
/// How a contract note computes its charges (the published rules):
/// - **brokerage** per executed *order*, not per trade: `min(cap, rate × the order's whole
///   turnover)`, however many trades (partial fills) it executes in. Zerodha's worked answer on
///   tradingqna.com ("Multiple executed orders", t/33647): one market order for 100 INFY filled in
///   4 trades worth ₹1,12,008.50 pays ₹11.20 at 0.01%, once; "Brokerage is on each order" (t/28029:
///   an order filled in 6 partials is one order, at most ₹20).
/// - **STT** per security per day: NSE circular NSE/CMO/0146/2004 (download NSE/CMTR/5588,
///   "STT calculation in Cash Market Segment"): all of a client's trades of the day in a security
///   are aggregated into total buy and sell values, and STT is computed on those, rounded to the
///   rupee as contract notes show it — not rounded per trade.
/// - **exchange transaction charges, SEBI fee, stamp duty** on the contract note's totals for
///   the day (stamp duty on the buy value, collected by the exchange under the Indian Stamp
///   (Collection of Stamp Duty through Stock Exchanges, Clearing Corporations and Depositories)
///   Rules, 2019), each rounded to the paisa; **GST** 18% of the note's brokerage + exchange
///   charges (+ SEBI fee).
///
/// Orders are classed intraday or delivery by the cost model chosen (`zerodha_intraday` /
/// `zerodha_delivery`), not by netting the day's buys against its sells.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractNote {
    /// The trading day (days since the epoch) this note is for.
    pub day: Option<i64>,
    buy_value: Money,
    sell_value: Money,
    /// Per security: buy value, sell value.
    by_symbol: Vec<(u32, Money, Money)>,
    /// Per order id: turnover so far.
    by_order: Vec<(String, Money)>,
    /// What has been charged so far on this note, by component.
    charged: Charges,
}

impl ContractNote {
    fn open(&mut self, day: i64) {
        if self.day != Some(day) {
            *self = ContractNote {
                day: Some(day),
                ..Default::default()
            };
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case")]
pub enum CostModel {
    /// No costs.
    #[default]
    Zero,
    /// `bps` of traded value + `per_share` × quantity, at least `min` per fill.
    Simple {
        #[serde(default)]
        bps: u32,
        #[serde(default)]
        per_share: Money,
        #[serde(default)]
        min: Money,
    },
    /// An Indian equity contract note with the rates given.
    India(IndiaCharges),
    /// [`IndiaCharges::zerodha_delivery`].
    ZerodhaDelivery,
    /// [`IndiaCharges::zerodha_intraday`].
    ZerodhaIntraday,
}

impl CostModel {
    /// Charges for one fill of `qty` at `price`.
    pub fn charges(&self, side: Side, qty: i64, price: Money) -> Charges {
        let value = price.times(qty);
        match self {
            CostModel::Zero => Charges::default(),
            CostModel::Simple {
                bps,
                per_share,
                min,
            } => {
                let c = value.mul_rate(Rate::new(*bps as i64, 10_000), Money(1))
                    + per_share.times(qty.abs());
                Charges {
                    other: c.max(*min),
                    ..Charges::default()
                }
            }
            CostModel::India(r) => r.charges(side, value),
            CostModel::ZerodhaDelivery => IndiaCharges::zerodha_delivery().charges(side, value),
            CostModel::ZerodhaIntraday => IndiaCharges::zerodha_intraday().charges(side, value),
        }
    }

    /// Charges for one fill of order `order_id` (`qty` of `sym` at `price`) on trading day `day`,
    /// as the increase of the day's contract note (see [`ContractNote`]). The stateless models
    /// charge as [`CostModel::charges`].
    #[allow(clippy::too_many_arguments)]
    pub fn charge_fill(
        &self,
        note: &mut ContractNote,
        day: i64,
        order_id: &str,
        sym: u32,
        side: Side,
        qty: i64,
        price: Money,
    ) -> Charges {
        let rates = match self {
            CostModel::Zero | CostModel::Simple { .. } => return self.charges(side, qty, price),
            CostModel::India(r) => r.clone(),
            CostModel::ZerodhaDelivery => IndiaCharges::zerodha_delivery(),
            CostModel::ZerodhaIntraday => IndiaCharges::zerodha_intraday(),
        };
        let value = price.times(qty).abs();
        note.open(day);
        match side {
            Side::Buy => note.buy_value += value,
            Side::Sell => note.sell_value += value,
        }
        match note.by_symbol.iter_mut().find(|s| s.0 == sym) {
            Some(s) => match side {
                Side::Buy => s.1 += value,
                Side::Sell => s.2 += value,
            },
            None => note.by_symbol.push(match side {
                Side::Buy => (sym, value, Money::ZERO),
                Side::Sell => (sym, Money::ZERO, value),
            }),
        }
        match note.by_order.iter_mut().find(|o| o.0 == order_id) {
            Some(o) => o.1 += value,
            None => note.by_order.push((order_id.to_string(), value)),
        }
        let paisa = Money::cents(1);
        let brokerage_of = |turnover: Money| {
            let b = turnover.mul_rate(rates.brokerage, paisa);
            rates.brokerage_cap.map_or(b, |cap| b.min(cap))
        };
        let brokerage = note
            .by_order
            .iter()
            .fold(Money::ZERO, |a, o| a + brokerage_of(o.1));
        let stt = note.by_symbol.iter().fold(Money::ZERO, |a, s| {
            let stt =
                s.1.mul_rate(rates.stt_buy, Money(1)) + s.2.mul_rate(rates.stt_sell, Money(1));
            a + stt.round_to(rates.stt_round)
        });
        let turnover = note.buy_value + note.sell_value;
        let exchange = turnover.mul_rate(rates.exchange, paisa);
        let sebi = turnover.mul_rate(rates.sebi, paisa);
        let stamp = (note.buy_value.mul_rate(rates.stamp_buy, Money(1))
            + note.sell_value.mul_rate(rates.stamp_sell, Money(1)))
        .round_to(paisa);
        let taxable = brokerage + exchange + if rates.gst_on_sebi { sebi } else { Money::ZERO };
        let gst = taxable.mul_rate(rates.gst, paisa);
        let total = Charges {
            brokerage,
            stt,
            exchange,
            sebi,
            stamp,
            gst,
            other: Money::ZERO,
        };
        let was = note.charged;
        note.charged = total;
        Charges {
            brokerage: total.brokerage - was.brokerage,
            stt: total.stt - was.stt,
            exchange: total.exchange - was.exchange,
            sebi: total.sebi - was.sebi,
            stamp: total.stamp - was.stamp,
            gst: total.gst - was.gst,
            other: Money::ZERO,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked intraday example of 1stopinvestment.com ("How do Zerodha brokerage charges
    /// work", older rates: brokerage 0.01% capped at ₹20 per order, STT 0.025% sell rounded to the
    /// rupee, NSE 0.00325%, GST 18% on brokerage + exchange charges only, SEBI ₹10/crore, stamp
    /// 0.006% of turnover on both sides): buy 100 @ ₹546, sell 100 @ ₹550 →
    /// brokerage 10.96, STT 14, exchange 3.56, GST 2.61, SEBI 0.11, stamp 6.58, total ₹37.82,
    /// net P&L ₹362.18.
    #[test]
    fn worked_contract_note_example() {
        let rates = IndiaCharges {
            brokerage: Rate::percent("0.01").unwrap(),
            brokerage_cap: Some(Money::units(20)),
            stt_buy: Rate::ZERO,
            stt_sell: Rate::percent("0.025").unwrap(),
            stt_round: Money::units(1),
            exchange: Rate::percent("0.00325").unwrap(),
            sebi: Rate::new(10, 10_000_000),
            stamp_buy: Rate::percent("0.006").unwrap(),
            stamp_sell: Rate::percent("0.006").unwrap(),
            gst: Rate::percent("18").unwrap(),
            gst_on_sebi: false,
        };
        let m = CostModel::India(rates);
        let mut c = m.charges(Side::Buy, 100, Money::units(546));
        c += m.charges(Side::Sell, 100, Money::units(550));
        assert_eq!(c.brokerage, Money::parse("10.96").unwrap());
        assert_eq!(c.stt, Money::units(14));
        assert_eq!(c.exchange, Money::parse("3.56").unwrap());
        assert_eq!(c.gst, Money::parse("2.61").unwrap());
        assert_eq!(c.sebi, Money::parse("0.11").unwrap());
        assert_eq!(c.stamp, Money::parse("6.58").unwrap());
        assert_eq!(c.total(), Money::parse("37.82").unwrap());
        let gross = Money::units(550 * 100) - Money::units(546 * 100);
        assert_eq!(gross - c.total(), Money::parse("362.18").unwrap());
    }

    #[test]
    fn intraday_brokerage_is_capped_per_order() {
        let m = CostModel::India(IndiaCharges::zerodha_intraday());
        // 0.03% of ₹10 lakh = ₹300 → capped at ₹20.
        let c = m.charges(Side::Buy, 1000, Money::units(1000));
        assert_eq!(c.brokerage, Money::units(20));
        assert_eq!(c.stt, Money::ZERO);
        assert_eq!(c.stamp, Money::units(30)); // 0.003% of 10,00,000
        // SEBI ₹10 per crore of ₹10 lakh = ₹1; GST 18% of (20 + 29.70 + 1) = 9.126 → 9.13.
        assert_eq!(c.exchange, Money::parse("29.70").unwrap());
        assert_eq!(c.sebi, Money::units(1));
        assert_eq!(c.gst, Money::parse("9.13").unwrap());
    }

    /// The worked example again, as one contract note (one buy order, one sell order, same day):
    /// the note's totals are the published figures.
    #[test]
    fn worked_example_as_one_contract_note() {
        let rates = IndiaCharges {
            brokerage: Rate::percent("0.01").unwrap(),
            brokerage_cap: Some(Money::units(20)),
            stt_buy: Rate::ZERO,
            stt_sell: Rate::percent("0.025").unwrap(),
            stt_round: Money::units(1),
            exchange: Rate::percent("0.00325").unwrap(),
            sebi: Rate::new(10, 10_000_000),
            stamp_buy: Rate::percent("0.006").unwrap(),
            stamp_sell: Rate::percent("0.006").unwrap(),
            gst: Rate::percent("18").unwrap(),
            gst_on_sebi: false,
        };
        let m = CostModel::India(rates);
        let mut note = ContractNote::default();
        let mut c = m.charge_fill(&mut note, 0, "b", 1, Side::Buy, 100, Money::units(546));
        c += m.charge_fill(&mut note, 0, "s", 1, Side::Sell, 100, Money::units(550));
        assert_eq!(c.brokerage, Money::parse("10.96").unwrap());
        assert_eq!(c.stt, Money::units(14));
        assert_eq!(c.exchange, Money::parse("3.56").unwrap());
        assert_eq!(c.gst, Money::parse("2.61").unwrap());
        assert_eq!(c.sebi, Money::parse("0.11").unwrap());
        assert_eq!(c.stamp, Money::parse("6.58").unwrap());
        assert_eq!(c.total(), Money::parse("37.82").unwrap());
    }

    /// Zerodha's answer on tradingqna.com (t/33647): a market order for 100 INFY executed in four
    /// trades (20 @ 1120, 30 @ 1120.05, 10 @ 1120.10, 40 @ 1120.15; turnover ₹1,12,008.50) pays
    /// brokerage once on the order's turnover: ₹11.20 at 0.01%. With the ₹20 cap of today's
    /// 0.03% intraday rate, a ₹20-lakh order filled in four trades pays ₹20, not 4 × ₹20.
    #[test]
    fn brokerage_is_capped_per_order_not_per_partial_fill() {
        let mut r = IndiaCharges::zerodha_intraday();
        r.brokerage = Rate::percent("0.01").unwrap();
        let m = CostModel::India(r);
        let mut note = ContractNote::default();
        let trades = [
            (20, "1120"),
            (30, "1120.05"),
            (10, "1120.10"),
            (40, "1120.15"),
        ];
        let b = trades.iter().fold(Money::ZERO, |a, (q, p)| {
            a + m
                .charge_fill(
                    &mut note,
                    0,
                    "infy-1",
                    7,
                    Side::Buy,
                    *q,
                    Money::parse(p).unwrap(),
                )
                .brokerage
        });
        assert_eq!(b, Money::parse("11.20").unwrap());

        let m = CostModel::ZerodhaIntraday;
        let mut note = ContractNote::default();
        let per_fill: Vec<Charges> = (0..4)
            .map(|_| m.charge_fill(&mut note, 0, "big", 3, Side::Buy, 250, Money::units(2000)))
            .collect();
        let total = per_fill.iter().fold(Money::ZERO, |a, c| a + c.brokerage);
        assert_eq!(total, Money::units(20));
        assert_eq!(per_fill[0].brokerage, Money::units(20));
        assert!(per_fill[1..].iter().all(|c| c.brokerage.is_zero()));
        // The stateless per-fill model would have charged 4 × ₹20.
        let naive = (0..4).fold(Money::ZERO, |a, _| {
            a + m.charges(Side::Buy, 250, Money::units(2000)).brokerage
        });
        assert_eq!(naive, Money::units(80));
        // A second order the same day pays its own brokerage; a new day opens a new note.
        let c = m.charge_fill(&mut note, 0, "big-2", 3, Side::Buy, 1, Money::units(2000));
        assert_eq!(c.brokerage, Money::parse("0.60").unwrap());
        let c = m.charge_fill(&mut note, 1, "big", 3, Side::Sell, 1000, Money::units(2000));
        assert_eq!(c.brokerage, Money::units(20));
    }

    /// STT on the day's aggregate per security (NSE/CMO/0146/2004), rounded to the rupee once:
    /// three intraday sells of ₹1,600 each owe 0.025% × 4,800 = ₹1.20 → ₹1, where rounding each
    /// trade's ₹0.40 would give ₹0.
    #[test]
    fn stt_is_rounded_on_the_days_total_per_security() {
        let m = CostModel::ZerodhaIntraday;
        let mut note = ContractNote::default();
        let stt: Money = (0..3)
            .map(|i| {
                m.charge_fill(
                    &mut note,
                    0,
                    &format!("o{i}"),
                    1,
                    Side::Sell,
                    16,
                    Money::units(100),
                )
                .stt
            })
            .fold(Money::ZERO, |a, b| a + b);
        assert_eq!(stt, Money::units(1));
        let per_trade = (0..3).fold(Money::ZERO, |a, _| {
            a + m.charges(Side::Sell, 16, Money::units(100)).stt
        });
        assert_eq!(per_trade, Money::ZERO);
        // Another security's STT is its own.
        let other = m.charge_fill(&mut note, 0, "x", 2, Side::Sell, 16, Money::units(100));
        assert_eq!(other.stt, Money::ZERO);
    }

    #[test]
    fn simple_model() {
        let m = CostModel::Simple {
            bps: 5,
            per_share: Money::cents(1),
            min: Money::units(1),
        };
        // 5 bps of 10 × 100 = 0.50, + 0.10 → 0.60 < min 1.
        assert_eq!(
            m.charges(Side::Sell, 10, Money::units(100)).total(),
            Money::units(1)
        );
        assert_eq!(
            m.charges(Side::Buy, 1000, Money::units(100)).total(),
            Money::units(60)
        );
    }
}
