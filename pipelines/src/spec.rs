//! Indicator specifications as text (`rsi(14)`, `macd(12,26,9).signal`, `bbands(20,2).upper`)
//! and a dynamically chosen indicator built from one. This is how features, signals, the SQL
//! window functions and the golden tests name an indicator; all of them end in the typed
//! `Indicator::update` of [`crate::indicators`].

use crate::Result;
use crate::error::spec_err;
use crate::indicators::*;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Which input columns an indicator reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputKind {
    /// close
    Close,
    /// high, low
    HighLow,
    /// high, low, close
    Hlc,
    /// high, low, close, volume
    Hlcv,
    /// close, volume
    CloseVolume,
    /// high, low, close, volume, session id
    SessionHlcv,
    /// two series: (asset or x, benchmark or y)
    Pair,
}

impl InputKind {
    /// Names of the input columns, in the order the SQL functions take them.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            InputKind::Close => &["close"],
            InputKind::HighLow => &["high", "low"],
            InputKind::Hlc => &["high", "low", "close"],
            InputKind::Hlcv => &["high", "low", "close", "volume"],
            InputKind::CloseVolume => &["close", "volume"],
            InputKind::SessionHlcv => &["high", "low", "close", "volume", "session"],
            InputKind::Pair => &["x", "y"],
        }
    }
}

/// One observation fed to a dynamically chosen indicator; fields an indicator does not read
/// are ignored.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Obs {
    pub bar: Ohlcv,
    /// Session id for session-anchored indicators (VWAP), e.g. days since the epoch of the
    /// trading date in the exchange's time zone.
    pub session: i64,
    /// The second series of a pair indicator (the benchmark for beta).
    pub other: f64,
}

/// The kinds of indicator and their parameters.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Kind {
    Sma(usize),
    Ema(usize),
    Wma(usize),
    Dema(usize),
    Tema(usize),
    Rsi(usize),
    Macd(usize, usize, usize),
    Bbands(usize, f64),
    Atr(usize),
    TrueRange,
    Adx(usize),
    Stoch(usize, usize, usize),
    WillR(usize),
    Cci(usize),
    Mfi(usize),
    Obv,
    Roc(usize),
    Mom(usize),
    Volatility(usize),
    ZScore(usize),
    Vwap,
    Donchian(usize),
    Keltner(usize, usize, f64),
    Beta(usize),
    Correl(usize),
}

