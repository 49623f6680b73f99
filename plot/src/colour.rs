//! The two palettes every chart draws with: one for series, one for categories.

use plotters::style::RGBColor;

/// A colour from a fixed, colour-blind friendly palette (Okabe–Ito), cycling.
pub fn palette(i: usize) -> RGBColor {
    const P: [RGBColor; 8] = [
        RGBColor(0, 114, 178),
        RGBColor(213, 94, 0),
        RGBColor(0, 158, 115),
        RGBColor(204, 121, 167),
        RGBColor(230, 159, 0),
        RGBColor(86, 180, 233),
        RGBColor(120, 120, 120),
        RGBColor(240, 228, 66),
    ];
    P[i % P.len()]
}

/// A colour for categories such as incident kinds: ten distinct hues (Tableau 10).
pub fn category(i: usize) -> RGBColor {
    const P: [RGBColor; 10] = [
        RGBColor(78, 121, 167),
        RGBColor(242, 142, 43),
        RGBColor(225, 87, 89),
        RGBColor(118, 183, 178),
        RGBColor(89, 161, 79),
        RGBColor(237, 201, 72),
        RGBColor(176, 122, 161),
        RGBColor(255, 157, 167),
        RGBColor(156, 117, 95),
        RGBColor(186, 176, 172),
    ];
    P[i % P.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn distinct(colours: &[RGBColor]) -> usize {
        let mut v: Vec<(u8, u8, u8)> = colours.iter().map(|c| (c.0, c.1, c.2)).collect();
        v.sort_unstable();
        v.dedup();
        v.len()
    }

    #[test]
    fn palette_has_eight_distinct_colours_then_cycles() {
        let first: Vec<RGBColor> = (0..8).map(palette).collect();
        assert_eq!(distinct(&first), 8);
        assert_eq!(palette(0), RGBColor(0, 114, 178), "Okabe–Ito blue first");
        assert_eq!(palette(1), RGBColor(213, 94, 0), "then vermillion");
        for i in 0..8 {
            assert_eq!(palette(i + 8), palette(i));
        }
    }

    #[test]
    fn category_has_ten_distinct_colours_then_cycles() {
        let first: Vec<RGBColor> = (0..10).map(category).collect();
        assert_eq!(distinct(&first), 10);
        assert_eq!(category(0), RGBColor(78, 121, 167), "Tableau blue first");
        assert_eq!(category(13), category(3));
        assert_ne!(category(0), palette(0), "spans and series look different");
    }
}
