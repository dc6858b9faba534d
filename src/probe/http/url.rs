//! The few URL operations an httpGet probe needs, done the way Go's net/url does them so
//! the URLs quoted in messages match the kubelet's: building the probe URL from scheme,
//! host, port and path (pkg/probe/http/request.go formatURL), resolving a redirect's
//! `Location` against the current URL (RFC 3986 reference resolution, as
//! `URL.ResolveReference`), and printing (`URL.String`).

use std::fmt;

use crate::gotext;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

/// An absolute http(s) URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeUrl {
    pub scheme: Scheme,
    /// The authority as it will be printed and sent as `Host`: `127.0.0.1:8080`,
    /// `[::1]:8080`, or a redirect's host without a port.
    pub authority: String,
    /// Host name without brackets or port: Go's `URL.Hostname()`, which the kubelet's
    /// redirect check compares.
    pub hostname: String,
    /// The port to dial (the scheme's default when the authority has none).
    pub port: u16,
    /// Path and query, starting with `/`: the request target.
    pub target: String,
}

impl fmt::Display for ProbeUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}{}", self.scheme.as_str(), self.authority, self.target)
    }
}

impl ProbeUrl {
    /// The kubelet's formatURL: `scheme://JoinHostPort(host, port)` + the probe's path
    /// parsed as a URL (its query kept). A path without a leading `/` gets one, as Go's
    /// `URL.String` adds it when a host is present.
    pub fn for_probe(scheme: Scheme, host: &str, port: u16, path: &str) -> ProbeUrl {
        let path = path.split('#').next().unwrap_or("");
        let mut target = String::with_capacity(path.len() + 1);
        if !path.starts_with('/') {
            target.push('/');
        }
        target.push_str(&escape_target(path));
        let hostname = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host).to_owned();
        ProbeUrl { scheme, authority: gotext::join_host_port(&hostname, port), hostname, port, target }
    }

    /// Parses an absolute `http://` or `https://` URL (the `probe --http-get` argument).
    pub fn parse_absolute(text: &str) -> Result<ProbeUrl, String> {
        let (scheme, rest) = has_scheme(text).ok_or_else(|| format!("{}: not an absolute URL", gotext::quote(text)))?;
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            other => {
                return Err(format!("unsupported protocol scheme {}", gotext::quote(other)));
            }
        };
        let rest = rest.strip_prefix("//").ok_or_else(|| format!("{}: missing //host", gotext::quote(text)))?;
        let url = parse_authority_and_target(scheme, rest.split('#').next().unwrap_or(""))?;
        if url.hostname.is_empty() {
            return Err(format!("{}: missing host", gotext::quote(text)));
        }
        Ok(url)
    }

    /// Resolves a `Location` header against this URL.
    pub fn join(&self, location: &str) -> Result<ProbeUrl, JoinError> {
        let location = location.split('#').next().unwrap_or("");
        if let Some((scheme, rest)) = has_scheme(location) {
            let known = match scheme.to_ascii_lowercase().as_str() {
                "http" => Some(Scheme::Http),
                "https" => Some(Scheme::Https),
                _ => None,
            };
            let rest = rest.strip_prefix("//").unwrap_or(rest);
            return match known {
                Some(scheme) => parse_authority_and_target(scheme, rest).map_err(JoinError::Invalid),
                None => {
                    // Go parses any scheme; only sending fails. Report the hostname so the
                    // redirect check can still compare it.
                    let hostname =
                        parse_authority_and_target(Scheme::Http, rest).map(|u| u.hostname).unwrap_or_default();
                    Err(JoinError::UnsupportedScheme { scheme: scheme.to_owned(), hostname })
                }
            };
        }
        if let Some(rest) = location.strip_prefix("//") {
            return parse_authority_and_target(self.scheme, rest).map_err(JoinError::Invalid);
        }
        let (path, query) = match location.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (location, None),
        };
        let (base_path, base_query) = match self.target.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (self.target.as_str(), None),
        };
        let merged = if path.is_empty() {
            base_path.to_owned()
        } else if path.starts_with('/') {
            remove_dot_segments(path)
        } else {
            let dir = &base_path[..base_path.rfind('/').map_or(0, |i| i + 1)];
            remove_dot_segments(&format!("{dir}{path}"))
        };
        let query = if path.is_empty() && query.is_none() { base_query } else { query };
        let mut target = escape_target(&merged);
        if !target.starts_with('/') {
            target.insert(0, '/');
        }
        if let Some(q) = query {
            target.push('?');
            target.push_str(&escape_target(q));
        }
        Ok(ProbeUrl { target, ..self.clone() })
    }
}

