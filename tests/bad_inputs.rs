//! Every file in tests/bad-inputs/ gets one clear message naming the file and the field
//! path, exit code 2, and no panic, hang or unbounded memory. The expected stdout of
//! `probebench validate <file>` (run inside that folder) is in `<file>.expected`.

use std::path::Path;
use std::process::Command;

fn validate(dir: &Path, file: &str) -> (String, String, Option<i32>) {
    let out = Command::new(env!("CARGO_BIN_EXE_probebench"))
        .current_dir(dir)
        .args(["validate", file])
        .output()
        .expect("run probebench");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

#[test]
fn each_bad_input_gets_its_expected_message_and_exit_2() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad-inputs");
    let mut checked = 0;
    let mut entries: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".expected") {
            continue;
        }
        let expected_path = dir.join(format!("{name}.expected"));
        let expected = std::fs::read_to_string(&expected_path)
            .unwrap_or_else(|_| panic!("{name} has no {name}.expected beside it"));
        let (stdout, stderr, code) = validate(&dir, &name);
        assert_eq!(code, Some(2), "{name}: exit code; stderr: {stderr}");
        assert_eq!(stdout, expected, "{name}: message");
        assert!(!stderr.contains("panicked"), "{name} panicked: {stderr}");
        assert!(stdout.contains(&name), "{name}: message must name the file");
        checked += 1;
    }
    assert!(checked >= 12, "only {checked} bad inputs found");
}

#[test]
fn a_missing_file_is_named() {
    let dir = std::env::temp_dir();
    let (stdout, _, code) = validate(&dir, "no-such-probebench-file.yaml");
    assert_eq!(code, Some(2));
    assert_eq!(stdout, "no-such-probebench-file.yaml: no such file\n");
}

#[test]
fn a_file_over_the_size_limit_is_refused_before_reading() {
    let dir = std::env::temp_dir().join(format!("probebench-big-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("huge.yaml");
    // A sparse file: 17 MiB long without writing 17 MiB.
    let f = std::fs::File::create(&file).unwrap();
    f.set_len(17 * 1024 * 1024).unwrap();
    let (stdout, _, code) = validate(&dir, "huge.yaml");
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(code, Some(2));
    assert_eq!(stdout, "huge.yaml: file is larger than the 16 MiB limit\n");
}

#[test]
fn stdin_over_the_size_limit_is_refused() {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_probebench"))
        .args(["validate", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let chunk = vec![b'#'; 1024 * 1024];
        for _ in 0..17 {
            if stdin.write_all(&chunk).is_err() {
                break; // the reader stopped at the limit
            }
        }
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "<stdin>: file is larger than the 16 MiB limit\n");
}
