//! `date_trunc` on UTC timestamps at integer speed.
//!
//! Every warehouse time is `Timestamp(µs, "UTC")`. DataFusion's `date_trunc` takes its
//! arithmetic fast path for `hour` and `day` only when the timestamp has no zone; with any zone,
//! UTC included, it converts each value through chrono's time-zone machinery, which made
//! `date_trunc('day', ts_event)` the largest cost of a daily VWAP over every bar. UTC has no
//! offsets to apply, so truncating the zone-less value is the same instant: this wrapper drops
//! the zone, calls DataFusion's own function (its fast path), and puts the zone back. Every other
//! zone, granularity or type goes to DataFusion's function unchanged.

use std::sync::Arc;

use elite_store::datafusion::arrow::compute::cast;
use elite_store::datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use elite_store::datafusion::common::{Result, ScalarValue};
use elite_store::datafusion::functions::datetime::date_trunc::DateTruncFunc;
use elite_store::datafusion::logical_expr::sort_properties::{ExprProperties, SortProperties};
use elite_store::datafusion::logical_expr::{
    ColumnarValue, Documentation, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl,
    Signature,
};

/// DataFusion's `date_trunc`, with the UTC fast path.
#[derive(Debug, PartialEq, Eq, Hash, Default)]
pub struct UtcDateTrunc {
    inner: DateTruncFunc,
}

/// The function to register in place of the built-in one.
pub fn date_trunc() -> ScalarUDF {
    ScalarUDF::new_from_impl(UtcDateTrunc::default())
}

fn is_utc(tz: &str) -> bool {
    matches!(
        tz,
        "UTC" | "utc" | "Z" | "+00:00" | "+0000" | "Etc/UTC" | "GMT"
    )
}

/// Whether `args` truncate a UTC timestamp to an hour or a day.
fn fast(args: &ScalarFunctionArgs) -> bool {
    let granularity = match args.args.first() {
        Some(ColumnarValue::Scalar(
            ScalarValue::Utf8(Some(g))
            | ScalarValue::Utf8View(Some(g))
            | ScalarValue::LargeUtf8(Some(g)),
        )) => g.to_ascii_lowercase(),
        _ => return false,
    };
    let utc = args
        .args
        .get(1)
        .is_some_and(|a| matches!(a.data_type(), DataType::Timestamp(_, Some(tz)) if is_utc(&tz)));
    utc && matches!(granularity.as_str(), "hour" | "day")
}

fn without_zone(t: &DataType) -> DataType {
    match t {
        DataType::Timestamp(unit, _) => DataType::Timestamp(*unit, None),
        other => other.clone(),
    }
}

impl ScalarUDFImpl for UtcDateTrunc {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }

    fn signature(&self) -> &Signature {
        self.inner.signature()
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.inner.return_type(arg_types)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs<'_>) -> Result<FieldRef> {
        self.inner.return_field_from_args(args)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if !fast(&args) {
            return self.inner.invoke_with_args(args);
        }
        let zoned = args.args[1].data_type();
        let plain = without_zone(&zoned);
        let value = match &args.args[1] {
            ColumnarValue::Array(a) => ColumnarValue::Array(cast(a.as_ref(), &plain)?),
            ColumnarValue::Scalar(s) => ColumnarValue::Scalar(s.cast_to(&plain)?),
        };
        let field = |f: &FieldRef| -> FieldRef {
            Arc::new(Field::new(
                f.name(),
                without_zone(f.data_type()),
                f.is_nullable(),
            ))
        };
        let inner = ScalarFunctionArgs {
            args: vec![args.args[0].clone(), value],
            arg_fields: args.arg_fields.iter().map(field).collect(),
            number_rows: args.number_rows,
            return_field: field(&args.return_field),
            config_options: Arc::clone(&args.config_options),
        };
        Ok(match self.inner.invoke_with_args(inner)? {
            ColumnarValue::Array(a) => ColumnarValue::Array(cast(a.as_ref(), &zoned)?),
            ColumnarValue::Scalar(s) => ColumnarValue::Scalar(s.cast_to(&zoned)?),
        })
    }

    fn output_ordering(&self, input: &[ExprProperties]) -> Result<SortProperties> {
        self.inner.output_ordering(input)
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.inner.documentation()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use elite_store::datafusion::arrow::array::{Array, AsArray, TimestampMicrosecondArray};
    use elite_store::datafusion::arrow::datatypes::TimestampMicrosecondType;
    use elite_store::datafusion::config::ConfigOptions;

    fn run(f: &dyn ScalarUDFImpl, g: &str, tz: &str, values: &[Option<i64>]) -> Vec<Option<i64>> {
        let a = TimestampMicrosecondArray::from(values.to_vec()).with_timezone(tz);
        let t = a.data_type().clone();
        let args = ScalarFunctionArgs {
            args: vec![
                ColumnarValue::Scalar(ScalarValue::Utf8(Some(g.into()))),
                ColumnarValue::Array(Arc::new(a)),
            ],
            arg_fields: vec![
                Arc::new(Field::new("g", DataType::Utf8, false)),
                Arc::new(Field::new("t", t.clone(), true)),
            ],
            number_rows: values.len(),
            return_field: Arc::new(Field::new("date_trunc", t.clone(), true)),
            config_options: Arc::new(ConfigOptions::default()),
        };
        let ColumnarValue::Array(out) = f.invoke_with_args(args).unwrap() else {
            panic!("an array in, an array out")
        };
        assert_eq!(out.data_type(), &t, "the zone is kept");
        out.as_primitive::<TimestampMicrosecondType>()
            .iter()
            .collect()
    }

    #[test]
    fn the_fast_path_equals_datafusions_function() {
        // Around the epoch, leap days, negative times, a null; every granularity and some zones.
        let values: Vec<Option<i64>> = [
            -86_400_000_001,
            -1,
            0,
            1,
            951_782_400_000_000 + 3_599_999_999, // 2000-02-29T00:59:59.999999Z
            1_704_067_200_000_000 + 86_399_999_999,
            1_709_164_800_123_456,
        ]
        .into_iter()
        .map(Some)
        .chain([None])
        .collect();
        let reference = DateTruncFunc::new();
        for tz in ["UTC", "+00:00", "Asia/Kolkata", "America/New_York"] {
            for g in ["hour", "day", "DAY", "minute", "week", "month", "year"] {
                assert_eq!(
                    run(&UtcDateTrunc::default(), g, tz, &values),
                    run(&reference, g, tz, &values),
                    "{g} in {tz}"
                );
            }
        }
        // Hand-checked: 2000-02-29T00:59:59.999999Z to the day and to the hour.
        let v = [Some(951_782_400_000_000 + 3_599_999_999)];
        assert_eq!(
            run(&UtcDateTrunc::default(), "day", "UTC", &v),
            [Some(951_782_400_000_000)]
        );
        assert_eq!(
            run(&UtcDateTrunc::default(), "hour", "UTC", &v),
            [Some(951_782_400_000_000)]
        );
        assert_eq!(
            run(&UtcDateTrunc::default(), "day", "UTC", &[Some(-1)]),
            [Some(-86_400_000_000)]
        );
    }
}
