//! The DejaVu Sans font, compiled in and registered with plotters once per process.

use std::sync::Once;

use plotters::style::FontStyle;

static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

/// Makes `"sans-serif"` resolve to the embedded font; every renderer calls this first.
pub(crate) fn register_font() {
    REGISTER.call_once(|| {
        // The font is compiled in; a failure here would be a build defect, caught by tests.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_font_is_a_truetype_file() {
        // sfnt version 1.0: a TrueType outline font, as ab_glyph expects.
        assert_eq!(&FONT[..4], &[0, 1, 0, 0]);
        assert!(FONT.len() > 100_000, "truncated font: {} bytes", FONT.len());
    }

    #[test]
    fn registered_text_can_be_measured() {
        use plotters::style::IntoFont;
        register_font();
        let font = ("sans-serif", 20).into_font();
        let (w, h) = font.box_size("Vigil").expect("sans-serif is registered");
        let (w2, _) = font
            .box_size("Vigil Vigil")
            .expect("sans-serif is registered");
        assert!(w > 20 && h > 10, "{w}×{h}");
        assert!(w2 > w, "longer text is wider: {w2} vs {w}");
    }
}
