//! `$(VAR)` expansion of exec probe commands, as the kubelet does it:
//! `kubecontainer.ExpandContainerCommandOnlyStatic` (pkg/kubelet/container/helpers.go) with
//! `expansion.Expand` (third_party/forked/golang/expansion/expand.go).
//!
//! Quirks reproduced on purpose:
//! - Only the container's own `env` list is consulted, never the process environment, the
//!   downward API or ConfigMaps.
//! - The mapping is built from *every* `env` entry's `Value`, so a variable defined with
//!   `valueFrom` is known but has the empty value: `$(SECRET)` becomes "" rather than
//!   staying `$(SECRET)`. A later entry with the same name wins (Go map assignment).
//! - An unknown name is left as written (`$(NOPE)`), `$$` is an escaped `$`, an unclosed
//!   `$(` is copied literally, and a `$` before any other character is kept with it.

use crate::spec::EnvVar;

/// Expands every argument of an exec command against the container's static env.
pub fn expand_command(command: &[String], env: &[EnvVar]) -> Vec<String> {
    command.iter().map(|arg| expand(arg, env)).collect()
}

/// Expands one string; see the module documentation for the rules.
pub fn expand(input: &str, env: &[EnvVar]) -> String {
    if !input.contains('$') {
        return input.to_owned();
    }
    let bytes = input.as_bytes();
    let mut out = String::with_capacity(input.len());
    let mut checkpoint = 0;
    let mut cursor = 0;
    while cursor < bytes.len() {
        if bytes[cursor] == b'$' && cursor + 1 < bytes.len() {
            out.push_str(&input[checkpoint..cursor]);
            let rest = &input[cursor + 1..];
            // How many bytes after the `$` this reference consumed.
            let consumed = match rest.as_bytes()[0] {
                b'$' => {
                    out.push('$');
                    1
                }
                b'(' => match rest.find(')') {
                    Some(close) => {
                        let name = &rest[1..close];
                        match lookup(name, env) {
                            Some(value) => out.push_str(value),
                            None => {
                                out.push_str("$(");
                                out.push_str(name);
                                out.push(')');
                            }
                        }
                        close + 1
                    }
                    None => {
                        out.push_str("$(");
                        1
                    }
                },
                // Not a reference: keep the `$`; the character after it is copied with the
                // rest of the text (Go copies the byte here; copying the whole character
                // keeps non-ASCII text intact, which Go's byte-to-rune conversion does not).
                _ => {
                    out.push('$');
                    0
                }
            };
            cursor += consumed + 1;
            checkpoint = cursor;
        } else {
            cursor += 1;
        }
    }
    out.push_str(&input[checkpoint..]);
    out
}

/// The value the kubelet's mapping gives `name`: the last `env` entry with that name, its
/// static value or "" for `valueFrom` entries.
fn lookup<'a>(name: &str, env: &'a [EnvVar]) -> Option<&'a str> {
    env.iter().rev().find(|var| var.name == name).map(|var| var.value.as_deref().unwrap_or(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var(name: &str, value: Option<&str>) -> EnvVar {
        EnvVar { name: name.to_owned(), value: value.map(str::to_owned), value_from: value.is_none() }
    }

    #[test]
    fn expands_static_values_and_keeps_the_rest() {
        let env = [var("FILE", Some("/tmp/healthy")), var("SECRET", None), var("FILE", Some("/tmp/later"))];
        assert_eq!(expand("cat $(FILE)", &env), "cat /tmp/later");
        assert_eq!(expand("$(SECRET)", &env), "");
        assert_eq!(expand("$(NOPE)", &env), "$(NOPE)");
        assert_eq!(expand("$$(FILE)", &env), "$(FILE)");
        assert_eq!(expand("$(FILE", &env), "$(FILE");
        assert_eq!(expand("cost $5 é$é", &env), "cost $5 é$é");
        assert_eq!(expand("trailing $", &env), "trailing $");
        assert_eq!(expand("$$$$", &env), "$$");
    }

    #[test]
    fn expands_every_argument() {
        let env = [var("N", Some("3"))];
        let cmd = vec!["sleep".to_owned(), "$(N)".to_owned()];
        assert_eq!(expand_command(&cmd, &env), vec!["sleep", "3"]);
    }
}
