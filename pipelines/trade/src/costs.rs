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
use crate::order::Side;

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
