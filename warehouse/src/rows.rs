//! A row-at-a-time batch builder for any table: values appended in schema order, checked
//! against the column types when the batch is finished.

use arrow_array::builder::{
    ArrayBuilder, BooleanBuilder, Float64Builder, Int32Builder, Int64Builder, StringBuilder,
    TimestampMicrosecondBuilder, make_builder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::ArrowError;

use crate::tables::TableSpec;
use crate::{Error, Result, Timestamp};

/// Builds one table's batch row by row.
pub struct RowsBuilder {
    spec: &'static TableSpec,
    cols: Vec<Box<dyn ArrayBuilder>>,
    rows: usize,
    error: Option<String>,
}

/// One row being appended: call one method per column, in schema order.
pub struct Row<'a> {
    b: &'a mut RowsBuilder,
    k: usize,
}

impl RowsBuilder {
    pub fn new(spec: &'static TableSpec) -> Self {
        let schema = spec.arrow_schema();
        Self {
            spec,
            cols: schema
                .fields()
                .iter()
                .map(|f| make_builder(f.data_type(), 64))
                .collect(),
            rows: 0,
            error: None,
        }
    }

    /// Start a row.
    pub fn row(&mut self) -> Row<'_> {
        self.rows += 1;
        Row { b: self, k: 0 }
    }

    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// The batch of every row so far (the builder is left empty).
    pub fn finish(&mut self) -> Result<RecordBatch> {
        let internal = |msg: String| Error::Internal {
            table: self.spec.name,
            source: Box::new(ArrowError::InvalidArgumentError(msg)),
        };
        if let Some(e) = self.error.take() {
            return Err(internal(e));
        }
        let cols: Vec<ArrayRef> = self.cols.iter_mut().map(|c| c.finish()).collect();
        self.rows = 0;
        RecordBatch::try_new(self.spec.arrow_schema(), cols).map_err(|e| Error::Internal {
            table: self.spec.name,
            source: Box::new(e),
        })
    }
}

impl Row<'_> {
    fn next<B: 'static>(&mut self, f: impl FnOnce(&mut B)) -> &mut Self {
        let k = self.k;
        self.k += 1;
        match self
            .b
            .cols
            .get_mut(k)
            .and_then(|c| c.as_any_mut().downcast_mut::<B>())
        {
            Some(b) => f(b),
            None => {
                self.b.error.get_or_insert_with(|| {
                    format!("column {k}: a value of the wrong type or one column too many")
                });
            }
        }
        self
    }

    pub fn str(&mut self, v: &str) -> &mut Self {
        self.next::<StringBuilder>(|b| b.append_value(v))
    }

    pub fn opt_str(&mut self, v: Option<&str>) -> &mut Self {
        self.next::<StringBuilder>(|b| b.append_option(v))
    }

    pub fn f64(&mut self, v: f64) -> &mut Self {
        self.next::<Float64Builder>(|b| b.append_value(v))
    }

    pub fn opt_f64(&mut self, v: Option<f64>) -> &mut Self {
        self.next::<Float64Builder>(|b| b.append_option(v))
    }

    pub fn bool(&mut self, v: bool) -> &mut Self {
        self.next::<BooleanBuilder>(|b| b.append_value(v))
    }

    pub fn opt_bool(&mut self, v: Option<bool>) -> &mut Self {
        self.next::<BooleanBuilder>(|b| b.append_option(v))
    }

    pub fn opt_ts(&mut self, v: Option<Timestamp>) -> &mut Self {
        self.next::<TimestampMicrosecondBuilder>(|b| b.append_option(v.map(|t| t.as_micros())))
    }

    pub fn i32(&mut self, v: i32) -> &mut Self {
        self.next::<Int32Builder>(|b| b.append_value(v))
    }

    pub fn i64(&mut self, v: i64) -> &mut Self {
        self.next::<Int64Builder>(|b| b.append_value(v))
    }

    pub fn ts(&mut self, v: Timestamp) -> &mut Self {
        self.next::<TimestampMicrosecondBuilder>(|b| b.append_value(v.as_micros()))
    }

    /// End the row: every column must have had a value.
    pub fn end(&mut self) {
        if self.k != self.b.cols.len() {
            let msg = format!("{} values for {} columns", self.k, self.b.cols.len());
            self.b.error.get_or_insert(msg);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tables;

    #[test]
    fn builds_a_batch_with_the_table_schema_and_refuses_wrong_rows() {
        let mut b = RowsBuilder::new(&tables::INSTRUMENT_ALIASES);
        let t = Timestamp::from_secs(1).unwrap();
        b.row()
            .str("AAPL")
            .str("Apple Inc")
            .str("name")
            .ts(t)
            .ts(t)
            .str("file")
            .end();
        let batch = b.finish().unwrap();
        assert_eq!(batch.num_rows(), 1);
        assert_eq!(batch.schema(), tables::INSTRUMENT_ALIASES.arrow_schema());
        b.row().str("AAPL").f64(1.0).end();
        assert!(b.finish().is_err());
    }
}
