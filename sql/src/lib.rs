//! # elite-sql — DataFusion SQL over the warehouse
//!
//! A [`SqlEngine`] is a DataFusion session whose default schema is the warehouse: every table of
//! `elite_warehouse::tables` is there (empty until first written), plus the views kept as
//! `*.sql` files in `sql/views/`. Sessions are read-only: DDL, DML and `SET` are refused with a
//! message pointing at `elite ingest`.
//!
//! **Time travel.** Suffix a table name with `@` and a version or an instant, in double quotes:
//!
//! ```sql
//! SELECT count(*) FROM "bars@v3";                       -- version 3 (also "bars@3")
//! SELECT count(*) FROM "bars@2026-11-24T10:00:00Z";     -- latest version committed at or before
//! SELECT count(*) FROM "bars@2026-11-24";               -- … midnight UTC of that day
//! ```
//!
//! **As-of joins.** `asof_join('ticks', 'quotes', 'symbol', 'ts_event', 'ts_recv', 'level = 0')`
//! attaches to each left row the latest right row of the same symbol known by its time (see
//! [`asof`]).
//!
//! Sits on `elite-store` (tables) and is used by the CLI and jobs.
//!
//! ```no_run
//! # async fn demo() -> elite_sql::Result<()> {
//! let wh = elite_store::Warehouse::open("./elite-data")?;
//! let engine = elite_sql::SqlEngine::new(wh).await?;
//! let batches = engine.query("SELECT symbol, count(*) FROM bars GROUP BY symbol").await?;
//! # Ok(()) }
//! ```

pub mod asof;
mod catalog;
mod error;
pub mod indicators;
pub mod rolling;
mod utc_trunc;

pub use catalog::{TableRef, parse_table_ref};
pub use error::{Error, Result};

use elite_store::Warehouse;
use elite_store::datafusion::arrow::record_batch::RecordBatch;
use elite_store::datafusion::execution::context::SQLOptions;
use elite_store::datafusion::prelude::{DataFrame, SessionConfig, SessionContext};

/// The views shipped with Elite: `(name, CREATE VIEW statement)`.
pub const VIEWS: &[(&str, &str)] = &[
    ("bar_coverage", include_str!("../views/bar_coverage.sql")),
    (
        "quarantine_summary",
        include_str!("../views/quarantine_summary.sql"),
    ),
    ("daily_vwap", include_str!("../views/daily_vwap.sql")),
    (
        "insider_net_buying",
        include_str!("../views/insider_net_buying.sql"),
    ),
    (
        "options_summary",
        include_str!("../views/options_summary.sql"),
    ),
    (
        "options_history",
        include_str!("../views/options_history.sql"),
    ),
    (
        "news_impact_by_label",
        include_str!("../views/news_impact_by_label.sql"),
    ),
];

/// A read-only SQL session over one warehouse.
pub struct SqlEngine {
    ctx: SessionContext,
}

impl SqlEngine {
    /// A session with every table and view registered.
    pub async fn new(wh: Warehouse) -> Result<Self> {
        let config = SessionConfig::new()
            .with_information_schema(true)
            .with_default_catalog_and_schema("elite", "public");
        let ctx = SessionContext::new_with_config(config);
        catalog::install(&ctx, wh).await?;
        indicators::register(&ctx);
        ctx.register_udtf("asof_join", std::sync::Arc::new(asof::AsofJoinFunction));
        ctx.add_optimizer_rule(std::sync::Arc::new(rolling::RollingWindows));
        // Replaces the built-in: the same results, the UTC fast path.
        ctx.register_udf(utc_trunc::date_trunc());
        for (name, ddl) in VIEWS {
            ctx.sql(ddl).await.map_err(|e| Error::View {
                name: name.to_string(),
                source: Box::new(e),
            })?;
        }
        Ok(Self { ctx })
    }

    /// The underlying DataFusion context (for registering functions).
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    /// Plan a read-only query.
    pub async fn plan(&self, sql: &str) -> Result<DataFrame> {
        check_read_only(&self.ctx, sql)?;
        let options = SQLOptions::new()
            .with_allow_ddl(false)
            .with_allow_dml(false)
            .with_allow_statements(false);
        self.ctx
            .sql_with_options(sql, options)
            .await
            .map_err(|e| Error::from_datafusion(sql, e))
    }

    /// Run a read-only query and collect its result.
    pub async fn query(&self, sql: &str) -> Result<Vec<RecordBatch>> {
        self.plan(sql)
            .await?
            .collect()
            .await
            .map_err(|e| Error::from_datafusion(sql, e))
    }

    /// Names of the tables and views the session knows.
    pub fn table_names(&self) -> Vec<String> {
        let mut names = self
            .ctx
            .catalog("elite")
            .and_then(|c| c.schema("public"))
            .map(|s| s.table_names())
            .unwrap_or_default();
        names.sort();
        names
    }
}

/// Refuse anything but queries (and EXPLAIN / SHOW of them) before planning, so that a write is
/// reported as a write rather than as whatever planning error it would hit first.
fn check_read_only(ctx: &SessionContext, sql: &str) -> Result<()> {
    use elite_store::datafusion::sql::parser::Statement as Df;
    use elite_store::datafusion::sql::sqlparser::ast::Statement as Sql;
    fn allowed(s: &Sql) -> bool {
        match s {
            Sql::Query(_) | Sql::ShowTables { .. } | Sql::ShowColumns { .. } => true,
            Sql::Explain { statement, .. } => allowed(statement),
            _ => false,
        }
    }
    let state = ctx.state();
    let dialect = state.config().options().sql_parser.dialect;
    let stmt = state
        .sql_to_statement(sql, &dialect)
        .map_err(|e| Error::Query(Box::new(e)))?;
    let ok = match &stmt {
        Df::Statement(s) => allowed(s),
        Df::Explain(e) => matches!(&*e.statement, Df::Statement(s) if allowed(s)),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(Error::ReadOnly {
            statement: sql.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
        })
    }
}
