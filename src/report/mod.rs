//! Output: tables, JSON, result files, plots, comparisons, thresholds.

pub mod compare;
pub mod hgrm;
pub mod hgrm_parse;
pub mod hlog;
pub mod html;
pub mod prometheus;
pub mod results_dir;
pub mod run_table;
pub mod summary;
pub mod table;

/// Write a file whole: to a synced temporary file beside it, then renamed over it (an
/// existing file is replaced), so a reader never sees half a file.
pub fn write_whole(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp.{}", std::process::id()));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}
