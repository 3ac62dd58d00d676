//! Fewer marks for the same picture: a long line keeps, for each run of consecutive points in
//! one pixel column, only its first, lowest, highest and last point (the M4 reduction, which
//! draws the same pixels); points that fall on a pixel already drawn by an earlier point of the
//! same layer are dropped. So a plot of a million rows is an SVG of a few thousand marks.

use std::collections::HashSet;

/// Lines with fewer points than `PER_COLUMN` per pixel column are drawn as they are.
const PER_COLUMN: usize = 4;

/// Pixel column (or row) of `v` in a range of `pixels` pixels from `lo` to `hi`.
fn pixel(v: f64, (lo, hi): (f64, f64), pixels: u32) -> i64 {
    if hi > lo {
        ((v - lo) / (hi - lo) * f64::from(pixels)).floor() as i64
    } else {
        0
    }
}

/// `run` (finite points in drawing order) reduced to first, min, max and last of each stretch
/// of consecutive points in one pixel column, in their original order.
pub fn thin_line(run: Vec<(f64, f64)>, x: (f64, f64), width: u32) -> Vec<(f64, f64)> {
    if run.len() <= PER_COLUMN * width as usize {
        return run;
    }
    let mut out = Vec::with_capacity(PER_COLUMN * width as usize);
    let mut start = 0;
    while start < run.len() {
        let col = pixel(run[start].0, x, width);
        let mut end = start + 1;
        while end < run.len() && pixel(run[end].0, x, width) == col {
            end += 1;
        }
        let stretch = &run[start..end];
        let (mut lo, mut hi) = (0, 0);
        for (i, p) in stretch.iter().enumerate() {
            if p.1 < stretch[lo].1 {
                lo = i;
            }
            if p.1 > stretch[hi].1 {
                hi = i;
            }
        }
        let mut keep = vec![0, lo, hi, stretch.len() - 1];
        keep.sort_unstable();
        keep.dedup();
        out.extend(keep.into_iter().map(|i| stretch[i]));
        start = end;
    }
    out
}

/// The points of `points` that land on a pixel no earlier point landed on.
pub fn thin_points(
    points: Vec<(f64, f64)>,
    x: (f64, f64),
    y: (f64, f64),
    (width, height): (u32, u32),
) -> Vec<(f64, f64)> {
    if points.len() <= width as usize {
        return points;
    }
    let mut seen = HashSet::with_capacity(points.len().min(width as usize * height as usize));
    points
        .into_iter()
        .filter(|p| seen.insert((pixel(p.0, x, width), pixel(p.1, y, height))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_keep_each_columns_extremes_in_order() {
        // 10 000 points over 100 pixel columns: a sawtooth within each column.
        let run: Vec<(f64, f64)> = (0..10_000)
            .map(|i| {
                (
                    i as f64,
                    ((i % 100) as f64 - 50.0) * if i % 2 == 0 { 1.0 } else { -1.0 },
                )
            })
            .collect();
        let thin = thin_line(run.clone(), (0.0, 10_000.0), 100);
        assert!(thin.len() >= 200);
        assert!(thin.len() <= 400, "{}", thin.len());
        let x = (0.0, 10_000.0);
        for col in 0..100 {
            let in_col = |p: &&(f64, f64)| pixel(p.0, x, 100) == col;
            let all: Vec<&(f64, f64)> = run.iter().filter(in_col).collect();
            let kept: Vec<&(f64, f64)> = thin.iter().filter(in_col).collect();
            let max = all.iter().map(|p| p.1).fold(f64::MIN, f64::max);
            let min = all.iter().map(|p| p.1).fold(f64::MAX, f64::min);
            assert!(kept.iter().any(|p| p.1 == max) && kept.iter().any(|p| p.1 == min));
            assert_eq!(kept.first(), all.first());
            assert_eq!(kept.last(), all.last());
        }
        assert!(thin.windows(2).all(|w| w[0].0 < w[1].0), "order kept");
        // Short lines are untouched.
        let short = vec![(0.0, 1.0), (1.0, 0.0), (2.0, 3.0)];
        assert_eq!(thin_line(short.clone(), (0.0, 2.0), 100), short);
    }

    #[test]
    fn points_on_a_drawn_pixel_are_dropped() {
        let points: Vec<(f64, f64)> = (0..1000).map(|i| ((i % 10) as f64, 0.5)).collect();
        let thin = thin_points(points, (0.0, 10.0), (0.0, 1.0), (10, 10));
        assert_eq!(thin.len(), 10);
        assert_eq!(thin[3], (3.0, 0.5));
    }
}
