//! What the live chain's topics carry. The record key is the symbol; values are encoded with
//! `postcard` (f64 bit for bit).

use std::sync::Arc;

use elite_pipelines::indicators::Ohlcv;
use elite_pipelines::resample::TimedBar;
use elite_warehouse::{Timeframe, Timestamp};
use serde::{Deserialize, Serialize};

use crate::bars::BarEvent;

/// A trade print (topic `ticks`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TickMsg {
    pub ts_event: Timestamp,
    pub ts_recv: Timestamp,
    pub price: f64,
    /// Quantity traded (`None`: the feed did not say; counts as 0 volume).
    pub size: Option<f64>,
}

impl TickMsg {
    pub fn of(t: &elite_warehouse::Tick) -> Self {
        Self {
            ts_event: t.ts_event,
            ts_recv: t.ts_recv,
            price: t.price,
            size: t.size,
        }
    }

    /// The tick as a resampler input: a bar with o = h = l = c = price.
    pub fn timed(&self) -> TimedBar {
        TimedBar {
            ts_event: self.ts_event,
            ts_recv: self.ts_recv,
            bar: Ohlcv::new(
                self.price,
                self.price,
                self.price,
                self.price,
                self.size.unwrap_or(0.0),
            ),
        }
    }
}

/// A completed bar (topics `bars.<timeframe>`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct BarMsg {
    pub ts_event: Timestamp,
    pub ts_recv: Timestamp,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: f64,
}

impl BarMsg {
    pub fn timed(&self) -> TimedBar {
        TimedBar {
            ts_event: self.ts_event,
            ts_recv: self.ts_recv,
            bar: Ohlcv::new(self.open, self.high, self.low, self.close, self.volume),
        }
    }
    pub fn from_timed(b: &TimedBar) -> Self {
        Self {
            ts_event: b.ts_event,
            ts_recv: b.ts_recv,
            open: b.bar.open,
            high: b.bar.high,
            low: b.bar.low,
            close: b.bar.close,
            volume: b.bar.volume,
        }
    }
    /// The bar as the pipelines take it.
    pub fn event(&self, symbol: Arc<str>, timeframe: Timeframe) -> BarEvent {
        BarEvent {
            symbol,
            timeframe,
            ts_event: self.ts_event,
            ts_recv: self.ts_recv,
            bar: self.timed().bar,
        }
    }
}

/// A rule signal (topic `signals`), keyed by symbol: the row the `signals` table gets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignalMsg {
    pub timeframe: String,
    pub ts_event: Timestamp,
    pub ts_recv: Timestamp,
    pub rule: String,
    pub direction: i8,
    pub strength: f64,
    /// JSON object of the feature values that produced it.
    pub features: String,
}

impl SignalMsg {
    pub fn of(r: &elite_warehouse::SignalRow) -> Self {
        Self {
            timeframe: r.timeframe.to_string(),
            ts_event: r.ts_event,
            ts_recv: r.ts_recv,
            rule: r.rule.clone(),
            direction: r.direction,
            strength: r.strength,
            features: r.features.clone(),
        }
    }
}

/// A model's prediction (inside [`PerBar`] on topic `predictions`): the row `predictions` gets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PredictionMsg {
    pub model_id: String,
    /// The model's stage when served (`production`, `shadow`).
    pub source: String,
    /// µs, as the table keeps it.
    pub ts_event: i64,
    pub ts_recv: i64,
    pub score: f64,
}

impl PredictionMsg {
    pub fn of(r: &crate::models::PredictionRow) -> Self {
        Self {
            model_id: r.model_id.clone(),
            source: r.source.clone(),
            ts_event: r.ts_event,
            ts_recv: r.ts_recv,
            score: r.score,
        }
    }
}

/// What the signal runner made of one bar it read (topics `signals` and `predictions`): one
/// record per bar, keyed by the bar's symbol, in the order the runner read them, so a consumer
/// (the trader) knows when a bar's outputs are complete, including when there are none.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PerBar<T> {
    /// The bar's offset in the runner's input topic.
    pub bar: u64,
    pub ts_event: Timestamp,
    pub ts_recv: Timestamp,
    pub items: Vec<T>,
}

/// A `bars.<tf>` topic read as the pipelines' bar events.
pub struct BarEvents {
    inner: super::Typed<super::ByteSource, BarMsg>,
    timeframe: Timeframe,
    scratch: Vec<crate::transport::Record<BarMsg>>,
}

impl BarEvents {
    pub fn new(inner: super::ByteSource, topic: &str, timeframe: Timeframe) -> Self {
        Self {
            inner: super::Typed::new(inner, topic),
            timeframe,
            scratch: Vec::new(),
        }
    }
}

impl crate::transport::Source<BarEvent> for BarEvents {
    fn poll(
        &mut self,
        max: usize,
        timeout: std::time::Duration,
        out: &mut Vec<crate::transport::Record<BarEvent>>,
    ) -> crate::Result<crate::transport::Polled> {
        self.scratch.clear();
        let p = self.inner.poll(max, timeout, &mut self.scratch)?;
        out.extend(self.scratch.drain(..).map(|r| crate::transport::Record {
            offset: r.offset,
            value: r.value.event(Arc::clone(&r.key), self.timeframe),
            key: r.key,
        }));
        Ok(p)
    }
    fn seek(&mut self, offset: u64) {
        self.inner.seek(offset)
    }
    fn position(&self) -> u64 {
        self.inner.position()
    }
}

/// The topic that carries bars of `tf`.
pub fn bars_topic(tf: Timeframe) -> String {
    format!("bars.{tf}")
}

/// The timeframe of a `bars.<tf>` topic.
pub fn topic_timeframe(topic: &str) -> Option<Timeframe> {
    topic
        .strip_prefix("bars.")
        .and_then(|t| Timeframe::parse(t).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_bit_for_bit() {
        let b = BarMsg {
            ts_event: Timestamp::from_nanos(1),
            ts_recv: Timestamp::from_nanos(2),
            open: 0.1 + 0.2,
            high: f64::MAX,
            low: 1e-300,
            close: -0.0,
            volume: 3.0,
        };
        let r = crate::transport::Record {
            offset: 0,
            key: "S".into(),
            value: crate::stream::encode(&b).unwrap(),
        };
        let back: BarMsg = crate::stream::decode("t", &r).unwrap();
        assert_eq!(back.open.to_bits(), b.open.to_bits());
        assert_eq!(back.close.to_bits(), b.close.to_bits());
        assert_eq!(back, b);
        let err = crate::stream::decode::<BarMsg>(
            "t",
            &crate::transport::Record {
                offset: 7,
                key: "S".into(),
                value: vec![1, 2],
            },
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("record 7") && err.contains("BarMsg"), "{err}");
        assert_eq!(
            topic_timeframe("bars.1m"),
            Some(Timeframe::parse("1m").unwrap())
        );
        assert_eq!(bars_topic(Timeframe::parse("5m").unwrap()), "bars.5m");
    }
}
