//! Text around the plotting area: tick labels and the legend of labelled series.

use std::path::Path;

use chrono::DateTime;
use plotters::coord::CoordTranslate;
use plotters::prelude::*;

use crate::{PlotError, err};

/// A time-axis tick label: the day over spans longer than three days, else day and time.
pub(crate) fn time_label(t: i64, span_secs: i64) -> String {
    let Some(d) = DateTime::from_timestamp(t, 0) else {
        return t.to_string();
    };
    if span_secs > 3 * 86_400 {
        d.format("%b %d").to_string()
    } else {
        d.format("%d %H:%M").to_string()
    }
}

/// A tick label for a log10 coordinate: the value itself with a few significant digits.
pub(crate) fn log_label(v: f64) -> String {
    let x = 10f64.powf(v);
    if !(0.01..1000.0).contains(&x) {
        format!("{x:.0e}")
    } else if x >= 10.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}

/// The legend of a panel's labelled series, in the upper right corner.
pub(crate) fn draw_legend<'a, CT: CoordTranslate>(
    cc: &mut ChartContext<'a, BitMapBackend<'a>, CT>,
    path: &Path,
) -> Result<(), PlotError> {
    cc.configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(160, 160, 160))
        .label_font(("sans-serif", 12))
        .draw()
        .map_err(|e| err(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_labels_show_days_over_long_spans_and_hours_over_short_ones() {
        let t = 1_767_276_000; // 2026-01-01 14:00 UTC
        assert_eq!(time_label(t, 4 * 86_400), "Jan 01");
        assert_eq!(time_label(t, 3 * 86_400), "01 14:00");
        assert_eq!(
            time_label(i64::MAX, 60),
            i64::MAX.to_string(),
            "out of chrono's range"
        );
    }

    #[test]
    fn log_labels_read_as_the_value() {
        assert_eq!(log_label(0.0), "1.00");
        assert_eq!(log_label(-1.0), "0.10");
        assert_eq!(log_label(2.0), "100");
        assert_eq!(log_label(3.0), "1e3");
        assert_eq!(log_label(-4.0), "1e-4");
    }
}
