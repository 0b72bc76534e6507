//! The reports' HTML pieces: escaping, number formats and inline-SVG line charts (nothing is
//! fetched when a page is opened).

use std::fmt::Write as _;

pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub fn pct(x: f64) -> String {
    if x.is_finite() {
        format!("{:.2}%", x * 100.0)
    } else {
        "–".into()
    }
}

pub fn num(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.3}")
    } else {
        "–".into()
    }
}

const W: f64 = 900.0;
const H: f64 = 260.0;
const PAD_L: f64 = 70.0;
const PAD_R: f64 = 20.0;
const PAD_T: f64 = 28.0;
const PAD_B: f64 = 28.0;

/// A line chart of `series` (name, values, colour) over instants `ts`, as inline SVG; at most
/// ~1200 points per line (every k-th point, the last kept).
pub fn line_chart(
    id: &str,
    title: &str,
    ts: &[i64],
    series: &[(&str, &[f64], &str)],
    fmt: fn(f64) -> String,
) -> String {
    let n = ts.len();
    let step = n.div_ceil(1200).max(1);
    let idx: Vec<usize> = (0..n)
        .step_by(step)
        .chain((n > 0 && !(n - 1).is_multiple_of(step)).then_some(n - 1))
        .collect();
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for (_, v, _) in series {
        for &i in &idx {
            if let Some(x) = v.get(i).filter(|x| x.is_finite()) {
                lo = lo.min(*x);
                hi = hi.max(*x);
            }
        }
    }
    if !lo.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    if hi - lo < 1e-12 {
        hi = lo + 1.0;
    }
    let (t0, t1) = (
        ts.first().copied().unwrap_or(0) as f64,
        ts.last().copied().unwrap_or(1) as f64,
    );
    let x = |t: i64| PAD_L + (t as f64 - t0) / (t1 - t0).max(1.0) * (W - PAD_L - PAD_R);
    let y = |v: f64| PAD_T + (hi - v) / (hi - lo) * (H - PAD_T - PAD_B);
    // Up to two legends beside the title; more in rows of four below the chart.
    let legend_rows = if series.len() <= 2 {
        0
    } else {
        series.len().div_ceil(4)
    };
    let total = H + 16.0 * legend_rows as f64;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg id="{id}" class="chart" viewBox="0 0 {W} {total}" width="{W}" height="{total}" xmlns="http://www.w3.org/2000/svg" role="img"><title>{}</title><text x="{PAD_L}" y="18" class="t">{}</text>"#,
        esc(title),
        esc(title)
    );
    for k in 0..=4 {
        let v = lo + (hi - lo) * k as f64 / 4.0;
        let _ = write!(
            s,
            r##"<line x1="{PAD_L}" x2="{}" y1="{:.1}" y2="{:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" class="a" text-anchor="end">{}</text>"##,
            W - PAD_R,
            y(v),
            y(v),
            PAD_L - 6.0,
            y(v) + 4.0,
            esc(&fmt(v))
        );
    }
    if let (Some(&a), Some(&b)) = (ts.first(), ts.last()) {
        for (t, anchor) in [(a, "start"), (b, "end")] {
            let d = elite_warehouse::Timestamp::from_nanos(t).to_string();
            let _ = write!(
                s,
                r#"<text x="{:.1}" y="{}" class="a" text-anchor="{anchor}">{}</text>"#,
                x(t),
                H - 8.0,
                esc(d.get(..10).unwrap_or(&d))
            );
        }
    }
    for (k, (name, v, colour)) in series.iter().enumerate() {
        let mut d = String::new();
        let mut pen = false;
        for &i in &idx {
            match v.get(i).filter(|x| x.is_finite()) {
                Some(val) => {
                    let _ = write!(
                        d,
                        "{}{:.1},{:.1} ",
                        if pen { "L" } else { "M" },
                        x(ts[i]),
                        y(*val)
                    );
                    pen = true;
                }
                None => pen = false,
            }
        }
        let (lx, ly) = if legend_rows == 0 {
            (W - PAD_R - 160.0 + 90.0 * k as f64, 18.0)
        } else {
            (
                PAD_L + 205.0 * (k % 4) as f64,
                H + 4.0 + 16.0 * (k / 4) as f64,
            )
        };
        // A swatch in the line's colour, and the name (the class sets the text colour).
        let _ = write!(
            s,
            r#"<path d="{}" fill="none" stroke="{colour}" stroke-width="1.4"/><rect x="{:.1}" y="{:.1}" width="10" height="3" fill="{colour}"/><text x="{lx:.1}" y="{ly:.1}" class="a">{}</text>"#,
            d.trim_end(),
            lx - 14.0,
            ly - 4.0,
            esc(name)
        );
    }
    s.push_str("</svg>");
    s
}