impl Kind {
    /// Every kind's name, as written in specs and SQL.
    pub const NAMES: &'static [&'static str] = &[
        "sma",
        "ema",
        "wma",
        "dema",
        "tema",
        "rsi",
        "macd",
        "bbands",
        "atr",
        "trange",
        "adx",
        "stoch",
        "willr",
        "cci",
        "mfi",
        "obv",
        "roc",
        "mom",
        "volatility",
        "zscore",
        "vwap",
        "donchian",
        "keltner",
        "beta",
        "correl",
    ];

    pub fn name(&self) -> &'static str {
        match self {
            Kind::Sma(_) => "sma",
            Kind::Ema(_) => "ema",
            Kind::Wma(_) => "wma",
            Kind::Dema(_) => "dema",
            Kind::Tema(_) => "tema",
            Kind::Rsi(_) => "rsi",
            Kind::Macd(..) => "macd",
            Kind::Bbands(..) => "bbands",
            Kind::Atr(_) => "atr",
            Kind::TrueRange => "trange",
            Kind::Adx(_) => "adx",
            Kind::Stoch(..) => "stoch",
            Kind::WillR(_) => "willr",
            Kind::Cci(_) => "cci",
            Kind::Mfi(_) => "mfi",
            Kind::Obv => "obv",
            Kind::Roc(_) => "roc",
            Kind::Mom(_) => "mom",
            Kind::Volatility(_) => "volatility",
            Kind::ZScore(_) => "zscore",
            Kind::Vwap => "vwap",
            Kind::Donchian(_) => "donchian",
            Kind::Keltner(..) => "keltner",
            Kind::Beta(_) => "beta",
            Kind::Correl(_) => "correl",
        }
    }

    /// Output names; the first is the default.
    pub fn outputs(&self) -> &'static [&'static str] {
        Self::outputs_of(self.name())
    }

    /// Output names of a kind by name (empty for an unknown name).
    pub fn outputs_of(name: &str) -> &'static [&'static str] {
        match name {
            "macd" => &["line", "signal", "hist"],
            "bbands" => &["upper", "middle", "lower", "percent_b", "bandwidth"],
            "adx" => &["adx", "plus_di", "minus_di"],
            "stoch" => &["k", "d"],
            "donchian" | "keltner" => &["upper", "middle", "lower"],
            n if Self::NAMES.contains(&n) => &["value"],
            _ => &[],
        }
    }

    /// The most parameters a kind takes (all are optional, with defaults).
    pub fn max_params(name: &str) -> usize {
        match name {
            "obv" | "vwap" | "trange" => 0,
            "macd" | "stoch" | "keltner" => 3,
            "bbands" => 2,
            _ => 1,
        }
    }

    pub fn input(&self) -> InputKind {
        match self {
            Kind::Sma(_)
            | Kind::Ema(_)
            | Kind::Wma(_)
            | Kind::Dema(_)
            | Kind::Tema(_)
            | Kind::Rsi(_)
            | Kind::Macd(..)
            | Kind::Bbands(..)
            | Kind::Roc(_)
            | Kind::Mom(_)
            | Kind::Volatility(_)
            | Kind::ZScore(_) => InputKind::Close,
            Kind::Donchian(_) => InputKind::HighLow,
            Kind::Atr(_)
            | Kind::TrueRange
            | Kind::Adx(_)
            | Kind::Stoch(..)
            | Kind::WillR(_)
            | Kind::Cci(_)
            | Kind::Keltner(..) => InputKind::Hlc,
            Kind::Mfi(_) => InputKind::Hlcv,
            Kind::Obv => InputKind::CloseVolume,
            Kind::Vwap => InputKind::SessionHlcv,
            Kind::Beta(_) | Kind::Correl(_) => InputKind::Pair,
        }
    }

    /// Build a kind from its name and parameters (missing ones take the usual defaults:
    /// 14 for oscillators, 20 for averages and bands, MACD 12/26/9, Bollinger 20/2, Keltner 20/10/2).
    pub fn from_parts(spec: &str, name: &str, args: &[f64]) -> Result<Kind> {
        let max = Self::max_params(name);
        if !Self::NAMES.contains(&name) {
            return Err(spec_err(
                spec,
                format!(
                    "unknown indicator `{name}`; known: {}",
                    Self::NAMES.join(", ")
                ),
            ));
        }
        if args.len() > max {
            return Err(spec_err(
                spec,
                format!(
                    "`{name}` takes at most {max} parameter(s), got {}",
                    args.len()
                ),
            ));
        }
        let int = |i: usize, default: usize| -> Result<usize> {
            match args.get(i) {
                None => Ok(default),
                Some(&v) if v.fract() == 0.0 && (1.0..=100_000.0).contains(&v) => Ok(v as usize),
                Some(&v) => Err(spec_err(
                    spec,
                    format!(
                        "parameter {} must be a whole number of bars, got {v}",
                        i + 1
                    ),
                )),
            }
        };
        let real = |i: usize, default: f64| -> Result<f64> {
            match args.get(i) {
                None => Ok(default),
                Some(&v) if v.is_finite() && v > 0.0 => Ok(v),
                Some(&v) => Err(spec_err(
                    spec,
                    format!("parameter {} must be > 0, got {v}", i + 1),
                )),
            }
        };
        let k = match name {
            "sma" => Kind::Sma(int(0, 20)?),
            "ema" => Kind::Ema(int(0, 20)?),
            "wma" => Kind::Wma(int(0, 20)?),
            "dema" => Kind::Dema(int(0, 20)?),
            "tema" => Kind::Tema(int(0, 20)?),
            "rsi" => Kind::Rsi(int(0, 14)?),
            "macd" => Kind::Macd(int(0, 12)?, int(1, 26)?, int(2, 9)?),
            "bbands" => Kind::Bbands(int(0, 20)?, real(1, 2.0)?),
            "atr" => Kind::Atr(int(0, 14)?),
            "trange" => Kind::TrueRange,
            "adx" => Kind::Adx(int(0, 14)?),
            "stoch" => Kind::Stoch(int(0, 14)?, int(1, 3)?, int(2, 3)?),
            "willr" => Kind::WillR(int(0, 14)?),
            "cci" => Kind::Cci(int(0, 14)?),
            "mfi" => Kind::Mfi(int(0, 14)?),
            "obv" => Kind::Obv,
            "roc" => Kind::Roc(int(0, 10)?),
            "mom" => Kind::Mom(int(0, 10)?),
            "volatility" => Kind::Volatility(int(0, 20)?),
            "zscore" => Kind::ZScore(int(0, 20)?),
            "vwap" => Kind::Vwap,
            "donchian" => Kind::Donchian(int(0, 20)?),
            "keltner" => Kind::Keltner(int(0, 20)?, int(1, 10)?, real(2, 2.0)?),
            "beta" => Kind::Beta(int(0, 20)?),
            "correl" => Kind::Correl(int(0, 30)?),
            _ => return Err(spec_err(spec, format!("unknown indicator `{name}`"))),
        };
        // Validate the periods now so that building never fails later.
        DynIndicator::new(k, 0).map(|_| k)
    }

    fn params(&self) -> Vec<String> {
        let f = |v: f64| {
            if v.fract() == 0.0 {
                format!("{}", v as i64)
            } else {
                format!("{v}")
            }
        };
        match *self {
            Kind::Sma(n)
            | Kind::Ema(n)
            | Kind::Wma(n)
            | Kind::Dema(n)
            | Kind::Tema(n)
            | Kind::Rsi(n)
            | Kind::Atr(n)
            | Kind::Adx(n)
            | Kind::WillR(n)
            | Kind::Cci(n)
            | Kind::Mfi(n)
            | Kind::Roc(n)
            | Kind::Mom(n)
            | Kind::Volatility(n)
            | Kind::ZScore(n)
            | Kind::Donchian(n)
            | Kind::Beta(n)
            | Kind::Correl(n) => vec![n.to_string()],
            Kind::Macd(a, b, c) | Kind::Stoch(a, b, c) => {
                vec![a.to_string(), b.to_string(), c.to_string()]
            }
            Kind::Bbands(n, k) => vec![n.to_string(), f(k)],
            Kind::Keltner(n, a, m) => vec![n.to_string(), a.to_string(), f(m)],
            Kind::Obv | Kind::Vwap | Kind::TrueRange => vec![],
        }
    }
}

