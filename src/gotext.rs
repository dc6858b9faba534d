//! Go's wording. The kubelet's probe messages are Go values printed by Go's formatters
//! (`%q`, `time.Duration`, `syscall.Errno`, `*net.OpError`, `*url.Error`), so reproducing the
//! messages byte for byte means reproducing those few formatters.

use std::fmt::Write as _;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

/// Go's `strconv.Quote` (what `%q` prints for a string): double quotes, backslash escapes
/// for `"` and `\`, the C escapes for control characters, `\xNN` for other ASCII
/// controls, `\uNNNN` / `\UNNNNNNNN` for non-printable runes. "Printable" is approximated
/// by Rust's `char::is_control`, which agrees with Go's `unicode.IsPrint` for everything
/// but a few format characters.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{07}' => out.push_str("\\a"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{0b}' => out.push_str("\\v"),
            c if !c.is_control() => out.push(c),
            c if (c as u32) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if (c as u32) < 0x10000 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push('"');
    out
}

/// Go's `time.Duration.String()`: `1s`, `1.5s`, `500ms`, `1m0s`, `2h0m0s`, `0s`.
pub fn duration(d: Duration) -> String {
    let nanos = d.as_nanos().min(u128::from(u64::MAX)) as u64;
    if nanos == 0 {
        return "0s".to_owned();
    }
    let mut out = String::with_capacity(16);
    if nanos < 1_000_000_000 {
        // Below a second Go switches to the largest unit that keeps an integer part.
        let (prec, unit) = if nanos < 1_000 {
            (0, "ns")
        } else if nanos < 1_000_000 {
            (3, "µs")
        } else {
            (6, "ms")
        };
        let (int, frac) = split_fraction(nanos, prec);
        let _ = write!(out, "{int}{frac}{unit}");
        return out;
    }
    let (secs, frac) = split_fraction(nanos, 9);
    let hours = secs / 3600;
    let minutes = (secs / 60) % 60;
    let seconds = secs % 60;
    if hours > 0 {
        let _ = write!(out, "{hours}h{minutes}m");
    } else if minutes > 0 {
        let _ = write!(out, "{minutes}m");
    }
    let _ = write!(out, "{seconds}{frac}s");
    out
}

/// Splits `v / 10^prec` into its integer part and Go's fraction text (`.25`, trailing
/// zeros and a bare point omitted), as Go's `fmtFrac` does.
fn split_fraction(v: u64, prec: u32) -> (u64, String) {
    if prec == 0 {
        return (v, String::new());
    }
    let pow = 10u64.pow(prec);
    let frac = v % pow;
    if frac == 0 {
        return (v / pow, String::new());
    }
    let digits = format!("{frac:0width$}", width = prec as usize);
    (v / pow, format!(".{}", digits.trim_end_matches('0')))
}

/// The text Go's `syscall.Errno.Error()` gives for an OS error: glibc's message with a
/// lower-case first letter (`connection refused`, `no such file or directory`), which is
/// what Go's own errno table holds on Linux.
pub fn errno_text(err: &io::Error) -> String {
    match err.raw_os_error() {
        Some(code) => lower_first(nix::errno::Errno::from_raw(code).desc()),
        None => match err.kind() {
            io::ErrorKind::UnexpectedEof => "EOF".to_owned(),
            io::ErrorKind::TimedOut => "i/o timeout".to_owned(),
            _ => err.to_string(),
        },
    }
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Go's `*net.OpError` text for a failed dial: `dial tcp 127.0.0.1:8080: connect:
/// connection refused`; a dial that hit its deadline: `dial tcp 127.0.0.1:8080: i/o
/// timeout` (net/fd_unix.go maps the context deadline to `errTimeout`).
pub fn dial_error(addr: SocketAddr, err: &io::Error) -> String {
    if err.kind() == io::ErrorKind::TimedOut && err.raw_os_error().is_none() {
        return format!("dial tcp {addr}: i/o timeout");
    }
    format!("dial tcp {addr}: connect: {}", errno_text(err))
}

/// The dial deadline text (see [`dial_error`]).
pub fn dial_timeout(addr: SocketAddr) -> String {
    format!("dial tcp {addr}: i/o timeout")
}

/// Go's `*net.OpError` for a failed read on an established connection:
/// `read tcp 127.0.0.1:51234->127.0.0.1:8080: read: connection reset by peer`. Go leaves
/// out the `local->` part when it does not know the local address.
pub fn read_error(local: Option<SocketAddr>, remote: SocketAddr, err: &io::Error) -> String {
    match local {
        Some(local) => format!("read tcp {local}->{remote}: read: {}", errno_text(err)),
        None => format!("read tcp {remote}: read: {}", errno_text(err)),
    }
}

/// Go's `*url.Error` text, what `http.Client.Do` returns: `Get "<url>": <err>`.
pub fn url_error(url: &str, err: &str) -> String {
    format!("Get {}: {err}", quote(url))
}

/// Go's `net.JoinHostPort`: IPv6 literals (anything with a colon) get brackets.
pub fn join_host_port(host: &str, port: u16) -> String {
    if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_matches_go_strconv_quote() {
        assert_eq!(quote("ls /tmp/abc"), r#""ls /tmp/abc""#);
        assert_eq!(quote(r#"sh -c "sleep 10""#), r#""sh -c \"sleep 10\"""#);
        assert_eq!(quote("a\\b\n\t\u{1}\u{7f}é"), r#""a\\b\n\t\x01\x7fé""#);
    }

    #[test]
    fn duration_matches_go_duration_string() {
        assert_eq!(duration(Duration::ZERO), "0s");
        assert_eq!(duration(Duration::from_secs(1)), "1s");
        assert_eq!(duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(duration(Duration::from_millis(500)), "500ms");
        assert_eq!(duration(Duration::from_micros(1500)), "1.5ms");
        assert_eq!(duration(Duration::from_nanos(1500)), "1.5µs");
        assert_eq!(duration(Duration::from_nanos(15)), "15ns");
        assert_eq!(duration(Duration::from_secs(60)), "1m0s");
        assert_eq!(duration(Duration::from_secs(3600)), "1h0m0s");
        assert_eq!(duration(Duration::from_secs(3723)), "1h2m3s");
    }

    #[test]
    fn errno_texts_are_go_lower_case() {
        let refused = io::Error::from_raw_os_error(nix::libc::ECONNREFUSED);
        assert_eq!(errno_text(&refused), "connection refused");
        let missing = io::Error::from_raw_os_error(nix::libc::ENOENT);
        assert_eq!(errno_text(&missing), "no such file or directory");
    }

    #[test]
    fn dial_errors_read_like_go() {
        let addr: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let refused = io::Error::from_raw_os_error(nix::libc::ECONNREFUSED);
        assert_eq!(dial_error(addr, &refused), "dial tcp 127.0.0.1:8080: connect: connection refused");
        let v6: SocketAddr = "[::1]:80".parse().unwrap();
        assert_eq!(dial_timeout(v6), "dial tcp [::1]:80: i/o timeout");
        assert_eq!(
            url_error("http://127.0.0.1:8080/", &dial_error(addr, &refused)),
            r#"Get "http://127.0.0.1:8080/": dial tcp 127.0.0.1:8080: connect: connection refused"#
        );
    }
}
