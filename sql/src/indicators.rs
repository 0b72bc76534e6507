//! Every `elite-pipelines` indicator as a DataFusion window function, calling the same
//! `update` as the stream:
//!
//! ```sql
//! SELECT ts_event, rsi(close, 14) OVER (PARTITION BY symbol ORDER BY ts_event) FROM bars
//! SELECT macd_signal(close, 12, 26, 9) OVER w, bbands_upper(close, 20, 2) OVER w,
//!        atr(high, low, close, 14) OVER w
//! FROM bars WINDOW w AS (PARTITION BY symbol, timeframe ORDER BY ts_event)
//! ```
//!
//! Names: `<indicator>` gives the default output, `<indicator>_<output>` any output
//! (`macd_hist`, `adx_plus_di`, `stoch_d`, `bbands_percent_b`). Arguments: the input columns
//! the indicator reads (`close`; `high, low`; `high, low, close`; `high, low, close, volume`;
//! `close, volume`; `high, low, close, volume, session`; or `x, y` for pairs), then its
//! parameters as literals, defaulting as in specs. Rows are fed in the window's ORDER BY; the
//! frame clause is ignored (each row sees everything before it in its partition), and a row
//! with a null input gives null without touching the state.

use elite_pipelines::batch::{self, Columns};
use elite_pipelines::spec::{IndicatorSpec, InputKind, Kind};
use elite_store::datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array};
use elite_store::datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use elite_store::datafusion::common::{Result as DfResult, ScalarValue, exec_err, plan_err};
use elite_store::datafusion::logical_expr::function::{PartitionEvaluatorArgs, WindowUDFFieldArgs};
use elite_store::datafusion::logical_expr::{
    PartitionEvaluator, Signature, TypeSignature, Volatility, WindowUDF, WindowUDFImpl,
};
use elite_store::datafusion::physical_expr::expressions::Literal;
use elite_store::datafusion::prelude::SessionContext;
use std::sync::Arc;

/// One window function: an indicator kind and one of its outputs.
#[derive(Debug, PartialEq, Eq, Hash)]
struct IndicatorUdwf {
    name: String,
    kind: &'static str,
    output: usize,
    signature: Signature,
}

/// Register every indicator window function on `ctx`.
pub fn register(ctx: &SessionContext) {
    for udwf in all() {
        ctx.register_udwf(udwf);
    }
}

/// Every indicator window function.
pub fn all() -> Vec<WindowUDF> {
    let mut out = vec![];
    for kind in Kind::NAMES {
        let outputs = Kind::outputs_of(kind);
        for (i, o) in outputs.iter().enumerate() {
            let mut names = vec![];
            if i == 0 {
                names.push(kind.to_string());
            }
            if outputs.len() > 1 {
                names.push(format!("{kind}_{o}"));
            }
            for name in names {
                out.push(WindowUDF::from(IndicatorUdwf {
                    name,
                    kind,
                    output: i,
                    signature: Signature::new(TypeSignature::UserDefined, Volatility::Immutable),
                }));
            }
        }
    }
    out
}

fn input_kind(kind: &str) -> InputKind {
    // The input kind does not depend on parameters; build with defaults to ask.
    Kind::from_parts(kind, kind, &[])
        .map(|k| k.input())
        .unwrap_or(InputKind::Close)
}

impl WindowUDFImpl for IndicatorUdwf {
    fn name(&self) -> &str {
        &self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> DfResult<Vec<DataType>> {
        let cols = input_kind(self.kind).columns();
        let max = Kind::max_params(self.kind);
        if arg_types.len() < cols.len() || arg_types.len() > cols.len() + max {
            return plan_err!(
                "{}({}{}) takes {} column(s) then up to {max} parameter(s); got {} argument(s)",
                self.name,
                cols.join(", "),
                if max > 0 { ", params…" } else { "" },
                cols.len(),
                arg_types.len()
            );
        }
        Ok((0..arg_types.len())
            .map(|i| {
                if cols.get(i) == Some(&"session") {
                    DataType::Int64
                } else {
                    DataType::Float64
                }
            })
            .collect())
    }
    fn field(&self, field_args: WindowUDFFieldArgs<'_>) -> DfResult<FieldRef> {
        Ok(Arc::new(Field::new(
            field_args.name(),
            DataType::Float64,
            true,
        )))
    }
    fn partition_evaluator(
        &self,
        args: PartitionEvaluatorArgs<'_>,
    ) -> DfResult<Box<dyn PartitionEvaluator>> {
        let input = input_kind(self.kind);
        let ncols = input.columns().len();
        let mut params = vec![];
        for (i, e) in args.input_exprs().iter().enumerate().skip(ncols) {
            let Some(lit) = e.downcast_ref::<Literal>() else {
                return plan_err!(
                    "{}: parameter {} must be a literal number",
                    self.name,
                    i + 1 - ncols
                );
            };
            let v = match lit.value().clone() {
                ScalarValue::Float64(Some(v)) => v,
                ScalarValue::Int64(Some(v)) => v as f64,
                other => match other.cast_to(&DataType::Float64) {
                    Ok(ScalarValue::Float64(Some(v))) => v,
                    _ => {
                        return plan_err!(
                            "{}: parameter {} must be a number, got {other}",
                            self.name,
                            i + 1 - ncols
                        );
                    }
                },
            };
            params.push(v);
        }
        let kind =
            Kind::from_parts(&self.name, self.kind, &params).or_else(|e| plan_err!("{e}"))?;
        Ok(Box::new(Evaluator {
            spec: IndicatorSpec {
                kind,
                output: self.output,
            },
            input,
        }))
    }
}

#[derive(Debug)]
struct Evaluator {
    spec: IndicatorSpec,
    input: InputKind,
}

impl PartitionEvaluator for Evaluator {
    fn evaluate_all(&mut self, values: &[ArrayRef], num_rows: usize) -> DfResult<ArrayRef> {
        let mut cols = Columns::default();
        for (i, name) in self.input.columns().iter().enumerate() {
            let Some(a) = values.get(i) else {
                return exec_err!("{}: missing input column {name}", self.spec);
            };
            if *name == "session" {
                let Some(s) = a.as_any().downcast_ref::<Int64Array>() else {
                    return exec_err!("{}: session must be an integer", self.spec);
                };
                cols.session = Some(s);
                continue;
            }
            let Some(f) = a.as_any().downcast_ref::<Float64Array>() else {
                return exec_err!("{}: {name} must be a number", self.spec);
            };
            match *name {
                "high" => cols.high = Some(f),
                "low" => cols.low = Some(f),
                "close" | "x" => cols.close = Some(f),
                "volume" => cols.volume = Some(f),
                "y" => cols.other = Some(f),
                _ => {}
            }
        }
        Ok(Arc::new(batch::run(&self.spec, &cols, num_rows)))
    }
}
