//! report.html as a browser shows it: headless Chromium renders the report of a real run to a
//! PNG, which must be a real picture (not blank, not one colour, plots drawn below the
//! tables). Skipped when Chromium is not installed, unless PROBEBENCH_REQUIRE_CHROMIUM is
//! set (CI sets it), in which case a missing Chromium fails.
//!
//! The screenshot is kept at `$CARGO_TARGET_TMPDIR/report-screenshot.png` for people to look at.

mod report_common;

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use report_common::{bin, real_run, temp_dir};

const WIDTH: u32 = 1200;
const HEIGHT: u32 = 3000;
/// Generous: a loaded 2-core machine starts Chromium slowly; this bounds a hang, not speed.
const TIMEOUT: Duration = Duration::from_secs(120);

fn find_on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).flat_map(|dir| names.iter().map(move |n| dir.join(n))).find(|p| p.is_file())
}

fn required() -> bool {
    std::env::var_os("PROBEBENCH_REQUIRE_CHROMIUM").is_some_and(|v| !v.is_empty())
}

/// Run Chromium in its own process group; on overrun, kill that group (Chromium forks
/// helpers) by its id.
fn screenshot(chromium: &Path, page: &Path, png: &Path, profile: &Path) {
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--window-size={WIDTH},{HEIGHT}"))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("start chromium");
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "chromium exited with {status}");
            return;
        }
        if Instant::now() >= deadline {
            let pgid = nix::unistd::Pid::from_raw(child.id() as i32);
            let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGKILL);
            let _ = child.wait();
            panic!("chromium did not finish within {TIMEOUT:?}; killed its process group {pgid}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn chromium_renders_the_report_to_a_real_picture() {
    let Some(chromium) = find_on_path(&["chromium", "chromium-browser"]) else {
        assert!(!required(), "PROBEBENCH_REQUIRE_CHROMIUM is set but chromium is not on PATH");
        println!("skipped: chromium not installed");
        return;
    };
    let tmp = temp_dir("browser");
    let run = real_run(&tmp);
    let out = bin().arg("report").arg(&run).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let page = run.join("report.html");
    let png_path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report-screenshot.png");
    let _ = std::fs::remove_file(&png_path);
    screenshot(&chromium, &page, &png_path, &tmp.join("chromium-profile"));
    println!("screenshot: {}", png_path.display());

    let bytes = std::fs::read(&png_path).expect("chromium wrote the screenshot");
    assert!(bytes.len() > 20_000, "screenshot is only {} bytes", bytes.len());
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut buf).unwrap();
    assert_eq!(frame.bit_depth, png::BitDepth::Eight);
    let channels = match frame.color_type {
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        other => panic!("unexpected colour type {other:?}"),
    };
    let (w, h) = (frame.width as usize, frame.height as usize);
    assert!(w >= WIDTH as usize / 2 && h >= HEIGHT as usize / 2, "{w}x{h}");
    let pixel = |x: usize, y: usize| {
        let i = (y * w + x) * channels;
        [buf[i], buf[i + 1], buf[i + 2]]
    };
    // Not one colour, and more than a few: text, table rules and coloured plot lines.
    let mut colours = std::collections::HashSet::new();
    let mut inked = [0usize; 2];
    for y in (0..h).step_by(2) {
        for x in (0..w).step_by(2) {
            let p = pixel(x, y);
            colours.insert(p);
            if p.iter().any(|&c| c < 200) {
                inked[usize::from(y >= h / 2)] += 1;
            }
        }
    }
    assert!(colours.len() >= 16, "only {} colours", colours.len());
    // Something is drawn in both halves: the tables above, the plots below.
    let per_half = (w / 2) * (h / 4);
    for (half, n) in inked.iter().enumerate() {
        assert!(*n * 200 > per_half, "half {half} of the screenshot is nearly blank ({n} of {per_half} pixels inked)");
    }
    // Saturated colour appears: the plot lines and legend swatches (tables are grey).
    let coloured = (0..h).step_by(3).flat_map(|y| (0..w).step_by(3).map(move |x| (x, y))).any(|(x, y)| {
        let [r, g, b] = pixel(x, y);
        r.max(g).max(b) - r.min(g).min(b) > 120
    });
    assert!(coloured, "no coloured pixel: the plots did not render");
    std::fs::remove_dir_all(&tmp).unwrap();
}