/// An indicator and which of its outputs is wanted: `macd(12,26,9).signal`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct IndicatorSpec {
    pub kind: Kind,
    /// Index into `kind.outputs()`.
    pub output: usize,
}

impl IndicatorSpec {
    pub fn output_name(&self) -> &'static str {
        self.kind.outputs()[self.output]
    }
    pub fn build(&self) -> DynIndicator {
        // `Kind`s are validated when parsed or built with `from_parts`.
        DynIndicator::new(self.kind, self.output).unwrap_or_else(|_| DynIndicator::invalid())
    }
    /// A column-friendly name: `macd_12_26_9_signal`, `rsi_14`, `bbands_20_2_upper`.
    pub fn column_name(&self) -> String {
        let mut s = self.kind.name().to_string();
        for p in self.kind.params() {
            s.push('_');
            s.push_str(&p.replace('.', "p"));
        }
        if self.kind.outputs().len() > 1 {
            s.push('_');
            s.push_str(self.output_name());
        }
        s
    }
}

impl fmt::Display for IndicatorSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.kind.params();
        if p.is_empty() {
            write!(f, "{}", self.kind.name())?;
        } else {
            write!(f, "{}({})", self.kind.name(), p.join(","))?;
        }
        if self.kind.outputs().len() > 1 {
            write!(f, ".{}", self.output_name())?;
        }
        Ok(())
    }
}

impl FromStr for IndicatorSpec {
    type Err = crate::Error;
    fn from_str(spec: &str) -> Result<Self> {
        let s: String = spec
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        let (head, field) = match s.rfind(')') {
            Some(close) => {
                let rest = &s[close + 1..];
                let field = rest.strip_prefix('.');
                if !rest.is_empty() && field.is_none() {
                    return Err(spec_err(spec, "expected `.output` after `)`"));
                }
                (&s[..=close], field)
            }
            None => match s.split_once('.') {
                Some((h, f)) => (h, Some(f)),
                None => (s.as_str(), None),
            },
        };
        let (name, args) = match head.split_once('(') {
            Some((n, a)) => {
                let a = a
                    .strip_suffix(')')
                    .ok_or_else(|| spec_err(spec, "missing `)`"))?;
                let args = if a.is_empty() {
                    vec![]
                } else {
                    a.split(',')
                        .map(|x| {
                            x.parse::<f64>().map_err(|_| {
                                spec_err(spec, format!("parameter `{x}` is not a number"))
                            })
                        })
                        .collect::<Result<Vec<_>>>()?
                };
                (n, args)
            }
            None => (head, vec![]),
        };
        let kind = Kind::from_parts(spec, name, &args)?;
        let outputs = kind.outputs();
        let output = match field {
            None => 0,
            Some(f) => outputs.iter().position(|o| *o == f).ok_or_else(|| {
                spec_err(
                    spec,
                    format!(
                        "`{name}` has no output `{f}`; it has {}",
                        outputs.join(", ")
                    ),
                )
            })?,
        };
        Ok(IndicatorSpec { kind, output })
    }
}

