//! Item photos as files in the data directory (`photos/`, beside the redb
//! file and never inside it): named by a hash of their bytes, so a name is
//! never reused for other bytes and may be cached forever, written to a
//! temporary file and renamed into place, so a reader never sees half a
//! photo. The backup copies them beside the database copy.

use std::path::{Path, PathBuf};

use blake2::{Blake2s256, Digest};

use super::StoreError;
use crate::domain::photo::{PhotoKind, check};

/// Where a store's photos live: `photos/` beside its database file.
pub fn dir(db_path: &Path) -> PathBuf {
    db_path
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join("photos")
}

/// The file name of `bytes`: 32 hex digits of their hash, and the extension.
pub fn name(bytes: &[u8], kind: PhotoKind) -> String {
    let hash = Blake2s256::digest(bytes);
    let hex: String = hash[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("{hex}.{}", kind.extension())
}

/// Reads a photo's name: its format if it is one [`name`] makes.
pub fn parse_name(name: &str) -> Option<PhotoKind> {
    let (hash, ext) = name.split_once('.')?;
    let hex = hash.len() == 32 && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    hex.then(|| PhotoKind::from_extension(ext)).flatten()
}

/// Checks and keeps a photo; returns its file name. Keeping the same bytes
/// twice writes nothing new.
pub fn save(dir: &Path, bytes: &[u8]) -> Result<String, StoreError> {
    let kind = check(bytes).map_err(StoreError::Photo)?;
    let name = name(bytes, kind);
    let path = dir.join(&name);
    if path.exists() {
        return Ok(name);
    }
    let io = |e: std::io::Error| StoreError::Internal(format!("keeping photo {name}: {e}"));
    std::fs::create_dir_all(dir).map_err(io)?;
    let partial = dir.join(format!("{name}.partial"));
    std::fs::write(&partial, bytes).map_err(io)?;
    std::fs::File::open(&partial)
        .and_then(|f| f.sync_all())
        .map_err(io)?;
    std::fs::rename(&partial, &path).map_err(io)?;
    Ok(name)
}

/// A kept photo's bytes and format; `None` if there is none by that name.
pub fn load(dir: &Path, name: &str) -> Option<(Vec<u8>, PhotoKind)> {
    let kind = parse_name(name)?;
    std::fs::read(dir.join(name)).ok().map(|b| (b, kind))
}

/// Copies every kept photo into `to` (made if missing); returns how many.
pub fn copy_all(dir: &Path, to: &Path) -> Result<u64, StoreError> {
    let io = |e: std::io::Error| {
        StoreError::Internal(format!("copying photos to {}: {e}", to.display()))
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(io(e)),
    };
    std::fs::create_dir_all(to).map_err(io)?;
    let mut n = 0;
    for entry in entries {
        let entry = entry.map_err(io)?;
        let name = entry.file_name();
        if name.to_str().and_then(parse_name).is_some() {
            std::fs::copy(entry.path(), to.join(&name)).map_err(io)?;
            n += 1;
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn photos_are_kept_by_the_hash_of_their_bytes() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().join("photos");
        let png = b"\x89PNG\r\n\x1a\nnot really";
        let a = save(&dir, png).expect("saved");
        assert_eq!(save(&dir, png).expect("saved again"), a);
        assert_eq!(parse_name(&a), Some(PhotoKind::Png));
        assert_eq!(load(&dir, &a), Some((png.to_vec(), PhotoKind::Png)));
        for bad in [
            "../db.redb",
            "x.png",
            &a.replace(".png", ".gif"),
            &a.to_uppercase(),
        ] {
            assert_eq!(load(&dir, bad), None, "{bad}");
        }
        assert!(matches!(save(&dir, b"GIF89a"), Err(StoreError::Photo(_))));
        let copy = tmp.path().join("backup.photos");
        assert_eq!(copy_all(&dir, &copy).expect("copied"), 1);
        assert!(copy.join(&a).exists());
    }
}
