//! Output: data to stdout in the chosen format; progress and messages to stderr.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};

use anyhow::{Result, bail};
use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use indicatif::{ProgressBar, ProgressStyle};

use crate::args::Format;

/// Writes results and messages.
pub struct Printer {
    pub format: Format,
    pub quiet: bool,
    progress: bool,
}

impl Printer {
    pub fn new(format: Format, quiet: bool, progress: bool) -> Self {
        Self {
            format,
            quiet,
            progress: progress && !quiet && std::io::stderr().is_terminal(),
        }
    }

    /// A message for people (stderr), unless quiet.
    pub fn note(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", msg.as_ref());
        }
    }

    /// A heading in table output (stdout, so it stays in order with the tables).
    pub fn heading(&self, msg: impl AsRef<str>) {
        if self.format == Format::Table && !self.quiet {
            println!("\n== {}", msg.as_ref());
        }
    }

    /// Write record batches to stdout in the chosen format.
    pub fn batches(&self, schema: SchemaRef, batches: &[RecordBatch]) -> Result<()> {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        match self.format {
            Format::Table => {
                writeln!(out, "{}", render_table(&schema, batches)?)?;
                let n: usize = batches.iter().map(RecordBatch::num_rows).sum();
                writeln!(out, "({n} row{})", if n == 1 { "" } else { "s" })?;
            }
            Format::Csv => {
                let mut w = arrow::csv::WriterBuilder::new()
                    .with_header(true)
                    .build(&mut out);
                if batches.is_empty() {
                    w.write(&RecordBatch::new_empty(schema))?;
                }
                for b in batches {
                    w.write(b)?;
                }
            }
            Format::Json => {
                let mut w = arrow::json::ArrayWriter::new(&mut out);
                for b in batches {
                    w.write(b)?;
                }
                w.finish()?; // writes `[]` when there were no rows
                writeln!(out)?;
            }
            Format::Parquet => {
                if std::io::stdout().is_terminal() {
                    bail!(
                        "refusing to write Parquet to a terminal; redirect stdout to a file (elite … --format parquet > out.parquet)"
                    );
                }
                let mut buf = Vec::new();
                let mut w = parquet::arrow::ArrowWriter::try_new(&mut buf, schema, None)?;
                for b in batches {
                    w.write(b)?;
                }
                w.close()?;
                out.write_all(&buf)?;
            }
        }
        out.flush()?;
        Ok(())
    }

    /// Print serializable records (job reports) as one batch, columns in field order.
    pub fn records<T: serde::Serialize>(&self, rows: &[T]) -> Result<()> {
        let values: Vec<serde_json::Value> = rows
            .iter()
            .map(serde_json::to_value)
            .collect::<std::result::Result<_, _>>()?;
        let schema = Arc::new(arrow::json::reader::infer_json_schema_from_iterator(
            values.iter().map(Ok),
        )?);
        let mut dec = arrow::json::ReaderBuilder::new(Arc::clone(&schema)).build_decoder()?;
        dec.serialize(&values)?;
        let batches: Vec<RecordBatch> = dec.flush()?.into_iter().collect();
        self.batches(schema, &batches)
    }

    /// A progress reporter for jobs: a bar on a terminal, nothing otherwise.
    pub fn reporter(&self) -> BarReporter {
        BarReporter {
            enabled: self.progress,
            bar: Mutex::new(None),
        }
    }
}

/// Render batches as a comfy-table.
pub fn render_table(schema: &SchemaRef, batches: &[RecordBatch]) -> Result<String> {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled);
    t.set_header(schema.fields().iter().map(|f| f.name().clone()));
    let opts = FormatOptions::default().with_null("NULL");
    for b in batches {
        let fmts = b
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &opts))
            .collect::<Result<Vec<_>, _>>()?;
        for r in 0..b.num_rows() {
            t.add_row(fmts.iter().map(|f| f.value(r).to_string()));
        }
    }
    Ok(t.to_string())
}

/// Draws job progress with indicatif.
pub struct BarReporter {
    enabled: bool,
    bar: Mutex<Option<ProgressBar>>,
}

impl elite_jobs::progress::Reporter for BarReporter {
    fn stage(&self, name: &str, total: Option<u64>) {
        if !self.enabled {
            return;
        }
        let bar = match total {
            Some(n) => ProgressBar::new(n).with_style(
                ProgressStyle::with_template("{msg:30} [{bar:30}] {pos}/{len} {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            ),
            None => ProgressBar::new_spinner(),
        };
        bar.set_message(name.to_string());
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        if let Ok(mut b) = self.bar.lock() {
            if let Some(old) = b.take() {
                old.finish_and_clear();
            }
            *b = Some(bar);
        }
    }

    fn progress(&self, done: u64) {
        if let Ok(b) = self.bar.lock()
            && let Some(bar) = b.as_ref()
        {
            bar.set_position(done);
        }
    }

    fn finish(&self) {
        if let Ok(mut b) = self.bar.lock()
            && let Some(bar) = b.take()
        {
            bar.finish_and_clear();
        }
    }
}
