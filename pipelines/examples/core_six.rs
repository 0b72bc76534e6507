//! The six core indicators over synthetic bars, timed: `cargo run --release -p elite-pipelines
//! --example core_six [symbols] [bars]`. (`elite bench indicators` runs the same kernel beside
//! TA-Lib; this is the quick loop for working on the kernel.)

use elite_pipelines::bench::{BarColumns, core_six, synthetic};

fn main() -> elite_pipelines::Result<()> {
    let mut args = std::env::args()
        .skip(1)
        .map(|a| a.parse::<usize>().unwrap_or(0));
    let symbols = args.next().filter(|&n| n > 0).unwrap_or(100);
    let bars = args.next().filter(|&n| n > 0).unwrap_or(2_000);
    let data: Vec<BarColumns> = synthetic(symbols, bars)
        .iter()
        .map(|s| BarColumns::from_bars(s))
        .collect();
    let mut out: [Vec<f64>; 10] = std::array::from_fn(|_| vec![0.0; bars]);
    let t = std::time::Instant::now();
    let mut check = 0.0;
    for s in &data {
        core_six(s, &mut out)?;
        check += out[9][bars - 1];
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{symbols} x {bars} bars: {:.3} s, {:.2} ns/bar (checksum {check:.6})",
        secs,
        secs / (symbols * bars) as f64 * 1e9
    );
    Ok(())
}
