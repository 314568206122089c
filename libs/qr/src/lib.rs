//! QR codes for check-in codes: an SVG for the pages (drawn inline, nothing fetched) and a PNG for emails (a `cid:`
//! image, since mail clients block `data:` URIs and scripts).
//!
//! Error correction is level M (15 %): a phone screen with a crack, a glare or a crumpled print still scans; a 44
//! character code then fits in version 4 (33 × 33 modules). Four modules of quiet zone, as the standard asks.

use qrcode::render::svg;
use qrcode::{Color, EcLevel, QrCode};

/// Why no QR code was made (the text is too long for any QR version; never for a check-in code).
#[derive(Debug, thiserror::Error)]
pub enum QrError {
    #[error("cannot encode as a QR code: {0}")]
    Encode(#[from] qrcode::types::QrError),
    #[error("cannot write the PNG: {0}")]
    Png(#[from] png::EncodingError),
}

fn code(text: &str) -> Result<QrCode, QrError> {
    Ok(QrCode::with_error_correction_level(
        text.as_bytes(),
        EcLevel::M,
    )?)
}

/// An `<svg>` element (no XML declaration) that scales to its box; `label` is its accessible name.
pub fn svg(text: &str, label: &str) -> Result<String, QrError> {
    let drawn = code(text)?
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build();
    // The renderer writes an XML declaration and fixed sizes; inline in HTML it wants neither.
    let start = drawn.find("<svg").unwrap_or(0);
    let element = &drawn[start..];
    let escaped: String = label
        .chars()
        .map(|c| match c {
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '&' => "&amp;".to_owned(),
            '"' => "&quot;".to_owned(),
            c => c.to_string(),
        })
        .collect();
    Ok(element.replacen(
        "<svg",
        &format!("<svg role=\"img\" aria-label=\"{escaped}\" class=\"qr\""),
        1,
    ))
}

/// A greyscale PNG, `scale` pixels per module (at least 1), with the quiet zone.
pub fn png(text: &str, scale: u32) -> Result<Vec<u8>, QrError> {
    let code = code(text)?;
    let scale = scale.max(1) as usize;
    let quiet = 4;
    let modules = code.width();
    let side = (modules + 2 * quiet) * scale;
    let colors = code.to_colors();
    let mut pixels = vec![255u8; side * side];
    for (index, color) in colors.iter().enumerate() {
        if *color == Color::Dark {
            let (row, column) = (index / modules + quiet, index % modules + quiet);
            for y in row * scale..(row + 1) * scale {
                let line = y * side;
                pixels[line + column * scale..line + (column + 1) * scale].fill(0);
            }
        }
    }
    let mut out = Vec::new();
    {
        let side = u32::try_from(side).unwrap_or(u32::MAX);
        let mut encoder = png::Encoder::new(&mut out, side, side);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&pixels)?;
        writer.finish()?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CODE: &str = "AZPr4yXqdT2Bv4xX0JxVgQ3bqU7wpmxbHrmi5DmvaRHQ";

    /// Decodes with rqrr, a decoder that did not make the code.
    fn decode(gray: &[u8], side: usize) -> String {
        let mut image =
            rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| gray[y * side + x]);
        let grids = image.detect_grids();
        assert_eq!(grids.len(), 1, "one QR code in the picture");
        grids[0].decode().expect("decodes").1
    }

    #[test]
    fn the_png_decodes_back_to_the_code() {
        let bytes = png(CODE, 6).expect("png");
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().expect("png header");
        let mut buffer = vec![0; reader.output_buffer_size().expect("size")];
        let info = reader.next_frame(&mut buffer).expect("frame");
        assert_eq!(info.color_type, png::ColorType::Grayscale);
        assert_eq!(info.width, info.height);
        assert_eq!(decode(&buffer, info.width as usize), CODE);
        // Version 4 (33 modules) plus the quiet zone, six pixels each.
        assert_eq!(info.width, (33 + 8) * 6);
    }

    #[test]
    fn the_svg_is_an_inline_element_with_its_label_escaped() {
        let drawn = svg(CODE, "Check-in <code> & \"you\"").expect("svg");
        assert!(drawn.starts_with(
            "<svg role=\"img\" aria-label=\"Check-in &lt;code&gt; &amp; &quot;you&quot;\""
        ));
        assert!(!drawn.contains("<?xml"));
        assert!(drawn.contains("<path"));
    }
}
