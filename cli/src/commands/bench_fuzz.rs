//! `elite bench fuzz`: mutation fuzzing of every decoder (see `elite_collectors::fuzz`), a
//! million inputs per decoder by default, in parallel over the decoders. Fails (exit 1) on any
//! panic or broken invariant, writing the first such input to `fuzz-failure-<decoder>.bin`.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Result;
use arrow::array::{ArrayRef, RecordBatch, StringArray, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema};
use elite_collectors::fuzz::{self, DECODERS, FuzzReport};

use super::user_bail;
use crate::args::BenchFuzzArgs;
use crate::printer::Printer;
use crate::settings::Settings;

pub fn run(args: BenchFuzzArgs, _settings: &Settings, printer: &Printer) -> Result<()> {
    let decoders: Vec<String> = if args.decoders.is_empty() {
        DECODERS.iter().map(|d| d.to_string()).collect()
    } else {
        args.decoders.clone()
    };
    let mut seeds = Vec::new();
    for d in &decoders {
        match fuzz::seeds(d, &args.fixtures) {
            Ok(s) => seeds.push((d.clone(), s)),
            Err(e) => user_bail!(
                "seeds for {d} from {}: {e} (run from the repository root or pass --fixtures)",
                args.fixtures.display()
            ),
        }
    }
    printer.note(format!(
        "fuzzing {} decoder(s), {} inputs each, seed {}",
        decoders.len(),
        args.inputs,
        args.seed
    ));
    // Caught panics are counted and reported; keep their default messages off stderr.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let t = Instant::now();
    let reports: Vec<(FuzzReport, f64)> = std::thread::scope(|s| {
        let handles: Vec<_> = seeds
            .iter()
            .enumerate()
            .map(|(i, (d, seeds))| {
                let (n, seed) = (args.inputs as u64, args.seed.wrapping_add(i as u64));
                s.spawn(move || {
                    let t = Instant::now();
                    let r = fuzz::fuzz(d, seeds, n, seed);
                    (r, t.elapsed().as_secs_f64())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| (FuzzReport::default(), 0.0)))
            .collect()
    });
    std::panic::set_hook(hook);
    let schema = Arc::new(Schema::new(vec![
        Field::new("decoder", DataType::Utf8, false),
        Field::new("inputs", DataType::UInt64, false),
        Field::new("panics", DataType::UInt64, false),
        Field::new("violations", DataType::UInt64, false),
        Field::new("refused", DataType::UInt64, false),
        Field::new("parquet_crate_panics_caught", DataType::UInt64, false),
        Field::new("records_landed", DataType::UInt64, false),
        Field::new("records_quarantined", DataType::UInt64, false),
        Field::new("seconds", DataType::UInt64, false),
    ]));
    let u = |f: &dyn Fn(&FuzzReport) -> u64| {
        Arc::new(UInt64Array::from_iter_values(
            reports.iter().map(|(r, _)| f(r)),
        )) as ArrayRef
    };
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            Arc::new(StringArray::from_iter_values(
                reports.iter().map(|(r, _)| r.decoder.as_str()),
            )),
            u(&|r| r.inputs),
            u(&|r| r.panics),
            u(&|r| r.violations),
            u(&|r| r.refused),
            u(&|r| r.third_party_panics_caught),
            u(&|r| r.records_landed),
            u(&|r| r.records_quarantined),
            Arc::new(UInt64Array::from_iter_values(
                reports.iter().map(|(_, s)| s.round() as u64),
            )),
        ],
    )?;
    printer.batches(schema, &[batch])?;
    printer.note(format!("{:.1} s in all", t.elapsed().as_secs_f64()));
    let mut bad = false;
    for (r, _) in &reports {
        if r.panics + r.violations > 0 || r.inputs != args.inputs as u64 {
            bad = true;
            for e in &r.examples {
                printer.note(format!("{}: {e}", r.decoder));
            }
            if let Some(input) = &r.first_failure {
                let path = format!("fuzz-failure-{}.bin", r.decoder);
                std::fs::write(&path, input)?;
                printer.note(format!(
                    "{}: first failing input written to {path}",
                    r.decoder
                ));
            }
        }
    }
    if bad {
        user_bail!("the fuzz pass found panics or records neither landed nor quarantined (above)");
    }
    Ok(())
}