/// The state machine behind an [`IndicatorSpec`]: one of the typed indicators, chosen at run
/// time. Serializable, so the signal runner checkpoints it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DynIndicator {
    output: usize,
    state: State,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
enum State {
    Sma(Sma),
    Ema(Ema),
    Wma(Wma),
    Dema(Dema),
    Tema(Tema),
    Rsi(Rsi),
    Macd(Macd),
    Bbands(Bbands),
    Atr(Atr),
    TrueRange(TrueRange),
    Adx(Adx),
    Stoch(Stoch),
    WillR(WillR),
    Cci(Cci),
    Mfi(Mfi),
    Obv(Obv),
    Roc(Roc),
    Mom(Mom),
    Volatility(Volatility),
    ZScore(ZScore),
    Vwap(Vwap),
    Donchian(Donchian),
    Keltner(Keltner),
    Beta(Beta),
    Correl(Correl),
    Invalid,
}

impl DynIndicator {
    pub fn new(kind: Kind, output: usize) -> Result<Self> {
        let state = match kind {
            Kind::Sma(n) => State::Sma(Sma::new(n)?),
            Kind::Ema(n) => State::Ema(Ema::new(n)?),
            Kind::Wma(n) => State::Wma(Wma::new(n)?),
            Kind::Dema(n) => State::Dema(Dema::new(n)?),
            Kind::Tema(n) => State::Tema(Tema::new(n)?),
            Kind::Rsi(n) => State::Rsi(Rsi::new(n)?),
            Kind::Macd(a, b, c) => State::Macd(Macd::new(a, b, c)?),
            Kind::Bbands(n, k) => State::Bbands(Bbands::new(n, k)?),
            Kind::Atr(n) => State::Atr(Atr::new(n)?),
            Kind::TrueRange => State::TrueRange(TrueRange::default()),
            Kind::Adx(n) => State::Adx(Adx::new(n)?),
            Kind::Stoch(a, b, c) => State::Stoch(Stoch::new(a, b, c)?),
            Kind::WillR(n) => State::WillR(WillR::new(n)?),
            Kind::Cci(n) => State::Cci(Cci::new(n)?),
            Kind::Mfi(n) => State::Mfi(Mfi::new(n)?),
            Kind::Obv => State::Obv(Obv::default()),
            Kind::Roc(n) => State::Roc(Roc::new(n)?),
            Kind::Mom(n) => State::Mom(Mom::new(n)?),
            Kind::Volatility(n) => State::Volatility(Volatility::new(n)?),
            Kind::ZScore(n) => State::ZScore(ZScore::new(n)?),
            Kind::Vwap => State::Vwap(Vwap::default()),
            Kind::Donchian(n) => State::Donchian(Donchian::new(n)?),
            Kind::Keltner(n, a, m) => State::Keltner(Keltner::new(n, a, m)?),
            Kind::Beta(n) => State::Beta(Beta::new(n)?),
            Kind::Correl(n) => State::Correl(Correl::new(n)?),
        };
        Ok(Self { output, state })
    }

    fn invalid() -> Self {
        Self {
            output: 0,
            state: State::Invalid,
        }
    }

