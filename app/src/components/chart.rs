//! A small inline SVG line chart for lag and backlog history. Integer coordinates only, so the
//! server and the browser draw the same path and no float formatting lands in the bundle.

use leptos::prelude::*;

const WIDTH: i64 = 240;
const HEIGHT: i64 = 48;

/// A line through `points` (unix ms, value), scaled to the window; gaps (None) break the line.
#[component]
pub fn Sparkline(
    /// (unix ms, value) pairs, oldest first; None is a gap.
    points: Vec<(i64, Option<f64>)>,
    /// What the line shows, for screen readers.
    label: String,
) -> impl IntoView {
    let known: Vec<(i64, f64)> = points.iter().filter_map(|(t, v)| v.filter(|v| v.is_finite()).map(|v| (*t, v))).collect();
    if known.len() < 2 {
        return view! { <span class="muted chart-empty">"not enough history yet"</span> }.into_any();
    }
    let (t0, t1) = (points.first().map_or(0, |p| p.0), points.last().map_or(1, |p| p.0).max(points[0].0 + 1));
    let max = known.iter().map(|(_, v)| *v).fold(0.0_f64, f64::max).max(f64::MIN_POSITIVE);
    let x = |t: i64| (t - t0) * WIDTH / (t1 - t0);
    let y = |v: f64| HEIGHT - 2 - ((v / max) * (HEIGHT - 4) as f64).round() as i64;
    let mut path = String::new();
    let mut pen_down = false;
    for (t, v) in &points {
        match v.filter(|v| v.is_finite()) {
            Some(v) => {
                path.push_str(&format!("{}{},{} ", if pen_down { "L" } else { "M" }, x(*t), y(v)));
                pen_down = true;
            }
            None => pen_down = false,
        }
    }
    let title = label.clone();
    view! {
        <svg class="sparkline" role="img" aria-label=label viewBox=format!("0 0 {WIDTH} {HEIGHT}")
            width=WIDTH.to_string() height=HEIGHT.to_string()>
            <title>{title}</title>
            <line x1="0" y1=(HEIGHT - 2).to_string() x2=WIDTH.to_string() y2=(HEIGHT - 2).to_string() class="axis"/>
            <path d=path class="line"/>
        </svg>
    }
    .into_any()
}
