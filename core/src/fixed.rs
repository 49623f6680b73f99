//! Fast fixed-point decimal formatting for CSV writers.
//!
//! `format!("{:.2}")` costs about as much as the rest of a generated row; rounding to an
//! integer number of hundredths and printing it with `itoa` gives the same text faster.

/// Appends `value` rounded to `decimals` places (0–6), like `format!("{value:.decimals$}")`
/// for values whose scaled magnitude fits in an `i64`. NaN is written as `NaN`.
pub fn push_fixed(buf: &mut Vec<u8>, value: f64, decimals: u32) {
    if !value.is_finite() {
        buf.extend_from_slice(if value.is_nan() {
            b"NaN"
        } else if value > 0.0 {
            b"inf"
        } else {
            b"-inf"
        });
        return;
    }
    let scale = 10i64.pow(decimals);
    let scaled = (value * scale as f64).round() as i64;
    if scaled < 0 {
        buf.push(b'-');
    }
    let magnitude = scaled.unsigned_abs();
    let mut ib = itoa::Buffer::new();
    buf.extend_from_slice(ib.format(magnitude / scale as u64).as_bytes());
    if decimals > 0 {
        buf.push(b'.');
        let frac = magnitude % scale as u64;
        let digits = ib.format(frac);
        for _ in digits.len()..decimals as usize {
            buf.push(b'0');
        }
        buf.extend_from_slice(digits.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fixed(v: f64, d: u32) -> String {
        let mut b = Vec::new();
        push_fixed(&mut b, v, d);
        String::from_utf8(b).unwrap()
    }

    #[test]
    fn formats_common_values() {
        assert_eq!(fixed(12.345_678, 2), "12.35");
        assert_eq!(fixed(0.0, 2), "0.00");
        assert_eq!(fixed(-3.004, 2), "-3.00");
        assert_eq!(fixed(100.0, 0), "100");
        assert_eq!(fixed(0.05, 3), "0.050");
        assert_eq!(fixed(f64::NAN, 2), "NaN");
    }

    proptest! {
        #[test]
        fn parses_back_within_half_a_unit(v in -1e9f64..1e9, d in 0u32..5) {
            let text = fixed(v, d);
            let back: f64 = text.parse().unwrap();
            prop_assert!((back - v).abs() <= 0.5 / 10f64.powi(d as i32) + 1e-6, "{v} -> {text}");
        }
    }
}