/// Why a `Location` could not become the next request's URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinError {
    /// Go's `url.Parse` complaint, to be wrapped as `failed to parse Location header`.
    Invalid(String),
    /// A scheme other than http(s): Go follows it and fails to send.
    UnsupportedScheme { scheme: String, hostname: String },
}

/// `(scheme, rest)` if the reference starts with an RFC 3986 scheme.
pub fn has_scheme(s: &str) -> Option<(&str, &str)> {
    let colon = s.find(':')?;
    let scheme = &s[..colon];
    let mut chars = scheme.chars();
    let first = chars.next()?;
    if first.is_ascii_alphabetic() && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) {
        Some((scheme, &s[colon + 1..]))
    } else {
        None
    }
}

fn parse_authority_and_target(scheme: Scheme, rest: &str) -> Result<ProbeUrl, String> {
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let mut target = rest[end..].to_owned();
    // Userinfo is not part of the host.
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    let (hostname, port_text) = if let Some(v6) = host_port.strip_prefix('[') {
        let close = v6.find(']').ok_or_else(|| format!("missing ']' in host {}", gotext::quote(host_port)))?;
        let after = &v6[close + 1..];
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return Err(format!("invalid port {} after host", gotext::quote(after))),
        };
        (&v6[..close], port)
    } else {
        match host_port.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (host_port, None),
        }
    };
    let port = match port_text {
        None | Some("") => scheme.default_port(),
        Some(p) => {
            p.parse::<u16>().map_err(|_| format!("invalid port {} after host", gotext::quote(&format!(":{p}"))))?
        }
    };
    if target.is_empty() {
        target.push('/');
    } else if target.starts_with('?') {
        target.insert(0, '/');
    }
    Ok(ProbeUrl {
        scheme,
        authority: host_port.to_owned(),
        hostname: hostname.to_owned(),
        port,
        target: escape_target(&target),
    })
}

/// RFC 3986 section 5.2.4, which Go's `resolvePath` implements.
fn remove_dot_segments(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').collect();
    let last = segments.len().saturating_sub(1);
    for (i, seg) in segments.iter().enumerate() {
        match *seg {
            "." => {
                if i == last {
                    out.push("");
                }
            }
            ".." => {
                if out.len() > 1 {
                    out.pop();
                }
                if i == last {
                    out.push("");
                }
            }
            s => out.push(s),
        }
    }
    let joined = out.join("/");
    if joined.starts_with('/') { joined } else { format!("/{joined}") }
}

/// Percent-encodes what cannot go on the request line as is (spaces, controls,
/// non-ASCII), leaving existing escapes and every RFC 3986 delimiter alone, as Go's
/// `EscapedPath` does for an already valid path.
fn escape_target(s: &str) -> String {
    if s.bytes().all(is_target_safe) {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for b in s.bytes() {
        if is_target_safe(b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn is_target_safe(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?%".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> ProbeUrl {
        ProbeUrl::for_probe(Scheme::Http, "127.0.0.1", 8080, "/a/b?x=1")
    }

    #[test]
    fn probe_urls_print_like_the_kubelets() {
        assert_eq!(base().to_string(), "http://127.0.0.1:8080/a/b?x=1");
        let v6 = ProbeUrl::for_probe(Scheme::Https, "::1", 443, "healthz");
        assert_eq!(v6.to_string(), "https://[::1]:443/healthz");
        assert_eq!(v6.hostname, "::1");
        assert_eq!(ProbeUrl::for_probe(Scheme::Http, "127.0.0.1", 80, "/a b").target, "/a%20b");
    }

    #[test]
    fn locations_resolve_like_rfc_3986() {
        let b = base();
        assert_eq!(b.join("/c").unwrap().to_string(), "http://127.0.0.1:8080/c");
        assert_eq!(b.join("c").unwrap().to_string(), "http://127.0.0.1:8080/a/c");
        assert_eq!(b.join("../c").unwrap().to_string(), "http://127.0.0.1:8080/c");
        assert_eq!(b.join("?y=2").unwrap().to_string(), "http://127.0.0.1:8080/a/b?y=2");
        let other = b.join("http://localhost:9090/z").unwrap();
        assert_eq!((other.hostname.as_str(), other.port), ("localhost", 9090));
        let no_port = b.join("https://127.0.0.1/z").unwrap();
        assert_eq!((no_port.authority.as_str(), no_port.port), ("127.0.0.1", 443));
        let relative_scheme = b.join("//127.0.0.1:9/q").unwrap();
        assert_eq!(relative_scheme.to_string(), "http://127.0.0.1:9/q");
        assert!(b.join("ftp://x/").is_err());
        assert!(b.join("http://h:port/").is_err());
    }
}
