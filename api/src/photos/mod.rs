//! Photos of complaints: what an upload must be (JPEG, PNG or WebP by magic bytes, at most
//! [`MAX_PHOTO_BYTES`](cms_domain::complaint::MAX_PHOTO_BYTES)), where its objects live (server-chosen keys, see [`keys`]), how it is rendered
//! ([`render`]: decoding under explicit limits, EXIF orientation, thumbnails without metadata) and the
//! thumbnail worker ([`worker`], fed by a [`jobs::PhotoJobs`] source).
//!
//! Served images are always re-encoded (docs/adr/0010): the uploaded bytes are kept as evidence (their
//! SHA-256 is in the `PhotoAttached` event) but never sent to a client, because they may carry EXIF GPS
//! tags or be polyglots (a valid JPEG that is also a ZIP or an HTML page).

pub mod jobs;
pub mod render;
pub mod sweep;
pub mod worker;

use cms_domain::complaint::ThumbnailSize;
use cms_domain::ids::{ComplaintId, PhotoId};
use sha2::{Digest, Sha256};

/// An image format the API accepts, judged by the file's first bytes (never by its name or the
/// client's declared type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    Jpeg,
    Png,
    Webp,
}

impl ImageKind {
    /// The format whose signature starts `bytes`, if it is one we accept.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else if bytes.starts_with(PNG) {
            Some(Self::Png)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(Self::Webp)
        } else {
            None
        }
    }

    /// The MIME type.
    pub const fn content_type(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
        }
    }

    /// The kind with this MIME type.
    pub fn from_content_type(content_type: &str) -> Option<Self> {
        [Self::Jpeg, Self::Png, Self::Webp]
            .into_iter()
            .find(|k| k.content_type() == content_type)
    }

    /// The `image` crate's format.
    pub const fn format(self) -> image::ImageFormat {
        match self {
            Self::Jpeg => image::ImageFormat::Jpeg,
            Self::Png => image::ImageFormat::Png,
            Self::Webp => image::ImageFormat::WebP,
        }
    }
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The server-chosen object keys of one photo. Every key embeds the complaint and the photo id, both
/// chosen by the server, so no client input ever names an object.
pub mod keys {
    use super::{ComplaintId, PhotoId, ThumbnailSize};

    fn folder(complaint: ComplaintId, photo: PhotoId) -> String {
        format!("photos/{complaint}/{photo}")
    }

    /// The bytes as uploaded (kept, never served).
    pub fn upload(complaint: ComplaintId, photo: PhotoId) -> String {
        format!("{}/upload", folder(complaint, photo))
    }

    /// What a presigned upload promised (JSON), read back by `complete`.
    pub fn intent(complaint: ComplaintId, photo: PhotoId) -> String {
        format!("{}/intent.json", folder(complaint, photo))
    }

    /// A thumbnail rendition (deterministic, so a retried job writes the same object).
    pub fn thumbnail(complaint: ComplaintId, photo: PhotoId, size: ThumbnailSize) -> String {
        let name = match size {
            ThumbnailSize::Thumb320 => "thumb-320.jpg",
            ThumbnailSize::Large1024 => "large-1024.jpg",
        };
        format!("{}/{name}", folder(complaint, photo))
    }

    /// The full-size re-encoded image served as `size=original`.
    pub fn full(complaint: ComplaintId, photo: PhotoId) -> String {
        format!("{}/full.jpg", folder(complaint, photo))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_judged_by_their_signature_only() {
        assert_eq!(
            ImageKind::sniff(b"\xFF\xD8\xFF\xE0rest"),
            Some(ImageKind::Jpeg)
        );
        assert_eq!(
            ImageKind::sniff(b"\x89PNG\r\n\x1a\nrest"),
            Some(ImageKind::Png)
        );
        assert_eq!(
            ImageKind::sniff(b"RIFF\x10\0\0\0WEBPVP8 "),
            Some(ImageKind::Webp)
        );
        assert_eq!(ImageKind::sniff(b"RIFF\x10\0\0\0WAVEfmt "), None);
        assert_eq!(
            ImageKind::sniff(b"<svg xmlns='http://www.w3.org/2000/svg'>"),
            None
        );
        assert_eq!(ImageKind::sniff(b"GIF89a"), None);
        assert_eq!(ImageKind::sniff(b"\xFF\xD8"), None);
        assert_eq!(ImageKind::sniff(b""), None);
    }

    #[test]
    fn keys_are_valid_object_keys_under_the_photo_folder() {
        let c = ComplaintId::new(uuid::Uuid::nil());
        let p = PhotoId::new(uuid::Uuid::max());
        for key in [
            keys::upload(c, p),
            keys::intent(c, p),
            keys::full(c, p),
            keys::thumbnail(c, p, ThumbnailSize::Thumb320),
            keys::thumbnail(c, p, ThumbnailSize::Large1024),
        ] {
            assert!(crate::objects::valid_key(&key), "{key}");
            assert!(key.starts_with(&format!("photos/{c}/{p}/")), "{key}");
        }
    }
}
