//! Reading YAML input safely: a size limit, UTF-8, one value per document.
//!
//! The YAML parser (serde_norway, the maintained serde_yaml) already refuses documents that
//! nest deeper than 128 levels and alias expansions that would blow up ("billion laughs"),
//! so a hostile file costs bounded time and memory; the size limit bounds the rest.

use std::io::Read;
use std::path::Path;

use serde::Deserialize;
use serde_yaml::Value;

/// The largest input file accepted. Real manifests are kilobytes; 16 MiB leaves room for a
/// big `kind: List` while keeping memory bounded.
pub const MAX_INPUT_BYTES: u64 = 16 * 1024 * 1024;

/// Why an input could not be read as YAML. The message names no file; the caller adds it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReadError {
    #[error("no such file")]
    NotFound,
    #[error("is a directory, not a file")]
    IsDirectory,
    #[error("file is larger than the {} MiB limit", MAX_INPUT_BYTES / (1024 * 1024))]
    TooLarge,
    #[error("not valid UTF-8 text")]
    NotUtf8,
    #[error("cannot read: {0}")]
    Io(String),
    #[error("not valid YAML: {0}")]
    Syntax(String),
}

/// The name to use for an input in messages: the path, or `<stdin>` for `-`.
pub fn display_name(path: &str) -> String {
    if path == "-" { "<stdin>".to_string() } else { path.to_string() }
}

/// Read a file (or standard input for `-`) as UTF-8 text, refusing directories and anything
/// over [`MAX_INPUT_BYTES`].
pub fn read_text(path: &str) -> Result<String, ReadError> {
    let mut bytes = Vec::new();
    if path == "-" {
        let stdin = std::io::stdin();
        let mut limited = stdin.lock().take(MAX_INPUT_BYTES + 1);
        limited.read_to_end(&mut bytes).map_err(|e| ReadError::Io(e.to_string()))?;
    } else {
        let p = Path::new(path);
        let meta = std::fs::metadata(p).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ReadError::NotFound,
            _ => ReadError::Io(e.to_string()),
        })?;
        if meta.is_dir() {
            return Err(ReadError::IsDirectory);
        }
        if meta.len() > MAX_INPUT_BYTES {
            return Err(ReadError::TooLarge);
        }
        // The size can change between stat and read (or the file is a FIFO): cap the read too.
        let file = std::fs::File::open(p).map_err(|e| ReadError::Io(e.to_string()))?;
        file.take(MAX_INPUT_BYTES + 1).read_to_end(&mut bytes).map_err(|e| ReadError::Io(e.to_string()))?;
    }
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(ReadError::TooLarge);
    }
    String::from_utf8(bytes).map_err(|_| ReadError::NotUtf8)
}

/// Parse every document of a YAML stream. Empty documents (a stray `---`) are kept as
/// `Value::Null` so document numbers in messages match the file.
pub fn parse_documents(text: &str) -> Result<Vec<Value>, ReadError> {
    let mut docs = Vec::new();
    for de in serde_yaml::Deserializer::from_str(text) {
        let value = Value::deserialize(de).map_err(|e| ReadError::Syntax(explain_limit(e.to_string())))?;
        docs.push(value);
    }
    Ok(docs)
}

/// The parser's safety limits speak in their own terms; say what they mean for a manifest.
fn explain_limit(message: String) -> String {
    if message.contains("repetition limit exceeded") {
        format!("{message}: its aliases expand to too much data (a \"billion laughs\" document?)")
    } else if message.contains("recursion limit exceeded") {
        format!("{message}: nested more than 128 levels deep")
    } else {
        message
    }
}

/// A short name for a YAML value's type, for "expected X, found Y" messages.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a floating-point number",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a map",
        Value::Tagged(_) => "a tagged value",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_every_document() {
        let docs = parse_documents("a: 1\n---\n---\nb: 2\n").unwrap();
        assert_eq!(docs.len(), 3, "{docs:?}");
    }

    #[test]
    fn refuses_deep_nesting() {
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        let err = parse_documents(&deep).unwrap_err();
        assert!(matches!(err, ReadError::Syntax(_)), "{err:?}");
    }

    #[test]
    fn refuses_billion_laughs() {
        let mut doc =
            String::from("a0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        for i in 1..10 {
            let prev = i - 1;
            doc.push_str(&format!(
                "a{i}: &a{i} [*a{prev},*a{prev},*a{prev},*a{prev},*a{prev},*a{prev},*a{prev},*a{prev},*a{prev}]\n"
            ));
        }
        let err = parse_documents(&doc).unwrap_err();
        assert!(matches!(err, ReadError::Syntax(_)), "{err:?}");
    }
}
