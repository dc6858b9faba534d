//! Output: tables, JSON, result files, plots, comparisons, thresholds.

pub mod compare;
pub mod hgrm;
pub mod hlog;
pub mod html;
pub mod prometheus;
pub mod results_dir;
pub mod run_table;
pub mod summary;
pub mod table;

/// Write a file whole: to a temporary file beside it, then renamed over it, so a reader never
/// sees half a file.
pub fn write_whole(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp.{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}
