//! Operator commands on a running session, the same for the paper and the live trader: what
//! `/status`, `/positions` and `/pnl` say, the [`Event::Control`] that `/halt` and `/resume`
//! become, and the loop of a following trader (a tick every few seconds, commands as they come,
//! until asked to stop).

use std::future::Future;
use std::pin::Pin;

use elite_trade::event::Event;

use super::Session;
use crate::ops::alerts::{Command, Request};
use crate::ops::watch::TraderOps;

/// The answer to a command that changes nothing (`/status`, `/positions`, `/pnl`, `/help`);
/// `None` for `/halt` and `/resume`. `who` names the trader ("paper trader x").
pub fn describe(
    r: &Request,
    s: &Session,
    who: &str,
    bars: u64,
    ops: Option<&TraderOps>,
) -> Option<String> {
    if !matches!(r.command, Command::Halt(_) | Command::Resume(_)) {
        tracing::info!(
            command = r.command.name(),
            chat_id = r.chat_id,
            user_id = r.user_id,
            "operator command"
        );
    }
    let e = &s.engine;
    let px: Vec<f64> = e
        .prices
        .iter()
        .map(|p| if p.is_finite() { *p } else { 0.0 })
        .collect();
    let equity = e.ledger.equity(&px);
    let initial = e.ledger.initial.to_f64();
    Some(match &r.command {
        Command::Help => "commands: /status /positions /pnl /halt [why] /resume [why]".into(),
        Command::Status => {
            let ready = ops
                .map(|o| o.ops.health.snapshot())
                .map(|st| {
                    if st.ready() {
                        "ready".to_string()
                    } else {
                        format!("NOT ready ({})", st.reasons().join("; "))
                    }
                })
                .unwrap_or_default();
            format!(
                "{who} (run {}): {bars} bars processed, clock {}, equity {equity:.2}, kill switch {}, \
                 {} orders, {} fills; {ready}",
                s.run_id,
                e.now().map_or("-".into(), |t| t.to_string()),
                if e.risk.halted() { "ON" } else { "off" },
                e.journal.submitted.len(),
                e.journal.fills.len(),
            )
        }
        Command::Positions => {
            let mut lines: Vec<String> = e
                .ledger
                .positions
                .iter()
                .enumerate()
                .filter(|(_, p)| p.qty != 0)
                .map(|(i, p)| {
                    format!(
                        "{} {} @ {:.2} = {:.2}",
                        s.intake.symbols.get(i).map_or("?", |x| x.as_str()),
                        p.qty,
                        px[i],
                        p.qty as f64 * px[i]
                    )
                })
                .collect();
            if lines.is_empty() {
                "no open positions".into()
            } else {
                lines.insert(0, format!("{} open positions:", lines.len()));
                lines.join("\n")
            }
        }
        Command::Pnl => format!(
            "equity {equity:.2}, P&L {:+.2} ({:+.2}%), realized {:.2}, fees {:.2}, cash {:.2}",
            equity - initial,
            if initial > 0.0 {
                (equity / initial - 1.0) * 100.0
            } else {
                0.0
            },
            e.ledger.realized().to_f64(),
            e.ledger.fees.total().to_f64(),
            e.ledger.cash.to_f64(),
        ),
        Command::Halt(_) | Command::Resume(_) => return None,
    })
}

/// The engine event of `/halt` or `/resume` (`Err`: the answer, when the kill switch is already
/// in that state or the command is not one of those).
pub fn control(r: &Request, s: &Session) -> Result<Event, String> {
    let (halt, why) = match &r.command {
        Command::Halt(w) => (true, w),
        Command::Resume(w) => (false, w),
        _ => return Err("not a control command".into()),
    };
    let e = &s.engine;
    if halt == e.risk.halted() {
        return Err(format!(
            "the kill switch is already {}",
            if halt { "on" } else { "off" }
        ));
    }
    tracing::info!(
        command = r.command.name(),
        chat_id = r.chat_id,
        user_id = r.user_id,
        "operator command"
    );
    Ok(Event::Control {
        halt,
        why: format!(
            "operator {} from chat {}{}{}",
            r.command.name(),
            r.chat_id,
            r.user_id.map(|u| format!(" user {u}")).unwrap_or_default(),
            if why.is_empty() {
                String::new()
            } else {
                format!(": {why}")
            }
        ),
        ts_recv: e.now().unwrap_or(elite_warehouse::Timestamp::from_nanos(0)),
    })
}

/// What to do about `r`: the event that carries out `/halt` or `/resume`, or (`Err`) the answer
/// when there is nothing to apply (a query, or the kill switch already in that state).
pub fn respond(
    r: &Request,
    s: &Session,
    who: &str,
    bars: u64,
    ops: Option<&TraderOps>,
) -> Result<Event, String> {
    match describe(r, s, who, bars, ops) {
        Some(text) => Err(text),
        None => control(r, s),
    }
}

/// The answer once a control event was applied (`orders`: sent to flatten).
pub fn control_reply(halt: bool, orders: usize) -> String {
    if halt {
        format!("HALTED: kill switch on, working orders cancelled, {orders} orders sent to flatten")
    } else {
        "resumed: kill switch off, orders are checked again".into()
    }
}

/// What a following trader does next.
pub enum Step {
    Stop,
    Tick,
    Command(Request),
    /// The command channel closed (no more commands will come).
    NoCommands,
}

/// Wait for the next step: `stop`, a command, or the next tick of `every`.
pub async fn next_step<F: Future<Output = ()>>(
    ops: &mut Option<TraderOps>,
    every: &mut tokio::time::Interval,
    stop: &mut Pin<&mut F>,
) -> Step {
    let command = async {
        match ops {
            Some(o) => o.ops.next_command().await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = stop.as_mut() => Step::Stop,
        r = command => r.map_or(Step::NoCommands, Step::Command),
        _ = every.tick() => Step::Tick,
    }
}

/// A ticker for `secs` seconds whose first tick has passed.
pub async fn ticker(secs: f64) -> tokio::time::Interval {
    let mut every = tokio::time::interval(std::time::Duration::from_secs_f64(secs));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    every.tick().await;
    every
}
