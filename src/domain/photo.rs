//! Item photos as a shopkeeper uploads them: JPEG, PNG or WebP, told by
//! their first bytes (never by a file name or a claimed content type), and
//! at most [`MAX_BYTES`], which suits a router's flash: 100 photos fit in
//! 30 MB. Pure rules; the files are kept by `store::photos`.

/// Largest photo, in bytes (300 KB).
pub const MAX_BYTES: usize = 300 * 1024;

/// The image formats a photo may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PhotoKind {
    /// JPEG (`FF D8 FF`).
    Jpeg,
    /// PNG (its 8-byte signature).
    Png,
    /// WebP (`RIFF` … `WEBP`).
    Webp,
}

/// Why a photo is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhotoError {
    /// Over [`MAX_BYTES`].
    #[error("a photo may be at most {} KB; this one is {} KB (make it smaller, e.g. 800 px wide)", MAX_BYTES / 1024, size.div_ceil(1024))]
    TooLarge {
        /// Its size in bytes.
        size: usize,
    },
    /// Not a JPEG, PNG or WebP image.
    #[error("a photo must be a JPEG, PNG or WebP image")]
    NotAnImage,
}

impl PhotoKind {
    /// The format of `bytes`, from its magic bytes.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Self::Png)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(Self::Webp)
        } else {
            None
        }
    }

    /// The file name extension.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::Webp => "webp",
        }
    }

    /// The format of a file name extension.
    pub fn from_extension(ext: &str) -> Option<Self> {
        [Self::Jpeg, Self::Png, Self::Webp]
            .into_iter()
            .find(|k| k.extension() == ext)
    }

    /// The `Content-Type` it is served with.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
        }
    }
}

/// Checks an upload: its size first (a large body is refused unread), then
/// its format.
pub fn check(bytes: &[u8]) -> Result<PhotoKind, PhotoError> {
    if bytes.len() > MAX_BYTES {
        return Err(PhotoError::TooLarge { size: bytes.len() });
    }
    PhotoKind::sniff(bytes).ok_or(PhotoError::NotAnImage)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_by_their_first_bytes() {
        assert_eq!(check(b"\xFF\xD8\xFF\xE0rest"), Ok(PhotoKind::Jpeg));
        assert_eq!(check(b"\x89PNG\r\n\x1a\nIHDR"), Ok(PhotoKind::Png));
        assert_eq!(check(b"RIFF\x10\0\0\0WEBPVP8 "), Ok(PhotoKind::Webp));
        for bad in [
            &b"GIF89a"[..],
            b"<svg xmlns=",
            b"RIFF\0\0\0\0WAVE",
            b"",
            b"\xFF\xD8",
        ] {
            assert_eq!(check(bad), Err(PhotoError::NotAnImage), "{bad:?}");
        }
        let big = [&b"\x89PNG\r\n\x1a\n"[..], &vec![0; MAX_BYTES]].concat();
        assert_eq!(
            check(&big),
            Err(PhotoError::TooLarge {
                size: MAX_BYTES + 8
            })
        );
        assert!(check(&big[..MAX_BYTES]).is_ok());
        assert_eq!(PhotoKind::from_extension("webp"), Some(PhotoKind::Webp));
        assert_eq!(PhotoKind::from_extension("gif"), None);
    }
}
