//! `elite sql` — one-shot, from stdin, or an interactive prompt.

use std::io::{IsTerminal, Read};

use anyhow::Result;
use elite_sql::SqlEngine;

use crate::args::SqlArgs;
use crate::printer::Printer;
use crate::settings::Settings;

pub async fn run(args: SqlArgs, settings: &Settings, printer: &Printer) -> Result<()> {
    let engine = SqlEngine::new(settings.warehouse()?).await?;
    match args.query {
        Some(q) => query(&engine, &q, printer).await,
        None if std::io::stdin().is_terminal() => prompt(&engine, printer).await,
        None => {
            let mut q = String::new();
            std::io::stdin().read_to_string(&mut q)?;
            for stmt in q.split(';').map(str::trim).filter(|s| !s.is_empty()) {
                query(&engine, stmt, printer).await?;
            }
            Ok(())
        }
    }
}

/// Run one query and print its result.
pub async fn query(engine: &SqlEngine, sql: &str, printer: &Printer) -> Result<()> {
    let df = engine.plan(sql).await?;
    let schema = df.schema().inner().clone();
    let batches = df
        .collect()
        .await
        .map_err(|e| elite_sql::Error::Query(Box::new(e)))?;
    printer.batches(schema, &batches)
}

async fn prompt(engine: &SqlEngine, printer: &Printer) -> Result<()> {
    let mut rl = rustyline::DefaultEditor::new()?;
    eprintln!(
        "Elite SQL (read-only). Tables: {}. End statements with ';', quit with Ctrl-D.",
        engine.table_names().join(", ")
    );
    let mut buf = String::new();
    loop {
        let line = match rl.readline(if buf.is_empty() { "elite> " } else { "   ..> " }) {
            Ok(l) => l,
            Err(rustyline::error::ReadlineError::Interrupted) => {
                buf.clear();
                continue;
            }
            Err(_) => return Ok(()),
        };
        buf.push_str(&line);
        buf.push('\n');
        if !line.trim_end().ends_with(';') {
            continue;
        }
        let _ = rl.add_history_entry(buf.trim());
        let stmt = std::mem::take(&mut buf);
        let stmt = stmt.trim().trim_end_matches(';');
        if let Err(e) = query(engine, stmt, printer).await {
            eprintln!("error: {e}");
        }
    }
}
