//! `probebench explain FIELD`: documentation of a probe-related Pod field, laid out like
//! `kubectl explain` (kubectl's plaintext template), plus the default and the effective
//! minimum the API server applies (kubelet-semantics.md §1).

use std::io::Write;

use clap::Args;
use serde::Serialize;

use super::{CommandError, CommandResult, Exit};
use crate::cli::OutputFormat;
use crate::spec::explain::{self, FieldDoc};

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  probebench explain pods.spec.containers.livenessProbe\n  probebench explain pods.spec.containers.livenessProbe.periodSeconds\n  probebench explain pods.spec.containers.startupProbe.httpGet.port --output json"
)]
pub struct ExplainArgs {
    /// A field path: RESOURCE[.field...], e.g. pods.spec.containers.livenessProbe.periodSeconds
    #[arg(value_name = "FIELD")]
    pub field: String,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t)]
    pub output: OutputFormat,
}

#[derive(Serialize)]
struct FieldJson {
    kind: &'static str,
    version: &'static str,
    path: String,
    field: Option<&'static str>,
    #[serde(rename = "type")]
    type_name: Option<&'static str>,
    description: &'static str,
    required: bool,
    default: Option<&'static str>,
    minimum: Option<&'static str>,
    fields: Vec<ChildJson>,
}

#[derive(Serialize)]
struct ChildJson {
    name: &'static str,
    #[serde(rename = "type")]
    type_name: &'static str,
    required: bool,
    default: Option<&'static str>,
    minimum: Option<&'static str>,
    description: &'static str,
}

fn indent_wrapped(out: &mut dyn Write, text: &str) -> std::io::Result<()> {
    for line in explain::wrap(text, 76) {
        writeln!(out, "    {line}")?;
    }
    Ok(())
}

fn render_text(out: &mut dyn Write, field: Option<&FieldDoc>, children: &[FieldDoc]) -> std::io::Result<()> {
    writeln!(out, "KIND:       Pod")?;
    writeln!(out, "VERSION:    v1")?;
    writeln!(out)?;
    let description = match field {
        Some(f) => {
            writeln!(out, "FIELD: {} <{}>", f.name, f.type_name)?;
            writeln!(out)?;
            writeln!(out)?;
            f.description
        }
        None => explain::POD_DESCRIPTION,
    };
    writeln!(out, "DESCRIPTION:")?;
    indent_wrapped(out, description)?;
    if let Some(f) = field {
        if let Some(d) = f.default {
            writeln!(out)?;
            writeln!(out, "DEFAULT:    {d}")?;
        }
        if let Some(m) = f.minimum {
            if f.default.is_none() {
                writeln!(out)?;
            }
            writeln!(out, "MINIMUM:    {m}")?;
        }
    }
    if !children.is_empty() {
        writeln!(out)?;
        writeln!(out, "FIELDS:")?;
        let mut sorted: Vec<&FieldDoc> = children.iter().collect();
        sorted.sort_by_key(|c| c.name);
        for c in sorted {
            let required = if c.required { " -required-" } else { "" };
            writeln!(out, "  {}\t<{}>{required}", c.name, c.type_name)?;
            indent_wrapped(out, c.description)?;
            if let Some(d) = c.default {
                writeln!(out, "    Default: {d}.")?;
            }
            if let Some(m) = c.minimum {
                writeln!(out, "    Minimum: {m}.")?;
            }
            writeln!(out)?;
        }
    }
    Ok(())
}

pub fn run(args: &ExplainArgs, out: &mut dyn Write) -> CommandResult {
    let resolved = explain::resolve(&args.field).map_err(|e| CommandError::Invalid(e.to_string()))?;
    let field = resolved.field.as_ref();
    match args.output {
        OutputFormat::Text => render_text(out, field, &resolved.children)?,
        OutputFormat::Json => {
            let json = FieldJson {
                kind: "Pod",
                version: "v1",
                path: resolved.path.join("."),
                field: field.map(|f| f.name),
                type_name: field.map(|f| f.type_name),
                description: field.map_or(explain::POD_DESCRIPTION, |f| f.description),
                required: field.is_some_and(|f| f.required),
                default: field.and_then(|f| f.default),
                minimum: field.and_then(|f| f.minimum),
                fields: resolved
                    .children
                    .iter()
                    .map(|c| ChildJson {
                        name: c.name,
                        type_name: c.type_name,
                        required: c.required,
                        default: c.default,
                        minimum: c.minimum,
                        description: c.description,
                    })
                    .collect(),
            };
            serde_json::to_writer_pretty(&mut *out, &json).map_err(std::io::Error::other)?;
            writeln!(out)?;
        }
    }
    Ok(Exit::Ok)
}
