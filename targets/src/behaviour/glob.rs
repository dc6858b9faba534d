//! Shell-style name patterns for behaviour files: `*` any run, `?` one character.

/// A pod or container name pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob(String);

impl Glob {
    /// A pattern; `*` and `?` are the only special characters.
    pub fn new(pattern: impl Into<String>) -> Glob {
        Glob(pattern.into())
    }

    /// Matches everything.
    pub fn any() -> Glob {
        Glob("*".to_string())
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `name` matches the whole pattern.
    pub fn matches(&self, name: &str) -> bool {
        let p: Vec<char> = self.0.chars().collect();
        let s: Vec<char> = name.chars().collect();
        // Iterative matcher with single-star backtracking: linear in practice, no
        // recursion on hostile patterns.
        let (mut pi, mut si) = (0usize, 0usize);
        let mut star: Option<(usize, usize)> = None;
        while si < s.len() {
            if pi < p.len() && (p[pi] == '?' || p[pi] == s[si]) {
                pi += 1;
                si += 1;
            } else if pi < p.len() && p[pi] == '*' {
                star = Some((pi, si));
                pi += 1;
            } else if let Some((sp, ss)) = star {
                pi = sp + 1;
                si = ss + 1;
                star = Some((sp, ss + 1));
            } else {
                return false;
            }
        }
        p[pi..].iter().all(|c| *c == '*')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(Glob::new("*").matches(""));
        assert!(Glob::new("web-*").matches("web-12"));
        assert!(!Glob::new("web-*").matches("db-1"));
        assert!(Glob::new("web-?").matches("web-1"));
        assert!(!Glob::new("web-?").matches("web-12"));
        assert!(Glob::new("*-*-x").matches("a-b-c-x"));
        assert!(Glob::new("app").matches("app"));
        assert!(!Glob::new("app").matches("apps"));
        assert!(Glob::new("a*b*c").matches("aXbYc"));
        assert!(!Glob::new("a*b*c").matches("aXbY"));
    }
}