    /// Feed one observation; the chosen output, `None` while warming up.
    #[inline]
    pub fn update(&mut self, o: &Obs) -> Option<f64> {
        let b = o.bar;
        let i = self.output;
        match &mut self.state {
            State::Sma(x) => x.update(b.close),
            State::Ema(x) => x.update(b.close),
            State::Wma(x) => x.update(b.close),
            State::Dema(x) => x.update(b.close),
            State::Tema(x) => x.update(b.close),
            State::Rsi(x) => x.update(b.close),
            State::Macd(x) => x.update(b.close).map(|m| [m.line, m.signal, m.hist][i]),
            State::Bbands(x) => {
                let v = x.update(b.close)?;
                match i {
                    0 => Some(v.upper),
                    1 => Some(v.middle),
                    2 => Some(v.lower),
                    3 => v.percent_b(),
                    _ => v.bandwidth(),
                }
            }
            State::Atr(x) => x.update(b),
            State::TrueRange(x) => x.update(b),
            State::Adx(x) => {
                let v = x.update(b)?;
                match i {
                    0 => v.adx,
                    1 => Some(v.plus_di),
                    _ => Some(v.minus_di),
                }
            }
            State::Stoch(x) => x.update(b).map(|v| if i == 0 { v.k } else { v.d }),
            State::WillR(x) => x.update(b),
            State::Cci(x) => x.update(b),
            State::Mfi(x) => x.update(b),
            State::Obv(x) => x.update(b),
            State::Roc(x) => x.update(b.close),
            State::Mom(x) => x.update(b.close),
            State::Volatility(x) => x.update(b.close),
            State::ZScore(x) => x.update(b.close),
            State::Vwap(x) => x.update(VwapInput {
                session: o.session,
                bar: b,
            }),
            State::Donchian(x) => x.update(b).map(|v| [v.upper, v.middle, v.lower][i]),
            State::Keltner(x) => x.update(b).map(|v| [v.upper, v.middle, v.lower][i]),
            State::Beta(x) => x.update((b.close, o.other)),
            State::Correl(x) => x.update((b.close, o.other)),
            State::Invalid => None,
        }
    }

    pub fn reset(&mut self) {
        match &mut self.state {
            State::Sma(x) => x.reset(),
            State::Ema(x) => x.reset(),
            State::Wma(x) => x.reset(),
            State::Dema(x) => x.reset(),
            State::Tema(x) => x.reset(),
            State::Rsi(x) => x.reset(),
            State::Macd(x) => x.reset(),
            State::Bbands(x) => x.reset(),
            State::Atr(x) => x.reset(),
            State::TrueRange(x) => x.reset(),
            State::Adx(x) => x.reset(),
            State::Stoch(x) => x.reset(),
            State::WillR(x) => x.reset(),
            State::Cci(x) => x.reset(),
            State::Mfi(x) => x.reset(),
            State::Obv(x) => x.reset(),
            State::Roc(x) => x.reset(),
            State::Mom(x) => x.reset(),
            State::Volatility(x) => x.reset(),
            State::ZScore(x) => x.reset(),
            State::Vwap(x) => x.reset(),
            State::Donchian(x) => x.reset(),
            State::Keltner(x) => x.reset(),
            State::Beta(x) => x.reset(),
            State::Correl(x) => x.reset(),
            State::Invalid => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_and_print_canonically() {
        for (input, canon) in [
            ("rsi(14)", "rsi(14)"),
            ("RSI( 14 )", "rsi(14)"),
            ("rsi", "rsi(14)"),
            ("macd(12,26,9).signal", "macd(12,26,9).signal"),
            ("macd", "macd(12,26,9).line"),
            ("bbands(20,2.5).upper", "bbands(20,2.5).upper"),
            ("obv", "obv"),
            ("adx(14).plus_di", "adx(14).plus_di"),
        ] {
            let s: IndicatorSpec = input.parse().unwrap();
            assert_eq!(s.to_string(), canon, "{input}");
            assert_eq!(s.to_string().parse::<IndicatorSpec>().unwrap(), s);
        }
        assert_eq!(
            "bbands(20,2.5).upper"
                .parse::<IndicatorSpec>()
                .unwrap()
                .column_name(),
            "bbands_20_2p5_upper"
        );
    }

    #[test]
    fn bad_specs_say_why() {
        for (input, needle) in [
            ("foo(3)", "unknown indicator `foo`"),
            ("rsi(0)", "whole number"),
            ("rsi(2.5)", "whole number"),
            ("sma(1,2)", "at most 1"),
            ("macd.nope", "no output `nope`"),
            ("rsi(x)", "not a number"),
            ("rsi(1)", "period 1"),
            ("bbands(20,-1)", "must be > 0"),
        ] {
            let e = input.parse::<IndicatorSpec>().unwrap_err().to_string();
            assert!(e.contains(needle), "{input}: {e}");
        }
    }
}
