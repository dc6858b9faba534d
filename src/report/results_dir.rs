//! `results/<run-id>/`: a new directory per run (never overwritten), every file written
//! whole (a temp file, then rename), so a reader never sees half a file.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// UTC `YYYYMMDDTHHMMSSZ` for a Unix time (civil-from-days, H. Hinnant's algorithm).
pub fn utc_stamp(unix_s: u64) -> String {
    let days = (unix_s / 86_400) as i64;
    let secs = unix_s % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z", secs / 3600, (secs / 60) % 60, secs % 60)
}

/// RFC 3339 form of the same instant.
pub fn rfc3339(unix_s: u64) -> String {
    let s = utc_stamp(unix_s);
    format!("{}-{}-{}T{}:{}:{}Z", &s[0..4], &s[4..6], &s[6..8], &s[9..11], &s[11..13], &s[13..15])
}

pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Only characters safe in a directory name.
fn slug(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c.to_ascii_lowercase() } else { '-' })
        .collect();
    let s = s.trim_matches('-').to_string();
    if s.is_empty() { "run".into() } else { s }
}

/// Create `<out>/<stamp>-<name>[-N]/`, never reusing an existing directory.
pub fn create_run_dir(out: &Path, name: &str, unix_s: u64) -> io::Result<(String, PathBuf)> {
    fs::create_dir_all(out)?;
    let base = format!("{}-{}", utc_stamp(unix_s), slug(name));
    for n in 1..1000 {
        let id = if n == 1 { base.clone() } else { format!("{base}-{n}") };
        let dir = out.join(&id);
        match fs::create_dir(&dir) {
            Ok(()) => return Ok((id, dir)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(io::ErrorKind::AlreadyExists, format!("no free run directory name for {base}")))
}

/// Write `bytes` to `dir/name` whole: a temp file in the same directory, synced, renamed.
/// Refuses to replace an existing file.
pub fn write_whole(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let target = dir.join(name);
    if target.exists() {
        return Err(io::Error::new(io::ErrorKind::AlreadyExists, format!("{} already exists", target.display())));
    }
    let tmp = dir.join(format!(".{name}.tmp"));
    {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, &target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_are_utc_calendar_dates() {
        assert_eq!(utc_stamp(0), "19700101T000000Z");
        assert_eq!(utc_stamp(951_782_400), "20000229T000000Z");
        assert_eq!(utc_stamp(1_764_600_000 + 3_661), "20251201T154101Z");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn run_dirs_are_never_reused_and_files_never_replaced() {
        let out = std::env::temp_dir().join(format!("pb-results-{}", std::process::id()));
        let (a, da) = create_run_dir(&out, "My Run!", 0).unwrap();
        let (b, _) = create_run_dir(&out, "My Run!", 0).unwrap();
        assert_eq!(a, "19700101T000000Z-my-run");
        assert_eq!(b, "19700101T000000Z-my-run-2");
        write_whole(&da, "summary.json", b"{}").unwrap();
        assert_eq!(fs::read(da.join("summary.json")).unwrap(), b"{}");
        assert!(write_whole(&da, "summary.json", b"[]").is_err());
        assert!(!da.join(".summary.json.tmp").exists());
        fs::remove_dir_all(&out).unwrap();
    }
}
