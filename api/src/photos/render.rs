//! Rendering a photo: decode under explicit [`image::Limits`] (at most [`MAX_SIDE`] pixels per side
//! and [`MAX_ALLOC`] bytes of decoder allocation; the crate sets no dimension limit by default),
//! turn it upright by its EXIF orientation, and encode JPEG renditions that carry no metadata at all
//! (the encoder writes none, so no EXIF, GPS, XMP or comments survive).
//!
//! Blocking and CPU-bound: call it from `spawn_blocking`, never on the async threads.

use std::io::Cursor;

use cms_domain::complaint::ThumbnailSize;
use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageReader, Limits};

use super::ImageKind;

/// The largest width or height decoded.
pub const MAX_SIDE: u32 = 12_000;
/// The most bytes a decoder may allocate (a 12,000 x 12,000 RGB image would need 432 MB; photos from
/// phones need well under 100 MB).
pub const MAX_ALLOC: u64 = 256 * 1024 * 1024;
/// JPEG quality of every rendition.
pub const JPEG_QUALITY: u8 = 85;

/// One encoded rendition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendition {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The JPEG bytes.
    pub jpeg: Vec<u8>,
}

/// Every rendition of one photo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Renditions {
    /// Fits 320 x 320.
    pub thumb: Rendition,
    /// Fits 1024 x 1024.
    pub large: Rendition,
    /// Full size, upright, re-encoded (served as `size=original`).
    pub full: Rendition,
}

impl Renditions {
    /// The rendition of a thumbnail size.
    pub fn of(&self, size: ThumbnailSize) -> &Rendition {
        match size {
            ThumbnailSize::Thumb320 => &self.thumb,
            ThumbnailSize::Large1024 => &self.large,
        }
    }
}

/// Why a photo cannot be rendered. Every case is a property of the bytes, so retrying cannot help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// The bytes are not JPEG, PNG or WebP.
    #[error("not a JPEG, PNG or WebP image")]
    Unsupported,
    /// The image is larger than the limits allow.
    #[error("image exceeds the decoding limits ({MAX_SIDE} px per side, {MAX_ALLOC} bytes): {0}")]
    TooLarge(String),
    /// The bytes do not decode.
    #[error("image does not decode: {0}")]
    Undecodable(String),
}

fn classify(error: image::ImageError) -> RenderError {
    match error {
        image::ImageError::Limits(e) => RenderError::TooLarge(e.to_string()),
        other => RenderError::Undecodable(truncate(&other.to_string())),
    }
}

fn truncate(text: &str) -> String {
    text.chars().take(300).collect()
}

/// The limits every decode runs under.
pub fn limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    limits
}

/// Decodes `bytes` under [`limits`] and applies the EXIF orientation.
///
/// # Errors
/// A [`RenderError`] naming why the bytes are not a usable image.
pub fn decode_upright(bytes: &[u8]) -> Result<DynamicImage, RenderError> {
    let kind = ImageKind::sniff(bytes).ok_or(RenderError::Unsupported)?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), kind.format());
    reader.limits(limits());
    let mut decoder = reader.into_decoder().map_err(classify)?;
    // A broken orientation tag is not worth refusing the photo for: it is then shown as stored.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(classify)?;
    image.apply_orientation(orientation);
    Ok(image)
}

fn encode(image: &DynamicImage) -> Result<Rendition, RenderError> {
    let rgb = image.to_rgb8();
    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(&mut jpeg, JPEG_QUALITY)
        .encode_image(&rgb)
        .map_err(|e| RenderError::Undecodable(truncate(&e.to_string())))?;
    Ok(Rendition {
        width: rgb.width(),
        height: rgb.height(),
        jpeg,
    })
}

/// `image` scaled down (never up) to fit `edge` x `edge`, keeping its aspect ratio. Large
/// reductions use the crate's area-averaging `thumbnail` (several times faster than a triangle
/// filter over 12 megapixels, and as smooth when shrinking that much); small ones a triangle filter.
fn fit(image: &DynamicImage, edge: u32) -> DynamicImage {
    if image.width() <= edge && image.height() <= edge {
        image.clone()
    } else if image.width().max(image.height()) >= 2 * edge {
        image.thumbnail(edge, edge)
    } else {
        image.resize(edge, edge, FilterType::Triangle)
    }
}

/// Every rendition of the photo in `bytes`.
///
/// # Errors
/// A [`RenderError`] when the bytes are not a usable image.
pub fn render(bytes: &[u8]) -> Result<Renditions, RenderError> {
    let image = decode_upright(bytes)?;
    let large = fit(&image, ThumbnailSize::Large1024.pixels());
    // From the 1024 px rendition: the same result for a fraction of the work.
    let thumb = fit(&large, ThumbnailSize::Thumb320.pixels());
    Ok(Renditions {
        thumb: encode(&thumb)?,
        large: encode(&large)?,
        full: encode(&image)?,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use image::{ImageFormat, Rgb, RgbImage};

    fn jpeg(width: u32, height: u32) -> Vec<u8> {
        let image = RgbImage::from_fn(width, height, |x, _| Rgb([(x % 256) as u8, 90, 200]));
        let mut out = Cursor::new(Vec::new());
        image.write_to(&mut out, ImageFormat::Jpeg).unwrap();
        out.into_inner()
    }

    #[test]
    fn renditions_fit_their_boxes_keep_the_aspect_and_never_grow() {
        let r = render(&jpeg(2000, 1000)).unwrap();
        assert_eq!((r.large.width, r.large.height), (1024, 512));
        assert_eq!((r.thumb.width, r.thumb.height), (320, 160));
        assert_eq!((r.full.width, r.full.height), (2000, 1000));

        let small = render(&jpeg(100, 50)).unwrap();
        assert_eq!((small.thumb.width, small.thumb.height), (100, 50));
    }

    #[test]
    fn rendering_is_deterministic_so_retries_write_identical_objects() {
        let bytes = jpeg(700, 400);
        assert_eq!(render(&bytes).unwrap(), render(&bytes).unwrap());
    }

    #[test]
    fn headers_without_image_data_and_foreign_bytes_are_refused() {
        let bytes = jpeg(300, 300);
        assert!(matches!(
            render(&bytes[..40]),
            Err(RenderError::Undecodable(_))
        ));
        assert_eq!(render(b"<svg/>"), Err(RenderError::Unsupported));
    }

    #[test]
    fn a_declared_giant_is_refused_by_the_limits() {
        let mut bytes = jpeg(16, 16);
        let sof = bytes.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        bytes[sof + 5..sof + 9].copy_from_slice(&[0xC3, 0x50, 0xC3, 0x50]); // 50,000 x 50,000
        assert!(matches!(render(&bytes), Err(RenderError::TooLarge(_))));
    }
}
